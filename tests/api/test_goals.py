"""Goals through the API (``/api/v1/goals``; docs/gamification.md#goals).

acme (Europe/Berlin), dates relative to the tenant's local today (T):

* team North: ann, bob, eve (no events), cat (inactive); team South: dan; team Empty: no reps.
* Events go in through ``POST /api/v1/activities``; ``current`` is worked out by hand from
  them: ``events.*``/``sum.*`` count only the goal's own period.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from core.clock import local_today
from gamification.models import Goal, OutboxEvent
from gamification.services.evaluation import day_scored_evaluate, pending_evaluate
from gamification.services.goals import goals_evaluate
from scoring.models import Rep
from tests.factories.gamification import GoalFactory
from tests.factories.scoring import RepFactory, ScoreSnapshotFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

GOALS = "/api/v1/goals"
TZ = "Europe/Berlin"


def T(offset: int = 0) -> date:
    """The tenant's local today plus ``offset`` days."""
    return local_today(TZ) + timedelta(days=offset)


def at(day: date, hour: int = 12) -> str:
    offset = "+02:00" if 3 < day.month < 11 else "+01:00"
    return f"{day.isoformat()}T{hour:02d}:00:00{offset}"


def ev(id: str, rep: str, type: str, offset: int, **extra: Any) -> dict[str, Any]:
    return {"id": id, "rep": rep, "type": type, "occurred_at": at(T(offset)), **extra}


def ingest(client: ApiClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/activities", {"events": list(events)})
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == [], response.content


def posts(rep: str, offset: int, n: int, prefix: str = "") -> list[dict[str, Any]]:
    return [ev(f"{prefix}{rep}-{offset}-{i}", rep, "post_published", offset) for i in range(n)]


@pytest.fixture
def teams(acme: ApiClient) -> dict[str, int]:
    with in_tenant("acme"):
        north = TeamFactory.create(name="North")
        south = TeamFactory.create(name="South")
        empty = TeamFactory.create(name="Empty")
        for name in ("ann", "bob", "eve"):
            RepFactory.create(external_id=name, team=north)
        RepFactory.create(external_id="cat", team=north, active=False)
        RepFactory.create(external_id="dan", team=south)
    return {"north": north.pk, "south": south.pk, "empty": empty.pk}


def rep_goal(rep: str = "ann", **extra: Any) -> dict[str, Any]:
    return {
        "title": "Post more",
        "rep": rep,
        "metric": "events.post_published",
        "target": 5,
        "start_date": T(-10).isoformat(),
        "end_date": T(10).isoformat(),
        **extra,
    }


def team_goal(team: int, aggregate: str = "sum", **extra: Any) -> dict[str, Any]:
    body = rep_goal(**extra)
    del body["rep"]
    return {**body, "team": team, "aggregate": aggregate, **extra}


def create(client: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(GOALS, body)
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def get(client: ApiClient, goal_id: int) -> dict[str, Any]:
    response = client.get(f"{GOALS}/{goal_id}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def outbox(type: str) -> list[dict[str, Any]]:
    with in_tenant("acme"):
        return [e.data for e in OutboxEvent.objects.filter(type=type).order_by("created_at")]


def evaluate_pending() -> None:
    with in_tenant("acme") as tenant:
        pending_evaluate(tenant=tenant)


def evaluate_all(day: date) -> None:
    with in_tenant("acme") as tenant:
        goals_evaluate(tenant=tenant, rep_ids=[], day=day, nightly=True)


# --- create -------------------------------------------------------------------------------------------


def test_a_rep_goal_is_created_with_progress_and_status(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 2))
    body = create(acme, rep_goal(title="Five posts"))
    expected = {
        "title": "Five posts", "rep": "ann", "team": None, "metric": "events.post_published",
        "target": 5.0, "start_date": T(-10).isoformat(), "end_date": T(10).isoformat(), "aggregate": "",
        "status": "active", "current": 2.0, "progress": 0.4, "status_changed_at": None,
    }  # fmt: skip
    assert {k: body[k] for k in expected} == expected
    assert isinstance(body["id"], int) and body["created_at"] and body["updated_at"]
    assert get(acme, body["id"]) == {**body, "updated_at": body["updated_at"]}


def test_a_team_goal_is_created_with_progress_and_status(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 2), *posts("bob", -2, 1))
    body = create(acme, team_goal(teams["north"], "sum", target=6))
    assert (body["rep"], body["team"], body["aggregate"]) == (None, teams["north"], "sum")
    assert (body["status"], body["current"], body["progress"]) == ("active", 3.0, 0.5)


def test_an_integration_key_may_create_goals(world: World, acme: ApiClient, teams: dict[str, int]) -> None:
    integration = ApiClient(world.acme.host, world.acme.integration)
    assert create(integration, rep_goal())["status"] == "active"


# --- validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"team": "north"}, "rep"),  # both rep and team (team replaced by its id below)
        ({"rep": None}, "rep"),  # neither
        ({"end_date": "T-11"}, "end_date"),  # before start
        ({"aggregate": "avg"}, "aggregate"),  # a rep goal with an aggregate
        ({"metric": "karma"}, "metric"),
        ({"metric": "events.tweet_sent"}, "metric"),
        ({"metric": ""}, "metric"),
        ({"target": 0}, "target"),
        ({"target": -3}, "target"),
        ({"target": "5"}, "target"),
        ({"target": True}, "target"),
        ({"rep": "nobody"}, "rep"),
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"end_date": 20261201}, "end_date"),
        ({"title": ""}, "title"),
        ({"window_days": 7}, "window_days"),
        ({"aggregate": "median"}, "aggregate"),
    ],
)
def test_an_invalid_goal_is_a_400_naming_the_field(
    acme: ApiClient, teams: dict[str, int], change: dict[str, Any], attr: str
) -> None:
    body = rep_goal()
    for key, value in change.items():
        if value == "north":
            value = teams["north"]
        elif value == "T-11":
            value = T(-11).isoformat()
        if value is None:
            del body[key]
        else:
            body[key] = value
    assert_error(acme.post(GOALS, body), 400, attr=attr)
    with in_tenant("acme"):
        assert not Goal.objects.exists()


