"""The demo tenant that ``make run`` shows a newcomer."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from api.models import ApiKey
from api.services import api_key_create
from scoring.models import Rep, Team
from tenants.models import Tenant
from tenants.services import platform_key_create, platform_keys_revoke, tenant_create

DEMO_SLUG = "demo"
DEMO_KEY_NAME = "make run"
TEAMS = ("Enterprise", "Mid-Market", "SMB")
FIRST = (
    "Ada",
    "Ben",
    "Chloe",
    "Diego",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Milo",
)
LAST = ("Okafor", "Nguyen", "Schmidt", "Rossi", "Kowalski", "Haddad", "Silva", "Tanaka", "Moreau", "Larsen")
DEMO_REPS = 25


@dataclass(frozen=True)
class DemoKeys:
    platform_key: str
    demo_admin_key: str
    created_tenant: bool


def demo_ensure() -> DemoKeys:
    """Create the demo tenant and its reps if missing; mint fresh keys for this run.

    Keys are shown once and stored hashed, so each run mints a new platform
    key and demo admin key named "make run" and revokes the previous ones.
    """
    platform_keys_revoke(name=DEMO_KEY_NAME)
    platform = platform_key_create(name=DEMO_KEY_NAME)
    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    created = tenant is None
    if tenant is None:
        tenant = tenant_create(slug=DEMO_SLUG, name="Demo Company", timezone_name="Europe/Berlin").tenant
    with tenant_context(tenant), transaction.atomic():
        ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).update(revoked_at=timezone.now())
        admin = api_key_create(name=DEMO_KEY_NAME, role="admin")
        if not Rep.objects.exists():
            _seed_people()
    return DemoKeys(platform_key=platform.token, demo_admin_key=admin.token, created_tenant=created)


def _seed_people() -> None:
    rng = random.Random(42)  # noqa: S311 (sample data, not security)
    teams = [Team.objects.create(name=name, description=f"{name} sales") for name in TEAMS]
    reps = []
    for i in range(DEMO_REPS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        reps.append(
            Rep(
                external_id=f"rep-{i + 1:03d}",
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}{i + 1}@demo.example",
                team=teams[i % len(teams)],
            )
        )
    Rep.objects.bulk_create(reps)
