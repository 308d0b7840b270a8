"""Why a rep's score moved between two days (docs/scoring.md#why-a-score-moved): the read
model of ``GET /api/v1/reps/{id}/ssi/changes``, built from the two snapshots and their
explanations as ``/ssi/explain`` gives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from scoring.engine import PILLARS, round2
from scoring.engine.changes import cents, pillar_deltas
from scoring.models import Rep, ScoreSnapshot
from scoring.read import snapshot_explanation

Signal = dict[str, Any]  # one signal as /ssi/explain gives it


@dataclass(frozen=True)
class NotScored:
    """``rep_changes``: the rep has no snapshot on ``day`` (the query parameter ``attr``)."""

    day: date
    attr: str


def _side(snapshot: ScoreSnapshot) -> dict[str, Any]:
    return {
        "date": snapshot.day,
        "ssi": round2(snapshot.ssi),
        "pillars": {p: round2(getattr(snapshot, p)) for p in PILLARS},
        "config_version": snapshot.config_version,
    }


def rep_changes(rep: Rep, start: date, end: date, tz_name: str) -> dict[str, Any] | NotScored:
    """Why the rep's SSI moved from ``start`` to ``end`` (docs/scoring.md#why-a-score-moved): both
    snapshots, the SSI's delta, and each pillar's with its signals as ``/ssi/explain`` gives them
    on each day. Deltas are differences of the figures shown, in whole cents; the pillars' add
    up to the SSI's exactly (``scoring.engine.changes.pillar_deltas``)."""
    snapshots = {s.day: s for s in ScoreSnapshot.objects.filter(rep=rep, day__in=[start, end])}
    for day, attr in ((start, "from"), (end, "to")):
        if day not in snapshots:
            return NotScored(day=day, attr=attr)
    before, after = snapshots[start], snapshots[end]
    ssi_delta = cents(after.ssi) - cents(before.ssi)
    deltas = pillar_deltas(
        ssi_delta=ssi_delta,
        exact={p: (getattr(after, p) - getattr(before, p)) * 100 for p in PILLARS},
        shown={p: cents(getattr(after, p)) - cents(getattr(before, p)) for p in PILLARS},
    )
    signals_before, _ = snapshot_explanation(rep, before, tz_name)
    signals_after, _ = snapshot_explanation(rep, after, tz_name)
    pillars: dict[str, Any] = {
        p: {
            "from": round2(getattr(before, p)),
            "to": round2(getattr(after, p)),
            "delta": deltas[p] / 100,
            "signals": [],
        }
        for p in PILLARS
    }
    for (pillar, key), (was, now) in _signal_pairs(signals_before, signals_after).items():
        delta = cents(now["points"] if now else 0.0) - cents(was["points"] if was else 0.0)
        kind = (now or was or {})["kind"]
        pillars[pillar]["signals"].append(
            {"key": key, "kind": kind, "from": was, "to": now, "delta": delta / 100}
        )
    return {
        "rep": rep.external_id,
        "from": _side(before),
        "to": _side(after),
        "delta": ssi_delta / 100,
        "config_changed": before.config_version != after.config_version,
        "pillars": pillars,
    }


def _signal_pairs(
    before: list[Signal], after: list[Signal]
) -> dict[tuple[str, str], tuple[Signal | None, Signal | None]]:
    """Each (pillar, key) of either day with its explanation on each day (None: not in that
    day's config). In the later config's order, then the signals only the earlier one had."""
    was = {(s["pillar"], s["key"]): s for s in before}
    now = {(s["pillar"], s["key"]): s for s in after}
    order = [*now, *(k for k in was if k not in now)]
    return {k: (was.get(k), now.get(k)) for k in order}
