"""The overview page (``/console/``) on hand-built scores (docs/console.md#overview).

The scenario (acme; D = 2026-03-10, W = D - 7 days = 2026-03-03), snapshots and scored days written by
the factories and each day's summaries stored by ``ssi_summaries_refresh`` as every writer does:

| rep | team  | SSI on W | SSI on D (brand, find, engage, relationships) |
|-----|-------|----------|-----------------------------------------------|
| amy | North | 60.00    | 72.00 (18, 18, 18, 18): good                  |
| ben | North | 50.00    | 45.50 (11.5, 11, 12, 11): okay                |
| cas | South | 20.25    | 30.25 (7.25, 8, 7, 8): poor                   |
| deb | none  | 85.00    | 80.00 (20, 20, 20, 20): good                  |
| eve | South | none     | 50.00 (12.5, 12.5, 12.5, 12.5): okay          |
| fay | North | none     | 100 on D, but inactive: left out              |

The company on D: 5 reps, mean 277.75 / 5 = 55.55, median 50.00; bands good 2, okay 2,
poor 1; brand 69.25 / 5 = 13.85, find and relationships 69.5 / 5 = 13.90, engage 69.5 / 5
= 13.90. On W: 4 reps, mean 215.25 / 4 = 53.8125 -> 53.81, so the change is +1.74.
North on D: 58.75 (2 reps: good 1, okay 1); South: (30.25 + 50) / 2 = 40.125 -> 40.13.
Movers (D against W): up amy +12.00, cas +10.00; down deb -5.00, ben -4.50.
Older company days for the trend: amy alone on D-40 and D-100.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from scoring.models import Rep
from scoring.services.summaries import ssi_summaries_refresh
from tests.factories.gamification import BadgeAwardFactory, BadgeFactory
from tests.factories.scoring import RepFactory, ScoredDayFactory, ScoreSnapshotFactory, TeamFactory
from tests.support.console import ConsoleClient, console_client, member_signed_in
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # what a cell without a value shows
D = date(2026, 3, 10)
W = D - timedelta(days=7)


def snap(rep: Rep, day: date, ssi: float, pillars: tuple[float, float, float, float] = (0, 0, 0, 0)) -> None:
    brand, find, engage, relationships = pillars
    ScoreSnapshotFactory.create(
        rep=rep,
        day=day,
        team=rep.team,
        ssi=ssi,
        brand=brand,
        find=find,
        engage=engage,
        relationships=relationships,
    )


@pytest.fixture
def scores(acme: ApiClient) -> dict[str, Any]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        TeamFactory.create(name="Empty")
        reps = {
            "amy": RepFactory.create(external_id="amy", name="Amy", team=north),
            "ben": RepFactory.create(external_id="ben", name="Ben", team=north),
            "cas": RepFactory.create(external_id="cas", name="Cas", team=south),
            "deb": RepFactory.create(external_id="deb", name="Deb"),
            "eve": RepFactory.create(external_id="eve", name="Eve", team=south),
            "fay": RepFactory.create(external_id="fay", name="Fay", team=north, active=False),
        }
        snap(reps["amy"], D, 72, (18, 18, 18, 18))
        snap(reps["ben"], D, 45.5, (11.5, 11, 12, 11))
        snap(reps["cas"], D, 30.25, (7.25, 8, 7, 8))
        snap(reps["deb"], D, 80, (20, 20, 20, 20))
        snap(reps["eve"], D, 50, (12.5, 12.5, 12.5, 12.5))
        snap(reps["fay"], D, 100, (25, 25, 25, 25))
        for name, ssi in (("amy", 60), ("ben", 50), ("cas", 20.25), ("deb", 85)):
            snap(reps[name], W, ssi)
        snap(reps["amy"], D - timedelta(days=40), 40)
        snap(reps["amy"], D - timedelta(days=100), 30)
        days = [D, W, D - timedelta(days=40), D - timedelta(days=100)]
        for day in days:
            ScoredDayFactory.create(day=day)
        ssi_summaries_refresh(days=days)
    return {"north": north.pk, "south": south.pk, **{k: v.pk for k, v in reps.items()}}


def text(answer: Any) -> str:
    assert answer.status_code == 200, answer.content[:2000]
    return str(answer.content.decode())


def chart_rows(page: str) -> list[str]:
    """The days of the trend's table of numbers."""
    numbers = page.split('<details class="chart-numbers">', 1)[1].split("</details>", 1)[0]
    return re.findall(r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th>', numbers)


def cells(html: str) -> list[str]:
    """The text of each cell of a piece of a table, tags and spaces stripped."""
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in found]


def section(page: str, start: str) -> str:
    return page.split(start, 1)[1].split("</section>", 1)[0]


def test_the_company_figure_is_the_apis(acme: ApiClient, world: World, scores: dict[str, Any]) -> None:
    api = acme.get("/api/v1/company/ssi").json()
    assert api["mean"] == 55.55 and api["date"] == "2026-03-10"
    page = text(console_client(world.acme, "viewer").get("/console/"))
    assert f'<p class="figure" id="company-ssi">{api["mean"]:.2f}</p>' in page
    assert '<time datetime="2026-03-10">2026-03-10</time>' in page
    assert "median 50.00" in page
    assert re.search(r'id="company-change" class="up">\s*Up \+1.74 since 2026-03-03 \(53.81\)', page)


