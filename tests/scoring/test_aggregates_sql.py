"""The database's aggregates (from the daily rollup, decay per day) equal the
engine's reference aggregation over the raw events, on random data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.engine import DEFAULT, Event, aggregate_events, parse_config, score_rep
from scoring.engine.catalog import EVENT_TYPES
from scoring.models import Activity, Rep
from scoring.selectors import aggregates_for_day
from scoring.services.ingest import activities_ingest
from tenants.models import Tenant
from tests.factories.scoring import RepFactory
from tests.support.tenants import in_tenant

TYPES = sorted(EVENT_TYPES)
DAY = date(2026, 6, 30)


def random_events(rng: random.Random, reps: list[str], n: int) -> list[dict[str, object]]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    events: list[dict[str, object]] = []
    for i in range(n):
        at = start + timedelta(seconds=rng.randint(0, 125 * 86400))
        if i % 17 == 0 and events:  # some equal timestamps, to exercise the tie rule
            at = datetime.fromisoformat(str(events[-1]["occurred_at"]))
        events.append(
            {
                "id": f"ev-{i}",
                "rep": rng.choice(reps),
                "type": rng.choice(TYPES),
                "occurred_at": at.isoformat(),
                "value": rng.choice([1, 1, 1, 2, 3.5, 0, 120]),
            }
        )
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_aggregates_equal_the_reference_on_random_events(world: object, db: None, seed: int) -> None:
    rng = random.Random(seed)
    config = {
        1: DEFAULT,
        # A window of two mask words, and active days of one type set besides "any type".
        2: parse_config(
            {
                **DEFAULT.to_dict(),
                "window_days": 100,
                "pillars": {
                    **DEFAULT.to_dict()["pillars"],
                    "brand": {
                        "max_points": 25,
                        "signals": [
                            *DEFAULT.to_dict()["pillars"]["brand"]["signals"],
                            {
                                "key": "posting_days",
                                "kind": "active_days",
                                "types": ["post_published", "post_shared"],
                                "target": 20,
                                "weight": 1,
                            },
                        ],
                    },
                },
            }
        ),
        3: parse_config({**DEFAULT.to_dict(), "window_days": 30, "half_life_days": None}),
    }[seed]
    assert seed != 2 or len(config.active_day_type_sets) == 2
    acme = Tenant.objects.get(slug="acme")
    tz = ZoneInfo(acme.timezone)
    with in_tenant("acme"):
        reps = [f"agg-{seed}-{i}" for i in range(6)]
        events = random_events(rng, reps, 1500)
        for start in range(0, len(events), 1000):
            result = activities_ingest(
                tenant=acme, events=events[start : start + 1000], now=datetime(2026, 7, 5, tzinfo=UTC)
            )
            assert not result.rejected
        rep_ids = dict(Rep.objects.filter(external_id__in=reps).values_list("external_id", "id"))
        stored = {
            rep: [
                Event(a.type, a.occurred_at, a.value, a.id)
                for a in Activity.objects.filter(rep_id=rep_ids[rep]).order_by("id")
            ]
            for rep in reps
        }
        # Reps far apart in id are selected by array, not by id range: both ways agree.
        far = RepFactory.create_batch(40)[-1].pk
        for day in (DAY, DAY - timedelta(days=40), date(2026, 3, 1)):
            from_sql = aggregates_for_day(config=config, day=day, rep_ids=list(rep_ids.values()))
            first = rep_ids[reps[0]]
            sparse = aggregates_for_day(config=config, day=day, rep_ids=[first, far])
            assert far not in sparse
            one, other = sparse[first], from_sql[first]
            # Sums of floats: a parallel plan adds them in another order (last-bit noise).
            assert one.decayed == pytest.approx(other.decayed, rel=1e-12)
            assert one.raw == pytest.approx(other.raw, rel=1e-12)
            assert (one.latest, one.active_days) == (other.latest, other.active_days)
            for rep in reps:
                reference = aggregate_events(stored[rep], day=day, config=config, tz=tz)
                sql = from_sql.get(rep_ids[rep])
                if sql is None:
                    assert not reference.latest and not reference.raw
                    continue
                assert sql.decayed.keys() == reference.decayed.keys()
                for t in reference.decayed:
                    assert sql.decayed[t] == pytest.approx(reference.decayed[t], rel=1e-9)
                    assert sql.raw[t] == pytest.approx(reference.raw[t], rel=1e-9)
                assert {t: v.value for t, v in sql.latest.items() if t in config.state_types} == {
                    t: v.value for t, v in reference.latest.items() if t in config.state_types
                }
                assert dict(sql.active_days) == {k: v for k, v in reference.active_days.items() if v}
                assert score_rep(config, sql).ssi == pytest.approx(score_rep(config, reference).ssi, abs=1e-9)
