"""``contest.lead_changed``: a running contest's new leader, announced at most once per debounce
interval (docs/contests.md#lead-changes).

acme (Europe/Berlin). A contest over 2 to 8 March 2026, ticked with ``now`` on 4 March.
``SSI_CONTEST_LEAD_DEBOUNCE_MINUTES`` is 15 (the default).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gamification.models import Contest, OutboxEvent
from gamification.services.contest_finalize import contests_tick
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant

CONTESTS = "/api/v1/contests"
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def teams(acme: ApiClient) -> dict[str, int]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        for name in ("ann", "bob"):
            RepFactory.create(external_id=name, team=north)
        RepFactory.create(external_id="dan", team=south)
    return {"north": north.pk, "south": south.pk}


_seq = iter(range(1, 10_000))


def posts(client: ApiClient, rep: str, n: int, day: str = "2026-03-03") -> None:
    events = [
        {
            "id": f"lead-{next(_seq)}",
            "rep": rep,
            "type": "post_published",
            "occurred_at": f"{day}T12:00:00+01:00",
        }
        for _ in range(n)
    ]
    assert client.post("/api/v1/activities", {"events": events}).json()["accepted"] == n


def create(client: ApiClient, **extra: Any) -> int:
    body = {
        "name": "March week",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "start_date": "2026-03-02",
        "end_date": "2026-03-08",
        "participants": {"all": True},
        **extra,
    }
    response = client.post(CONTESTS, body)
    assert response.status_code == 201, response.content
    contest_id: int = response.json()["id"]
    return contest_id


def tick(minutes: int) -> list[int]:
    with in_tenant("acme") as tenant:
        return contests_tick(tenant=tenant, now=T0 + timedelta(minutes=minutes)).lead_changed


def announced() -> list[tuple[Any, Any]]:
    with in_tenant("acme"):
        events = OutboxEvent.objects.filter(type="contest.lead_changed").order_by("created_at")
        return [(e.data["leader"], e.data["previous"]) for e in events]


def test_a_new_leader_is_announced_once_within_the_debounce_interval_and_again_after_it(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    contest = create(acme)
    assert tick(0) == []  # everyone at 0: the lead is shared, nothing to announce
    posts(acme, "ann", 2)
    assert tick(1) == [contest]
    assert announced() == [({"rep": "ann", "value": 2.0}, None)]
    assert tick(2) == []  # the same leader: nothing
    posts(acme, "bob", 3)
    assert tick(10) == []  # 9 minutes after the last announcement: not yet
    assert tick(15) == []  # 14 minutes
    assert tick(16) == [contest]  # 15 minutes: announced, with the leader last announced as previous
    assert announced()[1:] == [({"rep": "bob", "value": 3.0}, {"rep": "ann", "value": 2.0})]
    with in_tenant("acme"):
        stored = Contest.objects.get(pk=contest)
        assert stored.lead == {"rep": "bob", "value": 3.0}
        assert stored.lead_at == T0 + timedelta(minutes=16)
    (event,) = [e for e in _events() if e["leader"]["rep"] == "bob"]
    assert event["contest"]["id"] == contest and event["contest"]["status"] == "running"


def _events() -> list[dict[str, Any]]:
    with in_tenant("acme"):
        return [
            e.data for e in OutboxEvent.objects.filter(type="contest.lead_changed").order_by("created_at")
        ]


def test_a_shared_lead_announces_nothing_and_a_leader_back_in_front_is_no_change(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    create(acme)
    posts(acme, "ann", 2)
    posts(acme, "bob", 2)
    assert tick(0) == []  # ann and bob tie at rank 1
    posts(acme, "bob", 1)
    assert len(tick(20)) == 1  # bob 3 leads alone
    posts(acme, "ann", 1)
    assert tick(40) == []  # 3 all: shared again, no change announced
    posts(acme, "bob", 1)
    assert tick(60) == []  # bob alone in front again: the leader last announced, no change
    posts(acme, "ann", 2)
    assert len(tick(80)) == 1  # ann 5, bob 4
    assert announced() == [
        ({"rep": "bob", "value": 3.0}, None),
        ({"rep": "ann", "value": 5.0}, {"rep": "bob", "value": 3.0}),
    ]


def test_a_teams_contest_announces_the_leading_team(acme: ApiClient, teams: dict[str, int]) -> None:
    create(acme, kind="teams", aggregate="sum")
    posts(acme, "dan", 1)
    assert len(tick(0)) == 1
    assert announced() == [({"team": teams["south"], "value": 1.0}, None)]


def test_no_lead_is_announced_for_a_contest_not_running(acme: ApiClient, teams: dict[str, int]) -> None:
    create(acme, start_date="2026-03-05")  # begins tomorrow
    posts(acme, "ann", 2, day="2026-03-05")
    assert tick(0) == []
    assert announced() == []
