"""``/api/v1/audit-log``: one entry per change, with who, before and after; admins only; per tenant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from access.actor import SYSTEM
from access.audit import REDACTED, audit_record, redact
from access.models import AuditEntry
from gamification.models import Badge
from gamification.services.badges import badge_create
from tests.factories.access import AuditEntryFactory
from tests.factories.scoring import RepFactory
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import World, in_tenant

LOG = "/api/v1/audit-log"
BADGE = {
    "slug": "ten-posts",
    "name": "Ten posts",
    "criteria": {"metric": "events.post_published", "op": ">=", "value": 10},
}


def last_id(slug: str = "acme") -> int:
    with in_tenant(slug):
        return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def new_entries(client: ApiClient, since_id: int) -> list[dict[str, Any]]:
    """The entries written after ``since_id``, oldest first, read through the API."""
    response = client.get(LOG, {"page_size": 1000})
    assert response.status_code == 200, response.content
    rows: list[dict[str, Any]] = [row for row in response.json()["results"] if row["id"] > since_id]
    return rows[::-1]


def only_entry(client: ApiClient, since_id: int) -> dict[str, Any]:
    rows = new_entries(client, since_id)
    assert len(rows) == 1, rows
    return rows[0]


def admin_actor(world: World) -> dict[str, Any]:
    with in_tenant("acme"):
        from access.models import ApiKey

        key = ApiKey.objects.get(prefix=world.acme.admin[:12])
    return {"kind": "key", "key_id": key.pk, "prefix": key.prefix, "name": key.name, "role": "admin"}


# --- One entry per change, with the right before and after --------------------------------------------


def test_creating_an_api_key_is_recorded_without_its_secret(world: World, acme: ApiClient) -> None:
    mark = last_id()
    created = acme.post("/api/v1/api-keys", {"name": "ci", "role": "read"}).json()
    entry = only_entry(acme, mark)
    assert entry["action"] == "create" and entry["target_type"] == "api_key"
    assert entry["target_id"] == str(created["id"])
    assert entry["before"] is None
    assert entry["after"] == {
        "id": created["id"], "name": "ci", "role": "read", "prefix": created["prefix"], "revoked_at": None,
    }  # fmt: skip
    assert entry["actor"] == admin_actor(world)
    assert created["key"] not in json.dumps(entry)


def test_revoking_an_api_key_is_recorded_once(acme: ApiClient) -> None:
    created = acme.post("/api/v1/api-keys", {"name": "ci", "role": "read"}).json()
    mark = last_id()
    assert acme.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    entry = only_entry(acme, mark)
    assert (entry["action"], entry["target_type"], entry["target_id"]) == (
        "revoke",
        "api_key",
        str(created["id"]),
    )
    assert entry["before"]["revoked_at"] is None
    assert entry["after"]["revoked_at"] is not None
    # Revoking again changes nothing, so it records nothing.
    assert acme.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    assert len(new_entries(acme, mark)) == 1


def test_a_new_scoring_config_version_is_recorded_with_the_old_and_new_config(acme: ApiClient) -> None:
    current = acme.get("/api/v1/scoring-config").json()
    config = {k: v for k, v in current.items() if k not in ("version", "created_at")}
    mark = last_id()
    saved = acme.put("/api/v1/scoring-config", {**config, "window_days": 60}).json()
    entry = only_entry(acme, mark)
    assert (entry["action"], entry["target_type"]) == ("update", "scoring_config")
    assert entry["target_id"] == str(saved["version"]) == str(current["version"] + 1)
    assert entry["before"]["version"] == current["version"]
    assert entry["before"]["window_days"] == current["window_days"]
    assert entry["after"]["version"] == saved["version"]
    assert entry["after"]["window_days"] == 60
    assert entry["after"]["pillars"] == saved["pillars"]


def test_an_invalid_scoring_config_records_nothing(acme: ApiClient) -> None:
    mark = last_id()
    assert_error(acme.put("/api/v1/scoring-config", {"window_days": 3, "pillars": {}}), 400)
    assert new_entries(acme, mark) == []


def test_a_settings_change_is_recorded_with_the_whole_settings_before_and_after(acme: ApiClient) -> None:
    before = acme.get("/api/v1/settings").json()
    mark = last_id()
    after = acme.patch("/api/v1/settings", {"recompute_hour": 5, "streak_mode": "daily"}).json()
    entry = only_entry(acme, mark)
    assert (entry["action"], entry["target_type"], entry["target_id"]) == ("update", "settings", "acme")
    assert entry["before"] == before
    assert entry["after"] == after
    assert entry["after"]["recompute_hour"] == 5 and entry["before"]["recompute_hour"] != 5


def test_badge_create_update_and_delete_are_each_recorded(acme: ApiClient) -> None:
    mark = last_id()
    assert acme.post("/api/v1/badges", BADGE).status_code == 201
    assert acme.patch("/api/v1/badges/ten-posts", {"xp_reward": 50}).status_code == 200
    assert acme.delete("/api/v1/badges/ten-posts").status_code == 204
    created, updated, deleted = new_entries(acme, mark)
    assert [e["action"] for e in (created, updated, deleted)] == ["create", "update", "delete"]
    assert {e["target_type"] for e in (created, updated, deleted)} == {"badge"}
    assert {e["target_id"] for e in (created, updated, deleted)} == {"ten-posts"}
    assert created["before"] is None and created["after"]["criteria"] == BADGE["criteria"]
    assert updated["before"]["xp_reward"] == 0 and updated["after"]["xp_reward"] == 50
    assert deleted["before"] == updated["after"] and deleted["after"] is None


def test_goal_changes_are_recorded_with_the_integration_key_that_made_them(
    world: World, acme: ApiClient
) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Ann")
    integration = ApiClient(world.acme.host, world.acme.integration)
    goal = {"title": "Post more", "rep": "ann", "metric": "events.post_published", "target": 5,
            "start_date": "2026-01-01", "end_date": "2026-12-31"}  # fmt: skip
    mark = last_id()
    created = integration.post("/api/v1/goals", goal).json()
    assert integration.patch(f"/api/v1/goals/{created['id']}", {"target": 8}).status_code == 200
    assert integration.delete(f"/api/v1/goals/{created['id']}").status_code == 204
    entries = new_entries(acme, mark)
    assert [(e["action"], e["target_type"], e["target_id"]) for e in entries] == [
        ("create", "goal", str(created["id"])),
        ("update", "goal", str(created["id"])),
        ("delete", "goal", str(created["id"])),
    ]
    assert entries[0]["after"]["rep"] == "ann" and entries[0]["after"]["end_date"] == "2026-12-31"
    assert entries[1]["before"]["target"] == 5 and entries[1]["after"]["target"] == 8
    assert {e["actor"]["role"] for e in entries} == {"integration"}
    assert {e["actor"]["name"] for e in entries} == {"integration"}


def test_webhook_changes_are_recorded_and_the_secret_never_is(acme: ApiClient) -> None:
    mark = last_id()
    created = acme.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/a", "events": ["*"]}).json()
    path = f"/api/v1/webhooks/{created['id']}"
    assert acme.patch(path, {"url": "http://127.0.0.1:9/b", "active": False}).status_code == 200
    assert acme.delete(path).status_code == 204
    entries = new_entries(acme, mark)
    assert [e["action"] for e in entries] == ["create", "update", "delete"]
    assert entries[0]["after"]["url"] == "http://127.0.0.1:9/a"
    assert entries[1]["before"]["url"] == "http://127.0.0.1:9/a"
    assert entries[1]["after"] == {**entries[1]["before"], "url": "http://127.0.0.1:9/b", "active": False}
    assert {e["after"]["secret"] for e in entries[:2]} == {REDACTED}
    raw = acme.get(LOG, {"page_size": 1000}).content.decode()
    assert created["secret"] not in raw
    with in_tenant("acme"):
        stored = json.dumps(list(AuditEntry.objects.values("before", "after")))
    assert created["secret"] not in stored


def test_a_platform_change_to_the_tenant_is_recorded_in_its_log_as_the_platform(
    world: World, acme: ApiClient, platform: ApiClient
) -> None:
    mark = last_id()
    answer = platform.patch(
        "/api/v1/platform/tenants/acme", {"name": "Acme GmbH", "rate_limit_per_minute": 120}
    )
    assert answer.status_code == 200, answer.content
    entry = only_entry(acme, mark)
    assert (entry["action"], entry["target_type"], entry["target_id"]) == ("update", "tenant", "acme")
    assert entry["before"] == {"slug": "acme", "name": "Acme Inc", "timezone": "Europe/Berlin",
                               "rate_limit_per_minute": None,
                               "industry": None, "benchmark": False}  # fmt: skip
    assert entry["after"] == {**entry["before"], "name": "Acme GmbH", "rate_limit_per_minute": 120}
    assert entry["actor"]["kind"] == "platform"
    assert entry["actor"]["prefix"] == world.platform_key[:12]
    assert entry["actor"]["role"] == ""
    assert new_entries(ApiClient(world.globex.host, world.globex.admin), last_id("globex")) == []


def test_minting_a_rep_token_is_not_recorded(world: World, acme: ApiClient) -> None:
    # Rep tokens are read-only, live at most a day and are minted on every app session:
    # the token row itself keeps which key minted it (created_by_key_id).
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Ann")
    mark = last_id()
    integration = ApiClient(world.acme.host, world.acme.integration)
    assert integration.post("/api/v1/rep-tokens", {"rep": "ann"}).status_code == 201
    assert new_entries(acme, mark) == []


def test_the_request_id_is_recorded_and_echoed(acme: ApiClient) -> None:
    mark = last_id()
    answer = acme.patch("/api/v1/settings", {"recompute_hour": 4}, headers={"X-Request-ID": "req-42.a"})
    assert answer["X-Request-ID"] == "req-42.a"
    assert only_entry(acme, mark)["request_id"] == "req-42.a"


def test_a_bad_request_id_is_replaced_by_a_fresh_one(acme: ApiClient) -> None:
    mark = last_id()
    answer = acme.patch("/api/v1/settings", {"recompute_hour": 4}, headers={"X-Request-ID": "a b<script>"})
    fresh = answer["X-Request-ID"]
    assert fresh != "a b<script>" and len(fresh) == 32
    assert only_entry(acme, mark)["request_id"] == fresh


def test_a_change_by_the_system_actor_is_recorded_as_the_system(world: World, db: None) -> None:
    with in_tenant("acme"):
        mark = last_id()
        badge_create(data=BADGE, actor=SYSTEM)
        entry = AuditEntry.objects.get(id__gt=mark)
    assert (entry.actor_kind, entry.actor_key_id, entry.request_id) == ("system", None, "")


# --- Same transaction: no change without its entry, no entry without its change ------------------------


def test_a_change_that_rolls_back_leaves_no_entry(world: World, db: None) -> None:
    with in_tenant("acme"):
        mark = last_id()
        seen: list[int] = []

        def change_then_fail() -> None:
            with transaction.atomic():
                badge_create(data=BADGE, actor=SYSTEM)
                seen.append(AuditEntry.objects.filter(id__gt=mark).count())  # written with the change...
                raise RuntimeError("a later step of the same change fails")

        with pytest.raises(RuntimeError):
            change_then_fail()
        assert seen == [1]
        assert not Badge.objects.filter(slug="ten-posts").exists()
        assert not AuditEntry.objects.filter(id__gt=mark).exists()  # ...and rolled back with it


def test_an_entry_that_cannot_be_written_undoes_the_change(
    world: World, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**fields: Any) -> None:
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(AuditEntry.objects, "create", broken)
    with in_tenant("acme"):
        with pytest.raises(RuntimeError):
            badge_create(data=BADGE, actor=SYSTEM)
        assert not Badge.objects.filter(slug="ten-posts").exists()


def test_audit_record_refuses_to_run_outside_a_transaction(world: World, django_db_blocker: Any) -> None:
    # In autocommit (no per-test transaction), as a service that forgot its atomic block would be.
    with django_db_blocker.unblock(), in_tenant("acme"):
        with pytest.raises(RuntimeError, match="inside the transaction"):
            audit_record(actor=SYSTEM, action="update", target_type="settings", target_id="acme")
        assert not AuditEntry.objects.filter(target_type="settings", target_id="acme").exists()


# --- Redaction -----------------------------------------------------------------------------------------


def test_redaction_replaces_secret_fields_and_token_values_at_any_depth() -> None:
    data = {
        "secret": "anything",
        "nested": [{"key_hash": "ab" * 32}, {"note": "ssik_abcdefghijklmnop"}, "whsec_" + "x" * 43],
        "Token": "t",
        "url": "https://example.com/hooks",
        "key": "engage.posts",  # a scoring signal's key is not a secret
        "prefix": "ssik_8ouFhtR",  # a key's public prefix names it: kept
    }
    assert redact(data) == {
        "secret": REDACTED,
        "nested": [{"key_hash": REDACTED}, {"note": REDACTED}, REDACTED],
        "Token": REDACTED,
        "url": "https://example.com/hooks",
        "key": "engage.posts",
        "prefix": "ssik_8ouFhtR",
    }


# --- Who may read it ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["read", "integration"])
def test_read_and_integration_keys_get_403(world: World, db: None, role: str) -> None:
    assert_error(ApiClient(world.acme.host, getattr(world.acme, role)).get(LOG), 403)


def test_a_rep_token_gets_403(world: World, acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Ann")
    token = acme.post("/api/v1/rep-tokens", {"rep": "ann"}).json()["token"]
    assert_error(ApiClient(world.acme.host, token).get(LOG), 403)


def test_no_token_is_a_401(world: World, db: None) -> None:
    assert_error(ApiClient(world.acme.host).get(LOG), 401)


def test_the_platform_host_has_no_audit_log(platform: ApiClient) -> None:
    assert_error(platform.get(LOG), 404)


# --- Tenant isolation -----------------------------------------------------------------------------------


def test_acmes_log_never_shows_globexs_changes(acme: ApiClient, globex: ApiClient) -> None:
    acme_mark, globex_mark = last_id("acme"), last_id("globex")
    assert globex.post("/api/v1/badges", {**BADGE, "slug": "globex-only"}).status_code == 201
    assert globex.patch("/api/v1/settings", {"recompute_hour": 9}).status_code == 200
    assert new_entries(acme, acme_mark) == []
    assert acme.get(LOG, {"target_id": "globex-only"}).json()["results"] == []
    assert len(new_entries(globex, globex_mark)) == 2


def test_a_globex_key_on_acmes_host_is_a_401(world: World, db: None) -> None:
    assert_error(ApiClient(world.acme.host, world.globex.admin).get(LOG), 401)
    assert_error(ApiClient(PLATFORM_HOST, world.globex.admin, {"X-Tenant": "acme"}).get(LOG), 401)


# --- Listing: newest first, filters, cursor, caps -------------------------------------------------------


def make_entries(n: int, **fields: Any) -> None:
    now = datetime.now(UTC)
    with in_tenant("acme"):
        AuditEntry.objects.bulk_create(
            [
                AuditEntryFactory.build(
                    at=fields.get("at", now),
                    action=fields.get("action", "update"),
                    target_type=fields.get("target_type", "badge"),
                    target_id=f"b-{i}",
                )
                for i in range(n)
            ]
        )


def test_entries_are_newest_first_with_cursor_pages(acme: ApiClient) -> None:
    make_entries(5)
    first = acme.get(LOG, {"page_size": 3}).json()
    ids = [row["id"] for row in first["results"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    second = acme.client.get(first["next"], HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Bearer {acme.token}")
    more = [row["id"] for row in second.json()["results"]]
    assert more and max(more) < min(ids)


def test_filters_by_target_type_action_target_id_since_and_until(acme: ApiClient) -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    make_entries(2, target_type="goal", action="delete", at=old)
    make_entries(3, target_type="webhook", action="create")
    assert len(acme.get(LOG, {"target_type": "goal"}).json()["results"]) == 2
    assert len(acme.get(LOG, {"target_type": "webhook", "action": "create"}).json()["results"]) >= 3
    assert len(acme.get(LOG, {"action": "delete", "target_type": "goal"}).json()["results"]) == 2
    until = (old + timedelta(days=1)).isoformat()
    assert len(acme.get(LOG, {"until": until}).json()["results"]) == 2
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    rows = acme.get(LOG, {"since": since, "target_type": "goal"}).json()["results"]
    assert rows == []
    assert [
        r["target_id"] for r in acme.get(LOG, {"target_type": "goal", "target_id": "b-1"}).json()["results"]
    ] == ["b-1"]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45T00:00:00Z"}, "until"),
        ({"target_type": "planet"}, "target_type"),
        ({"action": "explode"}, "action"),
    ],
)
def test_bad_filters_are_a_400_naming_them(acme: ApiClient, params: dict[str, str], attr: str) -> None:
    assert_error(acme.get(LOG, params), 400, attr=attr)


def test_page_size_is_capped_at_1000(acme: ApiClient) -> None:
    make_entries(1005)
    body = acme.get(LOG, {"page_size": 5000}).json()
    assert len(body["results"]) == 1000
    assert body["next"]


def test_the_endpoint_is_in_the_schema_with_its_filters(world: World, db: None) -> None:
    doc = ApiClient(PLATFORM_HOST).get("/api/v1/schema/", {"format": "json"}).json()
    operation = doc["paths"]["/api/v1/audit-log"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "target_type", "target_id", "action", "since", "until", "cursor", "page_size",
    }  # fmt: skip
    assert {"200", "401", "403"} <= set(operation["responses"])
