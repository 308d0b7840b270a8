"""Routing a request to its tenant: by host, or by ``X-Tenant`` on the platform host.

Runs first. The connection goes to ``public`` to read the tenant tables, then
to the tenant's schema. django-tenants has no header routing of its own
(issues 658, 922), so this replaces its ``TenantMainMiddleware.process_request``;
the tenant is resolved from the public schema before authentication runs.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from api.errors import DATABASE_UNAVAILABLE, database_unavailable_response, error_response
from tenants.db import connection
from tenants.models import Domain, Tenant
from tenants.validation import SLUG_RE


class TenantRoutingMiddleware(TenantMainMiddleware):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return self._route(request)
        except DATABASE_UNAVAILABLE:
            # The tenant tables are unreachable: say so, retryable, in the API's shape.
            return database_unavailable_response()

    def _route(self, request: HttpRequest) -> HttpResponse | None:
        connection.set_schema_to_public()
        hostname = request.META.get("HTTP_HOST", "") or request.META.get("SERVER_NAME", "")
        hostname = hostname.rsplit(":", 1)[0] if not hostname.endswith("]") else hostname
        hostname = hostname.lower().rstrip(".")
        request.tenant = None  # type: ignore[attr-defined]

        if hostname in settings.SSI_PLATFORM_HOSTS:
            slug = request.headers.get("X-Tenant", "").strip()
            if not slug:
                request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
                set_urlconf(request.urlconf)
                return None
            tenant = Tenant.objects.filter(slug=slug).first() if SLUG_RE.match(slug) else None
            if tenant is None:
                return error_response(
                    404, "tenant_not_found", f"No tenant with slug {slug[:64]!r}.", "X-Tenant"
                )
        else:
            domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
            if domain is None:
                return error_response(404, "tenant_not_found", "No tenant is served on this host.", None)
            tenant = domain.tenant

        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        connection.set_tenant(tenant)
        request.urlconf = settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        return None
