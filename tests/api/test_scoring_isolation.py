"""Two tenants, scoring side: one tenant's keys are worthless on the other's host (or through
``X-Tenant``) for every ingestion, scoring and score endpoint, and change nothing there; data
of one tenant is invisible from the other.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from scoring.models import IdempotencyRecord, Job, ScoredDay, ScoreSnapshot
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 10)
DAY = D.isoformat()


def _config_body() -> dict[str, Any]:
    """A valid scoring config (the default's shape, with one custom type added)."""
    signal = {"kind": "count", "types": ["post_published"], "target": 10, "weight": 1}
    pillars = {
        name: {"max_points": 25, "signals": [{**signal, "key": f"{name}_posts"}]}
        for name in ("brand", "find", "engage", "relationships")
    }
    return {
        "window_days": 30,
        "half_life_days": None,
        "custom_event_types": [{"name": "intruder_event", "xp": 100}],
        "pillars": pillars,
    }


def _event(id: str = "intruder-1", rep: str = "g-1") -> dict[str, Any]:
    return {"id": id, "rep": rep, "type": "post_published", "occurred_at": f"{DAY}T10:00:00Z"}


# (method, path, body): every scoring endpoint of a tenant host.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("get", "/api/v1/activities", None),
    ("post", "/api/v1/activities", {"events": [_event(), _event("intruder-2", rep="intruder")]}),
    ("get", "/api/v1/scoring-config", None),
    ("put", "/api/v1/scoring-config", _config_body()),
    ("get", "/api/v1/scoring-config/versions", None),
    ("post", "/api/v1/scoring-config/preview", {"config": _config_body(), "date": DAY}),
    ("get", "/api/v1/settings", None),
    ("patch", "/api/v1/settings", {"auto_create_reps": False, "timezone": "UTC", "recompute_hour": 5}),
    ("get", "/api/v1/event-types", None),
    ("post", "/api/v1/scores/recompute", {"date": DAY}),
    ("get", "/api/v1/jobs/{job}", None),
    ("get", "/api/v1/reps/{rep}/ssi", None),
    ("get", "/api/v1/reps/{rep}/ssi/history", None),
    ("get", "/api/v1/reps/{rep}/ssi/explain", None),
    ("get", "/api/v1/scores", None),
]
ENDPOINT_IDS = [f"{method.upper()} {path}" for method, path, _ in ENDPOINTS]


