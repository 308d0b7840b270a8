"""``contest.lead_changed``: a running contest's leader, announced when it changes
(docs/contests.md#lead-changes).

The contests tick takes each running contest's leader from its stored live standings, measuring
(and storing) them first unless they are fresh (``contest_live``): the one
row at rank 1 (the teams' standings in a teams contest). While two or more share rank 1 there is
no leader and nothing is announced. A leader other than the one last announced is announced,
at most once per contest every ``SSI_CONTEST_LEAD_DEBOUNCE_MINUTES``: the last announced leader
and its time are on the contest, and a conditional UPDATE on that time claims the announcement,
so two workers never announce the same change twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from gamification.models import Contest
from gamification.rules.contests import sole_leader
from gamification.services.contest_live import live_leaders
from gamification.services.contests import contest_payload
from gamification.services.outbox import events_emit
from tenants.models import Tenant


def contest_leads_check(*, tenant: Tenant, today: date, now: datetime) -> list[int]:
    """Announce the new leader of every running contest whose leader changed, unless one was
    announced less than the debounce interval before ``now``. Returns the contests announced."""
    debounce = timedelta(minutes=int(settings.SSI_CONTEST_LEAD_DEBOUNCE_MINUTES))
    running = Contest.objects.filter(
        status=Contest.Status.RUNNING, finalized_at__isnull=True, start_date__lte=today, end_date__gte=today
    ).order_by("id")
    announced: list[int] = []
    for contest in running:
        if contest.lead_at is not None and now < contest.lead_at + debounce:
            continue  # announced recently: looked at again once the interval is over
        leader = _leader(tenant, contest, today, now)
        if leader is None or _who(leader) == _who(contest.lead):
            continue
        if _announce(contest, leader, now):
            announced.append(contest.pk)
    return announced


def _leader(tenant: Tenant, contest: Contest, today: date, now: datetime) -> dict[str, Any] | None:
    """``{"rep": external id, "value"}`` (``{"team": id, "value"}`` in a teams contest), or None
    while the lead is shared or nobody takes part."""
    # From the stored live standings while they are fresh; else measured, and stored for readers.
    leaders = live_leaders(tenant=tenant, contest=contest, today=today, now=now)
    if leaders is None:
        return None  # finalized meanwhile
    reps, teams = leaders
    if contest.kind == Contest.Kind.TEAMS:
        team = sole_leader(teams)
        return {"team": team.team_id, "value": team.value} if team is not None else None
    rep = sole_leader(reps)
    return {"rep": rep.external_id, "value": rep.value} if rep is not None else None


def _who(lead: dict[str, Any] | None) -> tuple[str, Any] | None:
    if not lead:
        return None
    return ("team", lead["team"]) if "team" in lead else ("rep", lead["rep"])


def _announce(contest: Contest, leader: dict[str, Any], now: datetime) -> bool:
    """Store the new leader and emit the event, in one transaction; False when another worker
    announced (or the contest ended or was cancelled) since ``contest`` was read."""
    unchanged = {"lead_at": contest.lead_at} if contest.lead_at is not None else {"lead_at__isnull": True}
    with transaction.atomic():
        claimed = Contest.objects.filter(
            pk=contest.pk, status=Contest.Status.RUNNING, finalized_at__isnull=True, **unchanged
        ).update(lead=leader, lead_at=now)
        if not claimed:
            return False
        payload = {"contest": contest_payload(contest), "leader": leader, "previous": contest.lead}
        events_emit([("contest.lead_changed", payload)])
    return True
