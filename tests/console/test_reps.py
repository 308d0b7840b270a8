"""The reps list and a rep's page, by the Django test client on hand-made data: every figure
checked by hand, sorting, search, team filter, pages, a query count that does not grow with
the page, roles, bad input and tenant isolation."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.console import ConsoleClient, console_client, member_signed_in
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

ROW_NAMES = re.compile(r'<th scope="row"><a href="/console/reps/\d+">([^<]+)</a>')


def names(page: Any) -> list[str]:
    return ROW_NAMES.findall(page.content.decode())


def acme_today() -> date:
    from core.clock import local_today

    return local_today("Europe/Berlin")


@pytest.fixture
def people(world: World) -> dict[str, Any]:
    """Four reps in acme. Latest scored day ``day`` (yesterday): Ann 70 (60 a week before: +10),
    Bob 55.5 (58.5: -3), Cid 40 (nothing a week before), Dee never scored. XP: Cid 900, Ann 300,
    Bob 50, Dee 0. Active days: Bob the last 10 days, Ann the last 3, the others none."""
    from tests.factories.scoring import (
        ActivityDailyFactory,
        RepFactory,
        ScoredDayFactory,
        ScoreSnapshotFactory,
        TeamFactory,
    )

    today = acme_today()
    day = today - timedelta(days=1)
    with in_tenant("acme"):
        north, south = TeamFactory.create(name="North"), TeamFactory.create(name="South")
        reps = {
            "ann": RepFactory.create(external_id="ann", name="Ann Archer", team=north, xp=300),
            "bob": RepFactory.create(external_id="bob", name="Bob Baker", team=south, xp=50),
            "cid": RepFactory.create(external_id="cid", name="Cid Cole", team=north, xp=900),
            "dee": RepFactory.create(external_id="dee", name="Dee Dunn", xp=0),
        }
        ScoredDayFactory.create(day=day)
        ScoredDayFactory.create(day=day - timedelta(days=7))
        for key, latest, before, rank in (
            ("ann", 70.0, 60.0, 1),
            ("bob", 55.5, 58.5, 2),
            ("cid", 40.0, None, 3),
        ):
            rep = reps[key]
            ScoreSnapshotFactory.create(
                rep=rep,
                day=day,
                ssi=latest,
                brand=latest / 4,
                find=latest / 4,
                engage=latest / 4,
                relationships=latest / 4,
                team=rep.team,
                tenant_rank=rank,
                tenant_of=3,
                tenant_top_percent=-(-100 * rank // 3),
                team_rank=1 if key != "cid" else 2,
                team_of=1 if key == "bob" else 2,
                team_top_percent=100 if key == "cid" else (50 if key == "ann" else 100),
            )
            if before is not None:
                ScoreSnapshotFactory.create(rep=rep, day=day - timedelta(days=7), ssi=before, team=rep.team)
        for key, active_days in (("bob", 10), ("ann", 3)):
            for back in range(active_days):
                ActivityDailyFactory.create(rep=reps[key], day=today - timedelta(days=back))
    return {"reps": reps, "day": day, "today": today, "north": north, "south": south}


def test_the_list_shows_each_reps_figures(world: World, people: dict[str, Any]) -> None:
    page = console_client(world.acme, "viewer").get("/console/reps")
    assert page.status_code == 200
    html = page.content.decode()
    assert names(page) == ["Ann Archer", "Bob Baker", "Cid Cole", "Dee Dunn"]
    assert "4 reps" in html
    ann = html[html.index("Ann Archer") : html.index("Bob Baker")]
    assert 'href="/console/reps/{}"'.format(people["reps"]["ann"].pk) in html
    assert ">North</td>" in ann and ">70.00</td>" in ann and 'class="num up">+10.00</td>' in ann
    assert ">300</td>" in ann
    bob = html[html.index("Bob Baker") : html.index("Cid Cole")]
    assert ">55.50</td>" in bob and 'class="num down">-3.00</td>' in bob
    cid = html[html.index("Cid Cole") : html.index("Dee Dunn")]
    assert ">40.00</td>" in cid and 'class="num">\N{EN DASH}</td>' in cid  # no snapshot a week before
    # The sparkline: the last 30 days, Ann scored on two of them.
    assert "SSI over 30 days: from 60.00 to 70.00" in ann
    assert "No SSI history" in html[html.index("Dee Dunn") :]


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("ssi", "desc", ["Ann Archer", "Bob Baker", "Cid Cole", "Dee Dunn"]),
        ("ssi", "asc", ["Cid Cole", "Bob Baker", "Ann Archer", "Dee Dunn"]),
        ("xp", "desc", ["Cid Cole", "Ann Archer", "Bob Baker", "Dee Dunn"]),
        ("xp", "asc", ["Dee Dunn", "Bob Baker", "Ann Archer", "Cid Cole"]),
        ("change", "desc", ["Ann Archer", "Bob Baker", "Cid Cole", "Dee Dunn"]),
        ("change", "asc", ["Bob Baker", "Ann Archer", "Cid Cole", "Dee Dunn"]),
        ("streak", "desc", ["Bob Baker", "Ann Archer", "Cid Cole", "Dee Dunn"]),
    ],
)
def test_the_list_sorts(
    world: World, people: dict[str, Any], sort: str, order: str, expected: list[str]
) -> None:
    page = console_client(world.acme, "viewer").get("/console/reps", sort=sort, order=order)
    assert page.status_code == 200
    assert names(page) == expected
    assert f'<option value="{sort}" selected>' in page.content.decode()


def test_the_list_sorts_by_streak_lowest_first_with_ties_by_external_id(
    world: World, people: dict[str, Any]
) -> None:
    page = console_client(world.acme, "viewer").get("/console/reps", sort="streak", order="asc")
    assert names(page) == ["Cid Cole", "Dee Dunn", "Ann Archer", "Bob Baker"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "baker"}, ["Bob Baker"]),  # name, any case
        ({"q": "cid@example"}, ["Cid Cole"]),  # email
        ({"q": "dee"}, ["Dee Dunn"]),  # external id
        ({"q": "%"}, []),  # a literal character, not a wildcard
        ({"q": "nobody"}, []),
    ],
)
def test_the_list_searches_name_email_and_external_id(
    world: World, people: dict[str, Any], query: dict[str, str], expected: list[str]
) -> None:
    page = console_client(world.acme, "viewer").get("/console/reps", **query)
    assert names(page) == expected
    assert f"{len(expected)} rep" in page.content.decode()


def test_the_list_filters_by_team(world: World, people: dict[str, Any]) -> None:
    client = console_client(world.acme, "viewer")
    page = client.get("/console/reps", team=str(people["north"].pk), sort="xp")
    assert names(page) == ["Cid Cole", "Ann Archer"]
    assert f'<option value="{people["north"].pk}" selected>North</option>' in page.content.decode()


def many_reps(count: int) -> None:
    from scoring.models import Rep

    with in_tenant("acme"):
        Rep.objects.bulk_create(
            Rep(external_id=f"bulk-{i:03d}", name=f"Bulk {i:03d}", email=f"b{i}@x.example", xp=i)
            for i in range(count)
        )


def test_the_list_pages_by_50(world: World, people: dict[str, Any]) -> None:
    many_reps(51)  # 55 reps in all
    client = console_client(world.acme, "viewer")
    first = client.get("/console/reps", sort="xp", order="asc", q="")
    html = first.content.decode()
    assert len(names(first)) == 50 and "55 reps" in html and "page 1 of 2" in html
    assert 'rel="next">Next</a>' in html and "Previous" not in html
    link = re.search(r'href="([^"]+)" rel="next"', html)
    assert link is not None
    second = client.get("/console/reps" + link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    html = second.content.decode()
    # XP lowest first, equal XP by external id: bulk-000, dee (0), bulk-001 ... bulk-049,
    # bob and bulk-050 (50), ann (300), cid (900).
    assert names(second) == ["Bulk 049", "Bob Baker", "Bulk 050", "Ann Archer", "Cid Cole"]
    assert 'rel="prev">Previous</a>' in html and "Next</a>" not in html
    assert "sort=xp" in link.group(1) and "order=asc" in link.group(1)


@pytest.mark.parametrize("sort", ["ssi", "xp", "change", "streak"])
def test_the_lists_queries_do_not_grow_with_the_page(
    world: World, people: dict[str, Any], django_assert_max_num_queries: Any, sort: str
) -> None:
    many_reps(60)
    client = console_client(world.acme, "viewer")
    client.get("/console/reps")  # the session's first use writes it
    with django_assert_max_num_queries(12) as one:
        assert len(names(client.get("/console/reps", sort=sort, q="ann"))) == 1
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(names(client.get("/console/reps", sort=sort))) == 50


def test_a_rep_not_scored_on_the_latest_day_shows_its_own_latest(
    world: World, people: dict[str, Any]
) -> None:
    """As the rep card: each rep's latest snapshot, even when older than the latest scored day."""
    from tests.factories.scoring import ScoreSnapshotFactory

    dee, day = people["reps"]["dee"], people["day"]
    with in_tenant("acme"):
        ScoreSnapshotFactory.create(rep=dee, day=day - timedelta(days=3), ssi=80.0)
        ScoreSnapshotFactory.create(rep=dee, day=day - timedelta(days=10), ssi=81.25)
    page = console_client(world.acme, "viewer").get("/console/reps")
    assert names(page) == ["Dee Dunn", "Ann Archer", "Bob Baker", "Cid Cole"]
    html = page.content.decode()
    dee_row = html[html.index("Dee Dunn") : html.index("Ann Archer")]
    assert ">80.00</td>" in dee_row and 'class="num down">-1.25</td>' in dee_row