def test_a_team_goal_needs_an_aggregate(acme: ApiClient, teams: dict[str, int]) -> None:
    body = team_goal(teams["north"])
    del body["aggregate"]
    assert_error(acme.post(GOALS, body), 400, attr="aggregate")


def test_an_unknown_team_is_a_400(acme: ApiClient, teams: dict[str, int]) -> None:
    assert_error(acme.post(GOALS, team_goal(999_999)), 400, code="unknown_team", attr="team")


def test_an_unknown_rep_is_a_400(acme: ApiClient, teams: dict[str, int]) -> None:
    assert_error(acme.post(GOALS, rep_goal("nobody")), 400, code="unknown_rep", attr="rep")


@pytest.mark.parametrize("field", ["title", "metric", "target", "start_date", "end_date"])
def test_a_goal_needs_each_of_its_fields(acme: ApiClient, teams: dict[str, int], field: str) -> None:
    body = rep_goal()
    del body[field]
    assert_error(acme.post(GOALS, body), 400, attr=field)


def test_a_one_day_goal_is_valid(acme: ApiClient, teams: dict[str, int]) -> None:
    body = create(acme, rep_goal(start_date=T(-1).isoformat(), end_date=T(-1).isoformat(), target=1))
    assert body["end_date"] == body["start_date"]


# --- current and progress -----------------------------------------------------------------------------


def test_events_count_only_within_the_goals_own_period(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(
        acme,
        *posts("ann", -11, 3),  # the day before start_date: not counted
        *posts("ann", -10, 1),  # start_date: counted
        *posts("ann", -1, 2),
        *posts("bob", -5, 4),  # another rep
    )
    body = create(acme, rep_goal(target=4))
    assert (body["current"], body["progress"]) == (3.0, 0.75)


def test_events_after_the_end_date_do_not_count(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -6, 1), *posts("ann", -2, 5))
    body = create(acme, rep_goal(start_date=T(-8).isoformat(), end_date=T(-4).isoformat(), target=1))
    assert body["current"] == 1.0


