"""Scores under a draft config, for a day: computed, never saved as scores.

A preview of few reps (``INLINE_REPS`` at most) is computed in the request that asks for
it. More would hold a web worker for seconds per thousand reps: it is a job
(``scoring.services.jobs``, kind ``preview``) that a worker computes ``CHUNK_SIZE`` reps at
a time, as the nightly does, storing a ``PreviewResult`` row per rep. The API reads them a
page at a time; beat purges them with their job ``PREVIEW_KEEP`` after it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.db import connection
from scoring.engine import PILLARS, Config, competition_ranks, parse_config, round2, score_reps
from scoring.models import Job, PreviewResult, Rep, ScoreSnapshot
from scoring.selectors import aggregates_for_day
from scoring.services.recompute import CHUNK_SIZE, Progress

# Reps a request previews itself; beyond, a job does. At most a few hundred milliseconds of
# a web worker for any valid config.
INLINE_REPS = 200
# How long a preview job's answer is kept after the job ends.
PREVIEW_KEEP = timedelta(days=1)
PREVIEW = "preview"  # the job kind


def preview_reps_inline(rep_ids: Sequence[int] | None) -> dict[int, str] | None:
    """The reps to preview (``rep_ids``, or every active rep when None), id -> external_id in
    id order, when they are few enough to preview in the request; None when a job must."""
    reps = Rep.objects.filter(id__in=rep_ids) if rep_ids is not None else Rep.objects.filter(active=True)
    rows = list(reps.order_by("id").values_list("id", "external_id")[: INLINE_REPS + 1])
    return dict(rows) if len(rows) <= INLINE_REPS else None


def preview_rows(
    *, config: Config, day: date, reps: dict[int, str], progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Each rep's scores under ``config`` on ``day``, ranked among ``reps`` (id -> external_id),
    with the score stored that day for comparison: in rank order, then by external_id."""
    ids = list(reps)
    scores = {}
    current: dict[int, float] = {}
    if progress:
        progress(0, len(ids))
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        aggregates = aggregates_for_day(config=config, day=day, rep_ids=chunk)
        scores.update(score_reps(config, aggregates, chunk, signals=False))
        current.update(ScoreSnapshot.objects.filter(day=day, rep_id__in=chunk).values_list("rep_id", "ssi"))
        if progress:
            progress(start + len(chunk), len(ids))
    ranks = competition_ranks({rep: s.ssi for rep, s in scores.items()})
    rows = [
        {
            "rep": reps[rep],
            "ssi": round2(s.ssi),
            "pillars": {p: round2(s.pillars[p]) for p in PILLARS},
            "rank": ranks[rep].rank,
            "current_ssi": round2(current[rep]) if rep in current else None,
        }
        for rep, s in scores.items()
    ]
    rows.sort(key=lambda r: (r["rank"], r["rep"]))
    return rows


def preview_job_params(*, config: Config, rep_ids: Sequence[int] | None) -> dict[str, Any]:
    """What a preview job keeps of its request (its day is the job's): the draft config, and the
    reps asked for (None: every rep active when it runs)."""
    return {"config": config.to_dict(), "reps": None if rep_ids is None else sorted(set(rep_ids))}


def preview_job_compute(job: Job, progress: Progress) -> dict[str, Any]:
    """A preview job's work: score its reps under its config and store its answer (a rerun
    replaces it). Returns the job's result."""
    day = date.fromisoformat(job.params["days"][0])
    config = parse_config(job.params["config"], stored=True)  # validated by the request
    rep_ids = job.params.get("reps")
    reps = Rep.objects.filter(id__in=rep_ids) if rep_ids is not None else Rep.objects.filter(active=True)
    rows = preview_rows(
        config=config,
        day=day,
        reps=dict(reps.order_by("id").values_list("id", "external_id")),
        progress=progress,
    )
    _results_replace(job, rows)
    return {"date": day.isoformat(), "reps": len(rows)}


def _results_replace(job: Job, rows: list[dict[str, Any]]) -> None:
    """The job's answer, in one INSERT of every row from arrays, positions in ``rows`` order."""
    columns = ["rep", "ssi", *PILLARS, "rank", "current_ssi"]
    arrays = [
        [r["rep"] for r in rows],
        [r["ssi"] for r in rows],
        *([r["pillars"][p] for r in rows] for p in PILLARS),
        [r["rank"] for r in rows],
        [r["current_ssi"] for r in rows],
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM scoring_previewresult WHERE job_id = %s", [job.pk])
        cursor.execute(
            f"""
            INSERT INTO scoring_previewresult (job_id, position, {", ".join(columns)})
            SELECT %s, position - 1, {", ".join(columns)}
              FROM unnest(%s::text[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                          %s::float8[], %s::int[], %s::float8[])
                   WITH ORDINALITY AS t({", ".join(columns)}, position)
            """,  # noqa: S608 (fixed column names)
            [job.pk, *arrays],
        )


def preview_results(job: Job) -> Any:
    """A preview job's answer, in order (a QuerySet of ``PreviewResult``)."""
    return PreviewResult.objects.filter(job=job).order_by("position")


def preview_result_row(result: PreviewResult) -> dict[str, Any]:
    """A stored row as ``preview_rows`` gave it."""
    return {
        "rep": result.rep,
        "ssi": result.ssi,
        "pillars": {p: getattr(result, p) for p in PILLARS},
        "rank": result.rank,
        "current_ssi": result.current_ssi,
    }


def preview_jobs_purge(now: datetime | None = None) -> int:
    """Delete the preview jobs that ended (or began, if they never end) ``PREVIEW_KEEP`` ago,
    with their answers. Returns how many jobs. In plain SQL for the answers: ``delete()``
    would load every row first (django-tenants listens to every model's deletes)."""
    cutoff = (now or timezone.now()) - PREVIEW_KEEP
    ended = Job.objects.annotate(ended=Coalesce("finished_at", "created_at"))
    ids = list(ended.filter(kind=PREVIEW, ended__lt=cutoff).values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM scoring_previewresult WHERE job_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM scoring_job WHERE id = ANY(%s)", [ids])
    return len(ids)
