"""Badges through the API: definitions (``/api/v1/badges``), awards (``/api/v1/awards``,
``/api/v1/reps/{id}/badges``), and when badges are awarded (docs/gamification.md#badges).

Events go in through ``POST /api/v1/activities`` on acme (Europe/Berlin). Ingest-time badges
are then evaluated as the worker would, with ``pending_evaluate``; snapshot badges after a
nightly recompute, with ``day_scored_evaluate`` (or the real recompute and its on-commit hook).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from core.clock import local_today
from gamification.models import BadgeAward, OutboxEvent, PendingEvaluation, XpDaily
from gamification.rules.levels import level_for
from gamification.services.badges import badges_evaluate, period_key
from gamification.services.evaluation import day_scored_evaluate, pending_evaluate
from scoring.models import Rep
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory, ScoreSnapshotFactory
from tests.support.criteria import maximal_criteria
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

BADGES = "/api/v1/badges"
AWARDS = "/api/v1/awards"
TZ = "Europe/Berlin"

# docs/gamification.md#the-default-badges, row by row.
SPEC_DEFAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "first-post": ({"metric": "events.post_published", "op": ">=", "value": 1}, "once"),
    "all-star-profile": ({"metric": "state.profile_updated", "op": ">=", "value": 100}, "once"),
    "social-seller": ({"metric": "ssi", "op": ">=", "value": 70}, "once"),
    "elite-seller": ({"metric": "ssi", "op": ">=", "value": 85}, "once"),
    "on-fire": ({"metric": "streak.current", "op": ">=", "value": 5}, "once"),
    "unstoppable": ({"metric": "streak.current", "op": ">=", "value": 20}, "once"),
    "thought-leader": (
        {"metric": "events.post_published", "op": ">=", "value": 8, "window_days": 30},
        "monthly",
    ),
    "top-10": ({"metric": "rank.top_percent", "op": "<=", "value": 10}, "weekly"),
    "networker": (
        {"metric": "events.decision_maker_connected", "op": ">=", "value": 20, "window_days": 90},
        "once",
    ),
}
INGEST_TIME = {"first-post", "all-star-profile", "on-fire", "unstoppable", "thought-leader", "networker"}


# --- helpers ------------------------------------------------------------------------------------------


def today() -> date:
    return local_today(TZ)


def at(day: date, hour: int = 12) -> str:
    """Local time in Berlin, whatever the season."""
    offset = "+02:00" if 3 < day.month < 11 else "+01:00"
    return f"{day.isoformat()}T{hour:02d}:00:00{offset}"


def ev(id: str, type: str, day: date | None = None, rep: str = "ann", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "rep": rep,
        "type": type,
        "occurred_at": at(day or today() - timedelta(days=1)),
        **extra,
    }


def ingest(client: ApiClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/activities", {"events": list(events)})
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == [], response.content


def evaluate_pending() -> int:
    """What the worker does within seconds of an ingestion."""
    with in_tenant("acme") as tenant:
        return pending_evaluate(tenant=tenant)


def evaluate(rep: str, day: date, *, ingest_time_only: bool = False) -> list[str]:
    with in_tenant("acme") as tenant:
        rep_id = Rep.objects.get(external_id=rep).pk
        awards = badges_evaluate(tenant=tenant, rep_ids=[rep_id], day=day, ingest_time_only=ingest_time_only)
        return sorted(f"{a.badge.slug}@{a.period}" for a in awards)


def nightly(day: date) -> None:
    with in_tenant("acme") as tenant:
        day_scored_evaluate(tenant=tenant, day=day, nightly=True)


def awards_of(rep: str = "ann") -> list[tuple[str, str]]:
    """(badge, period) of the rep's awards, sorted."""
    with in_tenant("acme"):
        return sorted(BadgeAward.objects.filter(rep__external_id=rep).values_list("badge__slug", "period"))


def outbox(type: str) -> list[dict[str, Any]]:
    with in_tenant("acme"):
        return [e.data for e in OutboxEvent.objects.filter(type=type).order_by("created_at")]


def xp_of(rep: str = "ann") -> int:
    with in_tenant("acme"):
        return Rep.objects.get(external_id=rep).xp


def snapshot(rep: str, day: date, ssi: float, top_percent: int = 50) -> None:
    with in_tenant("acme"):
        ScoreSnapshotFactory.create(
            rep=Rep.objects.get(external_id=rep), day=day, ssi=ssi, brand=ssi / 4, find=ssi / 4,
            engage=ssi / 4, relationships=ssi / 4, tenant_of=2, tenant_top_percent=top_percent,
        )  # fmt: skip


