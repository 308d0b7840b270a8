"""Recomputing a day's scores: every active rep, ranks, averages, snapshots, and the
company's and teams' summaries of the day.

Compute and write are separate phases. Reads and scoring run chunk by chunk
outside a transaction, so memory stays bounded and progress is visible while
it runs; the write is one short transaction that replaces the day's snapshots
(``DELETE`` + one ``INSERT … SELECT FROM unnest``) and records the day as
scored. A session-level advisory lock on (schema, day) is the claim: a second
run of the same day, concurrent or not, waits and then recomputes the same
numbers, so running twice changes nothing.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Value
from django.utils import timezone

from core.db import connection, statements_execute
from scoring import hooks
from scoring.engine import PILLARS, Config, Rank, RepScore, competition_ranks, round2, score_reps
from scoring.models import Rep, ScoredDay, ScoreSnapshot
from scoring.selectors import aggregates_for_day
from scoring.services.config import scoring_config_current
from scoring.services.summaries import ssi_summaries_refresh
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Reps scored per read: their rollup rows are one index range scan (reps in id order)
# and one parallel hash aggregate; the chunk's rows stay a few tens of MB in memory.
CHUNK_SIZE = 5000

Progress = Callable[[int, int], None]  # (reps done, reps total)


@dataclass(frozen=True)
class DayResult:
    day: date
    reps: int
    config_version: int


@contextmanager
def day_claim(day: date) -> Iterator[None]:
    """Hold the (schema, day) recompute lock for the duration."""
    key = f"ssi-recompute:{connection.schema_name}:{day.isoformat()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class _DayScores:
    """A day's scores with the ranks and averages derived from them: what the write stores."""

    rep_ids: list[int]  # in id order
    team_of: dict[int, int | None]
    scores: dict[int, RepScore]
    tenant_ranks: dict[int, Rank]
    team_ranks: dict[int, Rank]  # reps in a team only
    averages: dict[str, object]


def scores_compute_day(
    *, tenant: Tenant, day: date, progress: Progress | None = None, nightly: bool = False
) -> DayResult:
    """Score every active rep of the tenant for ``day`` and replace that day's snapshots.

    Only nightly runs move the tenant's ``scored_through`` watermark: an
    on-demand recompute of today (a day still going on) or of a day past a gap
    must not make the nightly run skip days.
    """
    versioned = scoring_config_current()
    with day_claim(day):
        # Snapshots say when their reads began: /ssi/explain replays exactly the
        # events that were visible then.
        as_of = timezone.now()
        reps = _reps_to_score(day)
        rep_ids = [r[0] for r in reps]
        scores = _scores_by_chunk(versioned.config, day, rep_ids, progress)
        scored = _ranked(rep_ids, dict(reps), scores)
        with transaction.atomic():
            _snapshots_replace(day, versioned.version, as_of, scored)
            ssi_summaries_refresh(days=[day])
            _day_record(tenant, day, versioned.version, as_of, scored, nightly=nightly)
    logger.info("scored schema=%s day=%s reps=%d", connection.schema_name, day, len(rep_ids))
    return DayResult(day=day, reps=len(rep_ids), config_version=versioned.version)


def _reps_to_score(day: date) -> list[tuple[int, int | None]]:
    """(id, team id) of the reps ``day`` scores, by id: the active ones, and the erased reps the
    day had scored before (an erasure keeps a rep's past counted, in the team it was in then;
    docs/security.md#erasing-a-rep). One statement."""
    # No ORDER BY in either part (the models' default orderings): the rows are sorted here.
    active = (
        Rep.objects.filter(active=True)
        .order_by()
        .annotate(kept=Value(False))
        .values_list("id", "team_id", "kept")
    )
    kept = (
        ScoreSnapshot.objects.filter(day=day, rep__erased_at__isnull=False)
        .order_by()
        .annotate(kept=Value(True))
        .values_list("rep_id", "team_id", "kept")
    )
    teams: dict[int, int | None] = {}
    for rep_id, team_id, from_snapshot in active.union(kept, all=True):
        if rep_id not in teams or not from_snapshot:  # an erased rep made active again: its team now
            teams[rep_id] = team_id
    return sorted(teams.items())


def _scores_by_chunk(
    config: Config, day: date, rep_ids: list[int], progress: Progress | None
) -> dict[int, RepScore]:
    """Every rep's score, read and scored ``CHUNK_SIZE`` reps at a time, telling ``progress``."""
    scores: dict[int, RepScore] = {}
    done = 0
    if progress and len(rep_ids) > CHUNK_SIZE:  # one chunk: its end is the only news (the claim beat)
        progress(0, len(rep_ids))
    for chunk in _chunks(rep_ids, CHUNK_SIZE):
        aggregates = aggregates_for_day(config=config, day=day, rep_ids=chunk)
        scores.update(score_reps(config, aggregates, list(chunk), signals=False))
        done += len(chunk)
        if progress:
            progress(done, len(rep_ids))
    return scores


