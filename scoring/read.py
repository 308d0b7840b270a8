"""Read models of scores for the API: snapshots with ranks and averages, explanations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from core.db import connection, prepared_cursor
from scoring.engine import PILLARS, Event, aggregate_events, recommendations, round2, score_rep
from scoring.models import Activity, Rep, ScoredDay, ScoreSnapshot, SsiSummary, Team
from scoring.services.config import scoring_config_version


def _events_as_of(
    rep: Rep, day: date, window_days: int, state_types: frozenset[str], as_of: datetime
) -> list[Event]:
    """What scoring ``day`` could see at ``as_of``: the window's events, each state type's latest."""
    seen = Activity.objects.filter(rep=rep, ingested_at__lte=as_of, local_day__lte=day)
    rows = {
        row[0]: row
        for row in seen.filter(local_day__gt=day - timedelta(days=window_days)).values_list(
            "id", "type", "occurred_at", "value"
        )
    }
    for type_name in state_types:
        latest = (
            seen.filter(type=type_name)
            .order_by("-occurred_at", "-id")
            .values_list("id", "type", "occurred_at", "value")
        ).first()
        if latest is not None:
            rows[latest[0]] = latest
    return [Event(type=t, occurred_at=at, value=v, seq=i) for i, t, at, v in rows.values()]


def _rank(rank: int | None, of: int | None, top: int | None) -> dict[str, int] | None:
    if rank is None or of is None or top is None:
        return None
    return {"rank": rank, "of": of, "top_percent": top}


def snapshot_body(
    snapshot: ScoreSnapshot, external_id: str, averages: dict[str, Any] | None
) -> dict[str, Any]:
    """The API's SSI object (docs/scoring.md#reading-scores): every score rounded to 2 decimals."""
    team_averages = None
    if averages and snapshot.team_id is not None:
        team_averages = (averages.get("teams") or {}).get(str(snapshot.team_id))
    return {
        "rep": external_id,
        "date": snapshot.day,
        "ssi": round2(snapshot.ssi),
        "pillars": {p: round2(getattr(snapshot, p)) for p in PILLARS},
        "rank": {
            "tenant": _rank(snapshot.tenant_rank, snapshot.tenant_of, snapshot.tenant_top_percent),
            "team": _rank(snapshot.team_rank, snapshot.team_of, snapshot.team_top_percent),
        },
        "config_version": snapshot.config_version,
        "averages": {"tenant": (averages or {}).get("tenant"), "team": team_averages},
    }


def averages_by_day(days: list[date]) -> dict[date, dict[str, Any]]:
    return dict(ScoredDay.objects.filter(day__in=days).values_list("day", "averages"))


# The columns snapshot_body reads, in the order SNAPSHOT_JOIN selects them.
SNAPSHOT_FIELDS = (
    "day",
    "ssi",
    *PILLARS,
    "config_version",
    "team_id",
    "tenant_rank",
    "tenant_of",
    "tenant_top_percent",
    "team_rank",
    "team_of",
    "team_top_percent",
)
SNAPSHOT_COLUMNS = ", ".join(f"s.{f}" for f in SNAPSHOT_FIELDS) + ", d.averages"


def snapshot_join(*, on_day: bool) -> str:
    """SQL joining, to the rep ``r``, its snapshot ``s`` on a day (``on_day``: one more
    parameter, at this fragment's place) or its latest, and that day's ``ScoredDay`` ``d``:
    the columns ``SNAPSHOT_COLUMNS``, all null when there is no snapshot. The unique
    ``(rep, day)`` index serves both (backwards for the latest)."""
    which = "AND s.day = %s" if on_day else "ORDER BY s.day DESC LIMIT 1"
    return f"""
        LEFT JOIN LATERAL (
            SELECT * FROM scoring_scoresnapshot s WHERE s.rep_id = r.id {which}
        ) s ON true
        LEFT JOIN scoring_scoredday d ON d.day = s.day
    """  # noqa: S608 (only a fixed fragment is interpolated)


