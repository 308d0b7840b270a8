"""The demo tenant that ``make run`` shows a newcomer."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from access.actor import SYSTEM
from access.keys import api_key_create
from access.members import Invitation, member_invite, member_reinvite
from access.models import ApiKey, Member
from core.clock import local_yesterday
from provisioning.tenants import tenant_create
from scoring.models import Rep, Team
from scoring.services.ingest import activities_ingest
from scoring.services.recompute import scores_compute_day
from tenants.models import Tenant
from tenants.services import platform_key_create, platform_keys_revoke

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


DEMO_DAYS = 90
# Expected events per rep and working day for an average rep (weekends are quieter).
RATES = {
    "post_published": 0.3, "article_published": 0.03, "endorsement_received": 0.15,
    "recommendation_received": 0.02, "follower_gained": 0.5, "people_search": 1.2, "profile_viewed": 2.0,
    "lead_saved": 0.4, "post_liked": 2.0, "post_commented": 0.5, "post_shared": 0.2, "message_sent": 1.0,
    "message_received": 0.8, "group_joined": 0.02, "connection_request_sent": 0.8,
    "decision_maker_connected": 0.15,
}  # fmt: skip


DEMO_ADMIN_EMAIL = "admin@demo.example"


@dataclass(frozen=True)
class DemoKeys:
    platform_key: str
    demo_admin_key: str
    created_tenant: bool
    admin_invite_token: str = ""  # a fresh console invitation of the demo admin member


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
        admin = api_key_create(name=DEMO_KEY_NAME, role="admin", actor=SYSTEM)
        invitation = _demo_admin_invitation()
        if not Rep.objects.exists():
            demo_people_seed()
    demo_activity_refresh(tenant)
    return DemoKeys(
        platform_key=platform.token,
        demo_admin_key=admin.token,
        created_tenant=created,
        admin_invite_token=invitation.token,
    )


def _demo_admin_invitation() -> Invitation:
    """The demo's admin member (``admin@demo.example``), made if missing, with a fresh invitation:
    each run prints a link that works (and replaces the previous run's)."""
    member = Member.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).first()
    if member is None:
        return member_invite(email=DEMO_ADMIN_EMAIL, name="Demo Admin", role="admin", actor=SYSTEM)
    return member_reinvite(member_id=member.pk, actor=SYSTEM)


def demo_activity_refresh(tenant: Tenant, *, days_kept: int = DEMO_DAYS) -> int:
    """Give the demo reps activity up to yesterday and score the days that lack scores.

    The first run fills ``days_kept`` days (90); later runs fill only the days since the
    last one, so the demo always shows recent numbers. Deterministic per (rep, day). Any
    tenant with reps can be filled so (the console's tests do).
    """
    tenant.refresh_from_db()
    yesterday = local_yesterday(tenant.timezone)
    first = yesterday - timedelta(days=days_kept - 1)
    if tenant.scored_through is not None:
        first = max(first, tenant.scored_through + timedelta(days=1))
    if first > yesterday:
        return 0
    days = [first + timedelta(days=i) for i in range((yesterday - first).days + 1)]
    tz = ZoneInfo(tenant.timezone)
    first_fill = yesterday - timedelta(days=days_kept - 1)  # everyone's profile is set up on the first day
    with tenant_context(tenant):
        reps = list(Rep.objects.filter(active=True).order_by("id").values_list("external_id", flat=True))
        events: list[dict[str, object]] = []
        for day in days:
            for index, external_id in enumerate(reps):
                events.extend(
                    _rep_day_events(
                        external_id,
                        index,
                        day,
                        tz,
                        first_fill=day == first_fill,
                    )
                )
        for start in range(0, len(events), 1000):
            activities_ingest(tenant=tenant, events=events[start : start + 1000])
        for day in days:
            scores_compute_day(tenant=tenant, day=day, nightly=True)  # stands in for the nightly runs
    return len(days)


def _rep_day_events(
    external_id: str, index: int, day: date, tz: ZoneInfo, *, first_fill: bool
) -> list[dict[str, object]]:
    rng = random.Random(f"{external_id}:{day.isoformat()}")  # noqa: S311 (sample data)
    level = 0.3 + (index * 37 % 25) / 20  # 0.3 .. 1.5: some reps are far busier than others
    weekend = day.weekday() >= 5
    events: list[dict[str, object]] = []

    def add(type_name: str, value: float = 1) -> None:
        at = datetime.combine(day, time(8), tzinfo=tz) + timedelta(minutes=rng.randint(0, 600))
        events.append(
            {
                "id": f"demo-{external_id}-{day.isoformat()}-{len(events)}",
                "rep": external_id,
                "type": type_name,
                "occurred_at": at.isoformat(),
                "value": value,
            }
        )

    for type_name, rate in RATES.items():
        expected = rate * level * (0.15 if weekend else 1.0)
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        for _ in range(count):
            add(type_name, rng.randint(1, 6) if type_name == "follower_gained" else 1)
            if type_name == "message_received" and rng.random() < min(0.95, 0.4 + 0.4 * level):
                add("message_replied")
            if type_name == "connection_request_sent" and rng.random() < 0.55:
                add("connection_request_accepted")
    if first_fill or rng.random() < 0.03:
        add("profile_updated", min(100, 40 + int(level * 40) + rng.randint(0, 20)))
    if day.weekday() == 0:
        add("connections_synced", int(120 + level * 300 + (day.toordinal() % 365)))
    return events


def demo_people_seed(count: int = DEMO_REPS) -> None:
    """The demo's teams and ``count`` reps with made-up names, in the current schema."""
    rng = random.Random(42)  # noqa: S311 (sample data, not security)
    teams = [Team.objects.create(name=name, description=f"{name} sales") for name in TEAMS]
    reps = []
    for i in range(count):
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