def test_sum_goals_add_the_values_in_the_period(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(
        acme,
        ev("f1", "ann", "follower_gained", -20, value=100),  # before the period
        ev("f2", "ann", "follower_gained", -4, value=30),
        ev("f3", "ann", "follower_gained", -2, value=12.5),
    )
    body = create(acme, rep_goal(metric="sum.follower_gained", target=85))
    assert (body["current"], body["progress"]) == (42.5, 0.5)


def test_progress_is_capped_at_1(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 7))
    body = create(acme, rep_goal(target=5))
    assert (body["current"], body["progress"]) == (7.0, 1.0)


def test_progress_is_shown_with_4_decimals(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 2))
    assert create(acme, rep_goal(target=3))["progress"] == 0.6667


def test_a_goal_on_the_ssi_uses_the_latest_snapshot(acme: ApiClient, teams: dict[str, int]) -> None:
    with in_tenant("acme"):
        ann = Rep.objects.get(external_id="ann")
        for offset, ssi in ((-3, 40.0), (-2, 45.126)):
            ScoreSnapshotFactory.create(rep=ann, day=T(offset), ssi=ssi)
    body = create(acme, rep_goal(metric="ssi", target=60))
    assert (body["current"], body["progress"]) == (45.13, 0.7522)  # 45.13 / 60


def test_a_goal_on_a_snapshot_metric_without_snapshot_has_no_current(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    body = create(acme, rep_goal(metric="ssi", target=60))
    assert (body["current"], body["progress"], body["status"]) == (None, 0.0, "active")


def test_a_goal_that_has_not_started_has_no_current(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -1, 9))
    body = create(acme, rep_goal(start_date=T(1).isoformat(), end_date=T(5).isoformat(), target=1))
    assert (body["current"], body["progress"], body["status"]) == (None, 0.0, "active")


# ann 2 posts, bob 1, eve 0 (active, North), cat 5 (inactive, North: ignored), dan 4 (South: ignored).
@pytest.mark.parametrize(
    ("aggregate", "current"),
    [("avg", (2 + 1 + 0) / 3), ("sum", 2 + 1 + 0), ("min", 0)],
)
def test_team_goals_aggregate_over_the_teams_active_reps(
    acme: ApiClient, teams: dict[str, int], aggregate: str, current: float
) -> None:
    ingest(acme, *posts("ann", -3, 2), *posts("bob", -3, 1), *posts("dan", -3, 4))
    with in_tenant("acme"):
        Rep.objects.filter(external_id="cat").update(active=True)
    ingest(acme, *posts("cat", -3, 5))
    with in_tenant("acme"):
        Rep.objects.filter(external_id="cat").update(active=False)
    body = create(acme, team_goal(teams["north"], aggregate, target=10))
    assert body["current"] == round(current, 2)
    assert body["progress"] == round(current / 10, 4)


def test_a_team_goal_min_of_reps_who_all_posted(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 2), *posts("bob", -3, 1), *posts("eve", -3, 3))
    body = create(acme, team_goal(teams["north"], "min", target=2))
    assert (body["current"], body["progress"]) == (1.0, 0.5)


def test_a_team_without_active_reps_has_no_current(acme: ApiClient, teams: dict[str, int]) -> None:
    body = create(acme, team_goal(teams["empty"], "avg", target=1))
    assert (body["current"], body["progress"], body["status"]) == (None, 0.0, "active")


# --- status -------------------------------------------------------------------------------------------


def test_a_goal_is_achieved_when_current_reaches_target_and_says_so_once(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    ingest(acme, *posts("ann", -3, 2))
    goal = create(acme, rep_goal(target=3))
    assert goal["status"] == "active"
    assert outbox("goal.achieved") == []

    ingest(acme, *posts("ann", -1, 1, prefix="more-"))
    evaluate_pending()  # within seconds of the ingestion
    body = get(acme, goal["id"])
    assert (body["status"], body["current"], body["progress"]) == ("achieved", 3.0, 1.0)
    assert body["status_changed_at"]
    events = outbox("goal.achieved")
    assert len(events) == 1
    assert events[0] == {
        "id": goal["id"], "title": "Post more", "rep": "ann", "team": None,
        "metric": "events.post_published", "target": 3.0, "current": 3.0, "status": "achieved",
    }  # fmt: skip

    # Evaluated again, every way there is: still one event.
    get(acme, goal["id"])
    acme.get(GOALS)
    evaluate_all(T())
    with in_tenant("acme") as tenant:
        day_scored_evaluate(tenant=tenant, day=T(-1))
    assert len(outbox("goal.achieved")) == 1


def test_a_goal_already_met_when_created_is_achieved_at_once(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 5))
    body = create(acme, rep_goal(target=5))
    assert (body["status"], body["progress"]) == ("achieved", 1.0)
    assert len(outbox("goal.achieved")) == 1


