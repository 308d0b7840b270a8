"""``GET /api/v1/fair-play/flags`` (docs/api.md#fair-play-flags): reps whose daily count of a
type is above the tenant's 99th percentile of daily counts of that type times its
``fair_play_factor``, from the daily rollup of the last ``days`` local days.

The everyday counts are written straight into acme's rollup (one row per rep and day, as
ingestion writes it); the farmer's through ``POST /api/v1/activities``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from core.clock import local_today
from scoring.models import ActivityDaily, Rep
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import World, in_tenant

FLAGS = "/api/v1/fair-play/flags"
TZ = "Europe/Berlin"


def today() -> date:
    return local_today(TZ)


def at(day: date, hour: int = 12) -> str:
    offset = "+02:00" if 3 < day.month < 11 else "+01:00"
    return f"{day.isoformat()}T{hour:02d}:00:00{offset}"


def everyday(
    counts: list[int], *, type: str = "post_published", days_ago: int = 1, prefix: str = "r"
) -> None:
    """A rep per count (``r001``...), each with that many events of ``type`` on one day."""
    day = today() - timedelta(days=days_ago)
    with in_tenant("acme"):
        rows = []
        for i, n in enumerate(counts, start=1):
            rep = Rep.objects.filter(external_id=f"{prefix}{i:03d}").first() or RepFactory.create(
                external_id=f"{prefix}{i:03d}", name=f"Rep {i}"
            )
            rows.append(
                ActivityDaily(
                    rep=rep, type=type, day=day, n=n, total=float(n),
                    last_at=datetime.fromisoformat(at(day)), last_id=i, last_value=1.0,
                )
            )  # fmt: skip
        ActivityDaily.objects.bulk_create(rows)


def farm(
    client: ApiClient, count: int, days_ago: int, *, rep: str = "farmer", type: str = "post_published"
) -> None:
    day = today() - timedelta(days=days_ago)
    events = [
        {"id": f"{rep}-{type}-{days_ago}-{i}", "rep": rep, "type": type, "occurred_at": at(day)}
        for i in range(count)
    ]
    response = client.post("/api/v1/activities", {"events": events})
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == count


def flags(client: ApiClient, **params: Any) -> dict[str, Any]:
    response = client.get(FLAGS, params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def percentile_cont(values: list[int], fraction: float) -> float:
    """PostgreSQL's percentile_cont, by hand: interpolated between the two nearest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def test_the_hand_computed_percentile_is_postgresqls() -> None:
    # 101 daily counts (1..100 and 400): position 0.99 * 100 = 99, the 100th smallest: 100.
    assert percentile_cont([*range(1, 101), 400], 0.99) == 100
    # 1..100 alone: position 98.01, between 99 and 100.
    assert percentile_cont(list(range(1, 101)), 0.99) == pytest.approx(99.01)


@pytest.mark.parametrize("values", [[*range(1, 101), 400], list(range(1, 101)), [5], [1, 2]])
def test_postgresql_agrees_with_the_hand_computed_percentile(db: None, values: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY v) FROM unnest(%s::int[]) v", [values]
        )
        assert cursor.fetchone()[0] == pytest.approx(percentile_cont(values, 0.99))


def test_a_rep_far_above_the_99th_percentile_is_flagged(acme: ApiClient) -> None:
    everyday(list(range(1, 101)))
    farm(acme, 400, days_ago=2)
    body = flags(acme)
    # p99 of the 101 counts is 100; times 3: 300. 400 > 300; the busiest everyday rep (100) is not.
    assert body["count"] == 1
    assert body["results"] == [
        {
            "rep": "farmer",
            "name": "",
            "type": "post_published",
            "threshold": 300.0,
            "days": [{"date": (today() - timedelta(days=2)).isoformat(), "count": 400}],
        }
    ]
    assert (body["days"], body["factor"]) == (30, 3.0)
    assert (body["start"], body["end"]) == ((today() - timedelta(days=29)).isoformat(), today().isoformat())


def test_nobody_is_flagged_at_or_under_the_threshold(acme: ApiClient) -> None:
    everyday(list(range(1, 101)))
    farm(acme, 300, days_ago=2)  # p99 100 (300 is the 101st count, above it), times 3: 300, not above
    assert flags(acme)["results"] == []


def test_the_factor_is_the_tenants(acme: ApiClient) -> None:
    everyday(list(range(1, 101)))
    farm(acme, 250, days_ago=2)
    assert flags(acme)["results"] == []  # 250 <= 3 x 100
    assert acme.patch("/api/v1/settings", {"fair_play_factor": 2.5}).status_code == 200
    body = flags(acme)
    # p99 = 100 (250 is the largest of 101); 2.5 x 100 = 250: not above. At 2.4: 240.
    assert body["results"] == []
    assert acme.patch("/api/v1/settings", {"fair_play_factor": 2.4}).status_code == 200
    body = flags(acme)
    assert [(r["rep"], r["threshold"]) for r in body["results"]] == [("farmer", pytest.approx(240.0))]
    assert body["factor"] == 2.4


