"""Goals (``/console/goals``): rep and team goals with their progress, and a form to create,
edit and delete them.

Every member reads; managers and admins write, through the goal service the API calls
(``gamification.services.goals``): a new goal is a rep goal (the rep by its external id, typed,
as a company of 10,000 reps needs) or a team goal (with an aggregate), as the API's
``RepGoalInput`` and ``TeamGoalInput`` say; its errors are shown next to the field they name.
Progress comes from ``goals_view``, as in every answer of ``/api/v1/goals``.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path

from access.models import MemberRole
from console.criteria_builder import metric_groups
from console.pages import actor_of_member, console_page, member_of, role_reaches
from core.errors import DomainError
from gamification.models import Goal
from gamification.selectors import goals_list
from gamification.services.badges import known_types
from gamification.services.goals import GoalView, goal_create, goal_delete, goal_update, goals_view
from scoring.models import Team

PAGE_SIZE = 50
LIST_TEMPLATE = "console/goals.html"
FORM_TEMPLATE = "console/goals_form.html"
NOTICES = {"created": "Goal created.", "saved": "Goal saved.", "deleted": "Goal deleted."}
SHOWN_FIELDS = ("rep", "team", "title", "metric", "target", "start_date", "end_date", "aggregate")
MEASURE = ("title", "metric", "target", "start_date", "end_date")


def _number(value: float | None) -> str:
    if value is None:
        return "no value yet"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def goal_row(view: GoalView) -> dict[str, Any]:
    """A goal as the list and the form show it: progress as the API rounds it."""
    current = None if view.current is None else round(view.current, 2)
    return {
        "goal": view.goal,
        "current": _number(current),
        "target": _number(view.goal.target),
        "progress": round(view.progress, 4),
        "percent": round(view.progress * 100),
    }


def goal_of(key: int) -> Goal:
    goal = goals_list().filter(pk=key).first()
    if goal is None:
        raise Http404("No such goal.")
    return goal


@console_page()
def goal_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    goals = goals_list()
    if status in Goal.Status.values:
        goals = goals.filter(status=status)
    else:
        status = ""
    page = Paginator(goals, PAGE_SIZE).get_page(request.GET.get("page"))
    views = goals_view(tenant=request.tenant, goals=page.object_list)  # type: ignore[attr-defined]
    context = {
        "page": page,
        "rows": [goal_row(v) for v in views],
        "status": status,
        "status_choices": Goal.Status.values,
        "messages_ok": NOTICES.get(request.GET.get("done", "")),
    }
    return render(request, LIST_TEMPLATE, context)


def _values_of(goal: Goal | None) -> dict[str, Any]:
    if goal is None:
        return {"owner": "rep", "rep": "", "team": "", "aggregate": "", "title": "", "metric": "",
                "target": "", "start_date": "", "end_date": ""}  # fmt: skip
    return {
        "owner": "team" if goal.team_id else "rep",
        "rep": goal.rep.external_id if goal.rep else "",
        "team": str(goal.team_id or ""),
        "aggregate": goal.aggregate,
        "title": goal.title,
        "metric": goal.metric,
        "target": _number(goal.target),
        "start_date": goal.start_date.isoformat(),
        "end_date": goal.end_date.isoformat(),
    }


def _number_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _data(values: dict[str, Any], goal: Goal | None) -> dict[str, Any]:
    """The service's input, as the API's ``RepGoalInput``/``TeamGoalInput`` (or its PATCH)
    would carry it: text that is not a number is passed on for the service to refuse."""
    data: dict[str, Any] = {name: values[name] for name in MEASURE}
    data["target"] = _number_or_text(values["target"])
    team_goal = goal.team_id is not None if goal else values["owner"] == "team"
    if team_goal or values["aggregate"]:  # a rep goal with one: the service says it may not
        data["aggregate"] = values["aggregate"]
    if goal is None and team_goal:
        team = values["team"]
        data["team"] = int(team) if team.isascii() and team.isdigit() else team
    elif goal is None:
        data["rep"] = values["rep"]
    return data


def _render_form(
    request: HttpRequest, goal: Goal | None, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> HttpResponse:
    row = goal_row(goals_view(tenant=request.tenant, goals=[goal])[0]) if goal else None  # type: ignore[attr-defined]
    context = {
        "goal": goal,
        "row": row,
        "values": values,
        "errors": errors,
        "teams": Team.objects.order_by("name").values_list("id", "name"),
        "metric_groups": metric_groups(known_types(), keep=[values["metric"]]),
        "aggregates": Goal.Aggregate.values,
        "may_edit": role_reaches(member_of(request), MemberRole.MANAGER),
        "refused": status == 400,
    }
    return render(request, FORM_TEMPLATE, context, status=status)


def _post(request: HttpRequest, goal: Goal | None) -> HttpResponse:
    values = {name: request.POST.get(name, "").strip() for name in _values_of(None)}
    if goal is not None:
        values |= {name: _values_of(goal)[name] for name in ("owner", "rep", "team")}
    try:
        if goal is None:
            goal_create(data=_data(values, None), actor=actor_of_member(request))
        else:
            goal_update(goal=goal, data=_data(values, goal), actor=actor_of_member(request))
    except DomainError as exc:
        return _render_form(
            request, goal, values, {exc.attr if exc.attr in SHOWN_FIELDS else "form": exc.detail}, status=400
        )
    return HttpResponseRedirect(f"/console/goals?done={'saved' if goal else 'created'}", status=303)


@console_page(role=MemberRole.MANAGER, methods=("GET", "POST"))
def goal_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _post(request, None)
    return _render_form(request, None, _values_of(None), {})


@console_page(methods=("GET", "POST"), write_role=MemberRole.MANAGER)
def goal_edit(request: HttpRequest, key: int) -> HttpResponse:
    goal = goal_of(key)
    if request.method == "POST":
        return _post(request, goal)
    return _render_form(request, goal, _values_of(goal), {})


@console_page(role=MemberRole.MANAGER, methods=("POST",))
def goal_remove(request: HttpRequest, key: int) -> HttpResponse:
    goal_delete(goal=goal_of(key), actor=actor_of_member(request))
    return HttpResponseRedirect("/console/goals?done=deleted", status=303)


urls = [
    path("goals", goal_list, name="console-goals"),
    path("goals/new", goal_new, name="console-goal-new"),
    path("goals/<int:key>", goal_edit, name="console-goal"),
    path("goals/<int:key>/delete", goal_remove, name="console-goal-delete"),
]