def test_an_achieved_goal_stays_achieved_when_current_falls(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 5))
    goal = create(acme, rep_goal(target=5))
    assert goal["status"] == "achieved"
    # The target is raised above current, and the period passes: it never moves again.
    response = acme.patch(f"{GOALS}/{goal['id']}", {"target": 50})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["progress"]) == ("achieved", 0.1)
    evaluate_all(T(30))
    assert get(acme, goal["id"])["status"] == "achieved"
    assert outbox("goal.missed") == []


def test_a_team_goal_is_achieved_by_a_members_ingestion(acme: ApiClient, teams: dict[str, int]) -> None:
    goal = create(acme, team_goal(teams["north"], "sum", target=3))
    ingest(acme, *posts("ann", -2, 1), *posts("bob", -2, 2))
    evaluate_pending()
    with in_tenant("acme"):
        assert Goal.objects.get(pk=goal["id"]).status == "achieved"
    events = outbox("goal.achieved")
    assert [(e["team"], e["rep"], e["current"]) for e in events] == [(teams["north"], None, 3.0)]


def test_a_goal_whose_end_date_passed_unachieved_is_missed(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -5, 2))
    goal = create(acme, rep_goal(target=4))  # T-10 .. T+10
    assert goal["status"] == "active"
    evaluate_all(T(10))  # the last day: still active
    assert get(acme, goal["id"])["status"] == "active"
    evaluate_all(T(11))  # the day after the end date
    with in_tenant("acme"):
        assert Goal.objects.get(pk=goal["id"]).status == "missed"
    events = outbox("goal.missed")
    assert len(events) == 1
    assert (events[0]["id"], events[0]["status"], events[0]["current"]) == (goal["id"], "missed", 2.0)


def test_a_missed_goal_never_changes_back_even_above_target(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -5, 1))
    body = create(acme, rep_goal(start_date=T(-20).isoformat(), end_date=T(-1).isoformat(), target=3))
    assert (body["status"], body["current"]) == ("missed", 1.0)
    assert len(outbox("goal.missed")) == 1

    # Late events inside the period take current past target: the goal stays missed.
    ingest(acme, *posts("ann", -4, 5, prefix="late-"))
    evaluate_pending()
    evaluate_all(T())
    body = get(acme, body["id"])
    assert (body["status"], body["current"], body["progress"]) == ("missed", 6.0, 1.0)
    assert outbox("goal.achieved") == []
    assert len(outbox("goal.missed")) == 1


