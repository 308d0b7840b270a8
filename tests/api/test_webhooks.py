"""``/api/v1/webhooks``: CRUD, validation, the SSRF guard, roles and tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from gamification.models import WebhookDelivery, WebhookSubscription
from gamification.services.outbox import event_emit
from gamification.webhooks.services import delivery_run, outbox_dispatch
from tests.factories.gamification import WebhookDeliveryFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant
from tests.support.webhooks import running_receiver

PUBLIC_URL = "http://93.184.215.14/hooks"  # a literal public address: no DNS needed
URL = PUBLIC_URL


def create(client: ApiClient, **fields: Any) -> dict[str, Any]:
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["*"], **fields}
    answer = client.post("/api/v1/webhooks", body)
    assert answer.status_code == 201, answer.content
    created: dict[str, Any] = answer.json()
    return created


# --- CRUD ----------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_secret_shown_only_there(acme: ApiClient) -> None:
    created = create(acme, events=["badge.awarded", "level.up"], description="CRM sync")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["events"] == ["badge.awarded", "level.up"]
    assert created["active"] is True
    assert created["description"] == "CRM sync"
    assert created["consecutive_failures"] == 0
    assert created["deactivated_at"] is None

    fetched = acme.get(f"/api/v1/webhooks/{created['id']}").json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}
    listed = acme.get("/api/v1/webhooks").json()
    assert [w["id"] for w in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]
    assert created["secret"] not in str(listed)


def test_two_webhooks_get_different_secrets(acme: ApiClient) -> None:
    assert create(acme)["secret"] != create(acme)["secret"]


def test_patch_changes_fields_and_put_replaces_them(acme: ApiClient) -> None:
    created = create(acme, events=["level.up"], description="first")
    path = f"/api/v1/webhooks/{created['id']}"
    patched = acme.patch(path, {"events": ["goal.achieved", "goal.missed"], "active": False})
    assert patched.status_code == 200, patched.content
    assert patched.json()["events"] == ["goal.achieved", "goal.missed"]
    assert patched.json()["active"] is False
    assert patched.json()["description"] == "first"

    put = acme.put(path, {"url": "http://127.0.0.1:8/other", "events": ["*"]})
    assert put.status_code == 200, put.content
    assert put.json()["url"] == "http://127.0.0.1:8/other"
    assert put.json()["active"] is True  # back to its default
    assert put.json()["description"] == ""
    assert "secret" not in put.json()


def test_a_get_can_be_sent_back_as_a_put(acme: ApiClient) -> None:
    created = create(acme)
    path = f"/api/v1/webhooks/{created['id']}"
    body = acme.get(path).json()
    assert acme.put(path, body).status_code == 200


def test_delete_answers_204_and_removes_the_webhook_and_its_deliveries(acme: ApiClient, world: World) -> None:
    created = create(acme)
    with in_tenant("acme"):
        event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 120})
        outbox_dispatch()
        assert WebhookDelivery.objects.count() == 1
    answer = acme.delete(f"/api/v1/webhooks/{created['id']}")
    assert answer.status_code == 204
    assert_error(acme.get(f"/api/v1/webhooks/{created['id']}"), 404, code="not_found")
    with in_tenant("acme"):
        assert WebhookDelivery.objects.count() == 0


def test_an_unknown_webhook_is_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/webhooks/999999"), 404, code="not_found")
    assert_error(acme.get("/api/v1/webhooks/not-a-number"), 404)
    assert_error(acme.get("/api/v1/webhooks/999999/deliveries"), 404)


# --- Validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "attr", "code"),
    [
        ([], "events", "empty"),
        (["level.up", "nope"], "events.1", "invalid_choice"),
        (["*", "level.up"], "events", "invalid"),
        ("level.up", "events", None),
        ([1], "events.0", None),
    ],
)
def test_events_must_be_known_names_or_the_wildcard_alone(
    acme: ApiClient, events: Any, attr: str, code: str | None
) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": URL, "events": events})
    assert_error(answer, 400, code=code, attr=attr)


def test_repeated_event_names_are_kept_once(acme: ApiClient) -> None:
    assert create(acme, events=["level.up", "level.up"])["events"] == ["level.up"]


def test_url_and_events_are_required_and_unknown_fields_refused(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/webhooks", {"events": ["*"]}), 400, code="required", attr="url")
    assert_error(acme.post("/api/v1/webhooks", {"url": URL}), 400, code="required", attr="events")
    answer = acme.post("/api/v1/webhooks", {"url": URL, "events": ["*"], "secret": "mine"})
    assert_error(answer, 400, code="unknown_field", attr="secret")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example.com/hooks",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "javascript:alert(1)",
        "hooks.example.com/ssi",
    ],
)
def test_only_http_and_https_urls_are_allowed(acme: ApiClient, url: str) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": url, "events": ["*"]})
    assert_error(answer, 400, code="url_not_allowed", attr="url")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://127.1.2.3:8080/hooks",
        "http://10.0.0.5/hooks",
        "http://172.16.3.4/hooks",
        "http://192.168.1.10/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8000/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[::1]:8000/hooks",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://localhost:8000/hooks",  # a name that resolves to loopback
        "https://LOCALHOST./hooks",
    ],
)
@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
def test_urls_to_private_addresses_are_refused(acme: ApiClient, url: str) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": url, "events": ["*"]})
    assert_error(answer, 400, code="url_not_allowed", attr="url")
    with in_tenant("acme"):
        assert not WebhookSubscription.objects.exists()


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
def test_a_patch_to_a_private_url_is_refused_and_changes_nothing(acme: ApiClient) -> None:
    created = create(acme, url=PUBLIC_URL)
    answer = acme.patch(f"/api/v1/webhooks/{created['id']}", {"url": "http://10.1.2.3/"})
    assert_error(answer, 400, code="url_not_allowed", attr="url")
    assert acme.get(f"/api/v1/webhooks/{created['id']}").json()["url"] == PUBLIC_URL


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False)
def test_public_addresses_are_allowed(acme: ApiClient) -> None:
    assert create(acme, url=PUBLIC_URL)["url"] == PUBLIC_URL
    assert create(acme, url="https://[2606:4700:4700::1111]/hooks")["url"].startswith("https://[2606")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hooks", "http://10.0.0.5/", "http://[::1]/", "http://localhost/"]
)
@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=True)
def test_private_addresses_are_allowed_when_the_setting_says_so(acme: ApiClient, url: str) -> None:
    assert create(acme, url=url)["url"] == url


@override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=True)
def test_the_scheme_is_checked_even_when_private_addresses_are_allowed(acme: ApiClient) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": "ftp://127.0.0.1/", "events": ["*"]})
    assert_error(answer, 400, code="url_not_allowed", attr="url")


def test_a_host_that_does_not_resolve_is_refused(acme: ApiClient) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": "http://no-such-host.invalid/", "events": ["*"]})
    assert_error(answer, 400, code="url_not_allowed", attr="url")


def test_credentials_in_the_url_are_refused(acme: ApiClient) -> None:
    answer = acme.post("/api/v1/webhooks", {"url": "http://user:pw@127.0.0.1/", "events": ["*"]})
    assert_error(answer, 400, attr="url")


# --- Deliveries and redelivery through the API ---------------------------------------------------------


def test_deliveries_list_their_tries_newest_first_and_redeliver_sends_again(acme: ApiClient) -> None:
    with running_receiver() as receiver, override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0):
        created = create(acme, url=receiver.url(), events=["level.up", "badge.awarded"])
        with in_tenant("acme"):
            first = event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 100})
            second = event_emit(type="badge.awarded", data={"rep": "r1", "badge": "first-post"})
            outbox_dispatch()
            receiver.fail_next = 1
            ids = {d.event_id: str(d.pk) for d in WebhookDelivery.objects.all()}
            assert delivery_run(delivery_id=ids[first.pk]).status_code == 500  # type: ignore[union-attr]
            assert delivery_run(delivery_id=ids[first.pk]).status_code == 200  # type: ignore[union-attr]
            receiver.status = 410
            for _ in range(8):
                delivery_run(delivery_id=ids[second.pk])

        path = f"/api/v1/webhooks/{created['id']}/deliveries"
        listed = acme.get(path).json()
        assert [d["event_type"] for d in listed["results"]] == ["badge.awarded", "level.up"]
        failed, succeeded = listed["results"]
        assert succeeded["id"] == ids[first.pk]
        assert succeeded["event_id"] == str(first.pk)
        assert succeeded["status"] == "succeeded"
        assert succeeded["attempts"] == 2
        assert succeeded["last_status_code"] == 200
        assert succeeded["finished_at"] is not None
        assert succeeded["next_attempt_at"] is None
        assert [(t["number"], t["status_code"]) for t in succeeded["tries"]] == [(1, 500), (2, 200)]
        assert succeeded["tries"][0]["error"] == "HTTP 500 Internal Server Error"
        assert all(t["duration_ms"] >= 0 and t["at"] for t in succeeded["tries"])
        assert failed["status"] == "failed"
        assert failed["attempts"] == 8
        assert failed["last_status_code"] == 410
        assert failed["last_error"] == "HTTP 410 Gone"
        assert len(failed["tries"]) == 8

        assert [d["status"] for d in acme.get(path, {"status": "failed"}).json()["results"]] == ["failed"]
        assert_error(acme.get(path, {"status": "lost"}), 400, code="invalid_choice", attr="status")
        assert acme.get(path, {"page_size": 1}).json()["next"]

        # Redeliver the failed one: pending again with a fresh set of tries, old tries kept.
        receiver.status = 200
        answer = acme.post(f"{path}/{failed['id']}/redeliver")
        assert answer.status_code == 202, answer.content
        assert answer.json()["status"] == "pending"
        assert answer.json()["attempts"] == 0
        assert answer.json()["finished_at"] is None
        # A pending delivery cannot be redelivered: it is being tried.
        assert_error(acme.post(f"{path}/{failed['id']}/redeliver"), 409, code="delivery_pending")
        sent_before = len(receiver.requests)
        with in_tenant("acme"):
            assert delivery_run(delivery_id=failed["id"]).status_code == 200  # type: ignore[union-attr]
        assert len(receiver.requests) == sent_before + 1
        again = next(d for d in acme.get(path).json()["results"] if d["id"] == failed["id"])
        assert again["status"] == "succeeded"
        assert again["attempts"] == 1
        assert [t["number"] for t in again["tries"]] == list(range(1, 10))

        # A succeeded delivery can be redelivered too.
        answer = acme.post(f"{path}/{succeeded['id']}/redeliver", {})
        assert answer.status_code == 202, answer.content


def test_redeliver_of_an_unknown_delivery_is_404(acme: ApiClient) -> None:
    created = create(acme)
    path = f"/api/v1/webhooks/{created['id']}/deliveries"
    assert_error(acme.post(f"{path}/00000000-0000-0000-0000-000000000000/redeliver"), 404)
    assert_error(acme.post(f"{path}/not-a-uuid/redeliver"), 404)


def test_redeliver_on_an_inactive_webhook_is_409(acme: ApiClient) -> None:
    created = create(acme, active=False)
    with in_tenant("acme"):
        event = event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 100})
        subscription = WebhookSubscription.objects.get(pk=created["id"])
        delivery = WebhookDeliveryFactory.create(
            subscription=subscription, event=event, status=WebhookDelivery.Status.FAILED
        )
    answer = acme.post(f"/api/v1/webhooks/{created['id']}/deliveries/{delivery.pk}/redeliver")
    assert_error(answer, 409, code="webhook_inactive")


def test_a_delivery_of_another_webhook_cannot_be_redelivered_through_this_one(acme: ApiClient) -> None:
    mine, other = create(acme, events=["level.up"]), create(acme, events=["level.up"])
    with in_tenant("acme"):
        event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 100})
        outbox_dispatch()
        theirs = WebhookDelivery.objects.get(subscription_id=other["id"])
        WebhookDelivery.objects.filter(pk=theirs.pk).update(status=WebhookDelivery.Status.FAILED)
    answer = acme.post(f"/api/v1/webhooks/{mine['id']}/deliveries/{theirs.pk}/redeliver")
    assert_error(answer, 404)


# --- Roles and tenants ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["integration", "read"])
def test_only_admin_keys_may_touch_webhooks(world: World, acme: ApiClient, role: str) -> None:
    created = create(acme)
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    path = f"/api/v1/webhooks/{created['id']}"
    assert_error(client.get("/api/v1/webhooks"), 403, code="permission_denied")
    assert_error(client.get(path), 403)
    assert_error(client.get(f"{path}/deliveries"), 403)
    assert_error(client.post("/api/v1/webhooks", {"url": URL, "events": ["*"]}), 403)
    assert_error(client.patch(path, {"active": False}), 403)
    assert_error(client.put(path, {"url": URL, "events": ["*"]}), 403)
    assert_error(client.delete(path), 403)
    assert_error(client.post(f"{path}/deliveries/00000000-0000-0000-0000-000000000000/redeliver"), 403)
    assert acme.get(path).json()["active"] is True


def test_no_token_is_401(world: World, db: None) -> None:
    assert_error(ApiClient(world.acme.host).get("/api/v1/webhooks"), 401)


def test_it_denies_cross_tenant_access(world: World, acme: ApiClient, globex: ApiClient) -> None:
    created = create(acme)
    with in_tenant("acme"):
        event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 100})
        outbox_dispatch()
        delivery = WebhookDelivery.objects.get()
    path = f"/api/v1/webhooks/{created['id']}"
    # acme's key on globex's host: 401.
    intruder = ApiClient(world.globex.host, world.acme.admin)
    assert_error(intruder.get("/api/v1/webhooks"), 401)
    assert_error(intruder.get(path), 401)
    assert_error(intruder.post("/api/v1/webhooks", {"url": URL, "events": ["*"]}), 401)
    # globex's own admin sees none of acme's webhooks or deliveries.
    assert globex.get("/api/v1/webhooks").json()["results"] == []
    assert_error(globex.get(path), 404)
    assert_error(globex.get(f"{path}/deliveries"), 404)
    assert_error(globex.patch(path, {"active": False}), 404)
    assert_error(globex.delete(path), 404)
    assert_error(globex.post(f"{path}/deliveries/{delivery.pk}/redeliver"), 404)
    assert acme.get(path).json()["active"] is True
