"""Run by tests/access/test_upgrade_keeps_data.py with the current code, on the database that
``fill_before_layers.py`` built and ``setup_db`` then migrated: every key and token still
authenticates, every moved row is readable through its new model, counts are unchanged, and
a new tenant is still cloned from the template. Prints the findings as JSON."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402


def status(host: str, path: str, token: str) -> int:
    client = Client(HTTP_HOST=host)
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def main() -> None:
    from access.models import ApiKey, AuditEntry, RepToken
    from gamification.models import BadgeAward
    from provisioning.tenants import tenant_create
    from scoring.models import Activity, ScoreSnapshot
    from tenants.models import Tenant

    before = json.loads(sys.stdin.read())
    tenant = Tenant.objects.get(slug="demo")
    found: dict[str, object] = {}
    with tenant_context(tenant):
        found["rows"] = {
            "api_apikey": len(list(ApiKey.objects.all())),
            "api_auditentry": len(list(AuditEntry.objects.all())),
            "gamification_reptoken": len(list(RepToken.objects.select_related("rep"))),
            "scoring_activity": Activity.objects.count(),
            "scoring_scoresnapshot": ScoreSnapshot.objects.count(),
            "gamification_badgeaward": BadgeAward.objects.count(),
        }
        counts = {}
        with connection.cursor() as cursor:
            for table in before["counts"]:
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
        found["counts"] = counts
        found["audit_actor_kinds"] = sorted(set(AuditEntry.objects.values_list("actor_kind", flat=True)))
    host = "demo.localhost"
    found["status"] = {
        "platform_key": status("localhost", "/api/v1/platform/tenants", before["platform_key"]),
        "admin_key": status(host, "/api/v1/api-keys", before["admin_key"]),
        "integration_key": status(host, "/api/v1/reps", before["integration_key"]),
        "rep_token": status(host, f"/api/v1/reps/{before['rep']}", before["rep_token"]),
    }
    created = tenant_create(slug="after-upgrade", name="After the upgrade", timezone_name="UTC")
    found["status"]["new_tenant_admin_key"] = status(  # type: ignore[index]
        "after-upgrade.localhost", "/api/v1/api-keys", created.admin_key
    )
    print(json.dumps(found))


if __name__ == "__main__":
    main()
