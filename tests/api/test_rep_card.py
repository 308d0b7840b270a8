"""``GET /api/v1/reps/{external_id}``: the rep's card (docs/api.md#the-rep-card).

Events go in through the API on acme (Europe/Berlin), relative to acme's local today, so
streaks are checked against the real clock: seven consecutive local days always hold
exactly five weekdays, in one unbroken weekday run, whatever today's weekday is.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.clock import local_today
from scoring.models import Rep
from scoring.services.recompute import scores_compute_day
from tests.factories.gamification import BadgeAwardFactory, BadgeFactory
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

BERLIN = ZoneInfo("Europe/Berlin")
CARD_FIELDS = {
    "external_id",
    "name",
    "email",
    "team",
    "active",
    "created_at",
    "updated_at",
    "xp",
    "level",
    "streak",
    "ssi",
    "badges",
}


def at(day: date) -> str:
    """A moment on that local day that is never in the future (one second after midnight)."""
    return datetime.combine(day, time(0, 0, 1), tzinfo=BERLIN).isoformat()


def ingest(client: ApiClient, rep: str, days: list[date], type: str = "people_search") -> None:
    events = [{"id": f"{rep}-{type}-{d}", "rep": rep, "type": type, "occurred_at": at(d)} for d in days]
    response = client.post("/api/v1/activities", {"events": events})
    assert response.json()["accepted"] == len(events), response.content


def card(client: ApiClient, rep: str = "ann") -> dict[str, Any]:
    response = client.get(f"/api/v1/reps/{rep}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_a_new_rep_has_an_empty_card(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
        RepFactory.create(external_id="ann", name="Ann", email="ann@acme.test", team=team)
    body = card(acme)
    assert set(body) == CARD_FIELDS
    assert {k: body[k] for k in ("external_id", "name", "email", "team", "active")} == {
        "external_id": "ann",
        "name": "Ann",
        "email": "ann@acme.test",
        "team": team.pk,
        "active": True,
    }
    assert body["xp"] == 0
    assert body["level"] == 1
    assert body["streak"] == {"current": 0, "longest": 0, "last_active_day": None, "active_today": False}
    assert body["ssi"] is None
    assert body["badges"] == 0


def test_the_card_counts_xp_and_the_weekday_streak_up_to_local_today(acme: ApiClient) -> None:
    today = local_today("Europe/Berlin")
    week = [today - timedelta(days=i) for i in range(7)]
    ingest(acme, "ann", week)  # people_search: 1 XP each
    body = card(acme)
    assert body["xp"] == 7
    assert body["level"] == 1
    # Weekdays mode (the default): 7 consecutive days hold 5 weekdays, one run.
    assert body["streak"] == {
        "current": 5,
        "longest": 5,
        "last_active_day": today.isoformat(),
        "active_today": True,
    }


def test_the_card_follows_the_tenants_streak_mode(acme: ApiClient) -> None:
    today = local_today("Europe/Berlin")
    ingest(acme, "ann", [today - timedelta(days=i) for i in range(7)])
    assert acme.patch("/api/v1/settings", {"streak_mode": "daily"}).status_code == 200
    assert card(acme)["streak"]["current"] == 7
    assert card(acme)["streak"]["longest"] == 7


def test_a_streak_stays_alive_until_today_ends_inactive(acme: ApiClient) -> None:
    today = local_today("Europe/Berlin")
    assert acme.patch("/api/v1/settings", {"streak_mode": "daily"}).status_code == 200
    # Yesterday and the day before, nothing today yet; a 3-day run a week earlier.
    ingest(acme, "ann", [today - timedelta(days=d) for d in (1, 2, 8, 9, 10)])
    assert card(acme)["streak"] == {
        "current": 2,
        "longest": 3,
        "last_active_day": (today - timedelta(days=1)).isoformat(),
        "active_today": False,
    }


@pytest.mark.parametrize(("xp", "level"), [(99, 1), (100, 2), (299, 2), (300, 3), (10_000, 10)])
def test_the_level_comes_from_xp_and_the_default_thresholds(acme: ApiClient, xp: int, level: int) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", xp=xp)
    assert (card(acme)["xp"], card(acme)["level"]) == (xp, level)


def test_the_level_follows_the_tenants_thresholds(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", xp=50)
    assert acme.patch("/api/v1/settings", {"level_thresholds": [0, 10, 50, 51]}).status_code == 200
    assert card(acme)["level"] == 3


def test_the_card_carries_the_latest_snapshot(acme: ApiClient) -> None:
    today = local_today("Europe/Berlin")
    first, second = today - timedelta(days=3), today - timedelta(days=2)
    ingest(acme, "ann", [first, second], type="post_published")
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=first)
        scores_compute_day(tenant=tenant, day=second)
    body = card(acme)
    assert body["ssi"] == acme.get("/api/v1/reps/ann/ssi").json()
    assert body["ssi"]["date"] == second.isoformat()
    assert body["ssi"]["ssi"] > 0


def test_the_card_counts_every_badge_award(acme: ApiClient) -> None:
    with in_tenant("acme"):
        ann = RepFactory.create(external_id="ann")
        other = RepFactory.create(external_id="bob")
        weekly = BadgeFactory.create(slug="weekly-x", name="W", criteria={}, repeat="weekly")
        once = BadgeFactory.create(slug="once-x", name="O", criteria={})
        BadgeAwardFactory.create(rep=ann, badge=weekly, period="2026-W10")
        BadgeAwardFactory.create(rep=ann, badge=weekly, period="2026-W11")
        BadgeAwardFactory.create(rep=ann, badge=once)
        BadgeAwardFactory.create(rep=other, badge=once)
    assert card(acme)["badges"] == 3
    assert card(acme, "bob")["badges"] == 1


def test_every_key_role_and_the_reps_own_token_read_the_same_card(world: World, acme: ApiClient) -> None:
    today = local_today("Europe/Berlin")
    ingest(acme, "ann", [today])
    token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    expected = card(acme)
    for key in (world.acme.integration, world.acme.read, token):
        assert card(ApiClient(world.acme.host, key)) == expected


def test_a_card_can_be_sent_back_in_a_put(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Old", xp=120)
    response = acme.put("/api/v1/reps/ann", {**card(acme), "name": "New"})
    assert response.status_code == 200, response.content
    body = card(acme)
    assert body["name"] == "New"
    assert body["xp"] == 120  # read-only: what was sent back changed nothing
    with in_tenant("acme"):
        assert Rep.objects.get(external_id="ann").xp == 120


def test_an_unknown_rep_has_no_card(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps/nobody"), 404, code="not_found")


def test_it_denies_cross_tenant_access_to_a_card(world: World, acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    with in_tenant("globex"):
        RepFactory.create(external_id="ann")
    token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    for key in (world.acme.admin, token):
        assert_error(ApiClient(world.globex.host, key).get("/api/v1/reps/ann"), 401, code="invalid_token")


def test_the_card_is_in_the_schema(world: World, db: None) -> None:
    doc = ApiClient("localhost").get("/api/v1/schema/", {"format": "json"}).json()
    operation = doc["paths"]["/api/v1/reps/{external_id}"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) >= CARD_FIELDS
    assert {"current", "longest", "last_active_day", "active_today"} == set(
        doc["components"]["schemas"]["Streak"]["properties"]
    )


def test_an_event_ingested_late_repairs_the_streak_it_belongs_to(acme: ApiClient) -> None:
    today = local_today("Europe/Berlin")
    assert acme.patch("/api/v1/settings", {"streak_mode": "daily"}).status_code == 200
    # Active today and on days 1, 3 and 4 before: day 2 is missing, so the run is 2.
    ingest(acme, "ann", [today - timedelta(days=d) for d in (0, 1, 3, 4)])
    assert card(acme)["streak"]["current"] == 2
    assert card(acme)["streak"]["longest"] == 2
    # An event for day 2, posted today (the client was offline), joins the runs: 5 days.
    ingest(acme, "ann", [today - timedelta(days=2)], type="post_published")
    streak = card(acme)["streak"]
    assert streak["current"] == 5
    assert streak["longest"] == 5
