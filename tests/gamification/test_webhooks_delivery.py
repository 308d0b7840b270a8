"""Webhook fan-out and tries, in-process against a real HTTP receiver on 127.0.0.1.

The services are called directly (the test transaction never commits, so
nothing is enqueued); the worker test (test_webhooks_worker.py) runs the same
path through Celery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from gamification.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from gamification.services.outbox import event_emit
from gamification.webhooks.delivery import signature
from gamification.webhooks.services import (
    BACKOFF_CAP_SECONDS,
    DEACTIVATE_AFTER,
    backoff_seconds,
    delivery_run,
    outbox_dispatch,
)
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant
from tests.support.webhooks import Receiver, refused_url, running_receiver

LEVEL_UP = {"rep": "crm-7", "level": 3, "xp": 320}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def subscribe(client: ApiClient, url: str, events: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/webhooks", {"url": url, "events": events or ["*"], **fields})
    assert answer.status_code == 201, answer.content
    created: dict[str, Any] = answer.json()
    return created


def run_until_done(slug: str, max_rounds: int = 50) -> None:
    """Dispatch the outbox and try every due delivery until none is pending (backoff set to 0)."""
    with in_tenant(slug):
        outbox_dispatch()
        for _ in range(max_rounds):
            pending = [
                str(pk)
                for pk in WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True)
            ]
            if not pending:
                return
            for delivery_id in pending:
                delivery_run(delivery_id=delivery_id)
    raise AssertionError("deliveries still pending")


# --- What is sent --------------------------------------------------------------------------------------


def test_a_delivery_is_a_signed_post_of_the_event(acme: ApiClient, receiver: Receiver) -> None:
    created = subscribe(acme, receiver.url("/hooks/ssi?source=tests"), ["level.up"])
    with in_tenant("acme"):
        event = event_emit(type="level.up", data=LEVEL_UP)
    before = int(time.time())
    run_until_done("acme")
    (request,) = receiver.wait_for(1)
    with in_tenant("acme"):
        delivery = WebhookDelivery.objects.get()

    assert request.path == "/hooks/ssi?source=tests"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "SSI-Cloud-Webhooks/1"
    assert request.headers["X-SSI-Event"] == "level.up"
    assert request.headers["X-SSI-Delivery"] == str(delivery.pk)
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"

    body = json.loads(request.body)
    assert list(body) == ["id", "type", "created_at", "data"]
    assert body["id"] == str(event.pk)
    assert body["type"] == "level.up"
    assert body["data"] == LEVEL_UP
    assert datetime.fromisoformat(body["created_at"]) == event.created_at
    assert body["created_at"].endswith("Z")

    # What a receiver does: recompute the HMAC over the exact bytes received.
    parts = dict(item.split("=", 1) for item in request.headers["X-SSI-Signature"].split(","))
    assert set(parts) == {"t", "v1"}
    assert before <= int(parts["t"]) <= int(time.time())
    expected = hmac.new(
        created["secret"].encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    # ... and a wrong secret does not verify.
    wrong = hmac.new(b"whsec_wrong", parts["t"].encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert parts["v1"] != wrong


def test_the_signature_matches_the_vector_in_the_docs() -> None:
    assert signature(secret="whsec_test", timestamp=1700000000, body=b'{"id":"x"}') == (
        "t=1700000000,v1=80e8d098018f757aa814ab1abb924f35d304affa1d93d29611a54696207eb7c3"
    )


def test_every_try_of_a_delivery_sends_the_same_body(acme: ApiClient, receiver: Receiver) -> None:
    subscribe(acme, receiver.url())
    receiver.fail_next = 2
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
    with override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0):
        run_until_done("acme")
    requests = receiver.wait_for(3)
    assert len({r.body for r in requests}) == 1
    assert len({r.headers["X-SSI-Delivery"] for r in requests}) == 1


# --- Fan-out -------------------------------------------------------------------------------------------


def test_each_event_goes_to_every_active_subscription_that_wants_it(acme: ApiClient) -> None:
    url = "http://127.0.0.1:9/"
    everything = subscribe(acme, url, ["*"])
    levels = subscribe(acme, url, ["level.up", "goal.achieved"])
    badges = subscribe(acme, url, ["badge.awarded"])
    subscribe(acme, url, ["*"], active=False)
    with in_tenant("acme"):
        level = event_emit(type="level.up", data=LEVEL_UP)
        scores = event_emit(
            type="scores.computed", data={"date": "2025-01-02", "reps": 3, "config_version": 1}
        )
        assert outbox_dispatch() == 3
        pairs = set(WebhookDelivery.objects.values_list("subscription_id", "event_id"))
        assert pairs == {
            (everything["id"], level.pk),
            (levels["id"], level.pk),
            (everything["id"], scores.pk),
        }
        assert not any(s == badges["id"] for s, _ in pairs)
        assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
        # Dispatched once: a second run (a redelivered message, a second worker) adds nothing.
        assert outbox_dispatch() == 0
        assert WebhookDelivery.objects.count() == 3


def test_events_with_no_subscription_are_marked_dispatched(acme: ApiClient) -> None:
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        assert outbox_dispatch() == 0
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_an_event_of_one_tenant_never_reaches_another_tenants_webhooks(
    acme: ApiClient, globex: ApiClient, receiver: Receiver
) -> None:
    subscribe(acme, receiver.url("/acme"))
    theirs = subscribe(globex, receiver.url("/globex"))
    with in_tenant("acme"):
        event = event_emit(type="level.up", data=LEVEL_UP)
    run_until_done("acme")
    run_until_done("globex")
    (request,) = receiver.wait_for(1)
    assert request.path == "/acme"
    assert json.loads(request.body)["id"] == str(event.pk)
    with in_tenant("globex"):
        assert WebhookDelivery.objects.count() == 0
        assert OutboxEvent.objects.count() == 0
    assert globex.get(f"/api/v1/webhooks/{theirs['id']}/deliveries").json()["results"] == []


# --- Retries -------------------------------------------------------------------------------------------


def test_a_failing_receiver_is_retried_until_it_answers(acme: ApiClient, receiver: Receiver) -> None:
    created = subscribe(acme, receiver.url())
    receiver.fail_next = 2
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        delivery = WebhookDelivery.objects.get()
        first = delivery_run(delivery_id=str(delivery.pk))
        assert first is not None and first.status_code == 500
        delivery.refresh_from_db()
        # Pending, next try in 10 s (plus up to 10 % jitter): not before.
        assert delivery.status == "pending" and delivery.attempts == 1
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 8 < wait <= 11.1
        assert delivery_run(delivery_id=str(delivery.pk)) is None
        assert len(receiver.requests) == 1
        # Time passes.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert delivery_run(delivery_id=str(delivery.pk)).status_code == 500  # type: ignore[union-attr]
        delivery.refresh_from_db()
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 28 < wait <= 33.1
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert delivery_run(delivery_id=str(delivery.pk)).status_code == 200  # type: ignore[union-attr]
        delivery.refresh_from_db()
        assert delivery.status == "succeeded"
        assert delivery.attempts == 3
        assert delivery.last_status_code == 200 and delivery.last_error == ""
        assert delivery.finished_at is not None
        tries = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
        assert tries == [(1, 500), (2, 500), (3, 200)]
        # Finished: a redelivered message of the task does nothing.
        assert delivery_run(delivery_id=str(delivery.pk)) is None
    assert len(receiver.requests) == 3
    assert acme.get(f"/api/v1/webhooks/{created['id']}").json()["consecutive_failures"] == 0


def test_backoff_grows_threefold_and_stays_well_under_an_hour() -> None:
    waits = [backoff_seconds(n) for n in range(1, 8)]
    for n, (wait, base) in enumerate(zip(waits, [10, 30, 90, 270, 810, 1800, 1800], strict=True), 1):
        assert base <= wait <= base * 1.1, (n, wait)
    assert max(backoff_seconds(n) for n in range(1, 50)) <= BACKOFF_CAP_SECONDS * 1.1 < 3600


@override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0)
def test_after_the_last_try_the_delivery_fails(acme: ApiClient, receiver: Receiver) -> None:
    created = subscribe(acme, receiver.url())
    receiver.status = 503
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
    run_until_done("acme")
    assert len(receiver.wait_for(8)) == 8
    with in_tenant("acme"):
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed"
        assert delivery.attempts == 8
        assert delivery.last_status_code == 503
        assert delivery.finished_at is not None
        assert WebhookAttempt.objects.filter(delivery=delivery).count() == 8
    webhook = acme.get(f"/api/v1/webhooks/{created['id']}").json()
    assert webhook["consecutive_failures"] == 1 and webhook["active"] is True


@override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0, SSI_WEBHOOK_MAX_TRIES=3)
def test_the_number_of_tries_is_a_setting(acme: ApiClient, receiver: Receiver) -> None:
    subscribe(acme, receiver.url())
    receiver.status = 500
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
    run_until_done("acme")
    assert len(receiver.requests) == 3


def test_a_refused_connection_is_a_failed_try(acme: ApiClient) -> None:
    subscribe(acme, refused_url())
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        outcome = delivery_run(delivery_id=str(WebhookDelivery.objects.get().pk))
        assert outcome is not None
        assert outcome.status_code is None and outcome.error == "Connection refused."
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending" and delivery.last_error == "Connection refused."


@override_settings(SSI_WEBHOOK_TIMEOUT_SECONDS=1)
def test_a_receiver_that_does_not_answer_in_time_is_a_failed_try(acme: ApiClient, receiver: Receiver) -> None:
    subscribe(acme, receiver.url())
    receiver.hang = 3
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        started = time.monotonic()
        outcome = delivery_run(delivery_id=str(WebhookDelivery.objects.get().pk))
        assert time.monotonic() - started < 2
        assert outcome is not None and outcome.status_code is None
        assert outcome.error == "Timed out after 1 s."
        assert 900 <= outcome.duration_ms < 2000
        attempt = WebhookAttempt.objects.get()
        assert attempt.error == "Timed out after 1 s." and attempt.status_code is None


@override_settings(SSI_WEBHOOK_TIMEOUT_SECONDS=1)
def test_the_timeout_bounds_the_whole_try_even_when_the_receiver_trickles(
    acme: ApiClient, receiver: Receiver
) -> None:
    subscribe(acme, receiver.url())
    receiver.drip = True  # one byte every 0.2 s: no single read ever times out
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        started = time.monotonic()
        outcome = delivery_run(delivery_id=str(WebhookDelivery.objects.get().pk))
        assert time.monotonic() - started < 2.5
        assert outcome is not None and outcome.error == "Timed out after 1 s."


def test_a_redirect_is_not_followed(acme: ApiClient, receiver: Receiver) -> None:
    subscribe(acme, receiver.url())
    receiver.status = 302
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        outcome = delivery_run(delivery_id=str(WebhookDelivery.objects.get().pk))
    assert outcome is not None and outcome.status_code == 302 and not outcome.ok
    assert len(receiver.requests) == 1


# --- SSRF at delivery time -----------------------------------------------------------------------------


def test_a_url_refused_at_delivery_time_fails_the_try_not_the_delivery(
    acme: ApiClient, receiver: Receiver
) -> None:
    subscribe(acme, receiver.url())  # allowed when it was saved (tests allow private addresses)
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        delivery = WebhookDelivery.objects.get()
        with override_settings(SSI_WEBHOOK_ALLOW_PRIVATE=False):
            outcome = delivery_run(delivery_id=str(delivery.pk))
        assert outcome is not None and outcome.error.startswith("url_not_allowed: ")
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.attempts == 1
        assert WebhookAttempt.objects.get().error.startswith("url_not_allowed")
    assert receiver.requests == []


# --- Deactivation --------------------------------------------------------------------------------------


@override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0, SSI_WEBHOOK_MAX_TRIES=2)
def test_twenty_failed_deliveries_in_a_row_deactivate_the_webhook(acme: ApiClient) -> None:
    created = subscribe(acme, refused_url())
    path = f"/api/v1/webhooks/{created['id']}"
    with in_tenant("acme"):
        for i in range(DEACTIVATE_AFTER - 1):
            event_emit(type="level.up", data={**LEVEL_UP, "level": i})
    run_until_done("acme")
    webhook = acme.get(path).json()
    assert webhook["consecutive_failures"] == 19 and webhook["active"] is True
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
    run_until_done("acme")
    webhook = acme.get(path).json()
    assert webhook["consecutive_failures"] == 20
    assert webhook["active"] is False
    assert webhook["deactivated_at"] is not None
    with in_tenant("acme"):
        assert WebhookAttempt.objects.count() == 40
        # Inactive: new events are not fanned out to it.
        event_emit(type="level.up", data=LEVEL_UP)
        assert outbox_dispatch() == 0
    # Turned back on by hand: a clean slate.
    webhook = acme.patch(path, {"active": True}).json()
    assert webhook["active"] is True
    assert webhook["consecutive_failures"] == 0 and webhook["deactivated_at"] is None


@override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0, SSI_WEBHOOK_MAX_TRIES=1)
def test_a_success_resets_the_failure_count(acme: ApiClient, receiver: Receiver) -> None:
    created = subscribe(acme, receiver.url())
    receiver.status = 500
    with in_tenant("acme"):
        for _ in range(3):
            event_emit(type="level.up", data=LEVEL_UP)
    run_until_done("acme")
    assert acme.get(f"/api/v1/webhooks/{created['id']}").json()["consecutive_failures"] == 3
    receiver.status = 204
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
    run_until_done("acme")
    assert acme.get(f"/api/v1/webhooks/{created['id']}").json()["consecutive_failures"] == 0


def test_pending_deliveries_of_a_switched_off_webhook_are_not_sent(
    acme: ApiClient, receiver: Receiver
) -> None:
    created = subscribe(acme, receiver.url())
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        WebhookSubscription.objects.filter(pk=created["id"]).update(active=False)
        delivery = WebhookDelivery.objects.get()
        assert delivery_run(delivery_id=str(delivery.pk)) is None
        delivery.refresh_from_db()
        assert delivery.status == "failed" and delivery.attempts == 0
        assert delivery.last_error == "Not sent: webhook inactive."
        assert not WebhookAttempt.objects.exists()
        assert WebhookSubscription.objects.get(pk=created["id"]).consecutive_failures == 0
    assert receiver.requests == []


def test_a_try_in_flight_is_not_claimed_twice(acme: ApiClient, receiver: Receiver) -> None:
    subscribe(acme, receiver.url())
    with in_tenant("acme"):
        event_emit(type="level.up", data=LEVEL_UP)
        outbox_dispatch()
        delivery = WebhookDelivery.objects.get()
        # What the claim does: the first worker moves next_attempt_at past its lease.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5)
        )
        assert delivery_run(delivery_id=str(delivery.pk)) is None
    assert receiver.requests == []