def test_every_day_above_the_threshold_is_listed_oldest_first(acme: ApiClient) -> None:
    everyday(list(range(1, 201)))  # 200 counts: p99 at position 0.99 x 202 (with the farmer's two)
    farm(acme, 900, days_ago=3)
    farm(acme, 5, days_ago=2)
    farm(acme, 800, days_ago=1)
    body = flags(acme)
    counts = sorted([*range(1, 201), 900, 5, 800])
    threshold = 3 * percentile_cont(counts, 0.99)
    assert [r["threshold"] for r in body["results"]] == [pytest.approx(threshold)]
    assert body["results"][0]["days"] == [
        {"date": (today() - timedelta(days=3)).isoformat(), "count": 900},
        {"date": (today() - timedelta(days=1)).isoformat(), "count": 800},
    ]


def test_each_type_has_its_own_percentile(acme: ApiClient) -> None:
    everyday(list(range(1, 101)))
    everyday([1] * 100, type="follower_gained")
    farm(acme, 4, days_ago=2, type="follower_gained")  # p99 of 101 counts (100 ones, a 4) is 1: 4 > 3
    farm(acme, 120, days_ago=2)  # post_published: p99 100, x3 300: not flagged
    body = flags(acme)
    assert [(r["rep"], r["type"], r["threshold"]) for r in body["results"]] == [
        ("farmer", "follower_gained", 3.0)
    ]


def test_the_window_is_the_last_days_local_days(acme: ApiClient) -> None:
    everyday(list(range(1, 101)), days_ago=1)
    farm(acme, 400, days_ago=40)
    assert flags(acme)["results"] == []  # 40 days ago: outside the default 30
    body = flags(acme, days=41)
    assert [r["rep"] for r in body["results"]] == ["farmer"]
    assert (body["days"], body["start"]) == (41, (today() - timedelta(days=40)).isoformat())
    assert flags(acme, days=40)["results"] == []  # today and the 39 days before


def test_a_daily_cap_does_not_lower_the_counts_flagged(acme: ApiClient) -> None:
    assert acme.patch("/api/v1/settings", {"daily_caps": {"post_published": 5}}).status_code == 200
    everyday(list(range(1, 101)))
    farm(acme, 400, days_ago=2)
    assert flags(acme)["results"][0]["days"][0]["count"] == 400


def test_flags_are_paginated_in_order_of_rep_then_type(acme: ApiClient) -> None:
    everyday([1] * 300)  # p99 of 302 counts (300 ones and two 50s): 1
    everyday([1] * 300, type="follower_gained")
    for rep in ("zed", "amy"):
        farm(acme, 50, days_ago=1, rep=rep)
        farm(acme, 50, days_ago=1, rep=rep, type="follower_gained")
    first = flags(acme, page_size=3)
    assert first["count"] == 4
    assert [(r["rep"], r["type"]) for r in first["results"]] == [
        ("amy", "follower_gained"), ("amy", "post_published"), ("zed", "follower_gained"),
    ]  # fmt: skip
    second = acme.get(first["next"]).json()
    assert [(r["rep"], r["type"]) for r in second["results"]] == [("zed", "post_published")]


def test_no_data_flags_nobody(acme: ApiClient) -> None:
    assert flags(acme)["results"] == []


@pytest.mark.parametrize("days", ["0", "91", "-1", "abc", "1.5", "٣"])
def test_a_bad_days_is_a_400_naming_it(acme: ApiClient, days: str) -> None:
    assert_error(acme.get(FLAGS, {"days": days}), 400, code="invalid", attr="days")


@pytest.mark.parametrize("role", ["admin", "read"])
def test_admin_and_read_keys_may_read_the_flags(world: World, db: None, role: str) -> None:
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    assert client.get(FLAGS).status_code == 200


def test_integration_keys_and_rep_tokens_may_not(world: World, acme: ApiClient) -> None:
    assert_error(ApiClient(world.acme.host, world.acme.integration).get(FLAGS), 403)
    acme.post("/api/v1/reps", {"external_id": "ann"})
    token = mint(acme, "ann")["token"]
    assert_error(ApiClient(world.acme.host, token).get(FLAGS), 403)


def test_it_denies_cross_tenant_access(world: World, acme: ApiClient, globex: ApiClient) -> None:
    everyday(list(range(1, 101)))
    farm(acme, 400, days_ago=2)
    for role in ("admin", "read", "integration"):
        intruder = ApiClient(world.acme.host, getattr(world.globex, role))
        assert_error(intruder.get(FLAGS), 401)
    assert flags(globex)["results"] == []
