"""A contest's standings: live while it runs, frozen once it ended (docs/contests.md#standings).

Live standings measure the participants now (``contest_values``) and rank them with the
pure rules; a finalized contest answers the rows frozen at its end, whatever arrived since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from gamification.models import Contest, ContestStanding, StandingRow
from gamification.rules.contests import Entry, rank_by_value, rank_race, team_value
from gamification.services.contest_values import Participant, contest_measure, participants_of
from scoring.models import Team
from tenants.models import Tenant

Row = TypeVar("Row", bound=StandingRow)


@dataclass(frozen=True)
class RepRow:
    rank: int
    rep_id: int
    external_id: str
    name: str
    team_id: int | None
    value: float
    reached_at: datetime | None


@dataclass(frozen=True)
class TeamRow:
    rank: int
    team_id: int
    name: str
    value: float
    members: int


@dataclass(frozen=True)
class Standings:
    reps: list[RepRow]
    teams: list[TeamRow]  # empty unless the contest is a teams contest


def contest_standings(*, tenant: Tenant, contest: Contest, today: date) -> Standings:
    if contest.finalized_at is not None:
        return _frozen(contest)
    return contest_standings_live(tenant=tenant, contest=contest, today=today)


def contest_standings_live(*, tenant: Tenant, contest: Contest, today: date) -> Standings:
    """The participants as ``participants`` names them now, measured up to ``today``."""
    people = participants_of(contest)
    by_id = {p.rep_id: p for p in people}
    measured = contest_measure(tenant=tenant, contest=contest, rep_ids=list(by_id), today=today)
    entries = [Entry(p.rep_id, measured.values[p.rep_id], measured.reached_at.get(p.rep_id)) for p in people]
    ranked = rank_race(entries) if contest.kind == Contest.Kind.RACE else rank_by_value(entries)
    reps = [_rep_row(by_id[r.key], r.rank, r.value, r.reached_at) for r in ranked]
    teams: list[TeamRow] = []
    if contest.kind == Contest.Kind.TEAMS:
        teams = _team_rows(contest, people, measured.values)
    return Standings(reps, teams)


def standing_rows(
    model: type[Row],
    contest: Contest,
    standings: Standings,
    rep_extra: Callable[[int], dict[str, Any]] | None = None,
) -> list[Row]:
    """The standings as unsaved rows of ``model`` (frozen or live): the reps numbered from 0 in
    rank order, then the teams from 0; ``rep_extra(rep_id)`` adds fields to a rep's row."""
    rows = [
        model(
            contest=contest,
            rep_id=r.rep_id,
            position=position,
            rank=r.rank,
            value=r.value,
            reached_at=r.reached_at,
            **(rep_extra(r.rep_id) if rep_extra is not None else {}),
        )
        for position, r in enumerate(standings.reps)
    ]
    rows += [
        model(
            contest=contest,
            team_id=t.team_id,
            position=position,
            rank=t.rank,
            value=t.value,
            members=t.members,
        )
        for position, t in enumerate(standings.teams)
    ]
    return rows


def _rep_row(p: Participant, rank: int, value: float, reached_at: datetime | None) -> RepRow:
    return RepRow(rank, p.rep_id, p.external_id, p.name, p.team_id, value, reached_at)


def _team_rows(contest: Contest, people: list[Participant], values: dict[int, float]) -> list[TeamRow]:
    """The named teams (or every team), by the aggregate of their participant members."""
    queryset = Team.objects.order_by("name", "id")
    if "teams" in contest.participants:
        queryset = queryset.filter(pk__in=contest.participants["teams"])
    teams = list(queryset.values_list("id", "name"))
    members: dict[int, list[float]] = {team_id: [] for team_id, _ in teams}
    for p in people:
        if p.team_id in members:
            members[p.team_id].append(values[p.rep_id])
    names = dict(teams)
    ranked = rank_by_value(
        [Entry(team_id, team_value(members[team_id], contest.aggregate)) for team_id, _ in teams]
    )
    return [TeamRow(r.rank, r.key, names[r.key], r.value, len(members[r.key])) for r in ranked]


def _frozen(contest: Contest) -> Standings:
    rows = ContestStanding.objects.filter(contest=contest).select_related("rep", "team").order_by("position")
    reps = [rep_row_of(row) for row in rows if row.rep is not None]
    teams = [team_row_of(row) for row in rows if row.team is not None]
    return Standings(reps, teams)


def rep_row_of(row: StandingRow) -> RepRow:
    rep = row.rep
    assert rep is not None
    return RepRow(row.rank, rep.pk, rep.external_id, rep.name, rep.team_id, row.value, row.reached_at)


def team_row_of(row: StandingRow) -> TeamRow:
    team = row.team
    assert team is not None
    return TeamRow(row.rank, team.pk, team.name, row.value, row.members or 0)