def call(client: ApiClient, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    if method == "get":
        return client.get(path, headers=headers)
    return getattr(client, method)(path, body, headers=headers)


@pytest.fixture
def globex_objects(globex: ApiClient, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """globex's own data: a rep with an event, a scored day, a finished job."""
    with in_tenant("globex"):
        RepFactory.create(external_id="g-1")
    response = globex.post("/api/v1/activities", {"events": [_event("g-event-1")]})
    assert response.json()["accepted"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        job = globex.post("/api/v1/scores/recompute", {"date": DAY}).json()["job"]
    assert globex.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "succeeded"
    return {"rep": "g-1", "job": job["id"]}


def globex_state(globex: ApiClient) -> dict[str, Any]:
    """Everything globex's admin can see that an intruder's call could change."""
    with in_tenant("globex"):
        database = {
            "jobs": sorted(
                (str(j.id), j.status, j.attempts, j.progress_done) for j in Job.objects.order_by("id")
            ),
            "snapshots": sorted(ScoreSnapshot.objects.values_list("rep__external_id", "day", "ssi")),
            "days": sorted(ScoredDay.objects.values_list("day", "config_version", "computed_at")),
            "idempotency": IdempotencyRecord.objects.count(),
        }
    return {
        "activities": globex.get("/api/v1/activities").json(),
        "config": globex.get("/api/v1/scoring-config").json(),
        "versions": globex.get("/api/v1/scoring-config/versions").json(),
        "settings": globex.get("/api/v1/settings").json(),
        "event_types": globex.get("/api/v1/event-types").json(),
        "reps": globex.get("/api/v1/reps").json(),
        "scores": globex.get("/api/v1/scores", {"date": DAY}).json(),
        **database,
    }


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("role", ["admin", "integration", "read"])
@pytest.mark.parametrize("route", ["host", "x-tenant"])
def test_it_denies_cross_tenant_access_to_every_scoring_endpoint(
    world: World,
    globex: ApiClient,
    globex_objects: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    route: str,
    role: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = globex_state(globex)
    token = getattr(world.acme, role)
    if route == "host":
        intruder = ApiClient(world.globex.host, token)
    else:
        intruder = ApiClient(PLATFORM_HOST, token, headers={"X-Tenant": "globex"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = call(intruder, method, path.format(**globex_objects), body, {"Idempotency-Key": "k-1"})
    assert_error(response, 401, code="invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert callbacks == []  # no job enqueued, no time zone change scheduled
    assert globex_state(globex) == before


def test_acme_keys_still_work_on_acme(world: World, acme: ApiClient) -> None:
    # The control of the test above: the same calls with the right host are not 401.
    for role in ("admin", "integration", "read"):
        response = ApiClient(world.acme.host, getattr(world.acme, role)).get("/api/v1/activities")
        assert response.status_code == 200, role


# --- data of one tenant is invisible from the other -----------------------------------------------


@pytest.fixture
def acme_data(acme: ApiClient, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """acme ingests for a rep that only it has, scores a day and runs a job."""
    events = [
        {
            "id": "a-1",
            "rep": "acme-rep",
            "type": "profile_updated",
            "occurred_at": f"{DAY}T09:00:00Z",
            "value": 90,
        },
        {"id": "a-2", "rep": "acme-rep", "type": "post_published", "occurred_at": f"{DAY}T10:00:00Z"},
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        job = acme.post("/api/v1/scores/recompute", {"date": DAY}).json()["job"]
    assert acme.get(f"/api/v1/jobs/{job['id']}").json()["status"] == "succeeded"
    assert acme.get("/api/v1/reps/acme-rep/ssi", {"date": DAY}).status_code == 200
    return {"rep": "acme-rep", "job": job["id"], "events": ["a-1", "a-2"]}


def test_a_rep_created_by_acme_ingestion_does_not_exist_in_globex(
    globex: ApiClient, acme_data: dict[str, Any]
) -> None:
    assert_error(globex.get("/api/v1/reps/acme-rep"), 404)
    assert globex.get("/api/v1/reps").json()["count"] == 0


def test_acme_activities_are_not_in_globex_event_log(globex: ApiClient, acme_data: dict[str, Any]) -> None:
    assert globex.get("/api/v1/activities").json()["results"] == []
    assert globex.get("/api/v1/activities", {"rep": "acme-rep"}).json()["results"] == []


def test_acme_jobs_are_not_found_from_globex(globex: ApiClient, acme_data: dict[str, Any]) -> None:
    assert_error(globex.get(f"/api/v1/jobs/{acme_data['job']}"), 404)


def test_acme_scores_are_not_found_from_globex(globex: ApiClient, acme_data: dict[str, Any]) -> None:
    for path in ("ssi", "ssi/history", "ssi/explain"):
        assert_error(globex.get(f"/api/v1/reps/acme-rep/{path}", {"date": DAY}), 404)
    assert globex.get("/api/v1/scores", {"date": DAY}).json()["count"] == 0
    assert_error(globex.get("/api/v1/scores"), 404)  # globex has scored no day


def test_a_day_scored_in_globex_counts_only_globex_reps(globex: ApiClient, acme_data: dict[str, Any]) -> None:
    with in_tenant("globex") as tenant:
        RepFactory.create(external_id="g-1")
        scores_compute_day(tenant=tenant, day=D)
    body = globex.get("/api/v1/scores", {"date": DAY}).json()
    assert [r["rep"] for r in body["results"]] == ["g-1"]
    assert body["results"][0]["rank"]["tenant"]["of"] == 1
    assert body["results"][0]["ssi"] == 0


def test_the_same_event_id_in_two_tenants_is_not_a_duplicate(acme: ApiClient, globex: ApiClient) -> None:
    batch = {"events": [_event("shared-id", rep="someone")]}
    assert acme.post("/api/v1/activities", batch).json()["accepted"] == 1
    assert globex.post("/api/v1/activities", batch).json() == {"accepted": 1, "duplicates": 0, "rejected": []}


def test_the_same_idempotency_key_in_two_tenants_is_independent(acme: ApiClient, globex: ApiClient) -> None:
    headers = {"Idempotency-Key": "same-key"}
    assert (
        acme.post("/api/v1/activities", {"events": [_event("a-1")]}, headers=dict(headers)).status_code == 200
    )
    response = globex.post("/api/v1/activities", {"events": [_event("g-9")]}, headers=dict(headers))
    assert response.status_code == 200, response.content
    assert not response.has_header("Idempotent-Replayed")
    assert [a["id"] for a in globex.get("/api/v1/activities").json()["results"]] == ["g-9"]


def test_a_scoring_config_saved_in_acme_does_not_change_globex(acme: ApiClient, globex: ApiClient) -> None:
    assert acme.put("/api/v1/scoring-config", _config_body()).json()["version"] == 2
    assert globex.get("/api/v1/scoring-config").json()["version"] == 1
    assert "intruder_event" not in {t["name"] for t in globex.get("/api/v1/event-types").json()}
    event = {**_event("g-1"), "type": "intruder_event"}
    body = globex.post("/api/v1/activities", {"events": [event]}).json()
    assert body["rejected"][0]["errors"][0]["code"] == "unknown_type"


def test_a_globex_config_version_2_is_its_own(acme: ApiClient, globex: ApiClient) -> None:
    # Parsed configs are cached by version: globex's version 2 must not be acme's version 2.
    assert acme.put("/api/v1/scoring-config", _config_body()).json()["version"] == 2
    acme_event = {**_event("a-1"), "type": "intruder_event"}
    assert acme.post("/api/v1/activities", {"events": [acme_event]}).json()["accepted"] == 1

    plain = {**_config_body(), "custom_event_types": []}
    assert globex.put("/api/v1/scoring-config", plain).json()["version"] == 2
    globex_event = {**_event("g-1"), "type": "intruder_event"}
    body = globex.post("/api/v1/activities", {"events": [globex_event]}).json()
    assert body["accepted"] == 0
    assert body["rejected"][0]["errors"][0]["code"] == "unknown_type"


def test_settings_changed_in_acme_do_not_change_globex(acme: ApiClient, globex: ApiClient) -> None:
    before = globex.get("/api/v1/settings").json()
    assert acme.patch("/api/v1/settings", {"auto_create_reps": False, "recompute_hour": 7}).status_code == 200
    assert globex.get("/api/v1/settings").json() == before
    # globex still creates unknown reps.
    assert globex.post("/api/v1/activities", {"events": [_event("g-1", rep="fresh")]}).json()["accepted"] == 1
