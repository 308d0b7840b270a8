"""Scoring reads: the aggregates scoring needs, computed by the database.

``aggregates_for_day`` returns, per rep, exactly what
``scoring.engine.aggregate_events`` computes from raw events, but from the
daily rollup with a few set-based queries: the decay is applied per day
(one factor per rollup row), not per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from scoring.engine import Config, Latest, RepAggregates
from tenants.db import connection


def aggregates_for_day(*, config: Config, day: date, rep_ids: Sequence[int]) -> dict[int, RepAggregates]:
    """Aggregates of ``rep_ids`` for scoring ``day`` (reps without activity are absent)."""
    if not rep_ids:
        return {}
    window_start = day - timedelta(days=config.window_days - 1)
    days = [window_start + timedelta(days=i) for i in range(config.window_days)]
    factors = [config.decay((day - d).days) for d in days]
    decayed: dict[int, dict[str, float]] = defaultdict(dict)
    raw: dict[int, dict[str, float]] = defaultdict(dict)
    latest: dict[int, dict[str, Latest]] = defaultdict(dict)
    active: dict[int, dict[frozenset[str], int]] = defaultdict(dict)
    reps = list(rep_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH f(day, factor) AS (SELECT * FROM unnest(%s::date[], %s::float8[]))
            SELECT d.rep_id, d.type, sum(d.total * f.factor), sum(d.total)
              FROM scoring_activitydaily d JOIN f ON f.day = d.day
             WHERE d.rep_id = ANY(%s) AND d.day BETWEEN %s AND %s
             GROUP BY d.rep_id, d.type
            """,
            [days, factors, reps, window_start, day],
        )
        for rep_id, type_name, decayed_sum, raw_sum in cursor.fetchall():
            decayed[rep_id][type_name] = decayed_sum
            raw[rep_id][type_name] = raw_sum

        state_types = sorted(config.state_types)
        if state_types:
            cursor.execute(
                """
                SELECT DISTINCT ON (rep_id, type) rep_id, type, last_at, last_id, last_value
                  FROM scoring_activitydaily
                 WHERE rep_id = ANY(%s) AND type = ANY(%s) AND day <= %s
                 ORDER BY rep_id, type, day DESC
                """,
                [reps, state_types, day],
            )
            for rep_id, type_name, last_at, last_id, last_value in cursor.fetchall():
                latest[rep_id][type_name] = Latest(last_at, last_id, last_value)

        for types in config.active_day_type_sets:
            type_filter = "AND type = ANY(%s)" if types else ""
            params: list[object] = [reps, window_start, day]
            if types:
                params.append(sorted(types))
            cursor.execute(
                f"""
                SELECT rep_id, count(DISTINCT day) FROM scoring_activitydaily
                 WHERE rep_id = ANY(%s) AND day BETWEEN %s AND %s {type_filter}
                 GROUP BY rep_id
                """,  # noqa: S608 (the only interpolation is a fixed fragment)
                params,
            )
            for rep_id, count in cursor.fetchall():
                active[rep_id][types] = count

    present = set(decayed) | set(latest) | set(active)
    return {
        rep_id: RepAggregates(
            decayed=decayed.get(rep_id, {}),
            raw=raw.get(rep_id, {}),
            latest=latest.get(rep_id, {}),
            active_days=active.get(rep_id, {}),
        )
        for rep_id in present
    }


def reps_by_external_id(external_ids: Sequence[str], *, attr: str) -> list[int]:
    """Rep ids for external ids, in order; an unknown one is a 400 naming it."""
    from scoring.models import Rep
    from tenants.errors import ValidationFailed

    found = dict(Rep.objects.filter(external_id__in=list(external_ids)).values_list("external_id", "id"))
    for i, external_id in enumerate(external_ids):
        if external_id not in found:
            raise ValidationFailed(
                f"No rep with external_id {external_id[:128]!r}.", code="unknown_rep", attr=f"{attr}.{i}"
            )
    return [found[e] for e in external_ids]


def local_today(tz_name: str) -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(tz_name)).date()


def local_yesterday(tz_name: str) -> date:
    return local_today(tz_name) - timedelta(days=1)