def snapshot_body_from_row(values: Sequence[Any], external_id: str) -> dict[str, Any] | None:
    """The SSI object from ``SNAPSHOT_COLUMNS`` (None when they are null: no snapshot)."""
    if values[0] is None:
        return None
    *fields, averages = values
    snapshot = ScoreSnapshot(**dict(zip(SNAPSHOT_FIELDS, fields, strict=True)))
    # A raw cursor reads jsonb as text (Django's loader); the ORM would decode it.
    decoded = json.loads(averages) if isinstance(averages, str) else averages
    return snapshot_body(snapshot, external_id, decoded)


def rep_ssi_get(*, external_id: str, day: date | None) -> tuple[bool, dict[str, Any] | None]:
    """``GET /reps/{external_id}/ssi``: (whether the rep exists, its SSI object on ``day``
    (None: the latest), or None without one). One query; the body is ``snapshot_body``'s."""
    sql = f"""
        SELECT {SNAPSHOT_COLUMNS}
          FROM scoring_rep r {snapshot_join(on_day=day is not None)}
         WHERE r.external_id = %s
    """  # noqa: S608 (only fixed fragments are interpolated)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [day, external_id] if day is not None else [external_id])
        row = cursor.fetchone()
    if row is None:
        return False, None
    return True, snapshot_body_from_row(row, external_id)


def rep_history(rep: Rep, start: date | None, end: date | None) -> list[dict[str, Any]]:
    queryset = ScoreSnapshot.objects.filter(rep=rep).order_by("day")
    if start:
        queryset = queryset.filter(day__gte=start)
    if end:
        queryset = queryset.filter(day__lte=end)
    snapshots = list(queryset[:400])
    averages = averages_by_day([s.day for s in snapshots])
    return [snapshot_body(s, rep.external_id, averages.get(s.day)) for s in snapshots]


def rep_explain(rep: Rep, day: date | None, tz_name: str) -> dict[str, Any] | None:
    """Signals and recommendations behind a snapshot, under the config version it used,
    from the rep's events as they stood when the snapshot was computed: an event
    ingested later (for that day or before) does not make the explanation
    disagree with the scores it explains."""
    queryset = ScoreSnapshot.objects.filter(rep=rep)
    snapshot = queryset.filter(day=day).first() if day else queryset.order_by("-day").first()
    if snapshot is None:
        return None
    body = snapshot_body(snapshot, rep.external_id, averages_by_day([snapshot.day]).get(snapshot.day))
    signals, recommended = snapshot_explanation(rep, snapshot, tz_name)
    body["signals"] = signals
    body["recommendations"] = recommended
    return body


