"""Goals: rep or team targets on a metric over a period (docs/gamification.md#goals).

``current`` is computed when asked (every answer carries it), for events.* and
sum.* over the goal's own period. Status moves once, by a conditional UPDATE
(``WHERE status = 'active'``), so ``goal.achieved``/``goal.missed`` is
emitted exactly once however many evaluations race.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from core.clock import local_today, parse_date
from core.db import binary_cursor
from core.errors import ValidationFailed
from gamification.models import Goal
from gamification.rules.criteria import CriteriaError, MetricRef, validate_metric
from gamification.rules.goals import ACTIVE, AGGREGATES, aggregate, goal_state, progress
from gamification.services.badges import known_types
from gamification.services.metrics import metrics_load
from gamification.services.outbox import events_emit
from scoring.models import Rep, Team
from tenants.models import Tenant

FIELDS = ("title", "rep", "team", "metric", "target", "start_date", "end_date", "aggregate")


@dataclass(frozen=True)
class GoalView:
    goal: Goal
    current: float | None
    progress: float


def _required(attr: str) -> date:
    raise ValidationFailed("This field is required.", code="required", attr=attr)


def _clean(data: Mapping[str, Any], current: Goal | None) -> dict[str, Any]:
    """The fields of ``data`` checked and converted (a new goal when ``current`` is None);
    the first problem is raised, in the order of ``FIELDS``, then what the whole goal needs."""
    for name in data:
        if name not in FIELDS:
            raise ValidationFailed("Unknown field.", code="unknown_field", attr=str(name))
    merged: dict[str, Any] = {}
    if current is not None:
        merged = {
            "title": current.title, "metric": current.metric, "target": current.target,
            "start_date": current.start_date, "end_date": current.end_date, "aggregate": current.aggregate,
            "rep": current.rep, "team": current.team,
        }  # fmt: skip
    clean: dict[str, Any] = {}
    if "title" in data:
        if not isinstance(data["title"], str) or not data["title"].strip() or len(data["title"]) > 200:
            raise ValidationFailed("A title of 1 to 200 characters.", code="invalid", attr="title")
        clean["title"] = data["title"].strip()
    clean |= _clean_owner(data, current)
    clean |= _clean_measure(data)
    _check_whole_goal({**merged, **clean}, creating=current is None)
    return clean


def _clean_owner(data: Mapping[str, Any], current: Goal | None) -> dict[str, Any]:
    """``rep`` and ``team``, set once: exactly one of them, an existing rep or team."""
    unchanged = (
        current is not None
        and data.get("rep", _rep_key(current)) == _rep_key(current)
        and data.get("team", current.team_id) == current.team_id
    )
    if ("rep" not in data and "team" not in data) or unchanged:
        return {}
    if current is not None:
        raise ValidationFailed(
            "A goal's rep or team cannot change.",
            code="immutable",
            attr="rep" if "rep" in data else "team",
        )
    rep, team = data.get("rep"), data.get("team")
    if (rep is None) == (team is None):
        raise ValidationFailed("Give exactly one of rep or team.", code="invalid", attr="rep")
    if rep is not None:
        found = Rep.objects.filter(external_id=rep).first() if isinstance(rep, str) else None
        if found is None:
            raise ValidationFailed("No rep with this external_id.", code="unknown_rep", attr="rep")
        return {"rep": found, "team": None}
    found_team = (
        Team.objects.filter(pk=team).first() if isinstance(team, int) and not isinstance(team, bool) else None
    )
    if found_team is None:
        raise ValidationFailed("No team with this id.", code="unknown_team", attr="team")
    return {"rep": None, "team": found_team}


def _clean_measure(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the goal measures, and over which days: metric, target, dates, aggregate."""
    clean: dict[str, Any] = {}
    if "metric" in data:
        try:
            validate_metric(data["metric"], None, known_types=known_types(), path="goal")
        except CriteriaError as exc:
            raise ValidationFailed(exc.message, code=exc.code, attr="metric") from exc
        clean["metric"] = data["metric"]
    if "target" in data:
        target = data["target"]
        if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
            raise ValidationFailed("A number greater than 0.", code="invalid", attr="target")
        clean["target"] = float(target)
    for name in ("start_date", "end_date"):
        if name in data:
            clean[name] = parse_date(data[name], name) or _required(name)
    if "aggregate" in data:
        if data["aggregate"] not in (*AGGREGATES, "", None):
            raise ValidationFailed(
                f"One of {', '.join(AGGREGATES)}.", code="invalid_choice", attr="aggregate"
            )
        clean["aggregate"] = data["aggregate"] or ""
    return clean


def _check_whole_goal(final: Mapping[str, Any], *, creating: bool) -> None:
    """What holds across fields, once the change is applied: every required field, one
    owner, dates in order, and an aggregate for a team goal only."""
    for name in ("title", "metric", "target", "start_date", "end_date"):
        if final.get(name) in (None, ""):
            raise ValidationFailed("This field is required.", code="required", attr=name)
    if creating and final.get("rep") is None and final.get("team") is None:
        raise ValidationFailed("Give exactly one of rep or team.", code="required", attr="rep")
    if final["end_date"] < final["start_date"]:
        raise ValidationFailed("end_date is before start_date.", code="invalid", attr="end_date")
    if final.get("team") is not None and not final.get("aggregate"):
        raise ValidationFailed(
            "A team goal needs an aggregate: avg, sum or min.", code="required", attr="aggregate"
        )
    if final.get("rep") is not None and final.get("aggregate"):
        raise ValidationFailed("Only team goals take an aggregate.", code="invalid", attr="aggregate")


