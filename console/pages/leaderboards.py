"""Leaderboards (``/console/leaderboards``): reps ranked by a metric, for a period and a team,
as ``GET /api/v1/leaderboards/{metric}`` ranks them (the same ``leaderboard_get``: the same
metrics, periods, team filter, ranks with ties and top percent), 50 rows a page
(docs/console.md#leaderboards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from console.pages import console_page
from core.errors import DomainError, ValidationFailed
from gamification.leaderboards import DEFAULT_PERIOD, SNAPSHOT_METRICS, LeaderboardRow, leaderboard_get
from scoring.models import Rep, Team
from scoring.services.config import scoring_config_current

TEMPLATE = "console/leaderboards.html"
PAGE_SIZE = 50
PILLAR_LABELS = {"brand": "Brand", "find": "Find", "engage": "Engage", "relationships": "Relationships"}
PERIODS = (
    ("all", "All time"),
    ("month", "Month (calendar)"),
    ("week", "Week (Monday to Sunday)"),
    ("day", "Day"),
)
FIELDS = ("metric", "period", "team", "date")


@dataclass(frozen=True)
class Row:
    rank: int
    rep_id: int
    external_id: str
    name: str
    team: str
    value: float | int
    top_percent: int


def metric_choices() -> list[tuple[str, str]]:
    """Every metric the API ranks by: SSI, each pillar, XP and each event type of the config."""
    choices = [("ssi", "SSI")]
    choices += [
        (name, f"Pillar: {PILLAR_LABELS[name.removeprefix('pillar.')]}")
        for name in SNAPSHOT_METRICS
        if name != "ssi"
    ]
    choices.append(("xp", "XP"))
    types = sorted(scoring_config_current().config.event_types)
    choices += [(f"events.{t}", f"Events: {t.replace('_', ' ')}") for t in types]
    return choices


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("A day as YYYY-MM-DD.", attr="date") from None


def _team(value: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise ValidationFailed("Choose a team from the list.", attr="team")
    return int(value)


def _rows(page: list[LeaderboardRow]) -> list[Row]:
    """The page's rows with each rep's team (one query for the page)."""
    teams = dict(Rep.objects.filter(pk__in=[r.rep_id for r in page]).values_list("pk", "team__name"))
    return [
        Row(r.rank, r.rep_id, r.external_id, r.name, teams.get(r.rep_id) or "", r.value, r.top_percent)
        for r in page
    ]


def _page_number(value: str) -> int:
    if not value:
        return 1
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise Http404("No such page.")
    return int(value)


@console_page()
def leaderboards(request: HttpRequest) -> HttpResponse:
    chosen = {name: request.GET.get(name, "").strip() for name in FIELDS}
    chosen["metric"] = chosen["metric"] or "ssi"
    chosen["period"] = chosen["period"] or DEFAULT_PERIOD
    metrics = metric_choices()
    teams = list(Team.objects.order_by("name", "id").values_list("pk", "name"))
    context: dict[str, object] = {
        "chosen": chosen,
        "metrics": metrics,
        "periods": PERIODS,
        "teams": teams,
        "errors": {},
    }
    try:
        board = leaderboard_get(
            tenant=request.tenant,  # type: ignore[attr-defined]
            metric=chosen["metric"],
            period=chosen["period"],
            day=_day(chosen["date"]),
            team=_team(chosen["team"]),
        )
    except DomainError as error:
        if error.code == "no_snapshot":  # nothing scored yet: an empty board, not a mistake
            return render(request, TEMPLATE, context | {"not_scored": True})
        context["errors"] = {error.attr or "metric": error.detail}
        return render(request, TEMPLATE, context, status=400)
    paginator: Paginator[LeaderboardRow] = Paginator(board, PAGE_SIZE)  # type: ignore[arg-type]
    number = _page_number(request.GET.get("page", ""))
    if number > paginator.num_pages:
        raise Http404("No such page.")
    page = paginator.page(number)
    query = {k: v for k, v in chosen.items() if v}
    context |= {
        "board": board,
        "page": page,
        "rows": _rows(list(page.object_list)),
        "decimals": board.metric.kind == "snapshot",
        "metric_label": dict(metrics).get(board.metric.name, board.metric.name),
        "team_name": dict(teams).get(board.team_id, "") if board.team_id else "",
        "previous_url": "?" + urlencode(query | {"page": number - 1}) if page.has_previous() else None,
        "next_url": "?" + urlencode(query | {"page": number + 1}) if page.has_next() else None,
    }
    return render(request, TEMPLATE, context)


urls = [path("leaderboards", leaderboards, name="console-leaderboards")]