def snapshot_explanation(
    rep: Rep, snapshot: ScoreSnapshot, tz_name: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``/ssi/explain``'s ``signals`` and ``recommendations`` of one snapshot."""
    config = scoring_config_version(snapshot.config_version).config
    events = _events_as_of(rep, snapshot.day, config.window_days, config.state_types, snapshot.computed_at)
    score = score_rep(config, aggregate_events(events, day=snapshot.day, config=config, tz=ZoneInfo(tz_name)))
    signals = [
        {
            "pillar": s.pillar,
            "key": s.key,
            "kind": s.kind,
            "x": round(s.x, 4),
            **(
                {"num": round(s.num, 4), "den": round(s.den, 4)}
                if s.num is not None and s.den is not None
                else {}
            ),
            "n": round(s.n, 4),
            "weight": s.weight,
            "points": round2(s.points),
        }
        for s in score.signals
    ]
    recommended = [
        {"pillar": r.pillar, "key": r.key, "gain": round2(r.gain), "tip": r.tip}
        for r in recommendations(config, score)
    ]
    return signals, recommended


def ssi_summary_body(summary: SsiSummary) -> dict[str, Any]:
    """The API's company or team SSI object (docs/scoring.md#company-and-team-ssi)."""
    body: dict[str, Any] = {
        "date": summary.day,
        "reps": summary.reps,
        "mean": float(summary.mean),
        "median": float(summary.median),
        "pillars": {p: float(getattr(summary, p)) for p in PILLARS},
        "bands": {"good": summary.good, "okay": summary.okay, "poor": summary.poor},
    }
    if summary.team_id is not None:
        body["team"] = summary.team_id
    return body


def ssi_summary_get(*, team_id: int | None, day: date | None) -> SsiSummary | None:
    """The company's (``team_id`` None) or a team's summary of ``day`` (default: its latest)."""
    rows = (
        SsiSummary.objects.filter(team_id=team_id)
        if team_id is not None
        else SsiSummary.objects.filter(team=None)
    )
    if day is not None:
        return rows.filter(day=day).first()
    return rows.order_by("-day").first()


def ssi_summary_history(
    *, team_id: int | None, start: date | None, end: date | None, limit: int = 400
) -> list[SsiSummary]:
    """The summaries between ``start`` and ``end`` (inclusive), oldest first, at most ``limit``."""
    rows = (
        SsiSummary.objects.filter(team_id=team_id)
        if team_id is not None
        else SsiSummary.objects.filter(team=None)
    )
    if start:
        rows = rows.filter(day__gte=start)
    if end:
        rows = rows.filter(day__lte=end)
    return list(rows.order_by("day")[:limit])


def ssi_summaries_of_teams(*, day: date) -> list[tuple[Team, SsiSummary | None]]:
    """Every team (by name) with its summary of ``day``, or None when none of its reps has a
    snapshot that day: each team's numbers as ``GET /api/v1/teams/{id}/ssi?date=`` gives
    them. Two queries, whatever the number of teams."""
    summaries = {s.team_id: s for s in SsiSummary.objects.filter(day=day, team__isnull=False)}
    return [(team, summaries.get(team.pk)) for team in Team.objects.order_by("name", "id")]


@dataclass(frozen=True)
class Move:
    """A rep's SSI on a day, ``days`` before it, and the change, each as the API shows it
    (rounded to 2 decimals)."""

    rep_id: int
    external_id: str
    name: str
    before: Decimal
    now: Decimal
    change: Decimal


# The active reps with a snapshot on both days; each SSI rounded to 2 decimals as the API
# shows it and as the summaries count it (whole cents, half away from zero: see
# scoring.services.summaries), so the change is the difference of the figures shown.
# The ``limit`` largest rises and the ``limit`` largest falls, ties by external_id.
_MOVES_SQL = """
WITH moves AS MATERIALIZED (
    SELECT r.id, r.external_id, r.name,
           floor(b.ssi * 100 + 0.5 + 1e-9)::bigint AS before,
           floor(s.ssi * 100 + 0.5 + 1e-9)::bigint AS now
      FROM scoring_scoresnapshot s
      JOIN scoring_scoresnapshot b ON b.rep_id = s.rep_id AND b.day = %(before)s
      JOIN scoring_rep r ON r.id = s.rep_id
     WHERE s.day = %(day)s AND r.active
)
(SELECT 'up', id, external_id, name, before, now FROM moves WHERE now > before
  ORDER BY now - before DESC, external_id LIMIT %(limit)s)
UNION ALL
(SELECT 'down', id, external_id, name, before, now FROM moves WHERE now < before
  ORDER BY now - before, external_id LIMIT %(limit)s)
"""


def ssi_movers(*, day: date, days: int = 7, limit: int = 5) -> tuple[list[Move], list[Move]]:
    """The reps whose SSI rose most, and fell most, from ``days`` before ``day`` to ``day``
    (largest move first; reps unchanged are in neither). One query, ranked by the database."""
    with connection.cursor() as cursor:
        cursor.execute(_MOVES_SQL, {"day": day, "before": day - timedelta(days=days), "limit": limit})
        rows = cursor.fetchall()
    cent = Decimal("0.01")
    moves: dict[str, list[Move]] = {"up": [], "down": []}
    for way, rep_id, external_id, name, before, now in rows:
        moves[way].append(
            Move(
                rep_id=rep_id,
                external_id=external_id,
                name=name,
                before=before * cent,
                now=now * cent,
                change=(now - before) * cent,
            )
        )
    return moves["up"], moves["down"]
