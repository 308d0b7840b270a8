"""One object of every kind in a tenant, the path parameters that reach them, and a valid body
for every write.

Used by the schema fuzz (``tests/api/test_fuzz_schema.py``), the isolation proof
(``tests/api/test_isolation_every_operation.py``) and the unstorable-input probe
(``tests/api/test_unstorable_input.py``): an operation of the schema is called with the path
parameters of real objects, not only with ids that do not exist.
Call inside a test (the objects are rolled back with its transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.db import connection

from gamification.models import WebhookDelivery
from gamification.services.outbox import event_emit
from gamification.webhooks.services import outbox_dispatch
from scoring.engine import DEFAULT
from scoring.services.jobs import job_create, job_run, preview_job_create
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys, in_tenant


@cache
def schema_document() -> dict[str, Any]:
    """The OpenAPI document that ``/api/v1/schema/`` serves (``test_fuzz_schema`` checks it is)."""
    from drf_spectacular.generators import SchemaGenerator

    document: dict[str, Any] = SchemaGenerator(urlconf="config.urls_schema").get_schema(
        request=None, public=True
    )
    return document


def schema_operations() -> list[tuple[str, str]]:
    """Every (METHOD, path template) of the document."""
    methods = ("get", "post", "put", "patch", "delete")
    return [
        (method.upper(), path)
        for path, item in schema_document()["paths"].items()
        for method in methods
        if method in item
    ]


@dataclass(frozen=True)
class Objects:
    """A tenant's objects, by kind."""

    keys: TenantKeys
    team: int
    rep: str
    other_rep: str
    badge: str
    goal: int  # rep 1's
    other_goal: int  # rep 2's
    webhook: int
    delivery: str
    job: str
    preview_job: str  # succeeded: its answer is there
    export: str  # an export's job, queued
    api_key: int  # the tenant's `read` key: revocable, unlike the last admin key
    member: int  # a console member, invited
    contest: int  # a contest everyone takes part in
    series: int  # a recurring contest (monthly, from a future month)
    challenge: int  # rep 1 challenges rep 2, pending

    def path_parameters(self, path: str) -> dict[str, Any]:
        """The path parameters of ``path`` (a schema template) that point at these objects.

        A template with a parameter this does not know fails: a new endpoint
        must say here which object it reaches.
        """
        by_resource: dict[str, dict[str, Any]] = {
            "/api/v1/teams/{id}": {"id": self.team},
            "/api/v1/teams/{id}/ssi": {"id": self.team},
            "/api/v1/teams/{id}/ssi/history": {"id": self.team},
            "/api/v1/goals/{id}": {"id": self.goal},
            "/api/v1/contests/{id}": {"id": self.contest},
            "/api/v1/contests/{id}/cancel": {"id": self.contest},
            "/api/v1/contests/{id}/standings": {"id": self.contest},
            "/api/v1/contest-series/{id}": {"id": self.series},
            "/api/v1/challenges/{id}": {"id": self.challenge},
            "/api/v1/challenges/{id}/accept": {"id": self.challenge},
            "/api/v1/challenges/{id}/decline": {"id": self.challenge},
            "/api/v1/webhooks/{id}": {"id": self.webhook},
            "/api/v1/webhooks/{id}/deliveries": {"id": self.webhook},
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver": {
                "id": self.webhook,
                "delivery_id": self.delivery,
            },
            "/api/v1/api-keys/{id}": {"id": self.api_key},
            "/api/v1/members/{id}": {"id": self.member},
            "/api/v1/members/{id}/invite": {"id": self.member},
            "/api/v1/badges/{slug}": {"slug": self.badge},
            "/api/v1/jobs/{job_id}": {"job_id": self.job},
            "/api/v1/exports/{id}": {"id": self.export},
            "/api/v1/jobs/{job_id}/results": {"job_id": self.preview_job},
            "/api/v1/leaderboards/{metric}": {"metric": "xp"},
            "/api/v1/platform/tenants/{slug}": {"slug": self.keys.slug},
            "/api/v1/platform/tenants/{slug}/restore": {"slug": self.keys.slug},
        }
        if path in by_resource:
            return by_resource[path]
        if path.startswith("/api/v1/reps/{external_id}"):
            return {"external_id": self.rep}
        if "{" in path:
            raise AssertionError(f"{path}: no known object for its path parameters; add it to Objects")
        return {}


