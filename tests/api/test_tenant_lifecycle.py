"""A tenant's end, with nothing lost by a slip: ``DELETE /api/v1/platform/tenants/{slug}``
suspends, ``POST .../restore`` brings it back with its data, and the schema is dropped only by
``?purge=now&confirm=<slug>`` or by beat once ``purge_after`` has passed
(docs/operations.md, "Suspending, restoring and purging a tenant").

Every tenant suspended or purged here is a throwaway one made in the test's transaction (rolled
back after it); the shared ``acme`` and ``globex`` are only read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from access.actor import SYSTEM
from console.pages.me import REP_COOKIE
from core.db import connection
from provisioning.lifecycle import tenant_suspend, tenants_purge_due
from provisioning.tasks import purge_suspended_tenants
from tenants.models import Tenant
from tests.support.console import ConsoleClient, member_signed_in
from tests.support.http import ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import TenantKeys, World, in_tenant, make_tenant

TENANTS = "/api/v1/platform/tenants"
# 2026-03-02 08:00 UTC: a moment to suspend at, so the purge's dates are hand-computed.
SUSPENDED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


@pytest.fixture
def doomed(world: World, db: None) -> TenantKeys:
    """A throwaway tenant (rolled back with the test) with a team, a rep and one event."""
    keys = make_tenant("lc-doomed", "Doomed Ltd", "UTC")
    connection.set_schema_to_public()
    admin = ApiClient(keys.host, keys.admin)
    assert admin.post("/api/v1/reps", {"external_id": "ann", "name": "Ann"}).status_code == 201
    stored = admin.post(
        "/api/v1/activities",
        {
            "events": [
                {"id": "e-1", "rep": "ann", "type": "post_published", "occurred_at": "2026-01-05T09:00:00Z"}
            ]
        },
    )
    assert stored.json()["accepted"] == 1, stored.content
    connection.set_schema_to_public()  # a request leaves the connection on its tenant
    with connection.cursor() as cursor:
        # The rows above were written in this test's transaction: their deferred foreign-key
        # checks would still be pending when a purge drops the tables (a purge in production
        # runs in a transaction of its own).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return keys


def suspend(platform: ApiClient, slug: str) -> dict[str, Any]:
    answer = platform.delete(f"{TENANTS}/{slug}")
    assert answer.status_code == 200, answer.content
    body: dict[str, Any] = answer.json()
    return body


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- Suspending --------------------------------------------------------------------------------------


def test_delete_suspends_the_tenant_and_keeps_its_schema(platform: ApiClient, doomed: TenantKeys) -> None:
    before = timezone.now()
    body = suspend(platform, doomed.slug)
    assert body["slug"] == "lc-doomed"
    assert body["status"] == "suspended"
    suspended_at = parse(body["suspended_at"])
    assert before <= suspended_at <= timezone.now()
    assert parse(body["purge_after"]) == suspended_at + timedelta(days=30)
    assert schema_exists("lc_doomed")
    assert platform.get(f"{TENANTS}/lc-doomed").json()["status"] == "suspended"


def test_suspending_twice_changes_nothing(platform: ApiClient, doomed: TenantKeys) -> None:
    first = suspend(platform, doomed.slug)
    second = suspend(platform, doomed.slug)
    assert (second["suspended_at"], second["purge_after"]) == (first["suspended_at"], first["purge_after"])
    entries = ApiClient(doomed.host, doomed.admin)  # refused now: read the log from the schema
    assert_error(entries.get("/api/v1/audit-log"), 403, code="tenant_suspended")
    with in_tenant(doomed.slug):
        from access.models import AuditEntry

        assert AuditEntry.objects.filter(target_type="tenant", target_id="lc-doomed").count() == 1


def test_the_purge_days_come_from_the_setting(platform: ApiClient, doomed: TenantKeys, settings: Any) -> None:
    settings.SSI_TENANT_PURGE_DAYS = 7
    body = suspend(platform, doomed.slug)
    assert parse(body["purge_after"]) - parse(body["suspended_at"]) == timedelta(days=7)


def test_the_tenant_list_shows_and_filters_by_status(platform: ApiClient, doomed: TenantKeys) -> None:
    suspend(platform, doomed.slug)
    every = {t["slug"]: t["status"] for t in platform.get(TENANTS).json()["results"]}
    assert every["lc-doomed"] == "suspended"
    assert every["acme"] == every["globex"] == "active"
    suspended = [t["slug"] for t in platform.get(TENANTS, {"status": "suspended"}).json()["results"]]
    assert suspended == ["lc-doomed"]
    active = [t["slug"] for t in platform.get(TENANTS, {"status": "active"}).json()["results"]]
    assert "lc-doomed" not in active and {"acme", "globex"} <= set(active)
    assert_error(platform.get(TENANTS, {"status": "gone"}), 400, attr="status")


# --- While suspended ---------------------------------------------------------------------------------


def test_a_suspended_tenants_keys_and_rep_tokens_answer_403_tenant_suspended(
    platform: ApiClient, doomed: TenantKeys
) -> None:
    admin = ApiClient(doomed.host, doomed.admin)
    token = mint(admin, "ann")["token"]
    suspend(platform, doomed.slug)

    for key in (doomed.admin, doomed.integration, doomed.read):
        answer = ApiClient(doomed.host, key).get("/api/v1/reps")
        body = assert_error(answer, 403, code="tenant_suspended")
        assert "suspended" in body["errors"][0]["detail"]
    ingest = ApiClient(doomed.host, doomed.integration).post(
        "/api/v1/activities",
        {
            "events": [
                {"id": "e-2", "rep": "ann", "type": "post_published", "occurred_at": "2026-01-06T09:00:00Z"}
            ]
        },
    )
    assert_error(ingest, 403, code="tenant_suspended")
    assert_error(ApiClient(doomed.host, token).get("/api/v1/reps/ann/ssi"), 403, code="tenant_suspended")
    # Only a real credential learns of the suspension: no token or a wrong one is still a 401.
    assert_error(ApiClient(doomed.host).get("/api/v1/reps"), 401, code="not_authenticated")
    assert_error(ApiClient(doomed.host, "ssik_" + "x" * 40).get("/api/v1/reps"), 401, code="invalid_token")
    # Anonymous probes and documents are untouched.
    assert Client().get("/healthz", HTTP_HOST=doomed.host).status_code == 200
    assert Client().get("/api/v1/schema/", HTTP_HOST=doomed.host).status_code == 200
    with in_tenant(doomed.slug):
        from scoring.models import Activity

        assert Activity.objects.count() == 1  # the refused batch stored nothing


def test_a_suspended_tenants_console_answers_a_403_page(platform: ApiClient, doomed: TenantKeys) -> None:
    session = member_signed_in(doomed.slug, "admin")
    admin = ApiClient(doomed.host, doomed.admin)
    rep_token = mint(admin, "ann")["token"]
    assert ConsoleClient(doomed.host, session).get("/console/").status_code == 200
    suspend(platform, doomed.slug)

    for path in ("/console/", "/console/reps", "/console/login"):
        page = ConsoleClient(doomed.host, session).get(path)
        assert page.status_code == 403, path
        assert page["Content-Type"].startswith("text/html")
        text = page.content.decode()
        assert "This account is suspended" in text and "Doomed Ltd" in text
        assert "Sign out" not in text  # no member's page, no navigation
    anonymous = ConsoleClient(doomed.host).get("/console/login")
    assert anonymous.status_code == 403
    # A rep's own page (a rep token exchanged for a session) is refused the same way.
    me = Client().get("/console/me", {"token": rep_token}, HTTP_HOST=doomed.host)
    assert me.status_code == 403 and b"This account is suspended" in me.content
    assert REP_COOKIE not in me.cookies


def test_suspending_one_tenant_leaves_the_others_alone(
    platform: ApiClient, doomed: TenantKeys, world: World
) -> None:
    other = make_tenant("lc-other", "Other Ltd", "UTC")
    connection.set_schema_to_public()
    suspend(platform, doomed.slug)
    assert ApiClient(other.host, other.admin).get("/api/v1/reps").status_code == 200
    for keys in (world.acme, world.globex):
        assert ApiClient(keys.host, keys.admin).get("/api/v1/reps").status_code == 200
    assert (
        ConsoleClient(other.host, member_signed_in(other.slug, "viewer")).get("/console/").status_code == 200
    )
    # A key of the suspended tenant on another's host is what it always was: a 401.
    assert_error(ApiClient(other.host, doomed.admin).get("/api/v1/reps"), 401, code="invalid_token")


# --- Restoring ---------------------------------------------------------------------------------------


def test_restore_brings_the_tenant_back_with_all_its_data(platform: ApiClient, doomed: TenantKeys) -> None:
    admin = ApiClient(doomed.host, doomed.admin)
    token = mint(admin, "ann")["token"]
    session = member_signed_in(doomed.slug, "admin")
    suspend(platform, doomed.slug)

    answer = platform.post(f"{TENANTS}/{doomed.slug}/restore", {})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "active"
    assert answer.json()["suspended_at"] is None and answer.json()["purge_after"] is None

    reps = admin.get("/api/v1/reps")
    assert reps.status_code == 200
    assert [r["external_id"] for r in reps.json()["results"]] == ["ann"]
    events = ApiClient(doomed.host, doomed.read).get("/api/v1/activities")
    assert [e["id"] for e in events.json()["results"]] == ["e-1"]
    assert ApiClient(doomed.host, token).get("/api/v1/reps/ann/badges").status_code == 200
    assert ConsoleClient(doomed.host, session).get("/console/").status_code == 200
    # Both changes are in the tenant's audit log, as the platform's.
    entries = [e for e in admin.get("/api/v1/audit-log").json()["results"] if e["target_type"] == "tenant"]
    assert [(e["before"]["status"], e["after"]["status"]) for e in entries] == [
        ("suspended", "active"),
        ("active", "suspended"),
    ]
    assert {e["actor"]["kind"] for e in entries} == {"platform"}


def test_restoring_an_active_tenant_is_a_409_and_an_unknown_one_a_404(
    platform: ApiClient, doomed: TenantKeys
) -> None:
    assert_error(platform.post(f"{TENANTS}/{doomed.slug}/restore", {}), 409, code="tenant_not_suspended")
    assert_error(platform.post(f"{TENANTS}/nobody-here/restore", {}), 404)
    assert_error(platform.post(f"{TENANTS}/{doomed.slug}/restore", {"now": True}), 400, code="unknown_field")


# --- Purging -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?purge=now", "confirmation_required"),
        ("?purge=now&confirm=", "confirmation_required"),
        ("?purge=now&confirm=lc-doome", "confirmation_mismatch"),
        ("?purge=now&confirm=LC-DOOMED", "confirmation_mismatch"),
        ("?purge=now&confirm=acme", "confirmation_mismatch"),
    ],
)
def test_purge_now_without_the_slug_confirmed_is_a_400_and_drops_nothing(
    platform: ApiClient, doomed: TenantKeys, query: str, code: str
) -> None:
    assert_error(platform.delete(f"{TENANTS}/{doomed.slug}{query}"), 400, code=code, attr="confirm")
    assert schema_exists("lc_doomed")
    assert platform.get(f"{TENANTS}/{doomed.slug}").json()["status"] == "active"


def test_purge_with_another_value_than_now_is_a_400(platform: ApiClient, doomed: TenantKeys) -> None:
    assert_error(platform.delete(f"{TENANTS}/{doomed.slug}?purge=later&confirm=lc-doomed"), 400, attr="purge")
    assert schema_exists("lc_doomed")


def test_purge_now_with_the_slug_confirmed_drops_everything(platform: ApiClient, doomed: TenantKeys) -> None:
    suspend(platform, doomed.slug)  # suspended or not, purge=now drops it
    answer = platform.delete(f"{TENANTS}/{doomed.slug}?purge=now&confirm=lc-doomed")
    assert answer.status_code == 204, answer.content
    assert not schema_exists("lc_doomed")
    assert not Tenant.objects.filter(slug="lc-doomed").exists()
    assert_error(platform.get(f"{TENANTS}/lc-doomed"), 404)
    assert_error(platform.post(f"{TENANTS}/lc-doomed/restore", {}), 404)
    assert_error(ApiClient(doomed.host, doomed.admin).get("/api/v1/reps"), 404, code="tenant_not_found")


def test_beat_purges_a_tenant_only_once_its_days_have_passed(doomed: TenantKeys) -> None:
    tenant = tenant_suspend(tenant=Tenant.objects.get(slug=doomed.slug), actor=SYSTEM, now=SUSPENDED_AT)
    assert tenant.purge_after == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)  # 30 days on

    assert tenants_purge_due(now=datetime(2026, 4, 1, 7, 59, tzinfo=UTC)).purged == []
    assert schema_exists("lc_doomed")
    assert tenants_purge_due(now=datetime(2026, 4, 1, 8, 0, tzinfo=UTC)).purged == ["lc-doomed"]
    assert not schema_exists("lc_doomed")
    assert not Tenant.objects.filter(slug="lc-doomed").exists()
    # Idempotent: a second run finds nothing due.
    assert tenants_purge_due(now=datetime(2026, 5, 1, tzinfo=UTC)).purged == []
    # The shared tenants were never due.
    assert schema_exists("acme") and schema_exists("globex")


def test_the_beat_task_purges_what_is_due_and_leaves_a_restored_tenant(
    platform: ApiClient, doomed: TenantKeys
) -> None:
    other = make_tenant("lc-restored", "Restored Ltd", "UTC")
    connection.set_schema_to_public()
    for slug in (doomed.slug, other.slug):
        tenant_suspend(tenant=Tenant.objects.get(slug=slug), actor=SYSTEM, now=SUSPENDED_AT)
    assert platform.post(f"{TENANTS}/{other.slug}/restore", {}).status_code == 200

    assert purge_suspended_tenants() == ["lc-doomed"]  # the real clock: long past 1 April 2026
    assert not schema_exists("lc_doomed")
    assert schema_exists("lc_restored")
    assert ApiClient(other.host, other.admin).get("/api/v1/reps").status_code == 200
