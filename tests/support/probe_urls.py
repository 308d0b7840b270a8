"""A tenant URLconf with one more view, for the savepoint tests (django-tenants issue 1262).

``GET /probe/savepoint?other=<schema>&mode=restore|switch`` in tenant A: in
the request's transaction, a savepoint writes a team in A, reads the other
schema (``restore``: inside ``schema_context``, as tasks and sweeps do;
``switch``: ``set_schema`` without switching back, as django-tenants'
``run_migrations`` does), then fails on a database error and is rolled
back. The answer says, before, just after the rollback, and after
``set_tenant(A)`` again: the schema the connection names, the schema
PostgreSQL searches, and the teams and key prefixes it reads.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django_tenants.utils import schema_context

from config.urls_tenant import handler404, handler500
from config.urls_tenant import urlpatterns as tenant_urlpatterns
from core.db import connection
from scoring.models import Team
from tests.support import probe_tasks

ROLLED_BACK_TEAM = "probe-rolled-back"


def seen() -> dict[str, Any]:
    """What a task sees (``probe_tasks.seen``), and the teams of the schema."""
    return probe_tasks.seen() | {"teams": sorted(Team.objects.values_list("name", flat=True))}


def savepoint_probe(request: HttpRequest) -> JsonResponse:
    other = request.GET["other"]
    mode = request.GET["mode"]
    tenant = request.tenant  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    with transaction.atomic():
        out["before"] = seen()
        try:
            with transaction.atomic():
                Team.objects.create(name=ROLLED_BACK_TEAM)
                if mode == "restore":
                    with schema_context(other):
                        out["inside"] = seen()
                        _fail()
                else:
                    connection.set_schema(other)
                    out["inside"] = seen()
                    _fail()
        except DatabaseError as exc:
            out["error"] = type(exc).__name__
        out["after"] = seen()
        connection.set_tenant(tenant)
        out["restored"] = seen()
    return JsonResponse(out)


def _fail() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")


urlpatterns = [path("probe/savepoint", savepoint_probe), *tenant_urlpatterns]
__all__ = ["handler404", "handler500", "urlpatterns"]
