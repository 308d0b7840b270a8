"""The scoring weights page: the config as a form, errors at their fields, a what-if preview with
hand-checked numbers, publishing as a new version with the member in the audit log, the version
history with a readable diff, roles, CSRF and tenant isolation.

The small tenant: in acme, ann posted twice and set her profile to 80% on DAY; bob did nothing.
Under the default config (half-life 30 days; events of the scored day count fully):
brand = 25 * (3 * 80/100 + 2 * 2/12) / 8 = 8.5417 (weights 3+2+1+1+1 = 8), find = 25 * 3 * (1/45) / 8
= 0.2083 (one active day of a 45-day target, weight 3 of 8): ann's SSI 8.75, bob's 0.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from typing import Any

import pytest

from access.models import AuditEntry
from scoring.models import Job, ScoringConfig
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory
from tests.support.console import ConsoleClient, console_client
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

DAY = "2026-03-10"
PAGE = "/console/weights"
INPUT = re.compile(r"<input\b[^>]*>")
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
TEXTAREA = re.compile(r'<textarea[^>]*name="config_json"[^>]*>(.*?)</textarea>', re.S)


def scored_small_tenant(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
        RepFactory.create(external_id="bob")
    events = [
        {
            "id": "p-1",
            "rep": "ann",
            "type": "profile_updated",
            "occurred_at": f"{DAY}T09:00:00+01:00",
            "value": 80,
        },
        {"id": "p-2", "rep": "ann", "type": "post_published", "occurred_at": f"{DAY}T10:00:00+01:00"},
        {"id": "p-3", "rep": "ann", "type": "post_published", "occurred_at": f"{DAY}T11:00:00+01:00"},
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 3
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=date.fromisoformat(DAY))


def form_fields(page: str) -> dict[str, str]:
    """The weights form's fields as a browser would post them (inputs and the JSON textarea)."""
    form = page[page.index('action="/console/weights/preview"') :]
    form = form[: form.index("</form>")]
    fields = {}
    for tag in INPUT.findall(form):
        attrs = {k: html.unescape(v) for k, v in ATTR.findall(tag)}
        if "name" in attrs and "disabled" not in tag:
            fields[attrs["name"]] = attrs.get("value", "")
    match = TEXTAREA.search(form)
    assert match
    fields["config_json"] = html.unescape(match.group(1))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def field_block(page: str, name: str) -> str:
    """The markup of one field (label, input, help, error)."""
    start = page.index(f'name="{name}"')
    start = page.rindex('<div class="wfield">', 0, start)
    return page[start : page.index("</div>", start)]


def test_the_form_shows_every_number_of_the_current_config_by_pillar(world: World, db: Any) -> None:
    page = console_client(world.acme, "viewer").get(PAGE).content.decode()
    assert "<h1>Scoring weights</h1>" in page
    assert "Version <strong>1</strong>" in page and "by Default config" in page
    for legend in (
        "Brand: Establish your professional brand",
        "Find: Find the right people",
        "Engage: Engage with insights",
        "Relationships: Build relationships",
    ):
        assert f"<legend>{legend}</legend>" in page
    posts = field_block(page, "pillars.brand.signals.1.target")
    assert ">Posts target</label>" in posts and 'value="12"' in posts
    assert 'value="2"' in field_block(page, "pillars.brand.signals.1.weight")
    assert ">Brand max points</label>" in field_block(page, "pillars.brand.max_points")
    assert 'value="0.8"' in field_block(page, "pillars.engage.signals.4.target")
    assert ">Response rate minimum denominator</label>" in page
    assert 'value="90"' in field_block(page, "window_days")
    assert ">Config JSON</label>" in page and "<summary>Advanced: raw JSON</summary>" in page
    assert "the JSON wins" in page
    assert json.loads(
        form_fields(console_client(world.acme, "admin").get(PAGE).content.decode())["config_json"]
    )["pillars"]["brand"]["signals"][1] == {
        "key": "posts",
        "kind": "count",
        "types": ["post_published"],
        "target": 12,
        "weight": 2,
    }


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_managers_and_viewers_read_but_cannot_preview_or_publish(world: World, db: Any, role: str) -> None:
    client = console_client(world.acme, role)
    page = client.get(PAGE).content.decode()
    assert "Only admins can change the weights" in page
    assert ">Preview</button>" not in page and ">Publish</button>" not in page
    assert "disabled" in field_block(page, "pillars.brand.signals.1.target")
    assert re.search(r'<textarea[^>]*name="config_json"[^>]*readonly', page)
    admin_fields = form_fields(console_client(world.acme, "admin").get(PAGE).content.decode())
    refused = client.submit("/console/weights/preview", admin_fields, form_page=PAGE)
    assert refused.status_code == 403 and "Not for your role" in refused.content.decode()
    draft = json.loads(admin_fields["config_json"])
    published = client.submit(
        "/console/weights/publish", {"draft": json.dumps(draft), "based_on": "1"}, form_page=PAGE
    )
    assert published.status_code == 403
    with in_tenant("acme"):
        assert ScoringConfig.objects.count() == 1


