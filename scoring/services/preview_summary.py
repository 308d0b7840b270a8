"""What a draft config would change, in a few figures: the console's what-if before publishing.

A preview (``scoring.services.preview``) scores every active rep under the draft for one day,
next to the score stored that day. This module sums it up: how many reps' SSI or rank would
change, the largest moves, and the reps in each band (70+ good, 40-70 okay, under 40 poor, as
the company SSI counts them) before and after. Ranks before are competition ranks of the stored
scores among the same reps, so both sides rank the same people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from scoring.engine import Config, competition_ranks, round2
from scoring.models import Job, ScoredDay
from scoring.services.preview import preview_reps_inline, preview_results, preview_rows

BANDS = ("good", "okay", "poor")
GOOD_FROM = 70.0
OKAY_FROM = 40.0
TOP_MOVES = 10

# (external_id, SSI under the draft, rank under the draft, SSI stored that day or None)
Row = tuple[str, float, int, float | None]


@dataclass(frozen=True)
class Move:
    rep: str
    before: float
    after: float
    change: float
    rank_before: int
    rank_after: int


@dataclass(frozen=True)
class PreviewSummary:
    day: date
    reps: int  # reps previewed
    changed: int  # of those scored that day: SSI or rank differs
    unscored: int  # reps with no stored score that day (new since): no "before"
    moves: tuple[Move, ...]  # the largest SSI changes, largest first
    bands_before: dict[str, int]
    bands_after: dict[str, int]


def band_of(ssi: float) -> str:
    """The band of an SSI as shown (2 decimals): good 70+, okay 40 to under 70, poor under 40."""
    shown = round2(ssi)
    return "good" if shown >= GOOD_FROM else "okay" if shown >= OKAY_FROM else "poor"


def preview_summarize(*, day: date, rows: Iterable[Row], top: int = TOP_MOVES) -> PreviewSummary:
    """Sum up a preview's rows (any order)."""
    rows = list(rows)
    before = {rep: current for rep, _, _, current in rows if current is not None}
    ranks_before = competition_ranks(before)
    bands_before = dict.fromkeys(BANDS, 0)
    bands_after = dict.fromkeys(BANDS, 0)
    moves: list[Move] = []
    for rep, ssi, rank, current in rows:
        bands_after[band_of(ssi)] += 1
        if current is None:
            continue
        bands_before[band_of(current)] += 1
        old_rank = ranks_before[rep].rank
        if round2(ssi) != round2(current) or rank != old_rank:
            moves.append(Move(rep, round2(current), round2(ssi), round2(ssi - current), old_rank, rank))
    changed = len(moves)
    moves.sort(key=lambda m: (-abs(m.change), m.rep))
    return PreviewSummary(
        day=day,
        reps=len(rows),
        changed=changed,
        unscored=len(rows) - len(before),
        moves=tuple(m for m in moves[:top] if m.change != 0),
        bands_before=bands_before,
        bands_after=bands_after,
    )


def preview_day_latest() -> date | None:
    """The day a console preview is for: the latest scored day (None before any)."""
    return ScoredDay.objects.order_by("-day").values_list("day", flat=True).first()


def preview_summary_inline(*, config: Config, day: date) -> PreviewSummary | None:
    """Every active rep previewed in this request and summed up, when they are few enough
    (``INLINE_REPS``); None when a preview job must compute it (``preview_job_create``)."""
    reps = preview_reps_inline(None)
    if reps is None:
        return None
    rows = preview_rows(config=config, day=day, reps=reps)
    return preview_summarize(day=day, rows=[(r["rep"], r["ssi"], r["rank"], r["current_ssi"]) for r in rows])


def preview_job_summary(job: Job) -> PreviewSummary:
    """A succeeded preview job's answer, summed up (one query of four columns)."""
    day = date.fromisoformat(job.params["days"][0])
    rows = preview_results(job).values_list("rep", "ssi", "rank", "current_ssi")
    return preview_summarize(day=day, rows=rows)
