"""Recurring contests: the tick opens each season once (docs/contests.md#seasons).

acme (Europe/Berlin). ``contests_tick(now=...)`` decides the local today from ``now``. The
series are made as rows (a series' ``starts_on`` may not be in a season already over by the
clock's today; these are in 2026's spring and autumn), the seasons by the tick.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connections
from django_tenants.utils import tenant_context

from gamification.models import Contest, ContestSeries, OutboxEvent
from gamification.services.contest_finalize import contests_tick
from gamification.services.contest_series import seasons_open
from gamification.tasks import dispatch_contests_tick
from tenants.models import Tenant
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys, in_tenant


@pytest.fixture
def reps(acme: ApiClient) -> None:
    with in_tenant("acme"):
        for name in ("ann", "bob"):
            RepFactory.create(external_id=name)


def series(**extra: Any) -> int:
    fields: dict[str, Any] = {
        "name": "Posting",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "participants": {"all": True},
        "prizes": [{"rank": 1, "xp": 50}],
        "every": "week",
        "starts_on": date(2026, 3, 23),
        **extra,
    }
    with in_tenant("acme"):
        return ContestSeries.objects.create(**fields).pk


def tick(now: datetime) -> Any:
    with in_tenant("acme") as tenant:
        return contests_tick(tenant=tenant, now=now)


def seasons(series_id: int) -> list[tuple[str, str, date, date, str]]:
    with in_tenant("acme"):
        return list(
            Contest.objects.filter(series_id=series_id)
            .order_by("start_date")
            .values_list("season", "name", "start_date", "end_date", "status")
        )


def test_a_weekly_season_opens_at_local_monday_midnight_and_ends_across_a_dst_change(reps: None) -> None:
    weekly = series()
    # Sunday 22 March 23:59 in Berlin (UTC+1): the first season has not begun.
    assert tick(datetime(2026, 3, 22, 22, 59, tzinfo=UTC)).opened == []
    # Monday 23 March 00:00 in Berlin: week 13 opens and starts in the same tick.
    result = tick(datetime(2026, 3, 22, 23, 0, tzinfo=UTC))
    (w13,) = result.opened
    assert result.started == [w13]
    assert seasons(weekly) == [
        ("2026-W13", "Posting · 2026-W13", date(2026, 3, 23), date(2026, 3, 29), "running")
    ]
    # Summer time begins on Sunday 29 March (02:00 -> 03:00): that Sunday ends at 22:00 UTC.
    result = tick(datetime(2026, 3, 29, 21, 59, tzinfo=UTC))  # 23:59 local (UTC+2)
    assert (result.opened, result.finalized) == ([], [])
    result = tick(datetime(2026, 3, 29, 22, 0, tzinfo=UTC))  # Monday 30 March 00:00 local
    (w14,) = result.opened
    assert result.finalized == [w13] and result.started == [w14]
    assert seasons(weekly) == [
        ("2026-W13", "Posting · 2026-W13", date(2026, 3, 23), date(2026, 3, 29), "ended"),
        ("2026-W14", "Posting · 2026-W14", date(2026, 3, 30), date(2026, 4, 5), "running"),
    ]
    with in_tenant("acme"):
        started = [e.data["contest"] for e in OutboxEvent.objects.filter(type="contest.started")]
    assert [(c["season"], c["series"]) for c in started] == [("2026-W13", weekly), ("2026-W14", weekly)]


def test_a_monthly_season_turns_over_at_local_midnight_at_the_month_end(reps: None) -> None:
    monthly = series(every="month", starts_on=date(2026, 11, 1), name="Monthly")
    assert tick(datetime(2026, 10, 31, 22, 59, tzinfo=UTC)).opened == []  # 31 Oct 23:59 (UTC+1)
    (november,) = tick(datetime(2026, 10, 31, 23, 0, tzinfo=UTC)).opened  # 1 Nov 00:00
    assert tick(datetime(2026, 11, 30, 22, 59, tzinfo=UTC)).opened == []  # 30 Nov 23:59
    result = tick(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))  # 1 Dec 00:00
    assert len(result.opened) == 1 and result.finalized == [november]
    assert seasons(monthly) == [
        ("2026-11", "Monthly · 2026-11", date(2026, 11, 1), date(2026, 11, 30), "ended"),
        ("2026-12", "Monthly · 2026-12", date(2026, 12, 1), date(2026, 12, 31), "running"),
    ]


def test_ticking_twice_opens_one_season(reps: None) -> None:
    weekly = series()
    now = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)  # Wednesday of week 13: it opens late, from Monday
    assert len(tick(now).opened) == 1
    assert tick(now).opened == []
    assert tick(datetime(2026, 3, 27, 9, 0, tzinfo=UTC)).opened == []
    assert [s[0] for s in seasons(weekly)] == ["2026-W13"]


def test_a_season_passed_without_a_tick_is_not_opened_afterwards(reps: None) -> None:
    weekly = series()
    tick(datetime(2026, 3, 23, 9, 0, tzinfo=UTC))  # week 13
    tick(datetime(2026, 4, 8, 9, 0, tzinfo=UTC))  # week 15: no tick ran in week 14
    assert [s[0] for s in seasons(weekly)] == ["2026-W13", "2026-W15"]


def test_a_deactivated_series_opens_no_season_and_keeps_its_past_ones(reps: None) -> None:
    weekly = series()
    tick(datetime(2026, 3, 23, 9, 0, tzinfo=UTC))
    with in_tenant("acme"):
        ContestSeries.objects.filter(pk=weekly).update(active=False)
    result = tick(datetime(2026, 3, 30, 9, 0, tzinfo=UTC))
    assert result.opened == [] and len(result.finalized) == 1  # week 13 still ends as a contest
    assert [(s[0], s[4]) for s in seasons(weekly)] == [("2026-W13", "ended")]
    with in_tenant("acme"):
        ContestSeries.objects.filter(pk=weekly).update(active=True)
    assert len(tick(datetime(2026, 4, 1, 9, 0, tzinfo=UTC)).opened) == 1  # week 14 (current), no more
    assert [s[0] for s in seasons(weekly)] == ["2026-W13", "2026-W14"]


def test_a_series_that_has_not_begun_opens_nothing(reps: None) -> None:
    series(starts_on=date(2026, 4, 6))
    assert tick(datetime(2026, 3, 30, 9, 0, tzinfo=UTC)).opened == []


def test_the_beat_task_ticks_a_tenant_with_an_active_series(acme: ApiClient, reps: None) -> None:
    # Monthly from this month (by the clock's today): the beat opens its season.
    today = datetime.now(UTC).date()
    monthly = series(every="month", starts_on=today.replace(day=1))
    dispatch_contests_tick()  # eager in tests: each tenant's tick runs inline, in its schema
    assert len(seasons(monthly)) == 1


def test_two_workers_opening_at_once_open_one_season(committed_tenant: TenantKeys) -> None:
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        weekly = ContestSeries.objects.create(
            name="Once",
            metric="xp",
            kind="leaderboard",
            participants={"all": True},
            every="week",
            starts_on=date(2026, 3, 23),
        )
    barrier = threading.Barrier(2)
    results: list[list[int]] = []

    def open_seasons() -> None:
        try:
            with tenant_context(tenant):
                barrier.wait()
                results.append(seasons_open(today=date(2026, 3, 25)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_seasons) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(len(r) for r in results) == [0, 1]
    with tenant_context(tenant):
        assert Contest.objects.filter(series=weekly).count() == 1
