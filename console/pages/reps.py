"""The reps (``/console/reps``): every rep of the tenant, searched, filtered by team, sorted by
SSI, XP, streak or 7-day change, 50 a page, each with a sparkline of its last 30 days; and a
rep's page (``/console/reps/<id>``), the body ``rep_detail`` shares with a rep's own page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from console.charts import sparkline
from console.pages import console_page
from console.pages.rep_detail import rep_detail_context
from gamification.selectors import reps_page
from scoring.models import Rep, Team

PAGE_SIZE = 50
SORTS = [("ssi", "SSI"), ("xp", "XP"), ("streak", "Streak"), ("change", "Change")]
ORDERS = [("desc", "Highest first"), ("asc", "Lowest first")]


class RepsFilter(forms.Form):
    """The list's controls (a GET form: the URL is the view's state)."""

    q = forms.CharField(label="Search", required=False, max_length=200, strip=True)
    team = forms.TypedChoiceField(label="Team", required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(label="Sort by", choices=SORTS, required=False)
    order = forms.ChoiceField(label="Order", choices=ORDERS, required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data: Any, teams: list[tuple[int, str]]) -> None:
        super().__init__(data)
        self.fields["team"].choices = [("", "All teams"), *teams]  # type: ignore[attr-defined]


def _pager_link(values: dict[str, Any], page: int) -> str:
    query = {k: v for k, v in values.items() if v not in (None, "") and k != "page"}
    return "?" + urlencode({**query, "page": page})


@console_page()
def reps(request: HttpRequest) -> HttpResponse:
    teams = list(Team.objects.order_by("name").values_list("id", "name"))
    form = RepsFilter(request.GET, teams)
    if not form.is_valid():
        return render(request, "console/reps.html", {"form": form, "invalid": True}, status=400)
    data = form.cleaned_data
    sort, order, page_number = data["sort"] or "ssi", data["order"] or "desc", data["page"] or 1
    page = reps_page(
        tenant=connection.tenant,  # type: ignore[attr-defined]
        search=data["q"],
        team_id=data["team"],
        sort=sort,
        descending=order == "desc",
        offset=(page_number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    values = {"q": data["q"], "team": data["team"], "sort": sort, "order": order}
    last_page = max(1, -(-page.count // PAGE_SIZE))
    context = {
        "form": form,
        "page": page,
        "rows": [(row, sparkline(row.spark)) for row in page.rows],
        "page_number": page_number,
        "last_page": last_page,
        "previous_link": _pager_link(values, page_number - 1) if page_number > 1 else "",
        "next_link": _pager_link(values, page_number + 1) if page_number < last_page else "",
        "sort_label": dict(SORTS)[sort],
    }
    return render(request, "console/reps.html", context)


@console_page()
def rep(request: HttpRequest, rep_id: int) -> HttpResponse:
    found = Rep.objects.filter(pk=rep_id).select_related("team").first()
    if found is None:
        raise Http404("No rep with this id.")
    return render(request, "console/rep.html", rep_detail_context(found))


urls = [
    path("reps", reps, name="console-reps"),
    path("reps/<int:rep_id>", rep, name="console-rep"),
]
