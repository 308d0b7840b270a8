"""The goals pages: the list with progress, and the form for a rep goal or a team goal.

Saving goes through the goal service the API uses: a goal made by the form is the goal the API
would have made from the same fields, and the service's errors show next to their field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.factories.gamification import GoalFactory
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.console import ConsoleClient, console_client, field_error, member_signed_in
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

COMPARED = ("title", "rep", "team", "metric", "target", "start_date", "end_date", "aggregate", "status")


@pytest.fixture
def people(world: World, db: None) -> dict[str, Any]:
    """In acme: team North with rep ann-1 (no events yet)."""
    with in_tenant("acme"):
        team = TeamFactory.create(name="North")
        rep = RepFactory.create(external_id="ann-1", name="Ann", team=team)
    return {"team": team.pk, "rep": rep.external_id}


def rep_goal(**fields: str) -> dict[str, str]:
    data = {
        "owner": "rep", "rep": "ann-1", "team": "", "title": "Ten posts", "metric": "events.post_published",
        "target": "10", "start_date": "2026-01-01", "end_date": "2026-12-31", "aggregate": "",
    }  # fmt: skip
    return data | fields


def newest(acme: ApiClient) -> dict[str, Any]:
    results: list[dict[str, Any]] = acme.get("/api/v1/goals").json()["results"]
    return results[-1]


def test_a_rep_goal_made_by_the_form_is_the_one_the_api_makes(
    world: World, acme: ApiClient, people: dict[str, Any]
) -> None:
    manager = console_client(world.acme, "manager")
    answer = manager.submit("/console/goals/new", rep_goal())
    assert answer.status_code == 303 and answer["Location"] == "/console/goals?done=created"
    made = newest(acme)
    body = {"rep": "ann-1", "title": "Ten posts", "metric": "events.post_published", "target": 10,
            "start_date": "2026-01-01", "end_date": "2026-12-31"}  # fmt: skip
    expected = acme.post("/api/v1/goals", body).json()
    assert {k: made[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}
    with in_tenant("acme"):
        from access.models import AuditEntry

        entry = AuditEntry.objects.get(target_type="goal", target_id=str(made["id"]))
        assert entry.actor_name == "manager@acme.example" and entry.action == "create"


def test_a_team_goal_made_by_the_form_is_the_one_the_api_makes(
    world: World, acme: ApiClient, people: dict[str, Any]
) -> None:
    fields = rep_goal(
        owner="team", rep="", team=str(people["team"]), metric="ssi", target="55.5", aggregate="avg"
    )
    assert console_client(world.acme, "admin").submit("/console/goals/new", fields).status_code == 303
    made = newest(acme)
    body = {"team": people["team"], "title": "Ten posts", "metric": "ssi", "target": 55.5, "aggregate": "avg",
            "start_date": "2026-01-01", "end_date": "2026-12-31"}  # fmt: skip
    expected = acme.post("/api/v1/goals", body).json()
    assert {k: made[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"rep": "nobody"}, "f-rep", "No rep with this external_id."),
        ({"owner": "team", "team": ""}, "f-team", "No team with this id."),
        ({"title": ""}, "f-title", "A title of 1 to 200 characters."),
        ({"metric": "events.nothing_like_it"}, "f-metric", "Unknown event type"),
        ({"target": "-1"}, "f-target", "A number greater than 0."),
        ({"target": "many"}, "f-target", "A number greater than 0."),
        ({"start_date": "01/01/2026"}, "f-start", "A date as YYYY-MM-DD."),
        ({"end_date": "2025-01-01"}, "f-end", "end_date is before start_date."),
        ({"aggregate": "avg"}, "f-aggregate", "Only team goals take an aggregate."),
    ],
)
def test_an_error_shows_next_to_its_field_with_the_values_kept(
    world: World, acme: ApiClient, people: dict[str, Any], fields: dict[str, str], field_id: str, message: str
) -> None:
    answer = console_client(world.acme, "admin").submit("/console/goals/new", rep_goal(**fields))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert message in field_error(page, field_id)
    assert 'name="start_date" value="' in page
    if "title" not in fields:
        assert 'value="Ten posts"' in page
    assert acme.get("/api/v1/goals").json()["count"] == 0


def test_a_team_goal_without_an_aggregate_is_an_error_on_it(world: World, people: dict[str, Any]) -> None:
    fields = rep_goal(owner="team", team=str(people["team"]))
    answer = console_client(world.acme, "manager").submit("/console/goals/new", fields)
    assert answer.status_code == 400
    assert "needs an aggregate" in field_error(answer.content.decode(), "f-aggregate")


def test_an_edit_changes_the_goal_and_delete_removes_it(
    world: World, acme: ApiClient, people: dict[str, Any]
) -> None:
    manager = console_client(world.acme, "manager")
    assert manager.submit("/console/goals/new", rep_goal()).status_code == 303
    goal_id = newest(acme)["id"]
    page = manager.get(f"/console/goals/{goal_id}").content.decode()
    assert "A goal's rep or team never changes." in page and 'name="rep"' not in page
    edited = rep_goal(title="Twelve posts", target="12", end_date="2026-06-30", rep="someone-else")
    assert manager.submit(f"/console/goals/{goal_id}", edited).status_code == 303
    goal = acme.get(f"/api/v1/goals/{goal_id}").json()
    assert (goal["title"], goal["target"], goal["end_date"], goal["rep"]) == (
        "Twelve posts",
        12.0,
        "2026-06-30",
        "ann-1",
    )
    bad = manager.submit(f"/console/goals/{goal_id}", rep_goal(target="0"))
    assert bad.status_code == 400 and "greater than 0" in field_error(bad.content.decode(), "f-target")
    answer = manager.submit(f"/console/goals/{goal_id}/delete", {}, form_page=f"/console/goals/{goal_id}")
    assert answer.status_code == 303 and answer["Location"] == "/console/goals?done=deleted"
    assert acme.get(f"/api/v1/goals/{goal_id}").status_code == 404


def test_the_list_shows_progress_as_the_api_does(
    world: World, acme: ApiClient, people: dict[str, Any]
) -> None:
    with in_tenant("acme"):
        from scoring.models import Rep

        rep = Rep.objects.get(external_id="ann-1")
        GoalFactory.create(rep=rep, title="XP goal", metric="xp", target=200, start_date=date(2026, 1, 1),
                           end_date=date(2030, 12, 31))  # fmt: skip
        Rep.objects.filter(pk=rep.pk).update(xp=50)
        GoalFactory.create(rep=None, team_id=people["team"], aggregate="sum", title="Team XP", metric="xp",
                           target=100, status="achieved", start_date=date(2026, 1, 1), end_date=date(2030, 12, 31))  # fmt: skip  # noqa: E501
    api = {g["title"]: g for g in acme.get("/api/v1/goals").json()["results"]}
    assert api["XP goal"]["progress"] == 0.25
    viewer = console_client(world.acme, "viewer")
    page = viewer.get("/console/goals").content.decode()
    assert '<progress id="p-' in page and 'value="0.25" max="1" aria-label="Progress of XP goal"' in page
    assert "50 / 200 (25%)" in page
    assert "team North" in page and f'<a href="/console/reps/{rep.pk}">Ann</a>' in page
    achieved = viewer.get("/console/goals", status="achieved").content.decode()
    assert "Team XP" in achieved and "XP goal" not in achieved


def test_a_viewer_reads_but_has_no_buttons_and_is_refused(
    world: World, acme: ApiClient, people: dict[str, Any]
) -> None:
    with in_tenant("acme"):
        goal = GoalFactory.create(title="Seen goal")
    viewer = console_client(world.acme, "viewer")
    listing = viewer.get("/console/goals").content.decode()
    assert "Seen goal" in listing and "New goal" not in listing
    page = viewer.get(f"/console/goals/{goal.pk}").content.decode()
    assert '<fieldset class="plain" disabled>' in page
    assert "Save goal" not in page and "Delete goal" not in page
    assert viewer.get("/console/goals/new").status_code == 403
    token = viewer.csrf_token("/console/goals")
    for target, data in (("/console/goals/new", rep_goal()), (f"/console/goals/{goal.pk}", rep_goal()),
                         (f"/console/goals/{goal.pk}/delete", {})):  # fmt: skip
        refused = viewer.client.post(
            target, {**data, "csrfmiddlewaretoken": token}, HTTP_HOST=world.acme.host
        )
        assert refused.status_code == 403 and "Not for your role" in refused.content.decode()
    assert acme.get(f"/api/v1/goals/{goal.pk}").json()["title"] == "Seen goal"


def test_a_post_without_the_csrf_token_is_refused(
    world: World, acme: ApiClient, people: dict[str, Any]
) -> None:
    answer = console_client(world.acme, "admin").client.post(
        "/console/goals/new", rep_goal(), HTTP_HOST=world.acme.host
    )
    assert answer.status_code == 403
    assert acme.get("/api/v1/goals").json()["count"] == 0


def test_another_tenants_goal_is_not_found(world: World) -> None:
    with in_tenant("globex"):
        theirs = GoalFactory.create()
    admin = console_client(world.acme, "admin")
    assert admin.get(f"/console/goals/{theirs.pk}").status_code == 404
    token = admin.csrf_token("/console/goals")
    gone = admin.client.post(
        f"/console/goals/{theirs.pk}/delete", {"csrfmiddlewaretoken": token}, HTTP_HOST=world.acme.host
    )
    assert gone.status_code == 404
    session = member_signed_in(world.globex.slug, "admin")
    assert ConsoleClient(world.acme.host, session).get("/console/goals").status_code == 302
    with in_tenant("globex"):
        from gamification.models import Goal

        assert Goal.objects.filter(pk=theirs.pk).exists()


def test_the_list_pages_fifty_goals(world: World, people: dict[str, Any]) -> None:
    with in_tenant("acme"):
        from scoring.models import Rep

        rep = Rep.objects.get(external_id="ann-1")
        for n in range(55):
            GoalFactory.create(rep=rep, title=f"Goal number {n:02d}")
    viewer = console_client(world.acme, "viewer")
    first = viewer.get("/console/goals").content.decode()
    assert first.count("<progress ") == 50 and "Page 1 of 2" in first
    second = viewer.get("/console/goals", page="2").content.decode()
    assert second.count("<progress ") == 5 and "Goal number 54" in second