def test_a_bad_value_is_a_400_with_the_error_next_to_its_field(world: World, db: Any) -> None:
    client = console_client(world.acme, "admin")
    fields = form_fields(client.get(PAGE).content.decode())
    fields["pillars.brand.signals.1.weight"] = "-1"
    fields["pillars.find.signals.0.target"] = "lots"
    answer = client.submit("/console/weights/preview", fields, form_page=PAGE)
    assert answer.status_code == 400
    page = answer.content.decode()
    weight = field_block(page, "pillars.brand.signals.1.weight")
    # The first error the config's validation finds, at its field, the typed values kept.
    assert "Must be greater than 0." in weight and 'value="-1"' in weight and 'aria-invalid="true"' in weight
    assert 'aria-describedby="f-pillarsbrandsignals1weight-error"' in weight
    assert 'value="lots"' in field_block(page, "pillars.find.signals.0.target")
    assert "shown next to its field" in page
    with in_tenant("acme"):
        assert ScoringConfig.objects.count() == 1


def test_an_error_no_field_shows_is_at_the_top(world: World, db: Any) -> None:
    client = console_client(world.acme, "admin")
    fields = form_fields(client.get(PAGE).content.decode())
    fields["pillars.brand.max_points"] = "30"  # the four add up to 105
    answer = client.submit("/console/weights/preview", fields, form_page=PAGE)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "pillars: The pillars&#x27; max_points must add up to 100 (they add up to 105)." in page
    assert 'value="30"' in field_block(page, "pillars.brand.max_points")


def test_an_edited_json_wins_over_the_fields_and_its_errors_show_there(world: World, db: Any) -> None:
    client = console_client(world.acme, "admin")
    fields = form_fields(client.get(PAGE).content.decode())
    draft = json.loads(fields["config_json"])
    draft["pillars"]["brand"]["signals"][1]["types"] = ["no_such_type"]
    fields["config_json"] = json.dumps(draft)
    fields["pillars.brand.signals.1.weight"] = "-1"  # ignored: the JSON wins
    page = client.submit("/console/weights/preview", fields, form_page=PAGE).content.decode()
    assert "pillars.brand.signals.1.types.0: Unknown event type &#x27;no_such_type&#x27;." in page
    assert 'id="config-json-error"' in page and '<details class="weights-json" open>' in page
    fields["config_json"] = "{not json"
    answer = client.submit("/console/weights/preview", fields, form_page=PAGE)
    assert answer.status_code == 400 and "Not valid JSON" in answer.content.decode()
    assert "{not json</textarea>" in answer.content.decode()


def draft_fields(client: ConsoleClient) -> dict[str, str]:
    """Brand worth 100, the other pillars 0, a posts target of 2: ann's brand = 100 * (3 * 0.8 +
    2 * 1) / 8 = 55.00, her SSI 55.00 (okay band); bob stays at 0."""
    fields = form_fields(client.get(PAGE).content.decode())
    fields["pillars.brand.max_points"] = "100"
    for pillar in ("find", "engage", "relationships"):
        fields[f"pillars.{pillar}.max_points"] = "0"
    fields["pillars.brand.signals.1.target"] = "2"
    return fields


