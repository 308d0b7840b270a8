"""Daily caps (docs/gamification.md#daily-caps-fair-play): the ``daily_caps`` setting, XP
credited under it at ingestion, and the ``events.<type>`` metric of badges, goals and
leaderboards counted under it; SSI and ``sum.<type>`` are not capped.

Events go in through ``POST /api/v1/activities`` on acme (Europe/Berlin). Catalog XP:
post_published 10, article_published 25, follower_gained 1.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.clock import local_today
from gamification.models import BadgeAward, XpDaily
from gamification.rules.criteria import MetricRef
from gamification.services.evaluation import pending_evaluate
from gamification.services.metrics import metrics_load
from scoring.models import ActivityDaily, Rep, ScoreSnapshot
from scoring.services.recompute import scores_compute_day
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import in_tenant

SETTINGS = "/api/v1/settings"
CONFIG = "/api/v1/scoring-config"
TZ = "Europe/Berlin"


def today() -> date:
    return local_today(TZ)


def at(day: date, hour: int = 12) -> str:
    """Local time in Berlin, whatever the season. Today's events are at local midnight: a later
    hour may not have come yet (ingestion refuses events in the future)."""
    if day >= today():
        hour = 0
    offset = "+02:00" if 3 < day.month < 11 else "+01:00"
    return f"{day.isoformat()}T{hour:02d}:00:00{offset}"


D = date(2026, 11, 18)


def ev(
    id: str, type: str = "post_published", day: date = D, rep: str = "ann", **extra: Any
) -> dict[str, Any]:
    return {"id": id, "rep": rep, "type": type, "occurred_at": at(day), **extra}


def posts(prefix: str, count: int, day: date = D, rep: str = "ann") -> list[dict[str, Any]]:
    return [ev(f"{prefix}{i}", "post_published", day, rep) for i in range(count)]


def ingest(client: ApiClient, *events: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/activities", {"events": list(events)})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    assert body["rejected"] == [], body
    return body


def caps(client: ApiClient, value: dict[str, int]) -> None:
    response = client.patch(SETTINGS, {"daily_caps": value})
    assert response.status_code == 200, response.content
    assert response.json()["daily_caps"] == value


def xp_of(rep: str = "ann") -> int:
    with in_tenant("acme"):
        return Rep.objects.get(external_id=rep).xp


def ledger(rep: str = "ann") -> dict[date, int]:
    with in_tenant("acme"):
        return {row.day: row.xp for row in XpDaily.objects.filter(rep__external_id=rep).order_by("day")}


def stored(rep: str = "ann", type: str = "post_published") -> dict[date, int]:
    with in_tenant("acme"):
        rows = ActivityDaily.objects.filter(rep__external_id=rep, type=type)
        return {row.day: row.n for row in rows}


# --- the setting ----------------------------------------------------------------------------------------


def test_no_type_is_capped_by_default_and_the_factor_is_3(acme: ApiClient) -> None:
    body = acme.get(SETTINGS).json()
    assert (body["daily_caps"], body["fair_play_factor"]) == ({}, 3)


def test_caps_are_set_per_event_type_and_read_back(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5, "follower_gained": 1})
    assert acme.get(SETTINGS).json()["daily_caps"] == {"post_published": 5, "follower_gained": 1}
    caps(acme, {})
    assert acme.get(SETTINGS).json()["daily_caps"] == {}


def test_a_custom_type_may_be_capped_once_declared(acme: ApiClient) -> None:
    response = acme.patch(SETTINGS, {"daily_caps": {"webinar_hosted": 2}})
    assert_error(response, 400, code="unknown_event_type", attr="daily_caps.webinar_hosted")
    config = acme.get(CONFIG).json()
    config["custom_event_types"] = [{"name": "webinar_hosted", "xp": 12}]
    assert acme.put(CONFIG, config).status_code == 200
    caps(acme, {"webinar_hosted": 2})


@pytest.mark.parametrize(
    ("value", "code", "attr"),
    [
        ({"nope": 3}, "unknown_event_type", "daily_caps.nope"),
        ({"post_published": 0}, "out_of_range", "daily_caps.post_published"),
        ({"post_published": -2}, "out_of_range", "daily_caps.post_published"),
        ({"post_published": 2.5}, "invalid_type", "daily_caps.post_published"),
        ({"post_published": True}, "invalid_type", "daily_caps.post_published"),
        ({"post_published": "5"}, "invalid_type", "daily_caps.post_published"),
        ([5], "invalid_type", "daily_caps"),
        (5, "invalid_type", "daily_caps"),
    ],
)
def test_a_bad_cap_is_a_400_naming_it(acme: ApiClient, value: Any, code: str, attr: str) -> None:
    assert_error(acme.patch(SETTINGS, {"daily_caps": value}), 400, code=code, attr=attr)
    assert acme.get(SETTINGS).json()["daily_caps"] == {}


@pytest.mark.parametrize("value", [1.01, 2, 3, 7.5, 1000])
def test_the_factor_is_a_number_above_1(acme: ApiClient, value: float) -> None:
    response = acme.patch(SETTINGS, {"fair_play_factor": value})
    assert response.status_code == 200, response.content
    assert response.json()["fair_play_factor"] == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1, "out_of_range"),
        (0.5, "out_of_range"),
        (1001, "out_of_range"),
        ("3", "invalid_type"),
        (None, "invalid_type"),
        (True, "invalid_type"),
    ],
)
def test_a_bad_factor_is_a_400_naming_it(acme: ApiClient, value: Any, code: str) -> None:
    assert_error(acme.patch(SETTINGS, {"fair_play_factor": value}), 400, code=code, attr="fair_play_factor")


def test_changing_the_caps_is_in_the_audit_log(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5})
    entry = acme.get("/api/v1/audit-log", {"target_type": "settings"}).json()["results"][0]
    assert (entry["before"]["daily_caps"], entry["after"]["daily_caps"]) == ({}, {"post_published": 5})


# --- XP -----------------------------------------------------------------------------------------------


def test_without_a_cap_every_event_earns_xp(acme: ApiClient) -> None:
    ingest(acme, *posts("p", 7))
    assert xp_of() == 7 * 10


def test_a_cap_limits_the_xp_of_a_day_and_type(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5})
    ingest(acme, *posts("p", 7), ev("a1", "article_published"), ev("a2", "article_published"))
    # 5 of 7 posts (10 each) and both articles (25 each: not capped).
    assert xp_of() == 5 * 10 + 2 * 25
    assert ledger() == {D: 100}
    assert stored() == {D: 7}  # every event is stored


def test_the_cap_is_per_local_day(acme: ApiClient) -> None:
    caps(acme, {"post_published": 2})
    ingest(acme, *posts("p", 3, D), *posts("q", 3, D + timedelta(days=1)))
    assert ledger() == {D: 20, D + timedelta(days=1): 20}


def test_the_cap_is_per_rep(acme: ApiClient) -> None:
    caps(acme, {"post_published": 2})
    ingest(acme, *posts("a", 3, rep="ann"), *posts("b", 1, rep="bob"))
    assert (xp_of("ann"), xp_of("bob")) == (20, 10)


def test_the_local_day_decides_the_cap_not_the_utc_day(acme: ApiClient) -> None:
    caps(acme, {"post_published": 1})
    # 23:30 and 00:30 in Berlin on the 18th-19th: both on the 18th in UTC, two local days.
    late = {"id": "late", "rep": "ann", "type": "post_published", "occurred_at": "2026-11-18T23:30:00+01:00"}
    early = {
        "id": "early",
        "rep": "ann",
        "type": "post_published",
        "occurred_at": "2026-11-19T00:30:00+01:00",
    }
    ingest(acme, late, early)
    assert ledger() == {D: 10, D + timedelta(days=1): 10}


def test_batches_of_one_day_share_its_cap(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5})
    ingest(acme, *posts("p", 3))
    ingest(acme, *posts("q", 4))
    assert xp_of() == 5 * 10


def test_a_late_event_on_a_capped_day_earns_nothing(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5})
    ingest(acme, *posts("p", 5, today()))
    ingest(acme, ev("late", "post_published", D))  # an earlier day, not capped yet: 10
    assert xp_of() == 60
    ingest(acme, ev("late2", "post_published", today()))
    assert xp_of() == 60
    assert stored()[today()] == 6


def test_a_retried_ingest_earns_nothing_twice(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5})
    batch = posts("p", 4)
    ingest(acme, *batch)
    again = ingest(acme, *batch, ev("p9"))
    assert (again["accepted"], again["duplicates"]) == (1, 4)
    assert xp_of() == 5 * 10
    assert ingest(acme, *batch, ev("p9"))["accepted"] == 0
    assert xp_of() == 5 * 10


def test_a_raised_cap_pays_for_events_stored_afterwards_only(acme: ApiClient) -> None:
    caps(acme, {"post_published": 5})
    ingest(acme, *posts("p", 7))
    assert xp_of() == 50
    caps(acme, {"post_published": 10})
    ingest(acme, ev("p8"))
    # The 8th post earns (8 <= 10); the 6th and 7th, stored over the old cap, never do.
    assert xp_of() == 60
    assert ledger() == {D: 60}


def test_a_lowered_or_lifted_cap_keeps_the_xp_already_credited(acme: ApiClient) -> None:
    ingest(acme, *posts("p", 7))
    caps(acme, {"post_published": 2})
    assert xp_of() == 70  # nothing taken back
    ingest(acme, ev("p8"), *posts("n", 3, D + timedelta(days=1)))
    # The 18th is over its cap already: nothing; the 19th: 2 of 3.
    assert ledger() == {D: 70, D + timedelta(days=1): 20}
    caps(acme, {})
    ingest(acme, ev("n9", day=D + timedelta(days=1)))
    assert ledger() == {D: 70, D + timedelta(days=1): 30}
    assert xp_of() == 100


# --- events.<type> for badges, goals and leaderboards ------------------------------------------------------


def metric_values(
    rep: str, *names: str, day: date, window_days: int | None = None
) -> dict[str, float | None]:
    with in_tenant("acme") as tenant:
        rep_id = Rep.objects.get(external_id=rep).pk
        refs = [MetricRef(name, window_days) for name in names]
        values = metrics_load(tenant=tenant, rep_ids=[rep_id], refs=refs, day=day)[rep_id]
        return {ref.name: values[ref] for ref in refs}


def test_the_events_metric_counts_capped_days_and_sum_does_not(acme: ApiClient) -> None:
    caps(acme, {"follower_gained": 1, "post_published": 3})
    ingest(
        acme,
        *(ev(f"f{i}", "follower_gained", D, value=10) for i in range(3)),
        *posts("p", 5, D),
        *posts("q", 2, D + timedelta(days=1)),
    )
    values = metric_values(
        "ann", "events.follower_gained", "sum.follower_gained", "events.post_published", "sum.post_published",
        day=D + timedelta(days=1),
    )  # fmt: skip
    # followers: 3 events (1 counted), values 10 + 10 + 10; posts: min(5, 3) + min(2, 3), and 7
    # events of the default value 1.
    assert values == {
        "events.follower_gained": 1.0,
        "sum.follower_gained": 30.0,
        "events.post_published": 5.0,
        "sum.post_published": 7.0,
    }
    caps(acme, {})
    assert metric_values("ann", "events.post_published", day=D + timedelta(days=1)) == {
        "events.post_published": 7.0
    }


def test_the_events_metric_over_a_window_counts_capped_days(acme: ApiClient) -> None:
    caps(acme, {"post_published": 2})
    ingest(acme, *posts("a", 4, D - timedelta(days=5)), *posts("b", 1, D))
    assert metric_values("ann", "events.post_published", day=D, window_days=3) == {
        "events.post_published": 1.0
    }
    assert metric_values("ann", "events.post_published", day=D, window_days=10) == {
        "events.post_published": 3.0
    }


def awards_of(rep: str = "ann") -> list[str]:
    with in_tenant("acme"):
        return sorted(BadgeAward.objects.filter(rep__external_id=rep).values_list("badge__slug", flat=True))


def evaluate_pending() -> None:
    with in_tenant("acme") as tenant:
        pending_evaluate(tenant=tenant)


def test_a_badge_on_events_is_not_awarded_past_the_cap(acme: ApiClient) -> None:
    body = {
        "slug": "prolific",
        "name": "Prolific",
        "criteria": {"metric": "events.post_published", "op": ">=", "value": 3},
    }
    assert acme.post("/api/v1/badges", body).status_code == 201
    caps(acme, {"post_published": 2})
    yesterday = today() - timedelta(days=1)
    ingest(acme, *posts("p", 6, yesterday))
    evaluate_pending()
    assert "prolific" not in awards_of()  # 6 posts, 2 counted
    ingest(acme, *posts("q", 1, today()))
    evaluate_pending()
    assert "prolific" in awards_of()  # 2 + 1


def test_a_badge_on_sum_is_not_capped(acme: ApiClient) -> None:
    body = {
        "slug": "crowd",
        "name": "Crowd",
        "criteria": {"metric": "sum.follower_gained", "op": ">=", "value": 30},
    }
    assert acme.post("/api/v1/badges", body).status_code == 201
    caps(acme, {"follower_gained": 1})
    ingest(acme, *(ev(f"f{i}", "follower_gained", today(), value=10) for i in range(3)))
    evaluate_pending()
    assert "crowd" in awards_of()
    assert xp_of() == 1  # one follower_gained event earns its 1 XP


def test_a_goals_events_progress_counts_capped_days(acme: ApiClient) -> None:
    caps(acme, {"post_published": 2})
    start = today() - timedelta(days=2)
    body = {"title": "Posts", "rep": "ann", "metric": "events.post_published", "target": 10,
            "start_date": start.isoformat(),
            "end_date": (today() + timedelta(days=5)).isoformat()}  # fmt: skip
    ingest(acme, *posts("p", 5, start), *posts("q", 1, today()))
    response = acme.post("/api/v1/goals", body)
    assert response.status_code == 201, response.content
    goal = acme.get(f"/api/v1/goals/{response.json()['id']}").json()
    assert goal["current"] == 3  # min(5, 2) + 1


def board(client: ApiClient, metric: str, **params: Any) -> list[tuple[str, Any]]:
    response = client.get(
        f"/api/v1/leaderboards/{metric}", {"period": "day", "date": D.isoformat(), **params}
    )
    assert response.status_code == 200, response.content
    return [(row["rep"], row["value"]) for row in response.json()["results"]]


def test_the_events_leaderboard_counts_capped_days(acme: ApiClient) -> None:
    ingest(acme, *posts("a", 7, rep="ann"), *posts("b", 5, rep="bob"), *posts("c", 3, rep="cy"))
    assert board(acme, "events.post_published") == [("ann", 7), ("bob", 5), ("cy", 3)]
    caps(acme, {"post_published": 5})
    # ann and bob tie at 5 (rank 1, then by external_id); cy 3.
    assert board(acme, "events.post_published") == [("ann", 5), ("bob", 5), ("cy", 3)]
    response = acme.get(
        "/api/v1/leaderboards/events.post_published", {"period": "day", "date": D.isoformat()}
    )
    assert [row["rank"] for row in response.json()["results"]] == [1, 1, 3]
    # XP was credited before the cap: it stays.
    assert board(acme, "xp") == [("ann", 70), ("bob", 50), ("cy", 30)]


# --- SSI ------------------------------------------------------------------------------------------------


def ssi_of(rep: str, day: date) -> float:
    with in_tenant("acme"):
        return ScoreSnapshot.objects.get(rep__external_id=rep, day=day).ssi


def compute(day: date) -> None:
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=day)


def test_ssi_is_not_capped(acme: ApiClient) -> None:
    yesterday = today() - timedelta(days=1)
    ingest(acme, *posts("p", 10, yesterday), *posts("q", 10, yesterday, rep="bob"))
    caps(acme, {"post_published": 1})
    compute(yesterday)
    capped = (ssi_of("ann", yesterday), ssi_of("bob", yesterday))
    caps(acme, {})
    compute(yesterday)
    assert (ssi_of("ann", yesterday), ssi_of("bob", yesterday)) == capped
    assert capped[0] > 0
