# mypy: ignore-errors
"""Run by tests/access/test_upgrade_keeps_data.py with the code of the commit before the
layered layout (its tree first on sys.path): builds a database as that code did and prints
what the new code must still find, as JSON.

It imports that commit's module paths (``tenants.demo``, ``api.services``...), which the
current tree no longer has: never import it from the current code.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.environ["OLD_TREE"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

TABLES = (
    "api_apikey",
    "api_auditentry",
    "gamification_reptoken",
    "scoring_rep",
    "scoring_activity",
    "scoring_scoresnapshot",
    "gamification_badgeaward",
    "gamification_badge",
)


def main() -> None:
    from api.services import api_key_create
    from gamification.services.badges import badge_create
    from gamification.services.rep_tokens import rep_token_create
    from scoring.models import Rep
    from tenants.demo import demo_ensure
    from tenants.models import Tenant

    call_command("setup_db", verbosity=0)
    keys = demo_ensure()  # a tenant with reps, 90 days of events, their scores and badge awards
    tenant = Tenant.objects.get(slug="demo")
    with tenant_context(tenant):
        integration = api_key_create(name="integration", role="integration").token
        rep = Rep.objects.order_by("id").first()
        rep_token = rep_token_create(rep=rep, ttl_seconds=86400).token
        with transaction.atomic():
            badge_create(
                data={
                    "slug": "upgrade-check", "name": "Upgrade check", "description": "An audited change.",
                    "repeat": "once", "criteria": {"metric": "ssi", "op": ">", "value": 0}, "xp_reward": 5,
                }
            )  # fmt: skip
        counts = {}
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
    print(
        json.dumps(
            {
                "platform_key": keys.platform_key,
                "admin_key": keys.demo_admin_key,
                "integration_key": integration,
                "rep_token": rep_token,
                "rep": rep.external_id,
                "counts": counts,
            }
        )
    )


if __name__ == "__main__":
    main()
