"""The badges pages: the list with holders, the form with its criteria builder, the awards feed.

Saving goes through the badge service the API uses: a badge made by the form is the badge the
API would have made from the same fields, and the service's errors show next to their field.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from tests.factories.gamification import BadgeAwardFactory, BadgeFactory
from tests.factories.scoring import RepFactory
from tests.support.console import ConsoleClient, console_client, field_error, member_signed_in
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

COMPARED = ("name", "description", "image_url", "criteria", "repeat", "xp_reward", "active", "ingest_time")


def form(**fields: Any) -> dict[str, Any]:
    """What the form posts for a new badge: two conditions combined with "all"."""
    data = {
        "name": "Busy poster", "slug": "busy-poster", "description": "5 posts in a week and an SSI of 40.",
        "image_url": "", "xp_reward": "50", "repeat": "weekly", "active": "on", "combine": "all", "rows": "3",
        "c-0-metric": "events.post_published", "c-0-op": ">=", "c-0-value": "5", "c-0-window": "7",
        "c-1-metric": "ssi", "c-1-op": ">", "c-1-value": "40.5", "c-1-window": "",
        "c-2-metric": "", "c-2-op": ">=", "c-2-value": "", "c-2-window": "",
        "criteria_json": "{}", "criteria_json_initial": "{}", "save": "1",
    }  # fmt: skip
    return data | fields


def json_box(page: str) -> Any:
    """The criteria the "Criteria JSON" box shows."""
    box = re.search(r'name="criteria_json"[^>]*>([^<]*)</textarea>', page)
    assert box
    return json.loads(html.unescape(box.group(1)))


def test_a_badge_made_by_the_form_is_the_one_the_api_makes(world: World, acme: ApiClient) -> None:
    manager = console_client(world.acme, "manager")
    answer = manager.submit("/console/badges/new", form())
    assert answer.status_code == 303 and answer["Location"] == "/console/badges?done=created"
    api_body = {
        "slug": "busy-poster-api", "name": "Busy poster",
        "description": "5 posts in a week and an SSI of 40.",
        "image_url": "", "xp_reward": 50, "repeat": "weekly", "active": True,
        "criteria": {"all": [
            {"metric": "events.post_published", "op": ">=", "value": 5, "window_days": 7},
            {"metric": "ssi", "op": ">", "value": 40.5},
        ]},
    }  # fmt: skip
    assert acme.post("/api/v1/badges", api_body).status_code == 201
    made = acme.get("/api/v1/badges/busy-poster").json()
    expected = acme.get("/api/v1/badges/busy-poster-api").json()
    assert {k: made[k] for k in COMPARED} == {k: expected[k] for k in COMPARED}
    listing = manager.get("/console/badges", done="created").content.decode()
    assert "Badge created." in listing
    assert "events.post_published ≥ 5 in 7 days and ssi &gt; 40.5" in listing
    with in_tenant("acme"):
        from access.models import AuditEntry

        entry = AuditEntry.objects.filter(target_type="badge", target_id="busy-poster").get()
        assert entry.actor_name == "manager@acme.example" and entry.action == "create"


def test_the_builder_shows_saved_criteria_as_rows_and_saves_them_unchanged(
    world: World, acme: ApiClient
) -> None:
    criteria = {"any": [
        {"metric": "events.post_published", "op": ">=", "value": 8, "window_days": 30},
        {"metric": "streak.current", "op": "==", "value": 5},
    ]}  # fmt: skip
    body = {"slug": "round-trip", "name": "Round trip", "criteria": criteria, "xp_reward": 5}
    assert acme.post("/api/v1/badges", body).status_code == 201
    admin = console_client(world.acme, "admin")
    page = admin.get("/console/badges/round-trip").content.decode()
    assert re.search(r'<option value="any" selected>', page)
    assert re.search(r'id="c-0-metric".*?<option selected>events.post_published</option>', page, re.S)
    assert 'id="c-0-value" name="c-0-value" value="8"' in page
    assert 'id="c-0-window" name="c-0-window" value="30"' in page
    assert re.search(r'id="c-1-op".*?<option value="==" selected>', page, re.S)
    assert json_box(page) == criteria
    posted = form(
        slug="round-trip",
        name="Round trip",
        description="",
        xp_reward="5",
        repeat="once",
        combine="any",
        **{
            "c-0-value": "8",
            "c-0-window": "30",
            "c-1-metric": "streak.current",
            "c-1-op": "==",
            "c-1-value": "5",
            "c-1-window": "",
        },
    )
    assert admin.submit("/console/badges/round-trip", posted).status_code == 303
    assert acme.get("/api/v1/badges/round-trip").json()["criteria"] == criteria


def test_the_json_box_wins_when_changed(world: World, acme: ApiClient) -> None:
    nested = {"all": [{"metric": "ssi", "op": ">=", "value": 60},
                      {"any": [{"metric": "xp", "op": ">=", "value": 100}, {"metric": "level", "op": ">=", "value": 3}]}]}  # fmt: skip  # noqa: E501
    manager = console_client(world.acme, "manager")
    answer = manager.submit(
        "/console/badges/new",
        form(slug="nested", criteria_json=json.dumps(nested), criteria_json_initial="{}"),
    )
    assert answer.status_code == 303
    assert acme.get("/api/v1/badges/nested").json()["criteria"] == nested
    page = manager.get("/console/badges/nested").content.decode()
    assert "nest groups" in page and '<details class="advanced" open>' in page
    unchanged = form(
        slug="nested",
        name="Nested now",
        criteria_json=json.dumps(nested),
        criteria_json_initial=json.dumps(nested, indent=4),
    )
    # The box unchanged (but for white space): the rows win.
    assert manager.submit("/console/badges/nested", unchanged).status_code == 303
    assert acme.get("/api/v1/badges/nested").json()["criteria"]["all"][0]["window_days"] == 7


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"c-1-op": "=>"}, "c-1-op", "Must be one of"),
        ({"c-1-value": "lots"}, "c-1-value", "Must be a number."),
        ({"c-1-window": "7"}, "c-1-window", "Only events.* and sum.* take a window."),
        ({"c-0-window": "0"}, "c-0-window", "A whole number of days"),
        ({"slug": "Not A Slug"}, "f-slug", "Lowercase letters"),
        ({"xp_reward": "lots"}, "f-xp", "A whole number from 0 to 100000."),
        ({"name": ""}, "f-name", "Must be a text."),
        ({"criteria_json": '{"all": [}'}, "f-json", "Not valid JSON"),
        (
            {"criteria_json": '{"all": [{"metric": "ssi", "op": "~", "value": 1}]}'},
            "f-json",
            "criteria.all.0.op",
        ),
    ],
)
def test_an_error_shows_next_to_its_field_with_the_values_kept(
    world: World, acme: ApiClient, fields: dict[str, str], field_id: str, message: str
) -> None:
    answer = console_client(world.acme, "admin").submit("/console/badges/new", form(**fields))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert message in field_error(page, field_id)
    assert 'value="Busy poster"' in page or fields.get("name") == ""
    assert 'name="c-0-value" value="5"' in page
    assert acme.get("/api/v1/badges/busy-poster").status_code == 404


def test_a_skipped_row_keeps_errors_on_the_row_it_came_from(world: World) -> None:
    posted = form(**{"c-0-metric": "", "c-0-value": "", "c-0-window": "", "c-2-metric": "xp", "c-2-op": "<>",
                     "c-2-value": "3"})  # fmt: skip
    answer = console_client(world.acme, "admin").submit("/console/badges/new", posted)
    assert answer.status_code == 400
    assert "Must be one of" in field_error(answer.content.decode(), "c-2-op")


def test_a_taken_slug_is_an_error_on_the_slug(world: World) -> None:
    with in_tenant("acme"):
        BadgeFactory.create(slug="taken")
    answer = console_client(world.acme, "admin").submit("/console/badges/new", form(slug="taken"))
    assert answer.status_code == 400
    assert "exists" in field_error(answer.content.decode(), "f-slug")


def test_add_and_remove_a_condition_without_script(world: World) -> None:
    manager = console_client(world.acme, "manager")
    added = manager.submit("/console/badges/new", {**form(), "add_row": "1", "save": ""})
    page = added.content.decode()
    assert added.status_code == 200 and 'name="c-3-metric"' in page and 'name="rows" value="4"' in page
    removed = manager.submit("/console/badges/new", {**form(), "remove": "0"}).content.decode()
    assert re.search(r'id="c-0-metric".*?<option selected>ssi</option>', removed, re.S)
    assert 'name="c-0-value" value="40.5"' in removed


def test_an_edit_replaces_the_badge_and_deactivate_turns_it_off(world: World, acme: ApiClient) -> None:
    manager = console_client(world.acme, "manager")
    assert manager.submit("/console/badges/new", form()).status_code == 303
    edited = form(name="Busier poster", xp_reward="75", **{"c-0-value": "6"})
    assert manager.submit("/console/badges/busy-poster", edited).status_code == 303
    badge = acme.get("/api/v1/badges/busy-poster").json()
    assert badge["name"] == "Busier poster" and badge["xp_reward"] == 75
    assert badge["criteria"]["all"][0]["value"] == 6
    answer = manager.submit(
        "/console/badges/busy-poster/active", {"active": "false"}, form_page="/console/badges/busy-poster"
    )
    assert answer.status_code == 303 and answer["Location"] == "/console/badges?done=deactivated"
    assert acme.get("/api/v1/badges/busy-poster").json()["active"] is False


def test_the_list_counts_holders_in_one_query(world: World, django_assert_max_num_queries: Any) -> None:
    with in_tenant("acme"):
        badges = [BadgeFactory.create(slug=f"counted-{i}", name=f"Counted {i}") for i in range(5)]
        reps = [RepFactory.create() for _ in range(3)]
        for rep in reps:
            BadgeAwardFactory.create(rep=rep, badge=badges[0])
        BadgeAwardFactory.create(rep=reps[0], badge=badges[0], period="2026-W01")
        BadgeAwardFactory.create(rep=reps[1], badge=badges[1])
    viewer = console_client(world.acme, "viewer")
    viewer.get("/console/badges")  # warm: the session's first use
    with django_assert_max_num_queries(12):
        page = viewer.get("/console/badges").content.decode()
    assert re.search(r'aria-label="3 holders of Counted 0[^"]*">3</a>', page)
    assert re.search(r'aria-label="1 holders of Counted 1[^"]*">1</a>', page)


def test_a_viewer_reads_but_has_no_buttons_and_is_refused(world: World, acme: ApiClient) -> None:
    with in_tenant("acme"):
        BadgeFactory.create(slug="seen", name="Seen")
    viewer = console_client(world.acme, "viewer")
    listing = viewer.get("/console/badges").content.decode()
    assert ">Seen</a>" in listing and "New badge" not in listing
    page = viewer.get("/console/badges/seen").content.decode()
    assert '<fieldset class="plain" disabled>' in page
    for label in ("Save badge", "Deactivate badge", "Add a condition", "Remove condition"):
        assert label not in page
    assert viewer.get("/console/badges/new").status_code == 403
    token = viewer.csrf_token("/console/badges")
    for target, data in (("/console/badges/new", form()), ("/console/badges/seen", form(slug="seen")),
                         ("/console/badges/seen/active", {"active": "false"})):  # fmt: skip
        refused = viewer.client.post(
            target, {**data, "csrfmiddlewaretoken": token}, HTTP_HOST=world.acme.host
        )
        assert refused.status_code == 403 and "Not for your role" in refused.content.decode()
    assert acme.get("/api/v1/badges/seen").json()["active"] is True
    assert acme.get("/api/v1/badges/busy-poster").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(world: World, acme: ApiClient) -> None:
    admin = console_client(world.acme, "admin")
    answer = admin.client.post("/console/badges/new", form(), HTTP_HOST=world.acme.host)
    assert answer.status_code == 403
    assert acme.get("/api/v1/badges/busy-poster").status_code == 404


def test_another_tenants_badge_is_not_found(world: World) -> None:
    with in_tenant("globex"):
        theirs = BadgeFactory.create(slug="globex-only")
    admin = console_client(world.acme, "admin")
    assert admin.get("/console/badges/globex-only").status_code == 404
    assert admin.get(f"/console/badges/{theirs.pk + 100000}").status_code == 404
    session = member_signed_in(world.globex.slug, "admin")
    assert ConsoleClient(world.acme.host, session).get("/console/badges").status_code == 302


def test_the_awards_feed_is_newest_first_filtered_and_paged(
    world: World, django_assert_max_num_queries: Any
) -> None:
    with in_tenant("acme"):
        first, second = BadgeFactory.create(name="First"), BadgeFactory.create(name="Second")
        rep = RepFactory.create(external_id="rep-77", name="Ann Example")
        for week in range(60):
            BadgeAwardFactory.create(rep=rep, badge=first, period=f"2026-W{week:02d}")
        BadgeAwardFactory.create(rep=rep, badge=second)
    viewer = console_client(world.acme, "viewer")
    viewer.get("/console/badges")  # warm: the session's first use
    with django_assert_max_num_queries(12):  # the same for 50 awards as for one: no query per row
        page = viewer.get("/console/badges/awards").content.decode()
    assert f'<a href="/console/reps/{rep.pk}">Ann Example</a>' in page
    assert page.index(">Second</span>") < page.index(">First</span>")
    assert page.count('<span class="badge-chip">') == 50
    older = re.search(r'href="\?badge=&amp;before=(\d+)">Older awards', page)
    assert older
    rest = viewer.get("/console/badges/awards", before=older.group(1)).content.decode()
    assert rest.count('<span class="badge-chip">') == 11 and "Older awards" not in rest
    only = viewer.get("/console/badges/awards", badge=second.slug).content.decode()
    assert only.count('<span class="badge-chip">') == 1 and ">Second</span>" in only


def test_a_badge_named_like_a_page_opens_by_its_id(world: World, acme: ApiClient) -> None:
    with in_tenant("acme"):
        badge = BadgeFactory.create(slug="new", name="Brand new")
    admin = console_client(world.acme, "admin")
    assert (
        f'<a href="/console/badges/{badge.pk}">Brand new</a>' in admin.get("/console/badges").content.decode()
    )
    page = admin.get(f"/console/badges/{badge.pk}").content.decode()
    assert f'action="/console/badges/{badge.pk}"' in page and 'value="Brand new"' in page
    saved = admin.submit(f"/console/badges/{badge.pk}", form(slug="new", name="Brand newer"))
    assert saved.status_code == 303 and acme.get("/api/v1/badges/new").json()["name"] == "Brand newer"


@pytest.mark.parametrize(
    "criteria",
    [
        {"metric": "ssi", "op": ">=", "value": 70},
        {"metric": "events.post_published", "op": ">=", "value": 8, "window_days": 30},
        {"all": [{"metric": "xp", "op": ">", "value": 2.5}, {"metric": "level", "op": "==", "value": 3}]},
        {
            "any": [
                {"metric": "sum.follower_gained", "op": "<", "value": 10, "window_days": 1},
                {"metric": "streak.longest", "op": "<=", "value": 4},
            ]
        },
    ],
)
def test_criteria_go_to_rows_and_back_unchanged(criteria: dict[str, Any]) -> None:
    from console.criteria_builder import builder_from_criteria, builder_from_form, criteria_from_builder

    builder = builder_from_criteria(criteria).padded(extra=1)
    posted = {"rows": str(len(builder.rows)), "combine": builder.combine}
    for i, row in enumerate(builder.rows):
        posted |= {f"c-{i}-metric": row.metric, f"c-{i}-op": row.op, f"c-{i}-value": row.value,
                   f"c-{i}-window": row.window}  # fmt: skip
    assert criteria_from_builder(builder_from_form(posted))[0] == criteria
