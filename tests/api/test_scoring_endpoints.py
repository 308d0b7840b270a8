"""The scoring model's endpoints: ``/api/v1/scoring-config`` (+ versions, preview),
``/api/v1/settings`` and ``/api/v1/event-types``.

The expected default config below is copied by hand from docs/scoring.md#the-default-config,
not imported from the product, so a drift in either shows here.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from django.test import Client

from scoring.models import Rep, ScoreSnapshot
from scoring.services.preview import INLINE_REPS
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

CONFIG = "/api/v1/scoring-config"
SETTINGS = "/api/v1/settings"


def count(key: str, types: list[str], target: float, weight: float) -> dict[str, Any]:
    return {"key": key, "kind": "count", "types": types, "target": target, "weight": weight}


def ratio(key: str, numerator: str, denominator: str, target: float, weight: float) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "ratio",
        "numerator": [numerator],
        "denominator": [denominator],
        "target": target,
        "weight": weight,
        "min_denominator": 1,
    }


# docs/scoring.md#the-default-config, row by row.
DEFAULT_CONFIG: dict[str, Any] = {
    "window_days": 90,
    "half_life_days": 30,
    "custom_event_types": [],
    "pillars": {
        "brand": {
            "max_points": 25,
            "signals": [
                {**count("profile_completeness", ["profile_updated"], 100, 3), "kind": "state"},
                count("posts", ["post_published"], 12, 2),
                count("articles", ["article_published"], 2, 1),
                count("endorsements", ["endorsement_received", "recommendation_received"], 10, 1),
                count("followers", ["follower_gained"], 50, 1),
            ],
        },
        "find": {
            "max_points": 25,
            "signals": [
                count("searches", ["people_search"], 30, 2),
                count("profile_views", ["profile_viewed"], 60, 2),
                count("leads_saved", ["lead_saved"], 20, 1),
                {**count("active_days", [], 45, 3), "kind": "active_days"},
            ],
        },
        "engage": {
            "max_points": 25,
            "signals": [
                count("reactions", ["post_liked"], 60, 1),
                count("comments", ["post_commented"], 20, 2),
                count("shares", ["post_shared"], 10, 2),
                count("messages", ["message_sent"], 40, 1),
                ratio("response_rate", "message_replied", "message_received", 0.8, 2),
                count("groups", ["group_joined"], 3, 1),
            ],
        },
        "relationships": {
            "max_points": 25,
            "signals": [
                {**count("connections", ["connections_synced"], 500, 2), "kind": "state"},
                ratio("acceptance_rate", "connection_request_accepted", "connection_request_sent", 0.6, 2),
                count("decision_makers", ["decision_maker_connected"], 20, 2),
            ],
        },
    },
}

CATALOG_XP = {
    "profile_updated": 5,
    "post_published": 10,
    "article_published": 25,
    "endorsement_received": 3,
    "recommendation_received": 10,
    "follower_gained": 1,
    "people_search": 1,
    "profile_viewed": 1,
    "lead_saved": 3,
    "post_liked": 1,
    "post_commented": 3,
    "post_shared": 3,
    "message_sent": 1,
    "message_received": 0,
    "message_replied": 2,
    "group_joined": 5,
    "connection_request_sent": 1,
    "connection_request_accepted": 5,
    "connections_synced": 0,
    "decision_maker_connected": 10,
}

DEFAULT_SETTINGS = {
    "auto_create_reps": True,
    "recompute_hour": 2,
    "streak_mode": "weekdays",
    "leaderboard_names": "full",
    "xp_per_type": {},
    "level_thresholds": [0, 100, 300, 600, 1000, 1500, 2500, 4000, 6000, 10000],
    "embed_origins": [],
    "daily_caps": {},
    "fair_play_factor": 3,
    "challenges_enabled": True,
    "challenge_accept_hours": 48,
    "challenge_xp": 50,
    "industry": None,
    "benchmark": False,
}


def default_config() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_CONFIG)


def without_meta(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("version", "created_at")}


def current_version(client: ApiClient) -> int:
    version: int = client.get(CONFIG).json()["version"]
    return version


def client_for(world: World, role: str) -> ApiClient:
    return ApiClient(world.acme.host, getattr(world.acme, role))


# --- GET /api/v1/scoring-config --------------------------------------------------------------------


def test_the_scoring_config_is_version_1_and_the_models_default(acme: ApiClient) -> None:
    response = acme.get(CONFIG)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 1
    assert without_meta(body) == DEFAULT_CONFIG


def test_the_default_config_has_the_18_signals_of_the_model_in_order(acme: ApiClient) -> None:
    pillars = acme.get(CONFIG).json()["pillars"]
    keys = [
        (p, s["key"]) for p in ("brand", "find", "engage", "relationships") for s in pillars[p]["signals"]
    ]
    assert len(keys) == 18
    assert [k for _, k in keys] == [
        "profile_completeness",
        "posts",
        "articles",
        "endorsements",
        "followers",
        "searches",
        "profile_views",
        "leads_saved",
        "active_days",
        "reactions",
        "comments",
        "shares",
        "messages",
        "response_rate",
        "groups",
        "connections",
        "acceptance_rate",
        "decision_makers",
    ]
    assert sum(pillars[p]["max_points"] for p in pillars) == 100


@pytest.mark.parametrize("role", ["integration", "read"])
def test_every_key_can_read_the_scoring_config(world: World, acme: ApiClient, role: str) -> None:
    response = client_for(world, role).get(CONFIG)
    assert response.status_code == 200
    assert without_meta(response.json()) == DEFAULT_CONFIG


# --- PUT /api/v1/scoring-config --------------------------------------------------------------------


def test_an_admin_put_makes_version_2(acme: ApiClient) -> None:
    config = default_config()
    config["window_days"] = 60
    config["half_life_days"] = None
    config["pillars"]["brand"]["signals"][1]["target"] = 6
    response = acme.put(CONFIG, config)
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert without_meta(response.json()) == config

    current = acme.get(CONFIG).json()
    assert current["version"] == 2
    assert without_meta(current) == config

    versions = acme.get(f"{CONFIG}/versions").json()
    assert [v["version"] for v in versions["results"]] == [2, 1]
    assert without_meta(versions["results"][1]) == DEFAULT_CONFIG
    assert without_meta(versions["results"][0]) == config


def test_every_put_is_a_new_version_even_when_nothing_changed(acme: ApiClient) -> None:
    for expected in (2, 3):
        response = acme.put(CONFIG, default_config())
        assert response.json()["version"] == expected
    assert [v["version"] for v in acme.get(f"{CONFIG}/versions").json()["results"]] == [3, 2, 1]


def test_signals_may_be_added_and_removed(acme: ApiClient) -> None:
    config = default_config()
    config["pillars"]["engage"]["signals"] = [count("reactions", ["post_liked"], 30, 1)]
    config["pillars"]["brand"]["signals"].append(
        {"key": "brand_days", "kind": "active_days", "types": ["post_published"], "target": 10, "weight": 1}
    )
    response = acme.put(CONFIG, config)
    assert response.status_code == 200, response.content
    assert without_meta(acme.get(CONFIG).json()) == config


def test_max_points_may_be_redistributed_if_they_add_up_to_100(acme: ApiClient) -> None:
    config = default_config()
    config["pillars"]["brand"]["max_points"] = 40
    config["pillars"]["find"]["max_points"] = 10
    response = acme.put(CONFIG, config)
    assert response.status_code == 200, response.content
    assert acme.get(CONFIG).json()["pillars"]["brand"]["max_points"] == 40


def test_the_config_read_can_be_sent_back_as_it_is(acme: ApiClient) -> None:
    body = acme.get(CONFIG).json()
    body["window_days"] = 60
    response = acme.put(CONFIG, body)
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2


def _set(config: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


@pytest.mark.parametrize(
    ("path", "value", "attr"),
    [
        ("pillars.engage.signals.4.target", 0, "pillars.engage.signals.4.target"),
        ("pillars.engage.signals.4.target", -1, "pillars.engage.signals.4.target"),
        ("pillars.brand.signals.1.weight", 0, "pillars.brand.signals.1.weight"),
        ("pillars.brand.max_points", 30, "pillars"),
        ("pillars.brand.signals.1.types", ["tweet_posted"], "pillars.brand.signals.1.types.0"),
        ("pillars.engage.signals.4.numerator", ["nope"], "pillars.engage.signals.4.numerator.0"),
        ("pillars.find.signals.0.kind", "sum", "pillars.find.signals.0.kind"),
        ("pillars.find.signals.1.key", "searches", "pillars.find.signals.1.key"),
        ("pillars.relationships.signals", [], "pillars.relationships.signals"),
        ("window_days", 6, "window_days"),
        ("window_days", 366, "window_days"),
        ("half_life_days", 0, "half_life_days"),
        ("half_life_days", 400, "half_life_days"),
        ("custom_event_types", [{"name": "post_published", "xp": 1}], "custom_event_types.0.name"),
        ("custom_event_types", [{"name": "Bad Name"}], "custom_event_types.0.name"),
        ("pillars.brand.colour", "blue", "pillars.brand.colour"),
    ],
)
def test_an_invalid_config_is_a_400_naming_the_field_and_changes_nothing(
    acme: ApiClient, path: str, value: Any, attr: str
) -> None:
    config = default_config()
    _set(config, path, value)
    assert_error(acme.put(CONFIG, config), 400, attr=attr)
    current = acme.get(CONFIG).json()
    assert current["version"] == 1
    assert without_meta(current) == DEFAULT_CONFIG


def test_max_points_not_adding_to_100_is_refused(acme: ApiClient) -> None:
    config = default_config()
    config["pillars"]["relationships"]["max_points"] = 20
    body = assert_error(acme.put(CONFIG, config), 400, attr="pillars")
    assert "100" in body["errors"][0]["detail"]
    assert current_version(acme) == 1


def with_signals(config: dict[str, Any], pillar: str, n: int) -> dict[str, Any]:
    """``config`` with ``n`` count signals in ``pillar``."""
    config["pillars"][pillar]["signals"] = [
        count(f"{pillar}_{i}", ["post_published"], 5, 1) for i in range(n)
    ]
    return config


def test_12_signals_a_pillar_are_accepted_and_a_13th_is_a_400(acme: ApiClient) -> None:
    assert acme.put(CONFIG, with_signals(default_config(), "engage", 12)).status_code == 200
    response = acme.put(CONFIG, with_signals(default_config(), "engage", 13))
    assert_error(response, 400, code="too_many", attr="pillars.engage.signals")
    assert current_version(acme) == 2


def test_a_version_saved_under_a_wider_bound_keeps_scoring(acme: ApiClient) -> None:
    """50 signals a pillar were allowed once: such a version is still read, ingested with and
    scored with, and can be replaced."""
    from scoring.models import ScoringConfig

    with in_tenant("acme"):
        ScoringConfig.objects.create(version=2, config=with_signals(default_config(), "brand", 50))
    assert len(acme.get(CONFIG).json()["pillars"]["brand"]["signals"]) == 50
    event = {"id": "wide-1", "rep": "ann", "type": "post_published", "occurred_at": f"{DAY}T09:00:00Z"}
    assert acme.post("/api/v1/activities", {"events": [event]}).json()["accepted"] == 1
    with in_tenant("acme") as tenant:
        scored = scores_compute_day(tenant=tenant, day=date.fromisoformat(DAY))
    assert (scored.reps, scored.config_version) == (1, 2)
    preview = acme.post(f"{CONFIG}/preview", {"config": default_config(), "date": DAY})
    assert preview.status_code == 200, preview.content
    assert acme.put(CONFIG, default_config()).status_code == 200


def test_a_config_missing_a_pillar_is_refused(acme: ApiClient) -> None:
    config = default_config()
    del config["pillars"]["engage"]
    assert_error(acme.put(CONFIG, config), 400, code="required", attr="pillars.engage")
    assert current_version(acme) == 1


@pytest.mark.parametrize("body", [[], "config", {"pillars": {}}])
def test_a_body_that_is_no_config_is_a_400(acme: ApiClient, body: Any) -> None:
    assert_error(acme.put(CONFIG, body), 400)
    assert current_version(acme) == 1


@pytest.mark.parametrize("role", ["integration", "read"])
def test_only_admins_may_change_the_scoring_config(world: World, acme: ApiClient, role: str) -> None:
    config = default_config()
    config["window_days"] = 30
    assert_error(client_for(world, role).put(CONFIG, config), 403, code="permission_denied")
    assert current_version(acme) == 1
    assert acme.get(f"{CONFIG}/versions").json()["count"] == 1


@pytest.mark.parametrize("role", ["integration", "read"])
def test_every_key_can_list_the_versions(world: World, role: str, acme: ApiClient) -> None:
    response = client_for(world, role).get(f"{CONFIG}/versions")
    assert response.status_code == 200
    assert [v["version"] for v in response.json()["results"]] == [1]


# --- POST /api/v1/scoring-config/preview -----------------------------------------------------------

DAY = "2026-03-10"


def _ingest_for_preview(client: ApiClient) -> None:
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
    assert client.post("/api/v1/activities", {"events": events}).json()["accepted"] == 3


def test_preview_scores_a_draft_config_without_saving_anything(acme: ApiClient) -> None:
    _ingest_for_preview(acme)
    draft = default_config()
    draft["pillars"]["brand"]["max_points"] = 40
    draft["pillars"]["find"]["max_points"] = 10
    response = acme.post(f"{CONFIG}/preview", {"config": draft, "date": DAY, "reps": ["ann"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["date"] == DAY
    (ann,) = body["results"]
    assert ann["rep"] == "ann"
    # brand = 40 * (3 * 80/100 + 2 * 2/12) / 8; find = 10 * 3 * (1/45) / 8 (one active day)
    brand = 40 * (3 * 0.8 + 2 * (2 / 12)) / 8
    find = 10 * 3 * (1 / 45) / 8
    assert ann["pillars"]["brand"] == pytest.approx(brand, abs=0.005)
    assert ann["pillars"]["find"] == pytest.approx(find, abs=0.005)
    assert ann["pillars"]["engage"] == 0
    assert ann["pillars"]["relationships"] == 0
    assert ann["ssi"] == pytest.approx(brand + find, abs=0.005)

    # Nothing saved: no new version, no snapshot.
    assert current_version(acme) == 1
    assert acme.get(f"{CONFIG}/versions").json()["count"] == 1
    assert_error(acme.get("/api/v1/reps/ann/ssi", {"date": DAY}), 404)
    with in_tenant("acme"):
        assert ScoreSnapshot.objects.count() == 0


def test_preview_without_reps_scores_every_active_rep(acme: ApiClient) -> None:
    _ingest_for_preview(acme)
    with in_tenant("acme"):
        RepFactory.create(external_id="gone", active=False)
    body = acme.post(f"{CONFIG}/preview", {"config": default_config(), "date": DAY}).json()
    assert sorted(r["rep"] for r in body["results"]) == ["ann", "bob"]
    by_rep = {r["rep"]: r for r in body["results"]}
    assert by_rep["ann"]["ssi"] == pytest.approx(
        25 * (3 * 0.8 + 2 * (2 / 12)) / 8 + 25 * 3 / 45 / 8, abs=0.005
    )
    assert by_rep["bob"]["ssi"] == 0


def test_preview_with_an_invalid_config_is_a_400_naming_the_field(acme: ApiClient) -> None:
    draft = default_config()
    draft["pillars"]["engage"]["signals"][4]["target"] = 0
    response = acme.post(f"{CONFIG}/preview", {"config": draft, "date": DAY})
    assert_error(response, 400, attr="config.pillars.engage.signals.4.target")


def test_preview_of_a_config_over_the_bounds_is_a_400_naming_the_field(acme: ApiClient) -> None:
    response = acme.post(f"{CONFIG}/preview", {"config": with_signals(default_config(), "find", 13)})
    assert_error(response, 400, code="too_many", attr="config.pillars.find.signals")


def test_preview_of_an_unknown_rep_is_a_400(acme: ApiClient) -> None:
    response = acme.post(f"{CONFIG}/preview", {"config": default_config(), "date": DAY, "reps": ["nobody"]})
    assert_error(response, 400, code="unknown_rep", attr="reps.0")


def test_preview_needs_a_config(acme: ApiClient) -> None:
    assert_error(acme.post(f"{CONFIG}/preview", {"date": DAY}), 400, code="required", attr="config")


def test_preview_with_a_bad_date_is_a_400(acme: ApiClient) -> None:
    response = acme.post(f"{CONFIG}/preview", {"config": default_config(), "date": "10/03/2026"})
    assert_error(response, 400, attr="date")


# --- a preview of many reps: a job, its answer paged --------------------------------------------------


def _reps(n: int, prefix: str = "many") -> list[str]:
    """``n`` active reps more in acme (``prefix-000``…), in one INSERT."""
    names = [f"{prefix}-{i:03}" for i in range(n)]
    with in_tenant("acme"):
        Rep.objects.bulk_create([RepFactory.build(external_id=name) for name in names])
    return names


def test_the_preview_pages_its_answer_as_other_lists(acme: ApiClient) -> None:
    _ingest_for_preview(acme)  # ann (rank 1) and bob
    _reps(3)
    body = {"config": default_config(), "date": DAY}
    first = acme.post(f"{CONFIG}/preview?page_size=2", body).json()
    assert (first["count"], first["reps"], first["date"]) == (5, 5, DAY)
    assert [r["rep"] for r in first["results"]] == ["ann", "bob"]
    assert first["previous"] is None and "page=2" in first["next"] and "page_size=2" in first["next"]
    last = acme.post(f"{CONFIG}/preview?page=3&page_size=2", body).json()
    assert [(r["rep"], r["rank"]) for r in last["results"]] == [("many-002", 2)]  # ranked among all 5
    assert last["next"] is None
    assert_error(acme.post(f"{CONFIG}/preview?page_size=0", body), 400, attr="page_size")
    assert len(acme.post(f"{CONFIG}/preview?page_size=1000", body).json()["results"]) == 5  # capped at 500


def test_a_preview_of_200_reps_answers_at_once_and_of_201_is_a_job(acme: ApiClient) -> None:
    names = _reps(INLINE_REPS)
    inline = acme.post(f"{CONFIG}/preview", {"config": default_config(), "date": DAY})
    assert inline.status_code == 200, inline.content
    assert inline.json()["count"] == INLINE_REPS and len(inline.json()["results"]) == 50

    _reps(1, prefix="one-more")
    response = acme.post(f"{CONFIG}/preview", {"config": default_config(), "date": DAY})
    assert response.status_code == 202, response.content
    job = response.json()["job"]
    assert job["status"] == "queued" and set(job) == {"id", "status"}
    assert acme.get(f"/api/v1/jobs/{job['id']}").json()["kind"] == "preview"
    # A named list of more than 200 reps is a job too.
    named = acme.post(f"{CONFIG}/preview", {"config": default_config(), "reps": [*names, "one-more-000"]})
    assert named.status_code == 202, named.content


def run_preview_job(job_id: str) -> None:
    """What the worker does with the job (here the transaction never commits, so nothing runs it)."""
    from scoring.services.jobs import job_run

    with in_tenant("acme") as tenant:
        job_run(tenant=tenant, job_id=job_id)


def test_a_preview_jobs_answer_is_read_a_page_at_a_time_once_it_succeeded(acme: ApiClient) -> None:
    _ingest_for_preview(acme)
    _reps(INLINE_REPS)
    with in_tenant("acme"):
        RepFactory.create(external_id="gone", active=False)
    draft = default_config()
    draft["pillars"]["brand"]["max_points"] = 40
    draft["pillars"]["find"]["max_points"] = 10
    job_id = acme.post(f"{CONFIG}/preview", {"config": draft, "date": DAY}).json()["job"]["id"]
    assert_error(acme.get(f"/api/v1/jobs/{job_id}/results"), 409, code="job_not_finished")

    run_preview_job(job_id)

    job = acme.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job
    assert job["result"] == {"date": DAY, "reps": INLINE_REPS + 2}
    assert job["progress"] == {"done": INLINE_REPS + 2, "total": INLINE_REPS + 2}
    page = acme.get(f"/api/v1/jobs/{job_id}/results", {"page_size": 100}).json()
    assert (page["date"], page["count"], page["reps"], len(page["results"])) == (DAY, 202, 202, 100)
    ann = page["results"][0]
    assert (ann["rep"], ann["rank"], ann["current_ssi"]) == ("ann", 1, None)
    # The draft's numbers, as in test_preview_scores_a_draft_config_without_saving_anything.
    assert ann["ssi"] == pytest.approx(40 * (3 * 0.8 + 2 * (2 / 12)) / 8 + 10 * 3 * (1 / 45) / 8, abs=0.005)
    last = acme.get(f"/api/v1/jobs/{job_id}/results", {"page": 3, "page_size": 100}).json()
    assert [(r["rep"], r["rank"], r["ssi"]) for r in last["results"]] == [
        ("many-198", 2, 0),
        ("many-199", 2, 0),
    ]
    every = [r["rep"] for n in (1, 2, 3) for r in acme.get(
        f"/api/v1/jobs/{job_id}/results", {"page": n, "page_size": 100}).json()["results"]]  # fmt: skip
    assert len(every) == len(set(every)) == 202 and "gone" not in every
    # Nothing saved as scores, nor as a config.
    assert current_version(acme) == 1
    with in_tenant("acme"):
        assert ScoreSnapshot.objects.count() == 0


def test_a_preview_job_of_named_reps_previews_those(acme: ApiClient) -> None:
    names = _reps(INLINE_REPS + 1)
    asked = names[::-1]  # any order, repeats allowed
    response = acme.post(f"{CONFIG}/preview", {"config": default_config(), "reps": [*asked, names[0]]})
    job_id = response.json()["job"]["id"]
    run_preview_job(job_id)
    page = acme.get(f"/api/v1/jobs/{job_id}/results", {"page_size": 500}).json()
    assert sorted(r["rep"] for r in page["results"]) == names


def test_only_a_succeeded_preview_job_has_results(acme: ApiClient, world: World) -> None:
    recompute = acme.post("/api/v1/scores/recompute", {}).json()["job"]["id"]
    assert_error(acme.get(f"/api/v1/jobs/{recompute}/results"), 404, code="no_results")
    assert_error(acme.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000/results"), 404)
    _reps(INLINE_REPS + 1)
    job_id = acme.post(f"{CONFIG}/preview", {"config": default_config()}).json()["job"]["id"]
    run_preview_job(job_id)
    for role in ("integration", "read"):
        answer = client_for(world, role).get(f"/api/v1/jobs/{job_id}/results")
        assert_error(answer, 403, code="permission_denied")


# --- /api/v1/settings ------------------------------------------------------------------------------


def test_settings_have_the_documented_defaults(acme: ApiClient, globex: ApiClient) -> None:
    response = acme.get(SETTINGS)
    assert response.status_code == 200, response.content
    assert response.json() == {"timezone": "Europe/Berlin", **DEFAULT_SETTINGS}
    assert globex.get(SETTINGS).json() == {"timezone": "America/New_York", **DEFAULT_SETTINGS}


def test_patch_changes_only_the_settings_it_names(acme: ApiClient) -> None:
    changes = {
        "auto_create_reps": False,
        "recompute_hour": 23,
        "streak_mode": "daily",
        "leaderboard_names": "anonymous",
        "xp_per_type": {"post_published": 20, "message_received": 0},
        "level_thresholds": [0, 50, 150],
        "embed_origins": ["https://app.acme.example"],
        "daily_caps": {"post_published": 5},
        "fair_play_factor": 4.5,
        "challenges_enabled": False,
        "challenge_accept_hours": 24,
        "challenge_xp": 75,
        "industry": "software-it",
        "benchmark": True,
    }
    response = acme.patch(SETTINGS, changes)
    assert response.status_code == 200, response.content
    assert response.json() == {"timezone": "Europe/Berlin", **changes}
    assert acme.get(SETTINGS).json() == {"timezone": "Europe/Berlin", **changes}

    again = acme.patch(SETTINGS, {"recompute_hour": 0})
    assert again.json() == {"timezone": "Europe/Berlin", **changes, "recompute_hour": 0}


def test_patch_can_change_the_time_zone(acme: ApiClient) -> None:
    response = acme.patch(SETTINGS, {"timezone": "Asia/Tokyo"})
    assert response.status_code == 200, response.content
    assert acme.get(SETTINGS).json()["timezone"] == "Asia/Tokyo"


def test_a_time_zone_change_re_dates_stored_events(
    acme: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    event = {"id": "e-1", "rep": "ann", "type": "post_published", "occurred_at": "2026-03-09T23:30:00Z"}
    acme.post("/api/v1/activities", {"events": [event]})
    assert acme.get("/api/v1/activities").json()["results"][0]["local_day"] == "2026-03-10"
    with django_capture_on_commit_callbacks(execute=True):
        assert acme.patch(SETTINGS, {"timezone": "UTC"}).status_code == 200
    assert acme.get("/api/v1/activities").json()["results"][0]["local_day"] == "2026-03-09"


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"recompute_hour": 24}, "recompute_hour"),
        ({"recompute_hour": -1}, "recompute_hour"),
        ({"recompute_hour": "2"}, "recompute_hour"),
        ({"recompute_hour": 2.5}, "recompute_hour"),
        ({"streak_mode": "x"}, "streak_mode"),
        ({"leaderboard_names": "initials"}, "leaderboard_names"),
        ({"auto_create_reps": "yes"}, "auto_create_reps"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"level_thresholds": [0, 100, 100]}, "level_thresholds.2"),
        ({"level_thresholds": [0, 300, 200]}, "level_thresholds.2"),
        ({"level_thresholds": [10, 100]}, "level_thresholds.0"),
        ({"level_thresholds": []}, "level_thresholds"),
        ({"level_thresholds": [0, -5]}, "level_thresholds.1"),
        ({"xp_per_type": {"tweet_posted": 5}}, "xp_per_type.tweet_posted"),
        ({"xp_per_type": {"post_published": -1}}, "xp_per_type.post_published"),
        ({"xp_per_type": [1, 2]}, "xp_per_type"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_setting_is_a_400_naming_the_field(acme: ApiClient, changes: dict[str, Any], attr: str) -> None:
    assert_error(acme.patch(SETTINGS, changes), 400, attr=attr)
    assert acme.get(SETTINGS).json() == {"timezone": "Europe/Berlin", **DEFAULT_SETTINGS}


def test_a_bad_patch_changes_nothing_even_the_good_fields(acme: ApiClient) -> None:
    response = acme.patch(
        SETTINGS, {"recompute_hour": 5, "timezone": "UTC", "auto_create_reps": False, "streak_mode": "x"}
    )
    assert_error(response, 400, attr="streak_mode")
    assert acme.get(SETTINGS).json() == {"timezone": "Europe/Berlin", **DEFAULT_SETTINGS}


def test_a_patch_body_that_is_not_an_object_is_a_400(acme: ApiClient) -> None:
    assert_error(acme.patch(SETTINGS, ["recompute_hour", 3]), 400)
    assert acme.get(SETTINGS).json()["recompute_hour"] == 2


def test_xp_per_type_accepts_a_custom_type_of_the_scoring_config(acme: ApiClient) -> None:
    assert_error(acme.patch(SETTINGS, {"xp_per_type": {"webinar_hosted": 7}}), 400)
    config = default_config()
    config["custom_event_types"] = [{"name": "webinar_hosted", "xp": 10}]
    assert acme.put(CONFIG, config).status_code == 200
    response = acme.patch(SETTINGS, {"xp_per_type": {"webinar_hosted": 7}})
    assert response.status_code == 200, response.content
    assert response.json()["xp_per_type"] == {"webinar_hosted": 7}


@pytest.mark.parametrize("role", ["integration", "read"])
def test_only_admins_may_read_or_change_settings(world: World, acme: ApiClient, role: str) -> None:
    client = client_for(world, role)
    assert_error(client.get(SETTINGS), 403, code="permission_denied")
    assert_error(client.patch(SETTINGS, {"recompute_hour": 5}), 403, code="permission_denied")
    assert acme.get(SETTINGS).json()["recompute_hour"] == 2


def test_settings_without_a_token_are_a_401(world: World, db: None) -> None:
    assert_error(Client().get(SETTINGS, HTTP_HOST=world.acme.host), 401)


# --- GET /api/v1/event-types -----------------------------------------------------------------------


def test_event_types_lists_the_20_catalog_types_with_their_default_xp(acme: ApiClient) -> None:
    response = acme.get("/api/v1/event-types")
    assert response.status_code == 200, response.content
    rows = response.json()
    assert {r["name"]: r["xp"] for r in rows} == CATALOG_XP
    assert len(rows) == 20
    assert all(r["custom"] is False and r["description"] for r in rows)
    assert next(r for r in rows if r["name"] == "post_published")["xp"] == 10


def test_event_types_include_custom_types_of_the_scoring_config(acme: ApiClient) -> None:
    config = default_config()
    config["custom_event_types"] = [{"name": "webinar_hosted", "xp": 12}, {"name": "demo_booked"}]
    assert acme.put(CONFIG, config).status_code == 200
    rows = acme.get("/api/v1/event-types").json()
    assert len(rows) == 22
    custom = {r["name"]: r for r in rows if r["custom"]}
    assert {name: r["xp"] for name, r in custom.items()} == {"webinar_hosted": 12, "demo_booked": 0}


def test_event_types_show_the_tenants_xp_overrides(acme: ApiClient) -> None:
    assert acme.patch(SETTINGS, {"xp_per_type": {"post_published": 50}}).status_code == 200
    rows = acme.get("/api/v1/event-types").json()
    assert next(r for r in rows if r["name"] == "post_published")["xp"] == 50
    assert next(r for r in rows if r["name"] == "post_liked")["xp"] == 1


@pytest.mark.parametrize("role", ["integration", "read"])
def test_every_key_can_list_event_types(world: World, db: None, role: str) -> None:
    response = client_for(world, role).get("/api/v1/event-types")
    assert response.status_code == 200
    assert len(response.json()) == 20


# --- a tenant deleted and created again ------------------------------------------------------------


def test_a_recreated_tenant_does_not_inherit_the_old_tenants_scoring_config(platform: ApiClient) -> None:
    def create() -> ApiClient:
        response = platform.post("/api/v1/platform/tenants", {"slug": "initech", "name": "Initech"})
        assert response.status_code == 201, response.content
        return ApiClient("initech.localhost", response.json()["admin_key"])

    def put_custom_type(client: ApiClient, name: str) -> None:
        config = default_config()
        config["custom_event_types"] = [{"name": name, "xp": 1}]
        response = client.put(CONFIG, config)
        assert response.status_code == 200, response.content
        assert response.json()["version"] == 2

    old = create()
    put_custom_type(old, "webinar_hosted")
    assert any(r["name"] == "webinar_hosted" for r in old.get("/api/v1/event-types").json())
    assert platform.delete("/api/v1/platform/tenants/initech?purge=now&confirm=initech").status_code == 204

    new = create()
    put_custom_type(new, "demo_booked")
    names = {r["name"] for r in new.get("/api/v1/event-types").json() if r["custom"]}
    assert names == {"demo_booked"}
    event = {"id": "e-1", "rep": "r-1", "type": "demo_booked", "occurred_at": "2026-03-10T10:00:00Z"}
    assert new.post("/api/v1/activities", {"events": [event]}).json()["accepted"] == 1