def _rep_key(goal: Goal) -> str | None:
    return goal.rep.external_id if goal.rep_id and goal.rep else None


def goal_snapshot(goal: Goal) -> dict[str, Any]:
    """What the audit log keeps of a goal: its definition and status."""
    return {
        "id": goal.pk, "title": goal.title, "rep": _rep_key(goal), "team": goal.team_id,
        "metric": goal.metric, "target": goal.target, "start_date": goal.start_date,
        "end_date": goal.end_date, "aggregate": goal.aggregate, "status": goal.status,
    }  # fmt: skip


def goal_create(*, data: Mapping[str, Any], actor: Actor) -> Goal:
    clean = _clean(data, None)
    with transaction.atomic():
        goal = Goal.objects.create(**clean)
        audit_record(
            actor=actor, action="create", target_type="goal", target_id=goal.pk, after=goal_snapshot(goal)
        )
    return goal


def goal_update(*, goal: Goal, data: Mapping[str, Any], actor: Actor) -> Goal:
    before = goal_snapshot(goal)
    for name, value in _clean(data, goal).items():
        setattr(goal, name, value)
    with transaction.atomic():
        goal.save()
        audit_record(
            actor=actor,
            action="update",
            target_type="goal",
            target_id=goal.pk,
            before=before,
            after=goal_snapshot(goal),
        )
    return goal


def goal_delete(*, goal: Goal, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action="delete", target_type="goal", target_id=goal.pk, before=goal_snapshot(goal)
        )
        goal.delete()


def goals_current(*, tenant: Tenant, goals: Sequence[Goal], today: date) -> dict[int, float | None]:
    """Each goal's current value as of ``today`` (capped at its end date)."""
    out: dict[int, float | None] = {}
    team_members: dict[int, list[int]] = defaultdict(list)
    team_ids = {g.team_id for g in goals if g.team_id}
    if team_ids:
        for rep_id, team_id in Rep.objects.filter(team_id__in=team_ids, active=True).values_list(
            "id", "team_id"
        ):
            team_members[team_id].append(rep_id)
    for goal in goals:
        day = min(today, goal.end_date)
        if day < goal.start_date:
            out[goal.pk] = None
            continue
        reps = [goal.rep_id] if goal.rep_id else team_members.get(goal.team_id or 0, [])
        ref = MetricRef(goal.metric)
        values = metrics_load(tenant=tenant, rep_ids=reps, refs=[ref], day=day, period_start=goal.start_date)
        numbers = [v for rep in reps if (v := values[rep].get(ref)) is not None]
        out[goal.pk] = (
            numbers[0]
            if goal.rep_id and numbers
            else aggregate(numbers, goal.aggregate or "avg")
            if goal.team_id
            else None
        )
    return out


def goals_view(*, tenant: Tenant, goals: Iterable[Goal], today: date | None = None) -> list[GoalView]:
    """Goals with current value and progress, applying any status change that is due."""
    goals = list(goals)
    today = today or local_today(tenant.timezone)
    currents = goals_current(tenant=tenant, goals=goals, today=today)
    _transition(goals, currents, today)
    return [
        GoalView(goal=g, current=currents.get(g.pk), progress=progress(currents.get(g.pk), g.target))
        for g in goals
    ]


def goals_evaluate(*, tenant: Tenant, rep_ids: Sequence[int], day: date, nightly: bool = False) -> None:
    """Status transitions for the goals of these reps and their teams (nightly: every active goal).

    An ingest-time pass names thousands of reps: they go to the database as one binary
    array, sent once (an ``IN`` list would cost Django and psycopg a parameter each; a
    client-side array, its text twice), after a one-row check that the tenant has an
    active goal at all.
    """
    queryset = Goal.objects.filter(status=ACTIVE)
    if not queryset.exists():  # one table read; most tenants have no active goal
        return
    if not nightly:
        with binary_cursor() as cursor:
            cursor.execute(
                """
                SELECT id FROM gamification_goal
                 WHERE status = %(active)s
                   AND (rep_id = ANY(%(reps)b::bigint[]) OR team_id IN (
                        SELECT team_id FROM scoring_rep
                         WHERE id = ANY(%(reps)b::bigint[]) AND team_id IS NOT NULL))
                """,
                {"active": ACTIVE, "reps": list(rep_ids)},
            )
            goal_ids = [goal_id for (goal_id,) in cursor.fetchall()]
        if not goal_ids:
            return
        queryset = queryset.filter(pk__in=goal_ids)
    goals = list(queryset.select_related("rep", "team"))
    if goals:
        _transition(goals, goals_current(tenant=tenant, goals=goals, today=day), day)


def _transition(goals: Sequence[Goal], currents: Mapping[int, float | None], today: date) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    with transaction.atomic():
        for goal in goals:
            state = goal_state(
                status=goal.status, current=currents.get(goal.pk), target=goal.target,
                start=goal.start_date, end=goal.end_date, today=today,
            )  # fmt: skip
            if state.transition is None:
                continue
            now = timezone.now()
            # Another evaluation may have moved it first: only one UPDATE wins.
            if Goal.objects.filter(pk=goal.pk, status=ACTIVE).update(
                status=state.status, status_changed_at=now
            ):
                goal.status, goal.status_changed_at = state.status, now
                events.append((state.transition, goal_payload(goal, currents.get(goal.pk))))
        events_emit(events)


def goal_payload(goal: Goal, current: float | None) -> dict[str, Any]:
    return {
        "id": goal.pk,
        "title": goal.title,
        "rep": goal.rep.external_id if goal.rep_id and goal.rep else None,
        "team": goal.team_id,
        "metric": goal.metric,
        "target": goal.target,
        "current": current,
        "status": goal.status,
    }