def test_the_nightly_evaluation_of_the_last_day_achieves_a_goal(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    with in_tenant("acme"):
        ann = Rep.objects.get(external_id="ann")
        goal = GoalFactory.create(
            title="SSI 50", rep=ann, metric="ssi", target=50, start_date=T(-5), end_date=T(-1)
        )
        ScoreSnapshotFactory.create(rep=ann, day=T(-1), ssi=51)
    with in_tenant("acme") as tenant:
        day_scored_evaluate(tenant=tenant, day=T(-1))
        assert Goal.objects.get(pk=goal.pk).status == "achieved"
    assert [e["id"] for e in outbox("goal.achieved")] == [goal.pk]


def test_a_goal_met_within_its_period_is_achieved_even_when_first_evaluated_after_it(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    ingest(acme, *posts("ann", -5, 3))
    body = create(acme, rep_goal(start_date=T(-10).isoformat(), end_date=T(-1).isoformat(), target=3))
    assert (body["current"], body["progress"]) == (3.0, 1.0)
    assert body["status"] == "achieved"


# --- update, delete -----------------------------------------------------------------------------------


def test_patch_changes_the_named_fields_and_recomputes_progress(
    acme: ApiClient, teams: dict[str, int]
) -> None:
    ingest(acme, *posts("ann", -3, 2))
    goal = create(acme, rep_goal(target=10))
    response = acme.patch(f"{GOALS}/{goal['id']}", {"title": "Eight posts", "target": 8})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["target"], body["progress"], body["metric"]) == (
        "Eight posts",
        8.0,
        0.25,
        "events.post_published",
    )


def test_a_goals_rep_cannot_change(acme: ApiClient, teams: dict[str, int]) -> None:
    goal = create(acme, rep_goal())
    assert_error(acme.patch(f"{GOALS}/{goal['id']}", {"rep": "bob"}), 400, attr="rep")


def test_patch_keeps_the_dates_in_order(acme: ApiClient, teams: dict[str, int]) -> None:
    goal = create(acme, rep_goal())
    assert_error(acme.patch(f"{GOALS}/{goal['id']}", {"end_date": T(-11).isoformat()}), 400, attr="end_date")


def test_delete_answers_204_and_the_goal_is_gone(acme: ApiClient, teams: dict[str, int]) -> None:
    goal = create(acme, rep_goal())
    assert acme.delete(f"{GOALS}/{goal['id']}").status_code == 204
    assert_error(acme.get(f"{GOALS}/{goal['id']}"), 404)


# --- list and filters ---------------------------------------------------------------------------------


def test_the_list_filters_by_rep_team_and_status(acme: ApiClient, teams: dict[str, int]) -> None:
    ingest(acme, *posts("ann", -3, 5))
    ann_done = create(acme, rep_goal(title="ann done", target=5))["id"]
    ann_open = create(acme, rep_goal(title="ann open", target=50))["id"]
    bob_open = create(acme, rep_goal("bob", title="bob open"))["id"]
    north = create(acme, team_goal(teams["north"], "avg", title="north", target=100))["id"]
    south = create(acme, team_goal(teams["south"], "avg", title="south", target=100))["id"]

    def ids(**params: Any) -> list[int]:
        response = acme.get(GOALS, params)
        assert response.status_code == 200, response.content
        rows = response.json()["results"]
        assert all({"progress", "status", "current"} <= set(r) for r in rows)
        return [r["id"] for r in rows]

    assert ids() == [ann_done, ann_open, bob_open, north, south]
    assert ids(rep="ann") == [ann_done, ann_open]
    assert ids(team=teams["north"]) == [north]
    assert ids(status="achieved") == [ann_done]
    assert ids(status="active") == [ann_open, bob_open, north, south]
    assert ids(rep="ann", status="active") == [ann_open]
    assert ids(rep="nobody") == []
    assert_error(acme.get(GOALS, {"status": "won"}), 400)


# --- roles --------------------------------------------------------------------------------------------


def test_a_read_key_reads_goals_but_cannot_write_them(
    world: World, acme: ApiClient, teams: dict[str, int]
) -> None:
    goal = create(acme, rep_goal())
    read = ApiClient(world.acme.host, world.acme.read)
    assert_error(read.post(GOALS, rep_goal()), 403, code="permission_denied")
    assert_error(read.patch(f"{GOALS}/{goal['id']}", {"title": "x"}), 403, code="permission_denied")
    assert_error(read.delete(f"{GOALS}/{goal['id']}"), 403, code="permission_denied")
    assert read.get(GOALS).status_code == 200
    assert read.get(f"{GOALS}/{goal['id']}").json()["title"] == "Post more"


def test_one_tenants_goals_are_invisible_to_the_other(
    acme: ApiClient, globex: ApiClient, teams: dict[str, int]
) -> None:
    goal = create(acme, rep_goal())
    assert globex.get(GOALS).json()["results"] == []
    assert_error(globex.get(f"{GOALS}/{goal['id']}"), 404)
    assert_error(globex.delete(f"{GOALS}/{goal['id']}"), 404)
    assert get(acme, goal["id"])["title"] == "Post more"
