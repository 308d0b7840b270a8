"""Routing a request to its tenant: by host, or by ``X-Tenant`` on the platform host.

Runs first. django-tenants has no header routing of its own (issues 658,
922), so this replaces its ``TenantMainMiddleware.process_request``; the
tenant is resolved from the public schema before authentication runs.

The lookup names the public schema's tables explicitly, so it runs on
whatever search_path the connection has. With ``TENANT_LIMIT_SET_CALLS`` a
request then costs at most one ``SET search_path`` (to its tenant, or to
public), and none when its connection is still on that tenant's path from
the request before (``_activate``). Nothing is cached across requests: a
tenant's settings, a new domain or a deleted tenant are seen by the very
next request.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from api.errors import database_unavailable_response, error_response
from core.db import (
    CONNECTION_ERRORS,
    connection,
    database_unavailable,
    model_columns,
    model_from_row,
    prepared_cursor,
)
from tenants.models import Domain, Tenant
from tenants.validation import SLUG_RE

logger = logging.getLogger(__name__)


def host_name(request: HttpRequest) -> str | None:
    """The request's host name, lowercased, without its port or one trailing dot; None when the
    Host header is not a host name (``acme.localhost:globex``, ``acme.localhost..``), which Django
    would otherwise answer with an HTML page and an error logged with its traceback."""
    raw = request.META.get("HTTP_HOST", "") or request.META.get("SERVER_NAME", "")
    domain, _port = split_domain_port(raw)
    if not domain or domain.startswith(".") or ".." in domain or domain.endswith("."):
        return None
    return domain


CONSOLE_PATH = "/console/"
NUL_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Bad address · SSI Cloud</title>'
    "<h1>Bad address</h1><p>This address holds a NUL character, which no page takes. "
    '<a href="/console/">Go to the console</a>.</p></html>'
)


def nul_in_url(request: HttpRequest) -> str | None:
    """Where the URL holds U+0000 (``"path"`` or the query parameter's name), or None. PostgreSQL
    cannot compare text with it: a rep id or a filter holding it was a 500."""
    if "\x00" in request.path:
        return "path"
    if "%00" in request.META.get("QUERY_STRING", ""):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "\\u0000")[:64]
    return None


class TenantRoutingMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return self._route(request)
        except CONNECTION_ERRORS as exc:
            if not database_unavailable(exc):
                raise  # a bug, not an outage: Django's handler500 answers it
            # The tenant tables are unreachable: say so, retryable, in the API's shape.
            return database_unavailable_response()

    def _route(self, request: HttpRequest) -> HttpResponse | None:
        request.tenant = None  # type: ignore[attr-defined]
        nul = nul_in_url(request)
        if nul == "path":  # no id holds NUL: nothing is there
            connection.set_schema_to_public()
            return error_response(404, "not_found", "No such endpoint.", None)
        if nul is not None and request.path.startswith(CONSOLE_PATH):
            connection.set_schema_to_public()  # a browser's address: a page, not the API's JSON
            return HttpResponse(NUL_PAGE, status=400, content_type="text/html; charset=utf-8")
        if nul is not None:
            connection.set_schema_to_public()
            return error_response(
                400, "null_characters_not_allowed", "The URL cannot contain NUL (U+0000) characters.", nul
            )
        hostname = host_name(request)
        if hostname is None:
            logger.warning("malformed Host header: %.100r", request.META.get("HTTP_HOST", ""))
            connection.set_schema_to_public()
            return error_response(400, "invalid_host", "The Host header is not a valid host name.", None)

        if hostname in settings.SSI_PLATFORM_HOSTS:
            slug = request.headers.get("X-Tenant", "").strip()
            if not slug:
                _activate(None)
                request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
                set_urlconf(request.urlconf)
                return None
            tenant = _tenant_where("t.slug = %s", slug) if SLUG_RE.match(slug) else None
            if tenant is None:
                connection.set_schema_to_public()
                return error_response(
                    404, "tenant_not_found", f"No tenant with slug {slug[:64]!r}.", "X-Tenant"
                )
        else:
            tenant = _tenant_where(
                "t.id = (SELECT d.tenant_id FROM {domains} d WHERE d.domain = %s)", hostname
            )
            if tenant is None:
                connection.set_schema_to_public()
                return error_response(404, "tenant_not_found", "No tenant is served on this host.", None)

        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        _activate(tenant)
        request.urlconf = settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        return None


def _activate(tenant: Tenant | None) -> None:
    """``connection.set_tenant(tenant)`` (None: public), which makes the next query issue
    ``SET search_path``, unless PostgreSQL is known to be on that very path already.

    ``search_path_set_schemas`` is django-tenants' record of the path it last set; it is
    cleared whenever PostgreSQL may have dropped it (rollback, savepoint rollback, a new
    connection), and ``TENANT_LIMIT_SET_CALLS`` already trusts it for every query within a
    request. Trusting it from one request to the next saves the ``SET`` of every request
    that follows one to the same tenant on the same connection.
    """
    was_on = connection.search_path_set_schemas
    if tenant is None:
        connection.set_schema_to_public()
    else:
        connection.set_tenant(tenant)
    if was_on is not None and was_on == connection._get_cursor_search_paths():
        connection.search_path_set_schemas = was_on


def _tenant_where(condition: str, value: str) -> Tenant | None:
    """The tenant matching ``condition`` (one parameter; ``{domains}`` names the domain table),
    read from the public schema by qualified names, whatever schema the connection is on."""
    qn = connection.ops.quote_name
    public = qn(get_public_schema_name())
    tenants = f"{public}.{qn(Tenant._meta.db_table)}"
    where = condition.format(domains=f"{public}.{qn(Domain._meta.db_table)}")
    sql = f"SELECT {model_columns(Tenant, table_alias='t')} FROM {tenants} t WHERE {where}"  # noqa: S608 (only fixed fragments)
    with prepared_cursor() as cursor:  # every request runs it
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    return model_from_row(Tenant, row) if row else None