def make_objects(keys: TenantKeys) -> Objects:
    """Create them through the API (admin key) and the services, on ``keys``'s tenant."""
    admin = ApiClient(keys.host, keys.admin)

    def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = admin.post(path, body)
        assert response.status_code == 201, (path, response.content[:300])
        result: dict[str, Any] = response.json()
        return result

    team = created("/api/v1/teams", {"name": "Objects team"})["id"]
    rep = created("/api/v1/reps", {"external_id": "obj-rep-1", "name": "Rep One", "team": team})
    other = created("/api/v1/reps", {"external_id": "obj-rep-2", "name": "Rep Two", "team": team})
    goal, other_goal = (
        created(
            "/api/v1/goals",
            {
                "title": "SSI",
                "rep": of["external_id"],
                "metric": "ssi",
                "target": 50,
                "start_date": "2026-01-01",
                "end_date": "2026-12-31",
            },
        )["id"]
        for of in (rep, other)
    )
    webhook = created("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["*"]})["id"]
    member = created("/api/v1/members", {"email": "objects@example.com", "role": "viewer"})["id"]
    contest = created("/api/v1/contests", CONTEST)["id"]
    series = created("/api/v1/contest-series", SERIES)["id"]
    challenge = created("/api/v1/challenges", challenge_body(rep["external_id"], other["external_id"]))["id"]
    with in_tenant(keys.slug) as tenant:
        event_emit(type="level.up", data={"rep": rep["external_id"], "level": 2, "xp": 100})
        outbox_dispatch()
        delivery = str(
            WebhookDelivery.objects.filter(subscription_id=webhook).values_list("pk", flat=True)[0]
        )
        job = str(job_create(kind="recompute", days=[date(2026, 1, 1)]).id)
        preview_job = str(preview_job_create(config=DEFAULT, day=date(2026, 1, 1), rep_ids=None).id)
        job_run(tenant=tenant, job_id=preview_job)
        export = str(job_create(kind="export", days=[]).id)
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks of these inserts now, then defer again (as in
        # production): a DROP SCHEMA (DELETE of the tenant) refuses to run in a transaction with
        # pending trigger events, and in production it runs in a transaction of its own.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    read_key = next(k["id"] for k in admin.get("/api/v1/api-keys").json()["results"] if k["role"] == "read")
    return Objects(
        keys=keys,
        team=team,
        rep=rep["external_id"],
        other_rep=other["external_id"],
        badge="first-post",
        goal=goal,
        other_goal=other_goal,
        webhook=webhook,
        delivery=delivery,
        job=job,
        preview_job=preview_job,
        export=export,
        api_key=read_key,
        member=member,
        contest=contest,
        series=series,
        challenge=challenge,
    )


CRITERIA = {"metric": "xp", "op": ">=", "value": 1}
WEBHOOK = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
CONTEST = {
    "name": "Objects contest",
    "metric": "xp",
    "kind": "leaderboard",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "participants": {"all": True},
}
SERIES = {
    "name": "Objects series",
    "metric": "xp",
    "kind": "leaderboard",
    "participants": {"all": True},
    "every": "month",
    "starts_on": "2030-01-01",
}


def challenge_body(challenger: str, opponent: str) -> dict[str, Any]:
    """A challenge as an admin key creates it (a rep token may leave ``challenger`` out)."""
    return {
        "challenger": challenger,
        "opponent": opponent,
        "metric": "xp",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
    }


def write_bodies(objects: Objects, config: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """A valid body for each write of the schema, on these objects (None: the write takes none),
    as an admin key sends it. ``config`` is the tenant's scoring config without its version."""
    goal = {
        "title": "Isolation",
        "rep": objects.rep,
        "metric": "ssi",
        "target": 10,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }
    event = {
        "id": "iso-1",
        "rep": objects.rep,
        "type": "post_published",
        "occurred_at": "2026-01-01T10:00:00Z",
    }
    return {
        ("POST", "/api/v1/activities"): {"events": [event]},
        ("POST", "/api/v1/api-keys"): {"name": "isolation", "role": "read"},
        ("DELETE", "/api/v1/api-keys/{id}"): None,
        ("POST", "/api/v1/badges"): {"slug": "isolation", "name": "Isolation", "criteria": CRITERIA},
        ("POST", "/api/v1/badges/preview"): {"slug": objects.badge, "changes": {"criteria": CRITERIA}},
        ("PUT", "/api/v1/badges/{slug}"): {"slug": objects.badge, "name": "Renamed", "criteria": CRITERIA},
        ("PATCH", "/api/v1/badges/{slug}"): {"name": "Renamed"},
        ("DELETE", "/api/v1/badges/{slug}"): None,
        ("POST", "/api/v1/members"): {"email": "isolation@example.com", "role": "viewer"},
        ("PATCH", "/api/v1/members/{id}"): {"role": "manager"},
        ("DELETE", "/api/v1/members/{id}"): None,
        ("POST", "/api/v1/members/{id}/invite"): {},
        ("POST", "/api/v1/contests"): CONTEST,
        ("PATCH", "/api/v1/contests/{id}"): {"name": "Renamed"},
        ("POST", "/api/v1/contests/{id}/cancel"): {},
        ("POST", "/api/v1/contest-series"): SERIES,
        ("PATCH", "/api/v1/contest-series/{id}"): {"active": False},
        ("DELETE", "/api/v1/contest-series/{id}"): None,
        ("POST", "/api/v1/challenges"): challenge_body(objects.rep, objects.other_rep),
        ("POST", "/api/v1/challenges/{id}/accept"): {},
        ("POST", "/api/v1/challenges/{id}/decline"): {},
        ("POST", "/api/v1/exports"): {},
        ("POST", "/api/v1/goals"): goal,
        ("PATCH", "/api/v1/goals/{id}"): {"title": "Renamed"},
        ("DELETE", "/api/v1/goals/{id}"): None,
        ("POST", "/api/v1/rep-tokens"): {"rep": objects.rep},
        ("POST", "/api/v1/rep-tokens/revoke"): {"rep": objects.rep},
        ("POST", "/api/v1/reps"): {"external_id": "iso-new", "name": "New"},
        ("PUT", "/api/v1/reps/{external_id}"): {"name": "Renamed", "team": objects.team},
        ("PATCH", "/api/v1/reps/{external_id}"): {"name": "Renamed"},
        ("DELETE", "/api/v1/reps/{external_id}"): None,
        ("POST", "/api/v1/scores/recompute"): {},
        ("PUT", "/api/v1/scoring-config"): config,
        ("POST", "/api/v1/scoring-config/preview"): {"config": config},
        ("PATCH", "/api/v1/settings"): {"auto_create_reps": True},
        ("POST", "/api/v1/teams"): {"name": "Isolation"},
        ("PUT", "/api/v1/teams/{id}"): {"name": "Renamed"},
        ("PATCH", "/api/v1/teams/{id}"): {"name": "Renamed"},
        ("DELETE", "/api/v1/teams/{id}"): None,
        ("POST", "/api/v1/webhooks"): WEBHOOK,
        ("PUT", "/api/v1/webhooks/{id}"): WEBHOOK,
        ("PATCH", "/api/v1/webhooks/{id}"): {"active": True},
        ("DELETE", "/api/v1/webhooks/{id}"): None,
        ("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver"): {},
    }
