"""Webhook secrets sealed at rest with ``SSI_SECRETS_KEY`` (Fernet), opened only to sign and to show once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings

from gamification.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from gamification.services.outbox import event_emit
from gamification.webhooks.secrets import SEALED_PREFIX, secret_open, secret_seal
from gamification.webhooks.services import delivery_run, outbox_dispatch
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant
from tests.support.webhooks import Receiver, running_receiver, signed_with

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def subscribe(client: ApiClient, url: str) -> dict[str, Any]:
    answer = client.post("/api/v1/webhooks", {"url": url, "events": ["*"]})
    assert answer.status_code == 201, answer.content
    created: dict[str, Any] = answer.json()
    return created


def stored_secret(webhook_id: int) -> str:
    with in_tenant("acme"):
        return WebhookSubscription.objects.get(pk=webhook_id).secret


def deliver_one() -> Any:
    with in_tenant("acme"):
        event_emit(type="level.up", data={"rep": "ann", "level": 2, "xp": 150})
        outbox_dispatch()
        delivery = WebhookDelivery.objects.order_by("-created_at").first()
        assert delivery is not None
        return delivery_run(delivery_id=str(delivery.pk))


@override_settings(SSI_SECRETS_KEY=KEY_A)
def test_with_a_key_the_secret_is_stored_sealed_and_still_signs(acme: ApiClient, receiver: Receiver) -> None:
    created = subscribe(acme, receiver.url())
    assert created["secret"].startswith("whsec_")
    stored = stored_secret(created["id"])
    assert stored.startswith(SEALED_PREFIX) and created["secret"] not in stored
    assert (
        Fernet(KEY_A.encode()).decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        == created["secret"]
    )
    assert deliver_one().ok
    assert signed_with(created["secret"], receiver.requests[-1])
    assert created["secret"] not in acme.get(f"/api/v1/webhooks/{created['id']}").content.decode()


def test_without_a_key_the_secret_is_stored_as_is(acme: ApiClient) -> None:
    created = subscribe(acme, "http://127.0.0.1:9/hooks")
    assert stored_secret(created["id"]) == created["secret"]


def test_a_clear_secret_keeps_working_once_a_key_is_set_and_the_command_seals_it(
    acme: ApiClient, receiver: Receiver
) -> None:
    created = subscribe(acme, receiver.url())  # no key yet: in clear
    with override_settings(SSI_SECRETS_KEY=KEY_A):
        assert deliver_one().ok
        out = StringIO()
        call_command("seal_webhook_secrets", "--tenant", "acme", "--json", stdout=out)
        assert json.loads(out.getvalue()) == {"acme": {"sealed": 1, "unopenable": 0}}
        assert stored_secret(created["id"]).startswith(SEALED_PREFIX)
        assert deliver_one().ok
        again = StringIO()
        call_command("seal_webhook_secrets", "--tenant", "acme", "--json", stdout=again)
        assert json.loads(again.getvalue()) == {"acme": {"sealed": 0, "unopenable": 0}}  # nothing left to do
    assert all(signed_with(created["secret"], request) for request in receiver.requests)


def test_a_key_is_rotated_by_putting_the_new_one_first_and_resealing(
    acme: ApiClient, receiver: Receiver
) -> None:
    with override_settings(SSI_SECRETS_KEY=KEY_A):
        created = subscribe(acme, receiver.url())
    sealed_with_a = stored_secret(created["id"])
    with override_settings(SSI_SECRETS_KEY=f"{KEY_B},{KEY_A}"):
        assert deliver_one().ok  # the old key still opens it
        call_command("seal_webhook_secrets", "--tenant", "acme", stdout=StringIO())
        assert stored_secret(created["id"]) != sealed_with_a
    with override_settings(SSI_SECRETS_KEY=KEY_B):  # the old key dropped
        assert deliver_one().ok
    assert len(receiver.requests) == 2
    assert all(signed_with(created["secret"], request) for request in receiver.requests)


def test_a_secret_the_keys_cannot_open_fails_the_try_and_sends_nothing(
    acme: ApiClient, receiver: Receiver
) -> None:
    with override_settings(SSI_SECRETS_KEY=KEY_A):
        created = subscribe(acme, receiver.url())
    for setting in (KEY_B, ""):
        with override_settings(SSI_SECRETS_KEY=setting):
            outcome = deliver_one()
            assert outcome is not None and not outcome.ok and outcome.status_code is None
            assert "SSI_SECRETS_KEY" in outcome.error and created["secret"] not in outcome.error
    assert receiver.requests == []
    with in_tenant("acme"):
        assert WebhookAttempt.objects.filter(error__contains="SSI_SECRETS_KEY").count() == 2
    with override_settings(SSI_SECRETS_KEY=KEY_B), pytest.raises(CommandError, match="could not be opened"):
        call_command("seal_webhook_secrets", "--tenant", "acme", stdout=StringIO())


def test_the_command_needs_a_key() -> None:
    with pytest.raises(CommandError, match="not set"):
        call_command("seal_webhook_secrets", stdout=StringIO())


@override_settings(SSI_SECRETS_KEY="not-a-fernet-key")
def test_a_malformed_key_is_a_configuration_error_that_does_not_echo_it() -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        secret_seal("whsec_x")
    assert "not-a-fernet-key" not in str(raised.value)


@override_settings(SSI_SECRETS_KEY=KEY_A)
def test_seal_and_open_round_trip_and_each_seal_differs() -> None:
    one, two = secret_seal("whsec_abc"), secret_seal("whsec_abc")
    assert one != two and secret_open(one) == secret_open(two) == "whsec_abc"
    assert secret_open("whsec_clear") == "whsec_clear"
    assert len(secret_seal("whsec_" + "x" * 43)) <= WebhookSubscription._meta.get_field("secret").max_length  # type: ignore[operator]