def test_bad_choices_are_a_400_page_with_the_error_next_to_the_field(
    world: World, people: dict[str, Any]
) -> None:
    client = console_client(world.acme, "viewer")
    for query, field in (({"sort": "name"}, "sort"), ({"team": "abc"}, "team"), ({"page": "0"}, "page")):
        page = client.get("/console/reps", **query)
        assert page.status_code == 400
        html = page.content.decode()
        assert f'class="field-error" id="{field}-error"' in html
    html = client.get("/console/reps", sort="name").content.decode()
    assert 'aria-describedby="sort-error"' in html


def test_a_page_past_the_last_is_empty_not_an_error(world: World, people: dict[str, Any]) -> None:
    page = console_client(world.acme, "viewer").get("/console/reps", page="7")
    assert page.status_code == 200 and names(page) == []
    assert "No rep matches these filters." in page.content.decode()


def test_no_session_goes_to_sign_in(world: World, db: Any) -> None:
    for path in ("/console/reps", "/console/reps/1"):
        answer = ConsoleClient(world.acme.host).get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("role", ["viewer", "manager", "admin"])
def test_every_member_may_see_reps(world: World, people: dict[str, Any], role: str) -> None:
    client = console_client(world.acme, role)
    assert client.get("/console/reps").status_code == 200
    assert client.get(f"/console/reps/{people['reps']['ann'].pk}").status_code == 200


