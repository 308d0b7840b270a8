"""``format`` on ``/api/v1/webhooks``: json by default, slack or teams; a chat format takes the
events it announces only (400 ``chat_event_unsupported``); shown in answers, audited, in the schema."""

from __future__ import annotations

from typing import Any

import pytest

from access.models import AuditEntry
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.tenants import in_tenant

HOOK = "http://127.0.0.1:9/hooks"
CHAT_EVENTS = ["badge.awarded", "level.up", "goal.achieved"]  # contest.ended too, once contests exist


def create(client: ApiClient, **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/webhooks", {"url": HOOK, "events": ["*"], **fields})
    assert answer.status_code == 201, answer.content
    created: dict[str, Any] = answer.json()
    return created


def test_a_webhook_is_json_unless_told_otherwise(acme: ApiClient) -> None:
    created = create(acme)
    assert created["format"] == "json"
    assert acme.get(f"/api/v1/webhooks/{created['id']}").json()["format"] == "json"


@pytest.mark.parametrize("format", ["slack", "teams"])
def test_a_chat_webhook_is_created_with_its_format_and_shown_with_it(acme: ApiClient, format: str) -> None:
    created = create(acme, format=format, events=CHAT_EVENTS)
    assert (created["format"], created["events"]) == (format, CHAT_EVENTS)
    assert created["secret"].startswith("whsec_")  # signed like json
    assert acme.get(f"/api/v1/webhooks/{created['id']}").json()["format"] == format
    assert [w["format"] for w in acme.get("/api/v1/webhooks").json()["results"]] == [format]


def test_an_unknown_format_is_a_400_on_format(acme: ApiClient) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": HOOK, "events": ["level.up"], "format": "discord"})
    assert_error(answer, 400, code="invalid_choice", attr="format")


@pytest.mark.parametrize(
    ("events", "attr"),
    [(["*"], "events"), (["level.up", "goal.missed"], "events.1"), (["scores.computed"], "events.0")],
)
def test_a_chat_webhook_refuses_events_it_does_not_announce(
    acme: ApiClient, events: list[str], attr: str
) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": HOOK, "events": events, "format": "slack"})
    body = assert_error(answer, 400, code="chat_event_unsupported", attr=attr)
    assert "badge.awarded, level.up, goal.achieved" in body["errors"][0]["detail"]
    with in_tenant("acme"):
        assert not AuditEntry.objects.filter(target_type="webhook").exists()


def test_switching_to_a_chat_format_checks_the_events_it_keeps_or_gets(acme: ApiClient) -> None:
    created = create(acme)  # json, every event
    path = f"/api/v1/webhooks/{created['id']}"
    assert_error(acme.patch(path, {"format": "teams"}), 400, code="chat_event_unsupported", attr="events")
    assert acme.get(path).json()["format"] == "json"  # nothing changed
    answer = acme.patch(path, {"format": "teams", "events": ["level.up"]})
    assert answer.status_code == 200, answer.content
    assert (answer.json()["format"], answer.json()["events"]) == ("teams", ["level.up"])
    answer = acme.patch(path, {"events": ["level.up", "scores.computed"]})
    assert_error(answer, 400, code="chat_event_unsupported", attr="events.1")
    assert acme.patch(path, {"format": "json", "events": ["*"]}).json()["format"] == "json"


def test_put_without_a_format_goes_back_to_json(acme: ApiClient) -> None:
    created = create(acme, format="slack", events=["level.up"])
    path = f"/api/v1/webhooks/{created['id']}"
    body = acme.get(path).json()
    assert acme.put(path, body).json()["format"] == "slack"  # a GET sent back as a PUT keeps it
    answer = acme.put(path, {"url": HOOK, "events": ["level.up"]})
    assert answer.status_code == 200 and answer.json()["format"] == "json"


def test_a_format_change_is_audited_before_and_after(acme: ApiClient) -> None:
    created = create(acme, format="slack", events=["level.up"])
    acme.patch(f"/api/v1/webhooks/{created['id']}", {"format": "teams"})
    with in_tenant("acme"):
        made, changed = AuditEntry.objects.filter(target_type="webhook").order_by("id")
    assert isinstance(made.after, dict) and made.after["format"] == "slack"
    assert isinstance(changed.before, dict) and isinstance(changed.after, dict)
    assert (changed.before["format"], changed.after["format"]) == ("slack", "teams")
    assert changed.after == {**changed.before, "format": "teams"}


def test_the_schema_documents_format_as_an_enum_with_a_description(acme: ApiClient) -> None:
    answer = ApiClient(PLATFORM_HOST).get("/api/v1/schema/", {"format": "json"})
    assert answer.status_code == 200, answer.content[:500]
    schema = answer.json()
    components = schema["components"]["schemas"]
    assert components["WebhookFormatEnum"]["enum"] == ["json", "slack", "teams"]
    for name in ("Webhook", "WebhookInRequest", "PatchedWebhookInRequest"):
        field = components[name]["properties"]["format"]
        assert field["allOf"] == [{"$ref": "#/components/schemas/WebhookFormatEnum"}]
        assert "chat_event_unsupported" in field["description"]
    assert "format" in components["Webhook"]["required"]
    assert "format" not in components["WebhookInRequest"].get("required", [])
