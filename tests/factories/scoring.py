"""Teams, reps, the daily rollup, snapshots, scored days and jobs.

Tenant models: call inside ``tests.support.tenants.in_tenant(slug)`` (or any tenant context).
Use ``TeamFactory.create(...)`` (typed: returns a ``Team``) rather than ``TeamFactory(...)``.
Fields a factory does not declare keep the model's default.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from scoring.models import ActivityDaily, Job, Rep, ScoredDay, ScoreSnapshot, Team


class TeamFactory(DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    description = ""


class RepFactory(DjangoModelFactory[Rep]):
    class Meta:
        model = Rep

    external_id = factory.Sequence(lambda n: f"rep-{n}")
    name = factory.Sequence(lambda n: f"Rep {n}")
    email = factory.LazyAttribute(lambda rep: f"{rep.external_id}@example.com")
    team = None
    active = True


class ActivityDailyFactory(DjangoModelFactory[ActivityDaily]):
    """A row of the daily rollup as ingestion writes it: ``n`` events of ``type`` on ``day``,
    each of value 1, the day's last one at noon UTC."""

    class Meta:
        model = ActivityDaily

    rep = factory.SubFactory(RepFactory)
    type = "post_published"
    day = factory.LazyFunction(timezone.localdate)
    n = 1
    total = factory.LazyAttribute(lambda row: float(row.n))
    last_at = factory.LazyAttribute(lambda row: datetime.combine(row.day, time(12), tzinfo=UTC))
    last_id = 1
    last_value = 1.0


class ScoreSnapshotFactory(DjangoModelFactory[ScoreSnapshot]):
    """A rep's scores on a day: every score 0 unless given, first of one in the tenant, no team."""

    class Meta:
        model = ScoreSnapshot

    rep = factory.SubFactory(RepFactory)
    day = factory.LazyFunction(timezone.localdate)
    ssi = 0.0
    brand = 0.0
    find = 0.0
    engage = 0.0
    relationships = 0.0
    config_version = 1
    tenant_rank = 1
    tenant_of = 1
    tenant_top_percent = 100


class ScoredDayFactory(DjangoModelFactory[ScoredDay]):
    """A day marked scored (its snapshots complete), under config version 1."""

    class Meta:
        model = ScoredDay

    day = factory.LazyFunction(timezone.localdate)
    config_version = 1
    reps = 0


class JobFactory(DjangoModelFactory[Job]):
    """A queued recompute of no days. ``running=True``: claimed by ``task-1``, on its first
    attempt, started and last heard of now."""

    class Meta:
        model = Job

    params = factory.LazyFunction(lambda: {"days": []})

    class Params:
        running = factory.Trait(
            status=Job.Status.RUNNING,
            started_at=factory.LazyFunction(timezone.now),
            heartbeat_at=factory.SelfAttribute("started_at"),
            claimed_by="task-1",
            attempts=1,
        )
