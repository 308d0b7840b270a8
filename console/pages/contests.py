"""Contests (``/console/contests``): the tenant's contests, one contest with its standings, a form
to create one, and cancelling (docs/contests.md).

Every member reads; managers and admins create and cancel, through the contest services the
API calls (``gamification.services.contests``), audited as the member. A contest's standings
are the stored rows the API pages (``gamification.services.contest_live``), 50 a page, so a
contest of 10,000 reps opens as fast as one of ten.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path

from access.models import MemberRole
from console.pages import actor_of_member, console_page, member_of, role_reaches
from core.errors import DomainError
from gamification.models import Contest
from gamification.rules.contests import AGGREGATES, KINDS
from gamification.services.badges import known_types
from gamification.services.contest_live import standings_source
from gamification.services.contests import contest_cancel, contest_create, contest_status, tenant_today
from scoring.models import Team

PAGE_SIZE = 50
PRIZE_ROWS = 3
NOTICES = {"created": "Contest created.", "cancelled": "Contest cancelled."}
WHO = {"all": "Everyone", "teams": "Some teams", "reps": "Listed reps"}
# The form's fields, and where the service's ``attr`` of an error is shown.
FIELDS = ("name", "metric", "kind", "target", "aggregate", "start_date", "end_date", "who", "among")
ERROR_AT = {"participants": "among", "participants.teams": "among", "participants.reps": "among"}


def contest_of(key: int) -> Contest:
    contest = Contest.objects.filter(pk=key).first()
    if contest is None:
        raise Http404("No such contest.")
    return contest


def _metrics() -> list[dict[str, Any]]:
    types = sorted(known_types())
    return [
        {"label": "Events counted (capped)", "metrics": [f"events.{t}" for t in types]},
        {"label": "Values summed", "metrics": [f"sum.{t}" for t in types]},
        {"label": "XP and SSI", "metrics": ["xp", "ssi.gain"]},
        {
            "label": "Pillar gains",
            "metrics": [f"pillar.{p}.gain" for p in ("brand", "find", "engage", "relationships")],
        },
    ]


def _who_of(contest: Contest) -> str:
    teams = {t.pk: t.name for t in Team.objects.filter(pk__in=contest.participants.get("teams", []))}
    if "teams" in contest.participants:
        return "Teams: " + ", ".join(teams.get(t, f"#{t}") for t in contest.participants["teams"])
    if "reps" in contest.participants:
        return "Reps: " + ", ".join(contest.participants["reps"])
    return "Everyone"


@console_page()
def contest_list(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)  # type: ignore[attr-defined]
    status = request.GET.get("status", "")
    contests = Contest.objects.order_by("-start_date", "-id")
    if status == Contest.Status.SCHEDULED:
        contests = contests.filter(status=status, start_date__gt=today)
    elif status == Contest.Status.RUNNING:
        contests = contests.filter(
            status__in=[Contest.Status.SCHEDULED, Contest.Status.RUNNING], start_date__lte=today
        )
    elif status in (Contest.Status.ENDED, Contest.Status.CANCELLED):
        contests = contests.filter(status=status)
    else:
        status = ""
    page = Paginator(contests, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [{"contest": c, "status": contest_status(c, today)} for c in page.object_list],
        "status": status,
        "status_choices": Contest.Status.values,
        "messages_ok": NOTICES.get(request.GET.get("done", "")),
    }
    return render(request, "console/contests.html", context)


@console_page()
def contest_detail(request: HttpRequest, key: int) -> HttpResponse:
    contest = contest_of(key)
    today = tenant_today(request.tenant)  # type: ignore[attr-defined]
    by = "team" if contest.kind == Contest.Kind.TEAMS and request.GET.get("by") == "team" else "rep"
    source = standings_source(tenant=request.tenant, contest=contest, today=today)  # type: ignore[attr-defined]
    rows = source.teams() if by == "team" else source.reps()
    status = contest_status(contest, today)
    context = {
        "contest": contest,
        "status": status,
        "by": by,
        "who": _who_of(contest),
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "measured_at": source.measured_at or contest.finalized_at,
        "race": contest.kind == Contest.Kind.RACE,
        "tz": request.tenant.timezone,  # type: ignore[attr-defined]
        "may_cancel": status in (Contest.Status.SCHEDULED, Contest.Status.RUNNING)
        and role_reaches(member_of(request), MemberRole.MANAGER),
        "messages_ok": NOTICES.get(request.GET.get("done", "")),
        "error": None,
    }
    return render(request, "console/contest.html", context)


@console_page(role=MemberRole.MANAGER, methods=("POST",))
def contest_cancel_page(request: HttpRequest, key: int) -> HttpResponse:
    contest = contest_of(key)
    try:
        contest_cancel(contest=contest, actor=actor_of_member(request))
    except DomainError as exc:
        return render(
            request, "console/contest_refused.html", {"contest": contest, "error": exc.detail}, status=409
        )
    return HttpResponseRedirect(f"/console/contests/{contest.pk}?done=cancelled", status=303)


def _blank() -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in FIELDS}
    values |= {"kind": "leaderboard", "who": "all"}
    values["prizes"] = [{"rank": "", "xp": "", "badge": ""} for _ in range(PRIZE_ROWS)]
    return values


def _number_or_text(text: str) -> Any:
    try:
        return int(text) if text.isascii() and text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text


def _participants(who: str, among: str) -> Any:
    """``{"all": true}``, ``{"teams": [ids]}`` (names or ids) or ``{"reps": [external ids]}``;
    anything else is passed on for the service to refuse."""
    items = [item.strip() for item in among.split(",") if item.strip()]
    if who == "teams":
        by_name = {name.casefold(): pk for pk, name in Team.objects.values_list("id", "name")}
        return {"teams": [by_name.get(i.casefold(), _number_or_text(i)) for i in items]}
    if who == "reps":
        return {"reps": items}
    return {"all": True} if who == "all" else who


def _data(values: dict[str, Any]) -> dict[str, Any]:
    """The service's input, as the API's POST would carry it."""
    data: dict[str, Any] = {
        name: values[name] for name in ("name", "metric", "kind", "start_date", "end_date")
    }
    if values["target"]:
        data["target"] = _number_or_text(values["target"])
    if values["aggregate"]:
        data["aggregate"] = values["aggregate"]
    data["participants"] = _participants(values["who"], values["among"])
    prizes = []
    for prize in values["prizes"]:
        if not any(prize.values()):
            continue
        row: dict[str, Any] = {
            "rank": _number_or_text(prize["rank"]),
            "xp": _number_or_text(prize["xp"] or "0"),
        }
        if prize["badge"]:
            row["badge"] = prize["badge"]
        prizes.append(row)
    data["prizes"] = prizes
    return data


def _field_of(attr: str | None) -> str:
    if not attr:
        return "form"
    if attr.startswith("prizes"):
        return "prizes"
    return ERROR_AT.get(attr, attr if attr in FIELDS else "form")


@console_page(role=MemberRole.MANAGER, methods=("GET", "POST"))
def contest_new(request: HttpRequest) -> HttpResponse:
    values = _blank()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values |= {name: request.POST.get(name, "").strip() for name in FIELDS}
        values["prizes"] = [
            {part: request.POST.get(f"prize-{i}-{part}", "").strip() for part in ("rank", "xp", "badge")}
            for i in range(PRIZE_ROWS)
        ]
        try:
            contest = contest_create(
                tenant=request.tenant,  # type: ignore[attr-defined]
                data=_data(values),
                actor=actor_of_member(request),
            )
        except DomainError as exc:
            errors = {_field_of(exc.attr): exc.detail}
            status = 400
        else:
            return HttpResponseRedirect(f"/console/contests/{contest.pk}?done=created", status=303)
    context = {
        "values": values,
        "errors": errors,
        "refused": status == 400,
        "metric_groups": _metrics(),
        "kinds": KINDS,
        "aggregates": AGGREGATES,
        "who_choices": WHO.items(),
    }
    return render(request, "console/contests_form.html", context, status=status)


urls = [
    path("contests", contest_list, name="console-contests"),
    path("contests/new", contest_new, name="console-contest-new"),
    path("contests/<int:key>", contest_detail, name="console-contest"),
    path("contests/<int:key>/cancel", contest_cancel_page, name="console-contest-cancel"),
]