def test_the_preview_shows_hand_checked_moves_and_bands_and_saves_nothing(
    world: World, acme: ApiClient
) -> None:
    scored_small_tenant(acme)
    client = console_client(world.acme, "admin")
    answer = client.submit("/console/weights/preview", draft_fields(client), form_page=PAGE)
    assert answer.status_code == 200
    page = answer.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "On 2026-03-10 , the latest scored day, 1 of 2 reps would change SSI or rank." in text
    # ann: 8.75 -> 55.00 (+46.25), rank 1 -> 1
    assert "ann 8.75 55.00 +46.25 1 1" in text
    assert "bob 0.00" not in text  # no SSI change: not among the moves
    assert "Good (70 and above) 0 0" in text
    assert "Okay (40 to under 70) 0 1" in text
    assert "Poor (under 40) 2 1" in text
    assert ">Publish</button>" in page
    assert 'value="100"' in field_block(page, "pillars.brand.max_points")  # the draft stays in the form
    with in_tenant("acme"):
        assert ScoringConfig.objects.count() == 1


def test_publish_saves_version_2_with_the_member_in_the_audit_log_and_a_readable_diff(
    world: World, acme: ApiClient
) -> None:
    scored_small_tenant(acme)
    client = console_client(world.acme, "admin")
    page = client.submit("/console/weights/preview", draft_fields(client), form_page=PAGE).content.decode()
    draft = html.unescape(re.search(r'name="draft" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    answer = client.submit("/console/weights/publish", {"draft": draft, "based_on": "1"}, form_page=PAGE)
    assert answer.status_code == 303 and answer["Location"] == "/console/weights?published=2"
    landing = client.get("/console/weights", published="2").content.decode()
    assert 'role="status">Published version 2</p>' in landing
    assert "Version <strong>2</strong>" in landing and "by admin@acme.example" in landing
    with in_tenant("acme"):
        entry = AuditEntry.objects.get(target_type="scoring_config", target_id="2")
        assert (entry.actor_kind, entry.actor_name, entry.actor_role) == (
            "member",
            "admin@acme.example",
            "admin",
        )
        assert ScoringConfig.objects.get(version=2).created_by.startswith("member:")
    assert acme.get("/api/v1/scoring-config").json()["pillars"]["brand"]["max_points"] == 100

    history = client.get("/console/weights/versions").content.decode()
    assert '<a href="/console/weights/versions/2">Version 2</a>' in history
    assert "admin@acme.example" in history and "Default config" in history
    diff = console_client(world.acme, "viewer").get("/console/weights/versions/2").content.decode()
    for line in (
        "Brand max points: 25 → 100",
        "Find max points: 25 → 0",
        "Posts target: 12 → 2",
    ):
        assert f"<li>{line}</li>" in diff
    assert diff.count("<li>") - diff.count("<li><a") == 5
    assert "The first version" in client.get("/console/weights/versions/1").content.decode()

    # A second publish of the same preview is refused: version 2 came after it.
    stale = client.submit("/console/weights/publish", {"draft": draft, "based_on": "1"}, form_page=PAGE)
    assert stale.status_code == 409 and "Version 2 was published after this preview" in stale.content.decode()


def test_a_preview_of_many_reps_is_a_job_that_keeps_the_draft(world: World, acme: ApiClient) -> None:
    from scoring.services.jobs import job_run
    from scoring.services.preview import INLINE_REPS

    scored_small_tenant(acme)
    with in_tenant("acme"):
        Rep = RepFactory._meta.model
        Rep.objects.bulk_create([RepFactory.build(external_id=f"many-{i:03}") for i in range(INLINE_REPS)])
    client = console_client(world.acme, "admin")
    answer = client.submit("/console/weights/preview", draft_fields(client), form_page=PAGE)
    assert answer.status_code == 303
    location = answer["Location"]
    assert location.startswith("/console/weights/preview/")
    running = client.get(location).content.decode()
    assert "Preview running…" in running and f'href="{location}">Refresh</a>' in running
    assert "console/weights.js" in running and ">Publish</button>" not in running
    assert 'value="100"' in field_block(running, "pillars.brand.max_points")

    with in_tenant("acme") as tenant:
        job_run(tenant=tenant, job_id=location.rsplit("/", 1)[1])  # what the worker does
    done = client.get(location).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", done))
    assert f"1 of {INLINE_REPS + 2} reps would change SSI or rank." in text
    assert "ann 8.75 55.00 +46.25 1 1" in text
    assert f"{INLINE_REPS} had no score that day." in text  # added after the day was scored
    assert "Poor (under 40) 2 201" in text
    assert ">Publish</button>" in done and "Preview running" not in done

    for role in ("manager", "viewer"):
        assert console_client(world.acme, role).get(location).status_code == 403
    # Another tenant's member never sees it.
    assert console_client(world.globex, "admin").get(location).status_code == 404


def test_posts_without_a_csrf_token_are_refused(world: World, db: Any) -> None:
    client = console_client(world.acme, "admin")
    fields = form_fields(client.get(PAGE).content.decode())
    refused = client.client.post("/console/weights/preview", fields, HTTP_HOST=world.acme.host)
    assert refused.status_code == 403
    published = client.client.post(
        "/console/weights/publish",
        {"draft": fields["config_json"], "based_on": "1"},
        HTTP_HOST=world.acme.host,
    )
    assert published.status_code == 403
    with in_tenant("acme"):
        assert ScoringConfig.objects.count() == 1


def test_it_denies_cross_tenant_access(world: World, acme: ApiClient) -> None:
    draft = acme.get("/api/v1/scoring-config").json()
    draft["pillars"]["brand"]["signals"][1]["target"] = 5
    for key in ("version", "created_at"):
        draft.pop(key)
    assert acme.put("/api/v1/scoring-config", draft).status_code == 200
    globex = console_client(world.globex, "admin")
    assert globex.get("/console/weights/versions/2").status_code == 404
    assert "Version <strong>1</strong>" in globex.get(PAGE).content.decode()
    with in_tenant("acme"):
        job = Job.objects.create(kind="preview", params={"days": [DAY], "config": draft, "reps": None})
    assert globex.get(f"/console/weights/preview/{job.pk}").status_code == 404
    # An acme session on globex's host is nobody there.
    from tests.support.console import member_signed_in

    other = ConsoleClient(world.globex.host, member_signed_in(world.acme.slug, "admin"))
    assert other.get(PAGE)["Location"].startswith("/console/login")
    # The API's save shows in acme's history with the key as publisher.
    history = console_client(world.acme, "viewer").get("/console/weights/versions").content.decode()
    assert "API key" in history
    assert (
        "<li>Posts target: 12 → 5</li>"
        in console_client(world.acme, "viewer").get("/console/weights/versions/2").content.decode()
    )


def test_the_version_history_pages_without_a_query_per_row(
    world: World, db: Any, django_assert_max_num_queries: Any
) -> None:
    from scoring.engine import DEFAULT_CONFIG

    with in_tenant("acme"):
        ScoringConfig.objects.get_or_create(
            version=1, defaults={"config": DEFAULT_CONFIG, "created_by": "default"}
        )
        ScoringConfig.objects.bulk_create(
            [ScoringConfig(version=v, config=DEFAULT_CONFIG, created_by="key:1") for v in range(2, 62)]
        )
    client = console_client(world.acme, "viewer")
    with django_assert_max_num_queries(8):
        page = client.get("/console/weights/versions").content.decode()
    assert "Version 61" in page and "Version 12<" in page and "Version 11<" not in page
    assert "Page 1 of 2" in page
    assert "Version 1<" in client.get("/console/weights/versions", page="2").content.decode()
    assert client.get("/console/weights/versions/99").status_code == 404
