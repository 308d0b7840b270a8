"""Recurring contests through the API: series, their validation, and their seasons
(docs/contests.md#seasons).

acme (Europe/Berlin); dates relative to the tenant's local today (T). Team North: ann, bob.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from access.models import AuditEntry
from core.clock import local_today
from gamification.models import Contest, ContestSeries
from gamification.rules.seasons import season_containing
from gamification.services.contest_finalize import contests_tick
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

SERIES = "/api/v1/contest-series"
CONTESTS = "/api/v1/contests"
TZ = "Europe/Berlin"


def T(offset: int = 0) -> date:
    return local_today(TZ) + timedelta(days=offset)


def this_monday() -> date:
    return season_containing("week", T()).start


@pytest.fixture
def people(acme: ApiClient) -> None:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        for name in ("ann", "bob"):
            RepFactory.create(external_id=name, team=north)


def series(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Weekly posting",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "participants": {"all": True},
        "prizes": [{"rank": 1, "xp": 200}],
        "every": "week",
        "starts_on": this_monday().isoformat(),
        **extra,
    }


def create(client: ApiClient, **extra: Any) -> dict[str, Any]:
    response = client.post(SERIES, series(**extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def tick() -> Any:
    with in_tenant("acme") as tenant:
        return contests_tick(tenant=tenant)


def test_creating_a_series_answers_every_field(acme: ApiClient, people: None) -> None:
    body = create(acme)
    assert body == {
        "id": body["id"],
        "name": "Weekly posting",
        "metric": "events.post_published",
        "kind": "leaderboard",
        "target": None,
        "aggregate": None,
        "participants": {"all": True},
        "prizes": [{"rank": 1, "xp": 200}],
        "every": "week",
        "starts_on": this_monday().isoformat(),
        "active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert acme.get(f"{SERIES}/{body['id']}").json() == body
    assert [s["id"] for s in acme.get(SERIES).json()["results"]] == [body["id"]]
    with in_tenant("acme"):
        entry = AuditEntry.objects.get(target_type="contest_series", target_id=str(body["id"]))
        assert entry.action == "create" and (entry.after or {})["every"] == "week"


def test_the_tick_opens_the_current_season_and_the_contests_list_it_by_series(
    acme: ApiClient, people: None
) -> None:
    weekly = create(acme)["id"]
    other = create(acme, name="Monthly", every="month", starts_on=T().replace(day=1).isoformat())["id"]
    by_hand = {k: v for k, v in series().items() if k not in ("every", "starts_on")}
    by_hand.update(name="By hand", start_date=T().isoformat(), end_date=T(1).isoformat())
    assert acme.post(CONTESTS, by_hand).status_code == 201
    opened = tick().opened
    assert len(opened) == 2
    assert tick().opened == []
    week = season_containing("week", T())
    (season,) = acme.get(CONTESTS, {"series": weekly}).json()["results"]
    assert season["name"] == f"Weekly posting · {week.label}"
    assert (season["series"], season["season"], season["status"]) == (weekly, week.label, "running")
    assert (season["start_date"], season["end_date"]) == (week.start.isoformat(), week.end.isoformat())
    assert season["prizes"] == [{"rank": 1, "xp": 200}]
    (month,) = acme.get(CONTESTS, {"series": other}).json()["results"]
    assert month["season"] == T().strftime("%Y-%m")
    assert len(acme.get(CONTESTS).json()["results"]) == 3
    assert acme.get(CONTESTS, {"series": 999999}).json()["results"] == []
    assert_error(acme.get(CONTESTS, {"series": "x"}), 400)


@pytest.mark.parametrize(
    ("extra", "attr", "code"),
    [
        ({"name": "x" * 101}, "name", "invalid"),
        ({"metric": "events.nope"}, "metric", "unknown_metric"),
        ({"kind": "race"}, "target", "required"),
        ({"aggregate": "sum"}, "aggregate", "invalid"),
        ({"participants": {"reps": ["ann", "zed"]}}, "participants.reps", "unknown_rep"),
        ({"prizes": [{"rank": 1, "xp": 5, "badge": "nope"}]}, "prizes.0.badge", "unknown_badge"),
        ({"every": "fortnight"}, "every", "invalid_choice"),
        ({"starts_on": None}, "starts_on", "required"),
        ({"starts_on": "2026-13-01"}, "starts_on", "invalid_date"),
        ({"start_date": "2026-12-07"}, "start_date", "unknown_field"),
        ({"active": "yes"}, "active", "invalid"),
    ],
)
def test_a_series_is_checked_as_a_contest_is(
    acme: ApiClient, people: None, extra: dict[str, Any], attr: str, code: str
) -> None:
    assert_error(acme.post(SERIES, series(**extra)), 400, code, attr)


def test_starts_on_begins_a_season_that_is_not_over(acme: ApiClient, people: None) -> None:
    monday = this_monday()
    assert_error(
        acme.post(SERIES, series(starts_on=(monday + timedelta(days=1)).isoformat())),
        400,
        "invalid",
        "starts_on",
    )
    assert_error(
        acme.post(SERIES, series(starts_on=(monday - timedelta(days=7)).isoformat())),
        400,
        "invalid",
        "starts_on",
    )
    first = T(40).replace(day=1)
    assert_error(
        acme.post(SERIES, series(every="month", starts_on=(first + timedelta(days=1)).isoformat())),
        400,
        "invalid",
        "starts_on",
    )
    assert create(acme, every="month", starts_on=first.isoformat())["starts_on"] == first.isoformat()
    assert create(acme, starts_on=(monday + timedelta(days=14)).isoformat())["active"] is True  # fmt: skip


def test_the_cadence_is_fixed_once_a_season_opened_and_the_definition_is_not(
    acme: ApiClient, people: None
) -> None:
    weekly = create(acme)["id"]
    later = (this_monday() + timedelta(days=7)).isoformat()
    assert acme.patch(f"{SERIES}/{weekly}", {"starts_on": later}).json()["starts_on"] == later
    assert acme.patch(f"{SERIES}/{weekly}", {"starts_on": this_monday().isoformat()}).status_code == 200
    tick()
    assert_error(acme.patch(f"{SERIES}/{weekly}", {"every": "month"}), 409, "series_started", "every")
    assert_error(acme.patch(f"{SERIES}/{weekly}", {"starts_on": later}), 409, "series_started", "starts_on")
    # The same values (a full body sent back) are no change.
    same = {"every": "week", "starts_on": this_monday().isoformat()}
    assert acme.patch(f"{SERIES}/{weekly}", same).status_code == 200
    renamed = acme.patch(f"{SERIES}/{weekly}", {"name": "Weekly push", "prizes": []})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Weekly push"
    (season,) = acme.get(CONTESTS, {"series": weekly}).json()["results"]
    assert season["name"].startswith("Weekly posting · ")  # an opened season keeps its definition
    assert_error(acme.patch(f"{SERIES}/{weekly}", {"kind": "race"}), 400, "required", "target")


def test_deactivating_or_deleting_a_series_stops_its_seasons_and_keeps_the_contests(
    acme: ApiClient, people: None
) -> None:
    paused = create(acme, active=False)["id"]
    assert tick().opened == []
    weekly = create(acme)["id"]
    (opened,) = tick().opened
    assert acme.patch(f"{SERIES}/{paused}", {"active": True}).json()["active"] is True
    assert len(tick().opened) == 1
    assert acme.delete(f"{SERIES}/{weekly}").status_code == 204
    assert_error(acme.get(f"{SERIES}/{weekly}"), 404)
    season = acme.get(f"{CONTESTS}/{opened}").json()
    assert (season["series"], season["status"]) == (None, "running")
    assert season["season"] == season_containing("week", T()).label
    with in_tenant("acme"):
        assert not ContestSeries.objects.filter(pk=weekly).exists()
        assert Contest.objects.filter(pk=opened).exists()
        assert AuditEntry.objects.filter(target_type="contest_series", action="delete").count() == 1


def test_only_admin_keys_write_series_and_rep_tokens_read_none(
    world: World, acme: ApiClient, people: None
) -> None:
    weekly = create(acme)["id"]
    reader = ApiClient(world.acme.host, world.acme.read)
    assert reader.get(f"{SERIES}/{weekly}").status_code == 200
    assert_error(reader.post(SERIES, series()), 403)
    assert_error(reader.delete(f"{SERIES}/{weekly}"), 403)
    token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    assert_error(ApiClient(world.acme.host, token).get(SERIES), 403)
