"""The tick: contests start, and end exactly once (docs/contests.md#the-end).

``contests_tick`` opens the seasons of recurring contests that are due
(``contest_series.seasons_open``), turns due contests ``running`` (emitting
``contest.started``), finalizes those whose ``end_date`` is over in the tenant's zone,
announces running contests' new leaders (``contest_lead``), expires pending head-to-head
challenges and finalizes accepted ones (``challenges``). Each step is a
conditional UPDATE whose row count says who won the claim: a second worker, or the same
tick run again, finds nothing left to do. Finalizing is one transaction: the claim
(``status='running' AND finalized_at IS NULL``), the frozen standings (unique per
contest and rep: the idempotency key of a prize), the prizes (XP through the ledger,
badges as awards whose period is the contest) and ``contest.ended``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from core.db import connection
from gamification.models import Contest, ContestLiveStanding, ContestStanding
from gamification.services.badges import badges_grant
from gamification.services.challenges import challenges_expire, challenges_finalize_due
from gamification.services.contest_lead import contest_leads_check
from gamification.services.contest_series import seasons_open
from gamification.services.contest_standings import Standings, contest_standings_live, standing_rows
from gamification.services.contests import contest_payload
from gamification.services.outbox import events_emit
from gamification.services.xp import level_ups_emit, xp_apply
from scoring.services.people import rep_rows_write_lock
from tenants.models import Tenant
from tenants.tenant_settings import settings_get


@dataclass(frozen=True)
class TickResult:
    started: list[int]
    finalized: list[int]
    opened: list[int] = field(default_factory=list)  # seasons of series opened
    lead_changed: list[int] = field(default_factory=list)  # contests whose new leader was announced
    challenges_expired: list[int] = field(default_factory=list)
    challenges_finalized: list[int] = field(default_factory=list)


def contests_tick(*, tenant: Tenant, now: datetime | None = None) -> TickResult:
    """Open the seasons due, start what is due, finalize what is over, then announce new
    leaders; running it again changes nothing. ``now`` (default: the clock) decides the
    tenant's local today (and the lead announcements' debounce)."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(tenant.timezone)).date()
    opened = seasons_open(today=today)
    started = _start_due(today)
    finalized = [
        contest_id
        for contest_id in Contest.objects.filter(status=Contest.Status.RUNNING, end_date__lt=today)
        .order_by("id")
        .values_list("id", flat=True)
        if contest_finalize(tenant=tenant, contest_id=contest_id, today=today)
    ]
    lead_changed = contest_leads_check(tenant=tenant, today=today, now=now)
    # Head-to-head challenges ride the same tick: pending ones past their time expire, accepted
    # ones whose end_date is over are finalized once (gamification.services.challenges).
    expired = challenges_expire(now=now)
    challenges = challenges_finalize_due(tenant=tenant, today=today)
    return TickResult(started, finalized, opened, lead_changed, expired, challenges)


def _start_due(today: date) -> list[int]:
    """Scheduled contests whose first local day has come: running, announced once."""
    with transaction.atomic():
        rows = list(
            Contest.objects.raw(
                "UPDATE gamification_contest SET status = 'running', updated_at = now() "
                "WHERE status = 'scheduled' AND start_date <= %s RETURNING *",
                [today],
            )
        )
        events_emit([("contest.started", {"contest": contest_payload(c)}) for c in rows])
    return sorted(c.pk for c in rows)


def contest_finalize(*, tenant: Tenant, contest_id: int, today: date) -> bool:
    """Freeze the standings, grant the prizes and announce the end, once. False when another
    worker finalized it first, or it was cancelled, or its last day is not over."""
    with transaction.atomic():
        rows = list(
            Contest.objects.raw(
                "UPDATE gamification_contest SET status = 'ended', finalized_at = %s, updated_at = now() "
                "WHERE id = %s AND status = 'running' AND finalized_at IS NULL AND end_date < %s RETURNING *",
                [timezone.now(), contest_id, today],
            )
        )
        if not rows:
            return False  # another worker got there first (or it was cancelled)
        contest = rows[0]
        ContestLiveStanding.objects.filter(contest=contest).delete()  # the frozen rows take over
        # Over: every day of the period counts, and nothing later.
        standings = contest_standings_live(tenant=tenant, contest=contest, today=contest.end_date)
        prizes = {int(p["rank"]): p for p in contest.prizes}
        granted = _freeze(contest, standings, prizes)
        _grant(contest, granted, today)
        events_emit([("contest.ended", _ended_payload(contest, standings, prizes))])
    return True


def _prize_winners(
    contest: Contest, standings: Standings, prizes: dict[int, Any]
) -> dict[int, dict[str, Any]]:
    """rep id -> the prize it wins: by its own rank, or in a teams contest by its team's."""
    winners: dict[int, dict[str, Any]] = {}
    if contest.kind == Contest.Kind.TEAMS:
        team_rank = {t.team_id: t.rank for t in standings.teams}
        for row in standings.reps:
            rank = team_rank.get(row.team_id) if row.team_id is not None else None
            if rank in prizes:
                winners[row.rep_id] = prizes[rank]
    else:
        winners = {row.rep_id: prizes[row.rank] for row in standings.reps if row.rank in prizes}
    return winners


def _freeze(contest: Contest, standings: Standings, prizes: dict[int, Any]) -> dict[int, dict[str, Any]]:
    """The standings as rows (reps, then teams); returns the prize of each rep that wins one."""
    winners = _prize_winners(contest, standings, prizes)
    rows = standing_rows(
        ContestStanding,
        contest,
        standings,
        lambda rep_id: {
            "prize_xp": int(winners.get(rep_id, {}).get("xp", 0)),
            "prize_badge": str(winners.get(rep_id, {}).get("badge", "")),
        },
    )
    # A unique row per (contest, rep): were this ever reached twice, the second insert fails
    # and its transaction (with its grants) rolls back.
    ContestStanding.objects.bulk_create(rows)
    return winners


def _grant(contest: Contest, winners: dict[int, dict[str, Any]], today: date) -> None:
    xp = sorted((rep, today, int(p["xp"])) for rep, p in winners.items() if int(p.get("xp", 0)) > 0)
    if xp:
        with connection.cursor() as cursor:
            rep_rows_write_lock(cursor)
        external = dict(
            ContestStanding.objects.filter(contest=contest, rep_id__in=[r for r, _, _ in xp]).values_list(
                "rep_id", "rep__external_id"
            )
        )
        level_ups_emit(xp_apply(xp), settings_get(connection.tenant)["level_thresholds"], external)
    badges = [(rep, p["badge"], f"contest-{contest.pk}") for rep, p in winners.items() if p.get("badge")]
    if badges:
        badges_grant(grants=badges, day=today)


def _ended_payload(contest: Contest, standings: Standings, prizes: dict[int, Any]) -> dict[str, Any]:
    winners: list[dict[str, Any]] = []
    if contest.kind == Contest.Kind.TEAMS:
        winners = [{"rank": t.rank, "team": t.team_id} for t in standings.teams if t.rank in prizes]
    else:
        winners = [{"rank": r.rank, "rep": r.external_id} for r in standings.reps if r.rank in prizes]
    return {"contest": contest_payload(contest), "winners": winners}