def _ranked(rep_ids: list[int], team_of: dict[int, int | None], scores: dict[int, RepScore]) -> _DayScores:
    """The ranks in the tenant and in each team, and the averages, of a day's scores."""
    tenant_ranks = competition_ranks({rep: s.ssi for rep, s in scores.items()})
    by_team: dict[int, dict[int, float]] = defaultdict(dict)
    for rep, s in scores.items():
        team = team_of[rep]
        if team is not None:
            by_team[team][rep] = s.ssi
    team_ranks = {
        rep: rank for members in by_team.values() for rep, rank in competition_ranks(members).items()
    }
    return _DayScores(rep_ids, team_of, scores, tenant_ranks, team_ranks, _averages(scores, by_team))


def _snapshots_replace(day: date, config_version: int, computed_at: datetime, scored: _DayScores) -> None:
    """Replace the day's snapshots: one DELETE, then one INSERT of every rep's row from arrays,
    in one round trip."""
    with connection.cursor() as cursor:
        # Not QuerySet.delete(): django-tenants' post_delete receiver makes Django fetch
        # every row first to send the signal (10,000 model instances for nothing).
        statements_execute(
            cursor,
            """
            DELETE FROM scoring_scoresnapshot WHERE day = %s;
            INSERT INTO scoring_scoresnapshot
                (rep_id, day, ssi, brand, find, engage, relationships, config_version, team_id,
                 tenant_rank, tenant_of, tenant_top_percent, team_rank, team_of, team_top_percent,
                 computed_at)
            SELECT rep_id, %s, ssi, brand, find, engage, relationships, %s, team_id,
                   tenant_rank, tenant_of, tenant_top_percent, team_rank, team_of,
                   team_top_percent, %s
              FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                          %s::float8[], %s::bigint[], %s::int[], %s::int[], %s::int[], %s::int[],
                          %s::int[], %s::int[])
                AS t(rep_id, ssi, brand, find, engage, relationships, team_id, tenant_rank, tenant_of,
                     tenant_top_percent, team_rank, team_of, team_top_percent)
            """,
            [day, day, config_version, computed_at, *_snapshot_arrays(scored)],
        )


def _snapshot_arrays(scored: _DayScores) -> list[list[Any]]:
    """The snapshot columns from rep_id to team_top_percent, an array each, reps in id order."""
    rep_ids, scores = scored.rep_ids, scored.scores
    tenant_ranks, team_ranks = scored.tenant_ranks, scored.team_ranks
    return [
        rep_ids,
        [scores[r].ssi for r in rep_ids],
        *([scores[r].pillars[p] for r in rep_ids] for p in PILLARS),
        [scored.team_of[r] for r in rep_ids],
        [tenant_ranks[r].rank for r in rep_ids],
        [tenant_ranks[r].of for r in rep_ids],
        [tenant_ranks[r].top_percent for r in rep_ids],
        [team_ranks[r].rank if r in team_ranks else None for r in rep_ids],
        [team_ranks[r].of if r in team_ranks else None for r in rep_ids],
        [team_ranks[r].top_percent if r in team_ranks else None for r in rep_ids],
    ]


def _day_record(
    tenant: Tenant,
    day: date,
    config_version: int,
    computed_at: datetime,
    scored: _DayScores,
    *,
    nightly: bool,
) -> None:
    """Record the day as scored (a nightly run moves the watermark too); its hooks run after commit."""
    # One upsert (update_or_create would be a read, a write and two savepoints).
    record = ScoredDay(
        day=day,
        config_version=config_version,
        reps=len(scored.rep_ids),
        ranks_current=True,
        averages=scored.averages,
        computed_at=computed_at,
    )
    ScoredDay.objects.bulk_create(
        [record],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["config_version", "reps", "ranks_current", "averages", "computed_at"],
    )
    if nightly:
        Tenant.objects.filter(pk=tenant.pk).exclude(scored_through__gte=day).update(scored_through=day)
    transaction.on_commit(lambda: hooks.day_scored(tenant=tenant, day=day, nightly=nightly))


def _averages(scores: dict[int, RepScore], by_team: dict[int, dict[int, float]]) -> dict[str, object]:
    def average(reps: Sequence[int]) -> dict[str, float] | None:
        if not reps:
            return None
        out = {"ssi": round2(math.fsum(scores[r].ssi for r in reps) / len(reps))}
        for p in PILLARS:
            out[p] = round2(math.fsum(scores[r].pillars[p] for r in reps) / len(reps))
        return out

    return {
        "tenant": average(list(scores)),
        "teams": {str(team): average(list(members)) for team, members in by_team.items()},
    }