def make_reps(*names: str) -> None:
    with in_tenant("acme"):
        for name in names:
            RepFactory.create(external_id=name)


def badge_body(slug: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "criteria": {"metric": "events.post_published", "op": ">=", "value": 1},
        **extra,
    }


def create_badge(client: ApiClient, slug: str, **extra: Any) -> dict[str, Any]:
    response = client.post(BADGES, badge_body(slug, **extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def client_for(world: World, role: str) -> ApiClient:
    return ApiClient(world.acme.host, getattr(world.acme, role))


# --- default badges -----------------------------------------------------------------------------------


def test_the_nine_default_badges_are_listed_with_their_criteria_and_repeat(acme: ApiClient) -> None:
    response = acme.get(BADGES, {"page_size": 100})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert {r["slug"]: (r["criteria"], r["repeat"]) for r in rows} == SPEC_DEFAULTS
    for row in rows:
        assert row["xp_reward"] == 0 and row["active"] is True and row["name"], row
        assert row["ingest_time"] is (row["slug"] in INGEST_TIME), row


def test_a_new_tenant_is_seeded_with_the_default_badges(platform: ApiClient) -> None:
    response = platform.post("/api/v1/platform/tenants", {"slug": "hooli", "name": "Hooli"})
    assert response.status_code == 201, response.content
    hooli = ApiClient("hooli.localhost", response.json()["admin_key"])
    rows = hooli.get(BADGES, {"page_size": 100}).json()["results"]
    assert {r["slug"]: (r["criteria"], r["repeat"]) for r in rows} == SPEC_DEFAULTS


def test_a_default_badge_can_be_read_by_slug(acme: ApiClient) -> None:
    response = acme.get(f"{BADGES}/thought-leader")
    assert response.status_code == 200, response.content
    assert response.json()["criteria"] == SPEC_DEFAULTS["thought-leader"][0]


def test_an_unknown_badge_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get(f"{BADGES}/no-such-badge"), 404)


# --- CRUD ---------------------------------------------------------------------------------------------


def test_an_admin_creates_a_badge_and_gets_it_back_with_201(acme: ApiClient) -> None:
    criteria = {
        "all": [
            {"metric": "events.post_published", "op": ">=", "value": 3, "window_days": 7},
            {"metric": "ssi", "op": ">=", "value": 50},
        ]
    }
    body = create_badge(
        acme, "weekly-writer", name="Weekly writer", description="3 posts a week and an SSI of 50.",
        image_url="https://cdn.example.com/w.png", criteria=criteria, repeat="weekly", xp_reward=20,
    )  # fmt: skip
    expected = {
        "slug": "weekly-writer", "name": "Weekly writer", "description": "3 posts a week and an SSI of 50.",
        "image_url": "https://cdn.example.com/w.png", "criteria": criteria, "repeat": "weekly",
        "xp_reward": 20, "active": True, "ingest_time": False,
    }  # fmt: skip
    assert {k: body[k] for k in expected} == expected
    assert body["created_at"] and body["updated_at"]
    got = acme.get(f"{BADGES}/weekly-writer").json()
    assert {k: got[k] for k in expected} == expected


def test_a_created_badge_has_the_documented_defaults(acme: ApiClient) -> None:
    body = create_badge(acme, "poster")
    assert (body["repeat"], body["xp_reward"], body["active"], body["description"], body["image_url"]) == (
        "once",
        0,
        True,
        "",
        "",
    )
    assert body["ingest_time"] is True


def test_patch_changes_only_the_named_fields(acme: ApiClient) -> None:
    create_badge(acme, "poster", xp_reward=5)
    response = acme.patch(f"{BADGES}/poster", {"name": "Prolific", "repeat": "daily"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["repeat"], body["xp_reward"]) == ("Prolific", "daily", 5)
    assert acme.get(f"{BADGES}/poster").json()["name"] == "Prolific"


def test_patching_criteria_recomputes_when_the_badge_is_evaluated(acme: ApiClient) -> None:
    create_badge(acme, "poster")
    response = acme.patch(
        f"{BADGES}/poster", {"criteria": {"metric": "pillar.brand", "op": ">", "value": 20}}
    )
    assert response.status_code == 200, response.content
    assert response.json()["ingest_time"] is False


def test_put_replaces_a_badge_whole(acme: ApiClient) -> None:
    create_badge(acme, "poster", xp_reward=5, description="Old", repeat="daily")
    response = acme.put(f"{BADGES}/poster", badge_body("poster", name="Poster"))
    assert response.status_code == 200, response.content
    got = acme.get(f"{BADGES}/poster").json()
    assert (got["name"], got["repeat"], got["description"], got["xp_reward"]) == ("Poster", "once", "", 0)


def test_a_badges_slug_cannot_change(acme: ApiClient) -> None:
    create_badge(acme, "poster")
    assert_error(acme.patch(f"{BADGES}/poster", {"slug": "other"}), 400, attr="slug")


def test_delete_answers_204_and_the_badge_is_gone(acme: ApiClient) -> None:
    create_badge(acme, "poster")
    response = acme.delete(f"{BADGES}/poster")
    assert response.status_code == 204
    assert_error(acme.get(f"{BADGES}/poster"), 404)


def test_a_default_badge_can_be_deleted_with_its_awards(acme: ApiClient) -> None:
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    assert awards_of() == [("first-post", "")]
    assert acme.delete(f"{BADGES}/first-post").status_code == 204
    assert awards_of() == []


def test_a_duplicate_slug_is_a_409(acme: ApiClient) -> None:
    create_badge(acme, "poster")
    assert_error(acme.post(BADGES, badge_body("poster")), 409, code="already_exists", attr="slug")
    assert_error(acme.post(BADGES, badge_body("first-post")), 409, attr="slug")


@pytest.mark.parametrize(
    ("criteria", "attr"),
    [
        ({"all": [{"metric": "xp", "op": ">=", "value": 1}, {"metric": "xp", "op": "=>", "value": 1}]},
         "criteria.all.1.op"),
        ({"metric": "karma", "op": ">=", "value": 1}, "criteria.metric"),
        ({"metric": "events.webinar_hosted", "op": ">=", "value": 1}, "criteria.metric"),
        ({"metric": "xp", "op": ">=", "value": True}, "criteria.value"),
        ({"any": [{"metric": "xp", "op": ">=", "value": "10"}]}, "criteria.any.0.value"),
        ({"metric": "ssi", "op": ">=", "value": 70, "window_days": 30}, "criteria.window_days"),
        ({"all": []}, "criteria.all"),
        ({"all": [{"all": [{"all": [{"all": [{"all": [{"metric": "xp", "op": ">=", "value": 1}]}]}]}]}]},
         "criteria.all.0.all.0.all.0.all.0.all.0"),
        ({"metric": "xp", "op": ">=", "value": 1, "weight": 2}, "criteria.weight"),
        ("xp >= 1", "criteria"),
    ],
)  # fmt: skip
def test_invalid_criteria_are_a_400_naming_the_path(acme: ApiClient, criteria: Any, attr: str) -> None:
    assert_error(acme.post(BADGES, badge_body("bad", criteria=criteria)), 400, attr=attr)
    assert_error(acme.get(f"{BADGES}/bad"), 404)
    create_badge(acme, "good")
    assert_error(acme.patch(f"{BADGES}/good", {"criteria": criteria}), 400, attr=attr)


def test_a_badge_at_the_size_bounds_is_created(acme: ApiClient) -> None:
    body = create_badge(acme, "maximal", criteria=maximal_criteria())
    assert body["criteria"] == maximal_criteria()


def _windows(count: int, windows: int) -> list[dict[str, Any]]:
    return [
        {"metric": "events.post_published", "op": ">=", "value": 1, "window_days": 1 + i % windows}
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("criteria", "code"),
    [
        ({"all": _windows(21, 1)}, "too_many_conditions"),
        ({"any": [{"all": _windows(11, 1)}, {"all": _windows(10, 1)}]}, "too_many_conditions"),
        ({"all": _windows(9, 9)}, "too_many_windows"),
        # The outside probe's badge: 50 `any` branches of 50 conditions, every window its own.
        ({"any": [{"all": _windows(2500, 2500)[50 * i : 50 * (i + 1)]} for i in range(50)]}, None),
    ],
    ids=["21-conditions", "21-nested", "9-windows", "50x50"],
)
def test_criteria_over_the_size_bounds_are_a_400_naming_criteria(
    acme: ApiClient, criteria: Any, code: str | None
) -> None:
    body = assert_error(
        acme.post(BADGES, badge_body("big", criteria=criteria)), 400, code=code, attr="criteria"
    )
    assert body["errors"][0]["code"] in ("too_many_conditions", "too_many_windows")
    assert_error(acme.get(f"{BADGES}/big"), 404)
    create_badge(acme, "small")
    assert_error(acme.patch(f"{BADGES}/small", {"criteria": criteria}), 400, code=code, attr="criteria")


def test_a_custom_type_of_the_scoring_config_may_be_used_in_criteria(acme: ApiClient) -> None:
    config = acme.get("/api/v1/scoring-config").json()
    config["custom_event_types"] = [{"name": "webinar_hosted", "xp": 5}]
    assert acme.put("/api/v1/scoring-config", config).status_code == 200
    body = create_badge(acme, "host", criteria={"metric": "events.webinar_hosted", "op": ">=", "value": 1})
    assert body["ingest_time"] is True


@pytest.mark.parametrize(
    ("field", "value"),
    [("slug", "Bad Slug"), ("repeat", "yearly"), ("xp_reward", -1), ("xp_reward", "5"), ("active", "yes"),
     ("name", ""), ("image_url", "ftp://x"), ("colour", "red")],
)  # fmt: skip
def test_other_invalid_fields_are_a_400_naming_the_field(acme: ApiClient, field: str, value: Any) -> None:
    assert_error(acme.post(BADGES, {**badge_body("bad"), field: value}), 400, attr=field)


@pytest.mark.parametrize("field", ["slug", "name", "criteria"])
def test_a_badge_needs_slug_name_and_criteria(acme: ApiClient, field: str) -> None:
    body = badge_body("bad")
    del body[field]
    assert_error(acme.post(BADGES, body), 400, attr=field)


@pytest.mark.parametrize("role", ["integration", "read"])
def test_only_admins_write_badges_but_every_key_reads_them(world: World, acme: ApiClient, role: str) -> None:
    client = client_for(world, role)
    assert_error(client.post(BADGES, badge_body("poster")), 403, code="permission_denied")
    assert_error(client.patch(f"{BADGES}/first-post", {"name": "X"}), 403, code="permission_denied")
    assert_error(client.delete(f"{BADGES}/first-post"), 403, code="permission_denied")
    assert client.get(BADGES).status_code == 200
    assert client.get(f"{BADGES}/first-post").json()["name"] == "First post"
    assert client.get(AWARDS).status_code == 200
    make_reps("ann")
    assert client.get("/api/v1/reps/ann/badges").status_code == 200


def test_badges_without_a_token_are_a_401(world: World, db: None) -> None:
    assert_error(Client().get(BADGES, HTTP_HOST=world.acme.host), 401)


# --- awarding at ingestion ----------------------------------------------------------------------------


def test_first_post_is_awarded_after_ingesting_a_post(acme: ApiClient) -> None:
    ingest(acme, ev("p1", "post_published"))
    with in_tenant("acme"):
        ann = Rep.objects.get(external_id="ann")
        assert PendingEvaluation.objects.filter(rep_ids__contains=[ann.id]).exists()
    assert evaluate_pending() == 1
    assert awards_of() == [("first-post", "")]


def test_an_event_of_another_type_earns_no_first_post(acme: ApiClient) -> None:
    ingest(acme, ev("l1", "post_liked"))
    evaluate_pending()
    assert awards_of() == []


def test_an_event_worth_no_xp_still_earns_its_ingest_time_badge(acme: ApiClient) -> None:
    create_badge(
        acme, "big-network", criteria={"metric": "state.connections_synced", "op": ">=", "value": 500}
    )
    ingest(acme, ev("c1", "connections_synced", value=650))  # 0 XP
    assert xp_of() == 0
    evaluate_pending()
    assert awards_of() == [("big-network", "")]


def test_first_post_is_awarded_once_however_often_it_is_evaluated(acme: ApiClient) -> None:
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    assert evaluate_pending() == 0  # nothing queued any more
    assert evaluate("ann", today()) == []
    ingest(acme, ev("p2", "post_published"), ev("p3", "post_published"))
    evaluate_pending()
    nightly(today() - timedelta(days=1))
    assert awards_of() == [("first-post", "")]
    assert len(outbox("badge.awarded")) == 1


def test_ingest_time_evaluation_awards_every_earned_ingest_time_badge(acme: ApiClient) -> None:
    # 8 posts within the last 30 days (one day: no streak) and a complete profile.
    posts = [ev(f"p{i}", "post_published", today() - timedelta(days=10)) for i in range(8)]
    ingest(acme, *posts, ev("pr", "profile_updated", value=100))
    evaluate_pending()
    month = period_key("monthly", today())
    assert awards_of() == [("all-star-profile", ""), ("first-post", ""), ("thought-leader", month)]


def test_a_profile_below_100_earns_no_all_star_profile(acme: ApiClient) -> None:
    ingest(acme, ev("pr1", "profile_updated", today() - timedelta(days=3), value=100))
    ingest(acme, ev("pr2", "profile_updated", today() - timedelta(days=2), value=90))  # the latest counts
    evaluate_pending()
    assert awards_of() == []


def test_thought_leader_counts_only_posts_in_its_30_day_window(acme: ApiClient) -> None:
    # 7 posts in the window and one 30 days ago: today minus 29 is the window's first day.
    posts = [ev(f"p{i}", "post_published", today() - timedelta(days=i + 1)) for i in range(7)]
    ingest(acme, *posts, ev("old", "post_published", today() - timedelta(days=30)))
    evaluate_pending()
    assert ("thought-leader", period_key("monthly", today())) not in awards_of()
    ingest(acme, ev("new", "post_published", today() - timedelta(days=29)))
    evaluate_pending()
    assert ("thought-leader", period_key("monthly", today())) in awards_of()


def test_on_fire_is_awarded_for_5_consecutive_weekdays(acme: ApiClient) -> None:
    # The 5 weekdays before today (weekdays streak mode: weekends neither extend nor break).
    days: list[date] = []
    day = today()
    while len(days) < 5:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    ingest(acme, *(ev(f"l{i}", "post_liked", d) for i, d in enumerate(days[:4])))
    evaluate_pending()
    assert awards_of() == []
    ingest(acme, ev("l4", "post_liked", days[4]))
    evaluate_pending()
    assert awards_of() == [("on-fire", "")]


def test_an_awarded_badges_xp_reward_is_credited(acme: ApiClient) -> None:
    assert acme.patch(f"{BADGES}/first-post", {"xp_reward": 50}).status_code == 200
    ingest(acme, ev("p1", "post_published"))
    assert xp_of() == 10
    evaluate_pending()
    assert xp_of() == 10 + 50
    with in_tenant("acme"):
        assert XpDaily.objects.get(rep__external_id="ann", day=today()).xp == 50
    evaluate("ann", today())
    assert xp_of() == 60  # once


def test_a_reward_that_crosses_a_threshold_levels_up(acme: ApiClient) -> None:
    assert acme.patch(f"{BADGES}/first-post", {"xp_reward": 100}).status_code == 200
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    assert xp_of() == 110
    assert level_for(110) == 2
    assert outbox("level.up") == [{"rep": "ann", "level": 2, "xp": 110}]


def test_an_inactive_badge_is_not_awarded(acme: ApiClient) -> None:
    assert acme.patch(f"{BADGES}/first-post", {"active": False}).status_code == 200
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    assert awards_of() == []


def test_an_inactive_rep_earns_no_badges(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", active=False)
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    nightly(today() - timedelta(days=1))
    assert awards_of() == []


# --- badge.awarded ------------------------------------------------------------------------------------


def test_each_award_writes_a_badge_awarded_event(acme: ApiClient) -> None:
    assert acme.patch(f"{BADGES}/first-post", {"xp_reward": 15}).status_code == 200
    ingest(acme, ev("p1", "post_published", rep="ann"), ev("p2", "post_published", rep="bob"))
    evaluate_pending()
    events = sorted(outbox("badge.awarded"), key=lambda e: e["rep"])
    assert [(e["rep"], e["badge"], e["period"], e["xp_reward"]) for e in events] == [
        ("ann", "first-post", "", 15),
        ("bob", "first-post", "", 15),
    ]
    with in_tenant("acme"):
        award = BadgeAward.objects.get(rep__external_id="ann")
    assert events[0]["awarded_at"] == award.awarded_at.isoformat()
    assert {"rep", "badge", "period", "xp_reward", "awarded_at"} <= set(events[0])


# --- repeat periods -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repeat", "day", "key"),
    [
        ("once", date(2026, 11, 19), ""),
        ("daily", date(2026, 11, 19), "2026-11-19"),
        ("weekly", date(2026, 11, 16), "2026-W47"),  # Monday
        ("weekly", date(2026, 11, 22), "2026-W47"),  # Sunday, the same ISO week
        ("weekly", date(2026, 11, 23), "2026-W48"),
        ("weekly", date(2027, 1, 1), "2026-W53"),  # ISO year, not calendar year
        ("weekly", date(2026, 1, 5), "2026-W02"),
        ("monthly", date(2026, 11, 30), "2026-11"),
        ("monthly", date(2026, 12, 1), "2026-12"),
    ],
)
def test_an_awards_period_is_its_day_iso_week_or_month(repeat: str, day: date, key: str) -> None:
    assert period_key(repeat, day) == key


def test_a_daily_badge_is_awarded_once_per_day(acme: ApiClient) -> None:
    create_badge(acme, "daily-poster", repeat="daily")
    ingest(acme, ev("p1", "post_published", date(2026, 11, 18)))
    d = date(2026, 11, 19)
    assert evaluate("ann", d) == ["daily-poster@2026-11-19", "first-post@"]
    assert evaluate("ann", d) == []
    assert evaluate("ann", d + timedelta(days=1)) == ["daily-poster@2026-11-20"]
    assert [p for b, p in awards_of() if b == "daily-poster"] == ["2026-11-19", "2026-11-20"]


def test_a_weekly_badge_is_keyed_by_iso_week(acme: ApiClient) -> None:
    create_badge(acme, "weekly-poster", repeat="weekly")
    ingest(acme, ev("p1", "post_published", date(2026, 11, 2)))
    assert "weekly-poster@2026-W47" in evaluate("ann", date(2026, 11, 16))
    assert evaluate("ann", date(2026, 11, 19)) == []  # the same week
    assert evaluate("ann", date(2026, 11, 22)) == []  # Sunday: still W47
    assert evaluate("ann", date(2026, 11, 23)) == ["weekly-poster@2026-W48"]


def test_a_monthly_badge_is_keyed_by_month(acme: ApiClient) -> None:
    create_badge(acme, "monthly-poster", repeat="monthly")
    ingest(acme, ev("p1", "post_published", date(2026, 10, 20)))
    assert "monthly-poster@2026-10" in evaluate("ann", date(2026, 10, 31))
    assert evaluate("ann", date(2026, 10, 21)) == []
    assert evaluate("ann", date(2026, 11, 1)) == ["monthly-poster@2026-11"]
    assert [p for b, p in awards_of() if b == "monthly-poster"] == ["2026-10", "2026-11"]


def test_a_badge_is_judged_on_the_data_up_to_the_day_evaluated(acme: ApiClient) -> None:
    create_badge(acme, "daily-poster", repeat="daily")
    ingest(acme, ev("p1", "post_published", date(2026, 11, 18)))
    assert evaluate("ann", date(2026, 11, 17)) == []  # the post is after the 17th


# --- snapshot badges: nightly only --------------------------------------------------------------------


def test_a_snapshot_badge_is_not_evaluated_at_ingest_time(acme: ApiClient) -> None:
    yesterday = today() - timedelta(days=1)
    make_reps("ann")
    snapshot("ann", yesterday, ssi=75)
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    assert awards_of() == [("first-post", "")]


def test_a_snapshot_badge_is_awarded_after_the_nightly_evaluation(acme: ApiClient) -> None:
    yesterday = today() - timedelta(days=1)
    make_reps("ann", "bob")
    snapshot("ann", yesterday, ssi=75)
    snapshot("bob", yesterday, ssi=69.99)
    nightly(yesterday)
    assert awards_of("ann") == [("social-seller", "")]  # 75 < 85: no elite-seller
    assert awards_of("bob") == []
    nightly(yesterday)
    assert awards_of("ann") == [("social-seller", "")]


def test_the_nightly_evaluation_uses_the_latest_snapshot_on_or_before_the_day(acme: ApiClient) -> None:
    d = today() - timedelta(days=3)
    make_reps("ann")
    snapshot("ann", d - timedelta(days=1), ssi=90)
    snapshot("ann", d, ssi=72)
    snapshot("ann", d + timedelta(days=1), ssi=99)  # after the day evaluated
    nightly(d)
    assert awards_of() == [("social-seller", "")]


def test_the_nightly_evaluation_emits_scores_computed(acme: ApiClient) -> None:
    yesterday = today() - timedelta(days=1)
    make_reps("ann")
    nightly(yesterday)
    events = outbox("scores.computed")
    assert len(events) == 1 and events[0]["date"] == yesterday.isoformat()
    # Once per tenant and day: a second nightly evaluation, or an on-demand one, says nothing new.
    nightly(yesterday)
    with in_tenant("acme") as tenant:
        day_scored_evaluate(tenant=tenant, day=yesterday, nightly=False)
    assert len(outbox("scores.computed")) == 1


def test_top_10_is_never_awarded_to_a_rep_without_a_snapshot(acme: ApiClient) -> None:
    yesterday = today() - timedelta(days=1)
    make_reps("ann", "bob")
    snapshot("ann", yesterday, ssi=40, top_percent=10)
    nightly(yesterday)
    assert awards_of("ann") == [("top-10", period_key("weekly", yesterday))]
    assert awards_of("bob") == []


def test_top_10_needs_a_top_percent_of_at_most_10(acme: ApiClient) -> None:
    yesterday = today() - timedelta(days=1)
    make_reps("ann")
    snapshot("ann", yesterday, ssi=40, top_percent=11)
    nightly(yesterday)
    assert awards_of() == []


def test_a_real_nightly_recompute_awards_the_snapshot_badges(
    acme: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    # A config where a complete profile is worth 97 points: ann scores 97, the others 0.
    def pillar(points: int, signal: dict[str, Any]) -> dict[str, Any]:
        return {"max_points": points, "signals": [signal]}

    def count(key: str, type: str) -> dict[str, Any]:
        return {"key": key, "kind": "count", "types": [type], "target": 10, "weight": 1}

    config = {
        "window_days": 90,
        "half_life_days": None,
        "pillars": {
            "brand": pillar(97, {**count("profile", "profile_updated"), "kind": "state", "target": 100}),
            "find": pillar(1, count("searches", "people_search")),
            "engage": pillar(1, count("likes", "post_liked")),
            "relationships": pillar(1, count("requests", "connection_request_sent")),
        },
    }
    response = acme.put("/api/v1/scoring-config", config)
    assert response.status_code == 200, response.content
    make_reps(*(f"rep-{i}" for i in range(9)))
    yesterday = today() - timedelta(days=1)
    ingest(acme, ev("pr", "profile_updated", yesterday, value=100))
    evaluate_pending()
    assert awards_of() == [("all-star-profile", "")]  # ssi badges wait for the night

    with django_capture_on_commit_callbacks(execute=True), in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=yesterday, nightly=True)
    # ann: 97 (rank 1 of 10: top 10%); the 9 others: 0.
    assert awards_of() == [
        ("all-star-profile", ""),
        ("elite-seller", ""),
        ("social-seller", ""),
        ("top-10", period_key("weekly", yesterday)),
    ]
    assert awards_of("rep-0") == []
    assert [e["date"] for e in outbox("scores.computed")] == [yesterday.isoformat()]


# --- GET /api/v1/reps/{id}/badges ---------------------------------------------------------------------


def test_a_reps_badges_list_its_awards(acme: ApiClient) -> None:
    create_badge(acme, "daily-poster", repeat="daily", xp_reward=5)
    ingest(acme, ev("p1", "post_published", date(2026, 11, 18)), ev("b1", "post_published", rep="bob"))
    evaluate("ann", date(2026, 11, 19))
    evaluate("ann", date(2026, 11, 20))
    response = acme.get("/api/v1/reps/ann/badges")
    assert response.status_code == 200, response.content
    rows = response.json()
    # Newest first; daily-poster@19 and first-post were awarded together, first-post first.
    assert [(r["badge"], r["period"]) for r in rows] == [
        ("daily-poster", "2026-11-20"),
        ("daily-poster", "2026-11-19"),
        ("first-post", ""),
    ]
    assert all(r["rep"] == "ann" for r in rows)
    poster = next(r for r in rows if r["period"] == "2026-11-20")
    assert (poster["name"], poster["xp_reward"]) == ("Daily Poster", 5)
    assert set(poster) >= {"id", "rep", "badge", "name", "image_url", "period", "xp_reward", "awarded_at"}


def test_a_rep_without_awards_has_an_empty_list(acme: ApiClient) -> None:
    make_reps("ann")
    response = acme.get("/api/v1/reps/ann/badges")
    assert response.status_code == 200
    assert response.json() == []


def test_the_badges_of_an_unknown_rep_are_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps/nobody/badges"), 404)


# --- GET /api/v1/awards -------------------------------------------------------------------------------


def _awards_scenario(acme: ApiClient) -> None:
    """Awards in this order: ann first-post, bob first-post, ann daily-poster x2."""
    create_badge(acme, "daily-poster", repeat="daily")
    ingest(acme, ev("a1", "post_published", date(2026, 11, 18), rep="ann"))
    ingest(acme, ev("b1", "post_published", date(2026, 11, 18), rep="bob"))
    assert acme.patch(f"{BADGES}/daily-poster", {"active": False}).status_code == 200
    evaluate("ann", date(2026, 11, 19))  # first-post
    evaluate("bob", date(2026, 11, 19))  # first-post
    assert acme.patch(f"{BADGES}/daily-poster", {"active": True}).status_code == 200
    evaluate("ann", date(2026, 11, 19))  # daily-poster 19
    evaluate("ann", date(2026, 11, 20))  # daily-poster 20


def feed(client: ApiClient, **params: Any) -> list[tuple[str, str, str]]:
    response = client.get(AWARDS, params)
    assert response.status_code == 200, response.content
    return [(r["rep"], r["badge"], r["period"]) for r in response.json()["results"]]


def test_the_awards_feed_is_newest_first(acme: ApiClient) -> None:
    _awards_scenario(acme)
    assert feed(acme) == [
        ("ann", "daily-poster", "2026-11-20"),
        ("ann", "daily-poster", "2026-11-19"),
        ("bob", "first-post", ""),
        ("ann", "first-post", ""),
    ]


def test_the_awards_feed_filters_by_rep_and_badge(acme: ApiClient) -> None:
    _awards_scenario(acme)
    assert feed(acme, rep="bob") == [("bob", "first-post", "")]
    assert feed(acme, badge="first-post") == [("bob", "first-post", ""), ("ann", "first-post", "")]
    assert feed(acme, rep="ann", badge="daily-poster") == [
        ("ann", "daily-poster", "2026-11-20"),
        ("ann", "daily-poster", "2026-11-19"),
    ]
    assert feed(acme, rep="nobody") == []


def test_the_awards_feed_pages_with_a_cursor(acme: ApiClient) -> None:
    _awards_scenario(acme)
    first = acme.get(AWARDS, {"page_size": 3}).json()
    assert [r["period"] for r in first["results"]] == ["2026-11-20", "2026-11-19", ""]
    assert first["next"]
    assert "cursor=" in first["next"]
    parts = urlsplit(first["next"])
    second = acme.get(f"{parts.path}?{parts.query}").json()
    assert [(r["rep"], r["badge"]) for r in second["results"]] == [("ann", "first-post")]
    assert second["next"] is None


# --- two tenants --------------------------------------------------------------------------------------


ENDPOINTS = [
    ("get", BADGES),
    ("post", BADGES),
    ("get", f"{BADGES}/first-post"),
    ("patch", f"{BADGES}/first-post"),
    ("put", f"{BADGES}/first-post"),
    ("delete", f"{BADGES}/first-post"),
    ("get", AWARDS),
    ("get", "/api/v1/reps/ann/badges"),
    ("get", "/api/v1/goals"),
    ("post", "/api/v1/goals"),
    ("get", "/api/v1/goals/1"),
    ("patch", "/api/v1/goals/1"),
    ("delete", "/api/v1/goals/1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("role", ["admin", "integration", "read"])
def test_it_denies_cross_tenant_access_to_badges_awards_and_goals(
    world: World, db: None, method: str, path: str, role: str
) -> None:
    sneaky = ApiClient(world.globex.host, getattr(world.acme, role))
    if method == "get":
        response = sneaky.get(path)
    elif method == "delete":
        response = sneaky.delete(path)
    else:
        response = getattr(sneaky, method)(path, badge_body("sneaky"))
    assert_error(response, 401, code="invalid_token")


def test_one_tenants_awards_and_badges_are_invisible_to_the_other(acme: ApiClient, globex: ApiClient) -> None:
    create_badge(acme, "acme-only")
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    assert sorted(feed(acme)) == [("ann", "acme-only", ""), ("ann", "first-post", "")]

    assert feed(globex) == []
    assert_error(globex.get("/api/v1/reps/ann/badges"), 404)
    assert_error(globex.get(f"{BADGES}/acme-only"), 404)
    assert "acme-only" not in {r["slug"] for r in globex.get(BADGES, {"page_size": 100}).json()["results"]}
    # globex's own default badge is untouched by acme's changes.
    assert acme.patch(f"{BADGES}/first-post", {"xp_reward": 99}).status_code == 200
    assert globex.get(f"{BADGES}/first-post").json()["xp_reward"] == 0


def test_a_globex_ingest_awards_nothing_in_acme(acme: ApiClient, globex: ApiClient) -> None:
    ingest(globex, ev("p1", "post_published"))
    with in_tenant("globex") as tenant:
        pending_evaluate(tenant=tenant)
        assert list(BadgeAward.objects.values_list("badge__slug", flat=True)) == ["first-post"]
    assert evaluate_pending() == 0
    assert feed(acme) == []
    assert feed(globex) == [("ann", "first-post", "")]


# --- rep tokens ---------------------------------------------------------------------------------------


def test_a_rep_token_reads_its_own_badges(acme: ApiClient) -> None:
    ingest(acme, ev("p1", "post_published"))
    evaluate_pending()
    minted = acme.post("/api/v1/rep-tokens", {"rep": "ann"})
    assert minted.status_code == 201, minted.content
    rep = ApiClient(acme.host, minted.json()["token"])
    response = rep.get("/api/v1/reps/ann/badges")
    assert response.status_code == 200, response.content
    assert [r["badge"] for r in response.json()] == ["first-post"]
