"""The tick: contests start and end exactly once (docs/contests.md#the-end).

acme (Europe/Berlin). ``contests_tick(now=...)`` decides the local today from ``now``.
Team North: ann, bob; team South: dan, eve. XP per post_published: 10.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django_tenants.utils import tenant_context

from gamification.models import BadgeAward, Contest, ContestStanding, OutboxEvent
from gamification.services.contest_finalize import contest_finalize, contests_tick
from gamification.tasks import dispatch_contests_tick
from scoring.models import Rep
from tenants.models import Tenant
from tests.factories.gamification import BadgeFactory
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys, in_tenant

CONTESTS = "/api/v1/contests"
# 2026-03-09 10:00 in Berlin: the contests below (2 to 8 March) are over.
AFTER = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(acme: ApiClient) -> dict[str, int]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        for name in ("ann", "bob"):
            RepFactory.create(external_id=name, team=north)
        for name in ("dan", "eve"):
            RepFactory.create(external_id=name, team=south)
        BadgeFactory.create(slug="champion", xp_reward=7)
    return {"north": north.pk, "south": south.pk}


_seq = iter(range(1, 10_000))


def posts(client: ApiClient, rep: str, day: str, n: int, hour: int = 12) -> None:
    events = [
        {
            "id": f"f{next(_seq)}",
            "rep": rep,
            "type": "post_published",
            "occurred_at": f"{day}T{hour:02d}:00:00+01:00",
        }
        for _ in range(n)
    ]
    response = client.post("/api/v1/activities", {"events": events})
    assert response.status_code == 200 and response.json()["accepted"] == n, response.content


def create(client: ApiClient, **extra: Any) -> int:
    body = {
        "name": "March week",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "start_date": "2026-03-02",
        "end_date": "2026-03-08",
        "participants": {"all": True},
        "prizes": [{"rank": 1, "xp": 100, "badge": "champion"}, {"rank": 3, "xp": 30}],
        **extra,
    }
    response = client.post(CONTESTS, body)
    assert response.status_code == 201, response.content
    contest_id: int = response.json()["id"]
    return contest_id


def tick(now: datetime = AFTER) -> tuple[list[int], list[int]]:
    with in_tenant("acme") as tenant:
        result = contests_tick(tenant=tenant, now=now)
    return result.started, result.finalized


def xp_of() -> dict[str, int]:
    with in_tenant("acme"):
        return dict(Rep.objects.order_by("external_id").values_list("external_id", "xp"))


def outbox(type: str) -> list[dict[str, Any]]:
    with in_tenant("acme"):
        return [e.data for e in OutboxEvent.objects.filter(type=type).order_by("created_at")]


def test_the_tick_starts_a_due_contest_once(acme: ApiClient, people: dict[str, int]) -> None:
    contest = create(acme, start_date="2026-03-10", end_date="2026-03-20")
    assert tick(datetime(2026, 3, 9, 22, 59, tzinfo=UTC)) == ([], [])  # 23:59 on the 9th in Berlin
    assert tick(datetime(2026, 3, 9, 23, 0, tzinfo=UTC)) == ([contest], [])  # midnight: the 10th
    assert tick(datetime(2026, 3, 9, 23, 5, tzinfo=UTC)) == ([], [])
    (started,) = outbox("contest.started")
    assert started["contest"]["id"] == contest and started["contest"]["status"] == "running"
    with in_tenant("acme"):
        assert Contest.objects.get(pk=contest).status == "running"


def test_finalizing_freezes_the_standings_and_grants_each_prize_once(
    acme: ApiClient, people: dict[str, int]
) -> None:
    posts(acme, "ann", "2026-03-03", 3)
    posts(acme, "bob", "2026-03-04", 3)  # ann and bob tie at rank 1: both win its prize
    posts(acme, "dan", "2026-03-05", 1)  # rank 3
    contest = create(acme)
    before = xp_of()
    # Started and finalized in one tick: its whole period is over.
    assert tick() == ([contest], [contest])
    after = xp_of()
    # XP: rank 1 100 + the badge's 7; rank 3: 30; eve (rank 4) nothing.
    assert {rep: after[rep] - before[rep] for rep in after} == {"ann": 107, "bob": 107, "dan": 30, "eve": 0}
    with in_tenant("acme"):
        awards = BadgeAward.objects.filter(badge__slug="champion").order_by("rep__external_id")
        assert [(a.rep.external_id, a.period) for a in awards] == [
            ("ann", f"contest-{contest}"),
            ("bob", f"contest-{contest}"),
        ]
        frozen = list(
            ContestStanding.objects.filter(contest_id=contest).values_list(
                "rep__external_id", "rank", "value", "prize_xp"
            )
        )
        assert frozen == [("ann", 1, 3.0, 100), ("bob", 1, 3.0, 100), ("dan", 3, 1.0, 30), ("eve", 4, 0.0, 0)]
    (ended,) = outbox("contest.ended")
    assert ended["contest"]["id"] == contest and ended["contest"]["status"] == "ended"
    assert ended["winners"] == [
        {"rank": 1, "rep": "ann"},
        {"rank": 1, "rep": "bob"},
        {"rank": 3, "rep": "dan"},
    ]
    body = acme.get(f"{CONTESTS}/{contest}").json()
    assert body["status"] == "ended" and body["finalized_at"]

    # Again: nothing changes. A late event dated inside the period changes nothing either.
    posts(acme, "eve", "2026-03-06", 9)
    assert tick() == ([], [])
    with in_tenant("acme") as tenant:
        assert not contest_finalize(tenant=tenant, contest_id=contest, today=date(2026, 3, 20))
    assert {rep: xp - after[rep] for rep, xp in xp_of().items()} == {"ann": 0, "bob": 0, "dan": 0, "eve": 90}
    assert len(outbox("contest.ended")) == 1
    rows = acme.get(f"{CONTESTS}/{contest}/standings").json()["results"]
    assert [(r["rank"], r["rep"], r["value"]) for r in rows] == [
        (1, "ann", 3.0), (1, "bob", 3.0), (3, "dan", 1.0), (4, "eve", 0.0),
    ]  # fmt: skip
    call_command_out = StringIO()
    call_command("contests_tick", "--tenant", "acme", stdout=call_command_out)
    assert json.loads(call_command_out.getvalue()) == {
        "opened": [],
        "started": [],
        "finalized": [],
        "lead_changed": [],
    }


def test_a_teams_prize_goes_to_every_participant_member_of_the_team(
    acme: ApiClient, people: dict[str, int]
) -> None:
    posts(acme, "dan", "2026-03-03", 4)
    posts(acme, "ann", "2026-03-03", 3)
    contest = create(acme, kind="teams", aggregate="sum", prizes=[{"rank": 1, "xp": 20}])
    before = xp_of()
    tick()
    assert {rep: xp - before[rep] for rep, xp in xp_of().items()} == {
        "ann": 0,
        "bob": 0,
        "dan": 20,
        "eve": 20,
    }
    (ended,) = outbox("contest.ended")
    assert ended["winners"] == [{"rank": 1, "team": people["south"]}]
    teams = acme.get(f"{CONTESTS}/{contest}/standings?by=team").json()["results"]
    assert [(t["name"], t["rank"], t["value"], t["members"]) for t in teams] == [
        ("South", 1, 4.0, 2),
        ("North", 2, 3.0, 2),
    ]


def test_a_cancelled_contest_grants_nothing(acme: ApiClient, people: dict[str, int]) -> None:
    posts(acme, "ann", "2026-03-03", 3)
    contest = create(acme)
    assert acme.post(f"{CONTESTS}/{contest}/cancel").status_code == 200
    before = xp_of()
    assert tick() == ([], [])
    assert xp_of() == before and outbox("contest.ended") == [] and outbox("contest.started") == []
    with in_tenant("acme"):
        assert not ContestStanding.objects.filter(contest_id=contest).exists()


def test_a_contest_ending_on_the_night_summer_time_ends_closes_at_local_midnight(
    acme: ApiClient, people: dict[str, int]
) -> None:
    # 2026-10-25 has 25 hours in Berlin (02:00-03:00 twice); it ends at 23:00 UTC (+01:00 again).
    events = [
        ("ann", "2026-10-25T22:30:00Z"),  # 23:30 local on the 25th: counts
        ("ann", "2026-10-25T00:30:00Z"),  # 02:30 local (summer time), the 25th: counts
        ("bob", "2026-10-25T23:00:00Z"),  # midnight local: the 26th, after the end
        ("bob", "2026-10-24T21:59:00Z"),  # 23:59 local (+02:00) on the 24th: before the start
    ]
    body = {
        "events": [
            {"id": f"dst-{i}", "rep": rep, "type": "post_published", "occurred_at": at}
            for i, (rep, at) in enumerate(events)
        ]
    }
    assert acme.post("/api/v1/activities", body).json()["accepted"] == 4
    contest = create(acme, start_date="2026-10-25", end_date="2026-10-25", prizes=[{"rank": 1, "xp": 5}])
    assert tick(datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC)) == ([contest], [])  # 23:59:59 local
    assert tick(datetime(2026, 10, 25, 23, 0, tzinfo=UTC)) == ([], [contest])  # midnight local
    rows = acme.get(f"{CONTESTS}/{contest}/standings").json()["results"]
    assert [(r["rank"], r["rep"], r["value"]) for r in rows] == [
        (1, "ann", 2.0),
        (2, "bob", 0.0),
        (2, "dan", 0.0),
        (2, "eve", 0.0),
    ]


def _committed_contest(keys: TenantKeys, name: str) -> tuple[Tenant, ApiClient, int]:
    """In a tenant whose writes commit: ann with two posts on 3 March and bob with none, and a
    running contest over 2 to 8 March whose first place wins 1,000 XP."""
    tenant = Tenant.objects.get(slug=keys.slug)
    client = ApiClient(keys.host, keys.admin)
    with tenant_context(tenant):
        for rep in ("ann", "bob"):
            RepFactory.create(external_id=rep)
    events = [
        {"id": f"{name}-{i}", "rep": "ann", "type": "post_published", "occurred_at": "2026-03-03T12:00:00Z"}
        for i in range(2)
    ]
    assert client.post("/api/v1/activities", {"events": events}).status_code == 200
    response = client.post(
        CONTESTS,
        {
            "name": name,
            "metric": "events.post_published",
            "kind": "leaderboard",
            "start_date": "2026-03-02",
            "end_date": "2026-03-08",
            "participants": {"all": True},
            "prizes": [{"rank": 1, "xp": 1000}],
        },
    )
    contest: int = response.json()["id"]
    with tenant_context(tenant):
        Contest.objects.filter(pk=contest).update(status="running")
    return tenant, client, contest


def test_two_workers_finalizing_at_once_grant_once(committed_tenant: TenantKeys) -> None:
    tenant, _, contest = _committed_contest(committed_tenant, "Once")
    with tenant_context(tenant):
        xp_before = Rep.objects.get(external_id="ann").xp
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def finalize() -> None:
        try:
            with tenant_context(tenant):
                barrier.wait()
                results.append(contest_finalize(tenant=tenant, contest_id=contest, today=date(2026, 3, 9)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalize) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [False, True]
    with tenant_context(tenant):
        assert Rep.objects.get(external_id="ann").xp == xp_before + 1000
        assert OutboxEvent.objects.filter(type="contest.ended").count() == 1
        assert ContestStanding.objects.filter(contest_id=contest).count() == 2


@pytest.mark.parametrize("round_", range(4))
def test_finalizing_while_a_late_ingest_commits_counts_it_wholly_or_not_at_all(
    committed_tenant: TenantKeys, round_: int
) -> None:
    """A worker finalizes while a batch of late events dated inside the period is ingested.
    Whichever commits first, the frozen standings either hold all of bob's three late posts
    (bob wins) or none (ann wins), the prize goes once to that winner, ``contest.ended`` names
    them, and what arrives after the end changes nothing: a read and a second tick later, the
    standings are the same."""
    tenant, client, contest = _committed_contest(committed_tenant, "Late")
    with tenant_context(tenant):
        xp_before = dict(Rep.objects.values_list("external_id", "xp"))
    late = [
        {"id": f"b-{i}", "rep": "bob", "type": "post_published", "occurred_at": "2026-03-07T12:00:00Z"}
        for i in range(3)
    ]
    barrier = threading.Barrier(2)
    finalized: list[bool] = []
    ingested: list[int] = []

    def finalize() -> None:
        try:
            with tenant_context(tenant):
                barrier.wait()
                finalized.append(contest_finalize(tenant=tenant, contest_id=contest, today=date(2026, 3, 9)))
        finally:
            connections.close_all()

    def ingest() -> None:
        try:
            barrier.wait()
            ingested.append(client.post("/api/v1/activities", {"events": late}).json()["accepted"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalize), threading.Thread(target=ingest)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert (finalized, ingested) == ([True], [3])
    frozen = client.get(f"{CONTESTS}/{contest}/standings").json()
    rows = [(r["rank"], r["rep"], r["value"]) for r in frozen["results"]]
    assert rows in ([(1, "ann", 2.0), (2, "bob", 0.0)], [(1, "bob", 3.0), (2, "ann", 2.0)])
    winner = rows[0][1]
    with tenant_context(tenant):
        xp = dict(Rep.objects.values_list("external_id", "xp"))
        ended = [e.data for e in OutboxEvent.objects.filter(type="contest.ended")]
        # bob's late posts earn their own XP (10 each) whatever the contest did with them.
        assert xp == {"ann": xp_before["ann"], "bob": xp_before["bob"] + 30} | {
            winner: xp_before[winner] + 1000 + (30 if winner == "bob" else 0)
        }
        assert [e["winners"] for e in ended] == [[{"rank": 1, "rep": winner}]]
        assert contests_tick(tenant=tenant, now=AFTER).finalized == []
    assert client.get(f"{CONTESTS}/{contest}/standings").json()["results"] == frozen["results"]


def test_the_beat_task_ticks_every_tenant_with_an_open_contest(
    acme: ApiClient, people: dict[str, int]
) -> None:
    posts(acme, "ann", "2026-03-03", 1)
    contest = create(acme)  # 2 to 8 March 2026: over by the clock's today
    dispatch_contests_tick()  # eager in tests: each tenant's tick runs inline, in its schema
    with in_tenant("acme"):
        assert Contest.objects.get(pk=contest).status == "ended"
    assert [e["winners"] for e in outbox("contest.ended")] == [[{"rank": 1, "rep": "ann"}]]
