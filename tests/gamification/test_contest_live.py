"""Stored live standings (docs/contests.md#how-fresh-live-standings-are).

A running contest's standings are measured once and paged from ``ContestLiveStanding``:
served as they are while younger than ``SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS`` (60 here),
served while a worker measures them again up to ``SSI_CONTEST_STANDINGS_STALE_SECONDS``
(3,600 here), measured by the read itself beyond that. The suite's settings measure at every
read (both 0); these tests set the production ages. People and events as in
tests/api/test_contest_standings.py: ann 2 posts, bob 1, then a third post for bob.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from gamification.models import Contest, ContestLiveStanding, ContestStanding, OutboxEvent
from gamification.services.contest_finalize import contest_finalize, contests_tick
from gamification.services.contest_live import standings_source
from gamification.services.contests import tenant_today
from tenants.models import Tenant
from tests.api.test_contest_standings import create, ev, ingest, people, standings, table
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

__all__ = ["people"]  # the fixture, shared with the API's tests


@pytest.fixture
def ages(settings: Any) -> None:
    settings.SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS = 60
    settings.SSI_CONTEST_STANDINGS_STALE_SECONDS = 3600
    settings.SSI_CONTEST_STANDINGS_LIVE_UP_TO = 0  # these contests are small: stored all the same


@pytest.fixture
def contest(acme: ApiClient, people: dict[str, Any], ages: None) -> int:
    ingest(acme, ev("ann", 3, 9), ev("ann", 4, 9), ev("bob", 3, 9))
    return create(acme)


def _values(source: Any) -> list[tuple[str, float]]:
    return [(r.external_id, r.value) for r in source.reps()]


def _source(tenant: Tenant, contest_id: int, now: datetime) -> Any:
    contest = Contest.objects.get(pk=contest_id)
    return standings_source(tenant=tenant, contest=contest, today=tenant_today(tenant), now=now)


def test_a_read_pages_the_stored_rows_until_they_are_a_minute_old(
    acme: ApiClient, acme_tenant: Tenant, contest: int
) -> None:
    first = standings(acme, contest)
    assert table(first, "rank", "rep", "value")[:2] == [(1, "ann", 2.0), (2, "bob", 1.0)]
    measured = datetime.fromisoformat(first["measured_at"])
    assert abs(measured - timezone.now()) < timedelta(seconds=30)
    ingest(acme, ev("bob", 5, 9), ev("bob", 6, 9))
    second = standings(acme, contest)
    # The rows measured before bob's two posts: the same, with the same time.
    assert (table(second, "rank", "rep", "value")[:2], second["measured_at"]) == (
        [(1, "ann", 2.0), (2, "bob", 1.0)],
        first["measured_at"],
    )
    with in_tenant("acme"):
        assert ContestLiveStanding.objects.filter(contest_id=contest, rep__isnull=False).count() == 4
        # A minute and a half later: served still, while one refresh (eager here) measures again.
        later = measured + timedelta(seconds=90)
        assert _values(_source(acme_tenant, contest, later))[:2] == [("ann", 2.0), ("bob", 1.0)]
        row = Contest.objects.get(pk=contest)
        assert row.live_claimed_at == later  # claimed; the refresh runs once the read commits


def test_a_stale_read_enqueues_one_refresh_which_stores_the_new_values(
    acme: ApiClient, acme_tenant: Tenant, contest: int, django_capture_on_commit_callbacks: Any
) -> None:
    standings(acme, contest)
    ingest(acme, ev("bob", 5, 9), ev("bob", 6, 9))
    with in_tenant("acme"):
        measured = Contest.objects.get(pk=contest).live_at
        assert measured is not None
        later = measured + timedelta(minutes=5)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _source(acme_tenant, contest, later)
            _source(acme_tenant, contest, later + timedelta(seconds=1))  # claimed already: no second
        assert len(callbacks) == 1
        callbacks[0]()  # the worker's refresh (eager)
        row = Contest.objects.get(pk=contest)
        assert row.live_at is not None
        assert (row.live_claimed_at, row.live_at > measured) == (None, True)
        assert _values(_source(acme_tenant, contest, row.live_at))[:2] == [("bob", 3.0), ("ann", 2.0)]


def test_rows_older_than_the_stale_limit_are_measured_by_the_read(
    acme: ApiClient, acme_tenant: Tenant, contest: int
) -> None:
    standings(acme, contest)
    ingest(acme, ev("bob", 5, 9), ev("bob", 6, 9))
    with in_tenant("acme"):
        measured = Contest.objects.get(pk=contest).live_at
        assert measured is not None
        source = _source(acme_tenant, contest, measured + timedelta(hours=2))
        assert _values(source)[:2] == [("bob", 3.0), ("ann", 2.0)]
        assert source.measured_at > measured


def test_changing_a_scheduled_contest_drops_its_rows_and_finalizing_freezes_them(
    acme: ApiClient, acme_tenant: Tenant, people: dict[str, Any], ages: None
) -> None:
    ingest(acme, ev("ann", 3, 9), ev("bob", 3, 9), ev("bob", 3, 10, type="post_commented"))
    future = create(acme, start_date="2030-01-01", end_date="2030-01-07")
    assert [r["value"] for r in standings(acme, future)["results"]] == [0.0] * 4
    with in_tenant("acme"):
        assert ContestLiveStanding.objects.filter(contest_id=future).exists()
    response = acme.patch(f"/api/v1/contests/{future}", {"metric": "xp"})
    assert response.status_code == 200, response.content
    with in_tenant("acme"):
        assert not ContestLiveStanding.objects.filter(contest_id=future).exists()
        assert Contest.objects.get(pk=future).live_at is None

    past = create(acme, metric="xp")
    assert table(standings(acme, past), "rep", "value")[:2] == [("bob", 13.0), ("ann", 10.0)]
    with in_tenant("acme"):
        Contest.objects.filter(pk=past).update(status=Contest.Status.RUNNING)
        assert contest_finalize(tenant=acme_tenant, contest_id=past, today=tenant_today(acme_tenant))
        assert not ContestLiveStanding.objects.filter(contest_id=past).exists()
        assert ContestStanding.objects.filter(contest_id=past, rep__isnull=False).count() == 4
    ended = standings(acme, past)
    assert (ended["status"], table(ended, "rep", "value")[:2]) == ("ended", [("bob", 13.0), ("ann", 10.0)])
    with in_tenant("acme"):
        finalized_at = Contest.objects.get(pk=past).finalized_at
    assert finalized_at is not None
    assert datetime.fromisoformat(ended["measured_at"]) == finalized_at


def test_a_rep_tokens_own_row_comes_from_the_stored_rows(world: World, acme: ApiClient, contest: int) -> None:
    standings(acme, contest)
    ingest(acme, ev("bob", 5, 9), ev("bob", 6, 9))
    bob = ApiClient(world.acme.host, acme.post("/api/v1/rep-tokens", {"rep": "bob"}).json()["token"])
    body = standings(bob, contest)
    assert (body["me"]["rank"], body["me"]["value"]) == (2, 1.0)


def test_the_ticks_leader_check_reads_fresh_stored_rows(
    acme: ApiClient, acme_tenant: Tenant, people: dict[str, Any], ages: None
) -> None:
    """The tick takes the leader from rows measured less than a minute ago: bob's posts that
    arrived after the read are not seen yet, so ann is announced."""
    today = tenant_today(acme_tenant)
    yesterday = today - timedelta(days=1)

    def post(rep: str, n: int, hour: int) -> dict[str, Any]:
        at = datetime.combine(yesterday, time(hour, n), ZoneInfo(acme_tenant.timezone))
        return {"id": f"lead-{rep}-{n}", "rep": rep, "type": "post_published", "occurred_at": at.isoformat()}

    ingest(acme, post("ann", 1, 9), post("ann", 2, 9))
    contest = create(
        acme,
        start_date=(today - timedelta(days=3)).isoformat(),
        end_date=(today + timedelta(days=3)).isoformat(),
    )
    assert table(standings(acme, contest), "rank", "rep")[0] == (1, "ann")
    ingest(acme, *(post("bob", n, 10) for n in range(1, 4)))
    with in_tenant("acme"):
        assert contests_tick(tenant=acme_tenant).lead_changed == [contest]
        lead = OutboxEvent.objects.get(type="contest.lead_changed").data["leader"]
    assert lead == {"rep": "ann", "value": 2.0}


def test_a_small_contest_is_measured_by_every_read(
    acme: ApiClient, people: dict[str, Any], settings: Any
) -> None:
    """With the production ages and the default limit (500 reps), a contest of 4 reps counts an
    event at the next read: small contests are never served from stored rows."""
    settings.SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS = 60
    settings.SSI_CONTEST_STANDINGS_STALE_SECONDS = 3600
    ingest(acme, ev("ann", 3, 9), ev("ann", 4, 9), ev("bob", 3, 9))
    contest = create(acme)
    assert table(standings(acme, contest), "rank", "rep", "value")[:2] == [(1, "ann", 2.0), (2, "bob", 1.0)]
    ingest(acme, ev("bob", 5, 9), ev("bob", 6, 9))
    assert table(standings(acme, contest), "rank", "rep", "value")[:2] == [(1, "bob", 3.0), (2, "ann", 2.0)]
