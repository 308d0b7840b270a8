"""The overview (``/console/``): the company's SSI on the latest scored day and its trend,
the reps in each band, the pillars' means, the teams side by side, the week's biggest movers
and the latest badge awards (docs/console.md#overview).

Every figure is read by the selectors the API reads: the company's and the teams' stored
summaries (``GET /api/v1/company/ssi`` and ``/history``, ``GET /api/v1/teams/{id}/ssi``), the
awards feed (``GET /api/v1/awards``); the movers are ranked by the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from api.v1.company import HISTORY_LIMIT
from console.charts import LineChart, Series
from console.pages import console_page
from gamification.selectors import award_feed
from scoring.models import SsiSummary
from scoring.read import ssi_movers, ssi_summaries_of_teams, ssi_summary_get, ssi_summary_history

TEMPLATE = "console/overview.html"
# The chart's ranges: days back from the latest scored day, or every day kept (at most the
# history endpoint's limit).
RANGES = (("30", "30 days"), ("90", "90 days"), ("180", "180 days"), ("365", "365 days"), ("all", "All"))
DEFAULT_RANGE = "90"
WEEK = 7
MOVERS = 5
RECENT_AWARDS = 10
PILLAR_LABELS = (
    ("brand", "Brand"),
    ("find", "Find"),
    ("engage", "Engage"),
    ("relationships", "Relationships"),
)


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    rule: str
    count: int
    percent: Decimal  # of the day's reps, 1 decimal
    offset: Decimal  # where its segment starts in the bar (percent)


def bands_of(summary: SsiSummary) -> list[Band]:
    """The day's bands (the API's ``bands``) with their share of the reps, for the bar."""
    counts = (
        ("good", "Good", "SSI 70 and above", summary.good),
        ("okay", "Okay", "SSI 40 to under 70", summary.okay),
        ("poor", "Poor", "SSI under 40", summary.poor),
    )
    bands, offset = [], Decimal(0)
    for key, label, rule, count in counts:
        share = Decimal(100 * count) / summary.reps if summary.reps else Decimal(0)
        bands.append(Band(key, label, rule, count, share.quantize(Decimal("0.1")), offset))
        offset += share
    return bands


def _range_days(value: str) -> int:
    return HISTORY_LIMIT if value == "all" else int(value)


def trend_chart(day: date, chosen: str) -> LineChart:
    """The company's mean SSI on each scored day of the range ending on ``day``."""
    days = _range_days(chosen)
    rows = ssi_summary_history(
        team_id=None, start=day - timedelta(days=days - 1), end=day, limit=HISTORY_LIMIT
    )
    span = "every day kept" if chosen == "all" else f"the last {days} days"
    return LineChart(
        id="company-ssi",
        title=f"Company SSI (mean), {span}",
        days=[row.day for row in rows],
        series=[Series("Mean SSI", [float(row.mean) for row in rows])],
        range=(0, 100),
    )


@console_page()
def overview(request: HttpRequest) -> HttpResponse:
    chosen = request.GET.get("range") or DEFAULT_RANGE
    error = None
    if chosen not in dict(RANGES):
        error = "Choose one of 30, 90, 180 or 365 days, or All."
        chosen = DEFAULT_RANGE
    context: dict[str, object] = {"ranges": RANGES, "chosen": chosen, "range_error": error}
    summary = ssi_summary_get(team_id=None, day=None)
    if summary is None:
        return render(request, TEMPLATE, context)
    before_day = summary.day - timedelta(days=WEEK)
    before = ssi_summary_get(team_id=None, day=before_day)
    up, down = ssi_movers(day=summary.day, days=WEEK, limit=MOVERS)
    context |= {
        "summary": summary,
        "before": before,
        "change": summary.mean - before.mean if before else None,
        "bands": bands_of(summary),
        "pillars": [(label, getattr(summary, key)) for key, label in PILLAR_LABELS],
        "chart": trend_chart(summary.day, chosen),
        "teams": ssi_summaries_of_teams(day=summary.day),
        "before_day": before_day,
        "before_scored": before is not None,
        "movers": [
            ("Biggest rises this week", "movers-up", up),
            ("Biggest falls this week", "movers-down", down),
        ],
        "awards": list(award_feed()[:RECENT_AWARDS]),
        "tz": request.tenant.timezone,  # type: ignore[attr-defined]
    }
    return render(request, TEMPLATE, context, status=400 if error else 200)


urls = [path("", overview, name="console-home")]
