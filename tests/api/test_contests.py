"""Contests through the API: definitions, validation, status, edits, cancel (docs/contests.md).

acme (Europe/Berlin); dates relative to the tenant's local today (T). Team North: ann, bob,
cat (inactive); team South: dan.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from access.models import AuditEntry
from core.clock import local_today
from gamification.models import Contest
from tests.factories.gamification import BadgeFactory
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

CONTESTS = "/api/v1/contests"
TZ = "Europe/Berlin"


def T(offset: int = 0) -> date:
    return local_today(TZ) + timedelta(days=offset)


@pytest.fixture
def people(acme: ApiClient) -> dict[str, int]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        for name in ("ann", "bob"):
            RepFactory.create(external_id=name, team=north)
        RepFactory.create(external_id="cat", team=north, active=False)
        RepFactory.create(external_id="dan", team=south)
        BadgeFactory.create(slug="champion")
    return {"north": north.pk, "south": south.pk}


def contest(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Posting month",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "start_date": T(1).isoformat(),
        "end_date": T(30).isoformat(),
        "participants": {"all": True},
        **extra,
    }


def create(client: ApiClient, **extra: Any) -> dict[str, Any]:
    response = client.post(CONTESTS, contest(**extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def rep_client(world: World, acme: ApiClient, rep: str) -> ApiClient:
    token = acme.post("/api/v1/rep-tokens", {"rep": rep}).json()["token"]
    return ApiClient(world.acme.host, token)


def test_creating_a_contest_answers_every_field_and_its_status(
    acme: ApiClient, people: dict[str, int]
) -> None:
    body = create(
        acme,
        kind="race",
        target=20,
        prizes=[{"rank": 2, "xp": 100}, {"rank": 1, "xp": 500, "badge": "champion"}],
    )
    assert body == {
        "id": body["id"],
        "name": "Posting month",
        "metric": "events.post_published",
        "kind": "race",
        "target": 20.0,
        "aggregate": None,
        "start_date": T(1).isoformat(),
        "end_date": T(30).isoformat(),
        "participants": {"all": True},
        "prizes": [{"rank": 1, "xp": 500, "badge": "champion"}, {"rank": 2, "xp": 100}],
        "status": "scheduled",
        "finalized_at": None,
        "cancelled_at": None,
        "series": None,
        "season": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert acme.get(f"{CONTESTS}/{body['id']}").json() == body
    with in_tenant("acme"):
        entry = AuditEntry.objects.get(target_type="contest", target_id=str(body["id"]))
        assert entry.action == "create" and (entry.after or {})["metric"] == "events.post_published"


def test_a_contest_that_started_today_or_earlier_is_running(acme: ApiClient, people: dict[str, int]) -> None:
    assert create(acme, start_date=T(0).isoformat())["status"] == "running"
    past = create(acme, start_date=T(-40).isoformat(), end_date=T(-10).isoformat())
    assert past["status"] == "running"  # over, but not finalized yet: the next tick ends it


@pytest.mark.parametrize(
    ("extra", "attr", "code"),
    [
        ({"name": ""}, "name", "invalid"),
        ({"name": "x" * 121}, "name", "invalid"),
        ({"metric": "ssi"}, "metric", "unknown_metric"),
        ({"metric": "events.nope"}, "metric", "unknown_metric"),
        ({"metric": "pillar.charm.gain"}, "metric", "unknown_metric"),
        ({"kind": "knockout"}, "kind", "invalid_choice"),
        ({"kind": "race"}, "target", "required"),
        ({"kind": "race", "target": 0}, "target", "invalid"),
        ({"target": 5}, "target", "invalid"),
        ({"kind": "teams"}, "aggregate", "required"),
        ({"kind": "teams", "aggregate": "min"}, "aggregate", "invalid_choice"),
        ({"aggregate": "sum"}, "aggregate", "invalid"),
        ({"end_date": T(0).isoformat()}, "end_date", "invalid"),
        ({"end_date": T(368).isoformat()}, "end_date", "invalid"),
        ({"start_date": "2026-02-30"}, "start_date", "invalid_date"),
        ({"participants": {}}, "participants", "invalid"),
        ({"participants": {"all": False}}, "participants.all", "invalid"),
        ({"participants": {"all": True, "reps": ["ann", "bob"]}}, "participants", "invalid"),
        ({"participants": {"reps": ["ann"]}}, "participants.reps", "invalid"),
        ({"participants": {"reps": ["ann", "ann"]}}, "participants.reps", "invalid"),
        ({"participants": {"reps": ["ann", "zed"]}}, "participants.reps", "unknown_rep"),
        ({"participants": {"teams": []}}, "participants.teams", "invalid"),
        ({"participants": {"teams": [999999]}}, "participants.teams", "unknown_team"),
        ({"prizes": {"rank": 1}}, "prizes", "invalid"),
        ({"prizes": [{"rank": 0, "xp": 5}]}, "prizes.0.rank", "invalid"),
        ({"prizes": [{"rank": 1, "xp": -1}]}, "prizes.0.xp", "invalid"),
        ({"prizes": [{"rank": 1}]}, "prizes.0.xp", "invalid"),
        ({"prizes": [{"rank": 1, "xp": 5}, {"rank": 1, "xp": 1}]}, "prizes.1.rank", "duplicate"),
        ({"prizes": [{"rank": 1, "xp": 5, "badge": "nope"}]}, "prizes.0.badge", "unknown_badge"),
        ({"prizes": [{"rank": 1, "gold": 5}]}, "prizes.0", "invalid"),
        ({"status": "ended", "colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_it_refuses_each_invalid_field(
    acme: ApiClient, people: dict[str, int], extra: dict[str, Any], attr: str, code: str
) -> None:
    assert_error(acme.post(CONTESTS, contest(**extra)), 400, code, attr)


def test_it_takes_366_days_apart_teams_and_listed_reps(acme: ApiClient, people: dict[str, int]) -> None:
    create(acme, end_date=T(367).isoformat())
    body = create(
        acme, kind="teams", aggregate="avg", participants={"teams": [people["south"], people["north"]]}
    )
    assert body["participants"] == {"teams": sorted([people["north"], people["south"]])}
    assert create(acme, metric="ssi.gain", participants={"reps": ["dan", "ann"]})["participants"] == {
        "reps": ["ann", "dan"]
    }
    assert create(acme, metric="pillar.engage.gain")["metric"] == "pillar.engage.gain"
    assert create(acme, metric="xp")["metric"] == "xp"


def test_a_scheduled_contest_changes_freely(acme: ApiClient, people: dict[str, int]) -> None:
    body = create(acme)
    response = acme.patch(
        f"{CONTESTS}/{body['id']}", {"kind": "race", "target": 3, "start_date": T(2).isoformat()}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["kind"], response.json()["target"]) == ("race", 3.0)
    # The whole contest is checked once the change is applied: a leaderboard takes no target.
    assert_error(acme.patch(f"{CONTESTS}/{body['id']}", {"kind": "leaderboard"}), 400, "invalid", "target")
    assert acme.patch(f"{CONTESTS}/{body['id']}", {"kind": "leaderboard", "target": None}).status_code == 200


def test_a_running_contest_changes_only_its_name_and_prizes(acme: ApiClient, people: dict[str, int]) -> None:
    body = create(acme, start_date=T(0).isoformat())
    url = f"{CONTESTS}/{body['id']}"
    assert_error(acme.patch(url, {"metric": "xp"}), 409, "contest_running", "metric")
    assert_error(acme.patch(url, {"end_date": T(40).isoformat()}), 409, "contest_running", "end_date")
    response = acme.patch(url, {"name": "Renamed", "prizes": [{"rank": 1, "xp": 50}]})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["prizes"]) == ("Renamed", [{"rank": 1, "xp": 50}])


def test_cancelling_is_final_and_an_ended_contest_cannot_be_cancelled(
    acme: ApiClient, people: dict[str, int]
) -> None:
    body = create(acme)
    response = acme.post(f"{CONTESTS}/{body['id']}/cancel", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled" and response.json()["cancelled_at"]
    assert acme.post(f"{CONTESTS}/{body['id']}/cancel").json()["status"] == "cancelled"  # again: no-op
    with in_tenant("acme"):
        actions = AuditEntry.objects.filter(target_type="contest", target_id=str(body["id"]))
        assert sorted(actions.values_list("action", flat=True)) == ["cancel", "create"]  # once
    assert_error(acme.patch(f"{CONTESTS}/{body['id']}", {"name": "x"}), 409, "contest_cancelled")
    ended = create(acme)
    with in_tenant("acme"):
        Contest.objects.filter(pk=ended["id"]).update(status="ended", finalized_at="2026-01-01T00:00:00Z")
    assert_error(acme.post(f"{CONTESTS}/{ended['id']}/cancel"), 409, "contest_ended")
    assert_error(acme.patch(f"{CONTESTS}/{ended['id']}", {"name": "x"}), 409, "contest_ended")
    assert_error(acme.post(f"{CONTESTS}/{body['id']}/cancel", {"why": 1}), 400, "unknown_field", "why")


def test_only_admin_keys_write_contests(world: World, acme: ApiClient, people: dict[str, int]) -> None:
    body = create(acme)
    for token in (world.acme.integration, world.acme.read):
        client = ApiClient(world.acme.host, token)
        assert_error(client.post(CONTESTS, contest()), 403)
        assert_error(client.patch(f"{CONTESTS}/{body['id']}", {"name": "x"}), 403)
        assert_error(client.post(f"{CONTESTS}/{body['id']}/cancel"), 403)
        assert client.get(f"{CONTESTS}/{body['id']}").status_code == 200
    ann = rep_client(world, acme, "ann")
    assert_error(ann.post(CONTESTS, contest()), 403)
    assert_error(ann.post(f"{CONTESTS}/{body['id']}/cancel"), 403)


def test_a_rep_token_sees_only_the_contests_it_takes_part_in(
    world: World, acme: ApiClient, people: dict[str, int]
) -> None:
    everyone = create(acme, name="everyone")["id"]
    north = create(acme, name="north", participants={"teams": [people["north"]]})["id"]
    listed = create(acme, name="listed", participants={"reps": ["dan", "bob"]})["id"]
    seen = {
        rep: [c["name"] for c in rep_client(world, acme, rep).get(CONTESTS).json()["results"]]
        for rep in ("ann", "bob", "dan")
    }
    assert seen == {
        "ann": ["everyone", "north"],
        "bob": ["everyone", "north", "listed"],
        "dan": ["everyone", "listed"],
    }
    ann = rep_client(world, acme, "ann")
    assert ann.get(f"{CONTESTS}/{north}").status_code == 200
    assert_error(ann.get(f"{CONTESTS}/{listed}"), 404)
    assert acme.get(CONTESTS).json()["count"] == 3 and everyone


def test_it_denies_cross_tenant_access(acme: ApiClient, globex: ApiClient, people: dict[str, int]) -> None:
    body = create(acme)
    assert_error(globex.get(f"{CONTESTS}/{body['id']}"), 404)
    assert_error(globex.patch(f"{CONTESTS}/{body['id']}", {"name": "x"}), 404)
    assert_error(globex.post(f"{CONTESTS}/{body['id']}/cancel"), 404)
    assert globex.get(CONTESTS).json()["count"] == 0
