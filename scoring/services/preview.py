"""Scores under a draft config, for a day: computed, never saved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from core.clock import local_yesterday
from scoring.engine import PILLARS, Config, competition_ranks, round2, score_reps
from scoring.models import Rep, ScoreSnapshot
from scoring.selectors import aggregates_for_day
from scoring.services.recompute import CHUNK_SIZE
from tenants.models import Tenant


def scores_preview(
    *, tenant: Tenant, config: Config, day: date | None, rep_ids: Sequence[int] | None
) -> dict[str, Any]:
    day = day or local_yesterday(tenant.timezone)
    reps = dict(
        (Rep.objects.filter(id__in=rep_ids) if rep_ids is not None else Rep.objects.filter(active=True))
        .order_by("id")
        .values_list("id", "external_id")
    )
    ids = list(reps)
    scores = {}
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        scores.update(score_reps(config, aggregates_for_day(config=config, day=day, rep_ids=chunk), chunk))
    current = dict(ScoreSnapshot.objects.filter(day=day, rep_id__in=ids).values_list("rep_id", "ssi"))
    ranks = competition_ranks({rep: s.ssi for rep, s in scores.items()}) if scores else {}
    results = [
        {
            "rep": reps[rep],
            "ssi": round2(s.ssi),
            "pillars": {p: round2(s.pillars[p]) for p in PILLARS},
            "rank": ranks[rep].rank,
            "current_ssi": round2(current[rep]) if rep in current else None,
        }
        for rep, s in scores.items()
    ]
    results.sort(key=lambda r: (r["rank"], r["rep"]))
    return {"date": day, "reps": len(results), "results": results}