def test_bands_and_pillars_are_the_days(world: World, scores: dict[str, Any]) -> None:
    page = text(console_client(world.acme, "viewer").get("/console/"))
    bands = cells(section(page, 'id="bands-title"'))
    assert bands[3:] == [
        "Good SSI 70 and above", "2", "40.0%",
        "Okay SSI 40 to under 70", "2", "40.0%",
        "Poor SSI under 40", "1", "20.0%",
    ]  # fmt: skip
    # The bar: one segment per band, 40 + 40 + 20 percent of its width.
    assert '<rect class="band-good" x="0.00" y="0" width="40.00"' in page
    assert '<rect class="band-poor" x="80.00" y="0" width="20.00"' in page
    pillars = cells(section(page, 'id="pillars-title"'))
    assert pillars[2:] == ["Brand", "13.85", "Find", "13.90", "Engage", "13.90", "Relationships", "13.90"]


def test_teams_side_by_side_link_to_their_leaderboard(world: World, scores: dict[str, Any]) -> None:
    page = text(console_client(world.acme, "viewer").get("/console/"))
    teams = cells(section(page, 'id="teams-title"'))
    assert teams[6:] == [
        "Empty leaderboard", DASH, "0", "No rep scored that day",
        "North leaderboard", "58.75", "2", "1", "1", "0",
        "South leaderboard", "40.13", "2", "0", "1", "1",
    ]  # fmt: skip
    assert f'href="/console/leaderboards?metric=ssi&amp;team={scores["north"]}"' in page
    leaderboard = text(
        console_client(world.acme, "viewer").get("/console/leaderboards", metric="ssi", team=scores["north"])
    )
    assert '<h2 id="board-title">SSI · North</h2>' in leaderboard


def test_the_weeks_movers_are_ranked_by_change(world: World, scores: dict[str, Any]) -> None:
    page = text(console_client(world.acme, "viewer").get("/console/"))
    up = cells(section(page, 'id="movers-up-title"'))
    down = cells(section(page, 'id="movers-down-title"'))
    assert up[4:] == ["Amy", "60.00", "72.00", "+12.00", "Cas", "20.25", "30.25", "+10.00"]
    assert down[4:] == ["Deb", "85.00", "80.00", "-5.00", "Ben", "50.00", "45.50", "-4.50"]
    assert f'<a href="/console/reps/{scores["amy"]}">Amy</a>' in page


def test_the_trend_shows_the_range_chosen(world: World, scores: dict[str, Any]) -> None:
    client = console_client(world.acme, "viewer")
    assert chart_rows(text(client.get("/console/"))) == ["2026-01-29", "2026-03-03", "2026-03-10"]  # 90 days
    assert chart_rows(text(client.get("/console/", range="30"))) == ["2026-03-03", "2026-03-10"]
    assert chart_rows(text(client.get("/console/", range="180"))) == [
        "2025-11-30", "2026-01-29", "2026-03-03", "2026-03-10",
    ]  # fmt: skip
    everything = text(client.get("/console/", range="all"))
    assert len(chart_rows(everything)) == 4
    assert '<option value="all" selected>All</option>' in everything
    # The table is the chart's numbers: D's row is the company's mean.
    assert re.search(r'2026-03-10</th><td class="num">55.55</td>', everything)


def test_a_range_not_offered_is_refused_next_to_the_field(world: World, scores: dict[str, Any]) -> None:
    answer = console_client(world.acme, "viewer").get("/console/", range="7")
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'aria-invalid="true" aria-describedby="range-error"' in page
    assert '<p class="field-error" id="range-error">' in page
    assert len(chart_rows(page)) == 3  # still the default 90 days


def test_recent_awards_are_the_latest_ten(world: World, scores: dict[str, Any]) -> None:
    with in_tenant("acme"):
        rep = Rep.objects.get(external_id="ben")
        for i in range(12):
            BadgeAwardFactory.create(rep=rep, badge=BadgeFactory.create(name=f"Award {i:02d}"))
    page = text(console_client(world.acme, "viewer").get("/console/"))
    awards = section(page, 'id="awards-title"')
    names = re.findall(r'<span class="badge-chip">([^<]+)</span>', awards)
    assert names == [f"Award {i:02d}" for i in range(11, 1, -1)]
    assert f'<a href="/console/reps/{scores["ben"]}">Ben</a>' in awards


def test_without_a_scored_day_the_page_says_what_to_do(world: World, db: Any) -> None:
    page = text(console_client(world.acme, "viewer").get("/console/"))
    assert "No scored day yet" in page
    assert "POST /api/v1/activities" in page
    assert 'id="company-ssi"' not in page and "uPlot" not in page


def test_every_role_sees_the_overview(world: World, scores: dict[str, Any]) -> None:
    for role in ("viewer", "manager", "admin"):
        assert 'id="company-ssi">55.55<' in text(console_client(world.acme, role).get("/console/"))


def test_a_tenant_sees_only_its_own_scores(world: World, scores: dict[str, Any]) -> None:
    page = text(console_client(world.globex, "viewer").get("/console/"))
    assert "No scored day yet" in page and "55.55" not in page and "Amy" not in page
    session = member_signed_in(world.globex.slug, "admin")
    elsewhere = ConsoleClient(world.acme.host, session).get("/console/")
    assert elsewhere.status_code == 302 and elsewhere["Location"].startswith("/console/login")


def test_the_page_costs_the_same_queries_however_many_teams_reps_and_awards(
    world: World, scores: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = console_client(world.acme, "viewer")
    client.get("/console/")  # warm: the session and the tenant
    with in_tenant("acme"):
        for i in range(20):
            team = TeamFactory.create(name=f"More {i:02d}")
            rep = RepFactory.create(team=team)
            snap(rep, D, 50 + i)
            snap(rep, W, 40)
            BadgeAwardFactory.create(rep=rep)
        ssi_summaries_refresh(days=[D, W])
    with django_assert_max_num_queries(14):
        page = text(client.get("/console/"))
    assert "More 19" in page