def test_the_rep_page_shows_what_the_api_shows(world: World, people: dict[str, Any], acme: Any) -> None:
    from tests.factories.gamification import BadgeAwardFactory, BadgeFactory, GoalFactory

    ann = people["reps"]["ann"]
    today = people["today"]
    with in_tenant("acme"):
        badge = BadgeFactory.create(name="First post")
        BadgeAwardFactory.create(rep=ann, badge=badge)
        GoalFactory.create(
            rep=ann,
            title="Post a lot",
            metric="events.post_published",
            target=4,
            start_date=today - timedelta(days=20),
            end_date=today + timedelta(days=20),
        )
    page = console_client(world.acme, "viewer").get(f"/console/reps/{ann.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    api = acme.get("/api/v1/reps/ann/ssi").json()
    assert f'<p class="figure" id="rep-ssi">{api["ssi"]:.2f}</p>' in html
    assert "In the company: <strong>1</strong> of 3 (top 34%)" in html
    assert "In the team: <strong>1</strong> of 2 (top 50%)" in html
    assert 'href="/console/reps">← All reps</a>' in html
    # The trend: 90 days to the latest, SSI and four pillars, numbers as a table.
    assert f"SSI and its pillars, 90 days to {people['day']:%Y-%m-%d}" in html
    assert '<th scope="col">SSI</th><th scope="col">Brand</th><th scope="col">Find</th>' in html
    assert (
        f'<th scope="row">{people["day"]:%Y-%m-%d}</th><td class="num">70.00</td><td class="num">17.50</td>'
        in html
    )
    # The explanation: each pillar with the snapshot's score, the signals of the config.
    explain = acme.get("/api/v1/reps/ann/ssi/explain").json()
    for signal in explain["signals"]:
        assert f'<th scope="row" class="signal">{signal["key"]}</th>' in html
    for tip in explain["recommendations"]:
        assert tip["tip"] in html
    assert "Brand: Establish your professional brand" in html
    # Badges, goals (3 posts of 4 within the goal's dates), the streak calendar.
    assert '<span class="badge-chip">First post</span>' in html
    assert "Post a lot" in html and "3 / 4 (75%)" in html
    assert re.search(r'<progress id="goal-progress-\d+" max="1" value="0.75"', html)
    assert f"{today:%Y-%m-%d}: active" in html
    assert f"{today - timedelta(days=5):%Y-%m-%d}: inactive" in html
    assert "Current streak: <strong>" in html and "longest: <strong>" in html


def test_a_rep_never_scored_has_a_page(world: World, people: dict[str, Any]) -> None:
    page = console_client(world.acme, "viewer").get(f"/console/reps/{people['reps']['dee'].pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Not scored yet." in html and "No badge yet." in html and "No goal." in html


def test_it_denies_cross_tenant_access(world: World, people: dict[str, Any]) -> None:
    from tests.factories.scoring import RepFactory

    with in_tenant("globex"):
        theirs = RepFactory.create(pk=987654, external_id="globex-only", name="Globex Rep")
    acme_page = console_client(world.acme, "admin").get(f"/console/reps/{theirs.pk}")
    assert acme_page.status_code == 404 and acme_page["Content-Type"].startswith("text/html")
    assert "Globex Rep" not in acme_page.content.decode()
    assert (
        "Globex Rep"
        not in console_client(world.acme, "admin").get("/console/reps", q="globex").content.decode()
    )
    assert console_client(world.globex, "viewer").get(f"/console/reps/{theirs.pk}").status_code == 200
    # A globex member's session is nobody on acme's host.
    globex_session = ConsoleClient(world.acme.host, member_signed_in("globex", "admin"))
    answer = globex_session.get("/console/reps")
    assert answer.status_code == 302 and answer["Location"].startswith("/console/login")


def test_the_rep_page_body_stands_alone_for_a_reps_own_page(world: World, people: dict[str, Any]) -> None:
    """``/console/me`` renders the same body for a rep, where no member is signed in: it shows
    the rep's figures and links to no member page."""
    from django.template.loader import render_to_string

    from console.pages.rep_detail import rep_detail_context

    with in_tenant("acme"):
        html = render_to_string("console/_rep_detail.html", rep_detail_context(people["reps"]["ann"]))
    assert '<p class="figure" id="rep-ssi">70.00</p>' in html
    assert "/console/" not in html
