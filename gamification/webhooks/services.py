"""Webhooks (docs/webhooks.md): subscriptions, fan-out, tries, redelivery.

The life of an event:

1. ``event_emit`` writes an ``OutboxEvent`` in the caller's transaction.
2. ``outbox_dispatch`` (a tenant task) turns each undispatched event into one
   ``WebhookDelivery`` per active subscription that wants it and marks the
   event dispatched, in one transaction; the deliveries are enqueued on commit,
   one task each.
3. ``delivery_run`` claims a delivery, makes one try, records it, and either
   finishes the delivery or schedules the next try with backoff. While a
   subscription's receiver fails (times out, refuses, answers 5xx or 429), its
   other deliveries are held back, without a try, until its failed delivery's
   next try (then one at a time): a dead receiver holds a worker for one
   timeout, not one per pending delivery, and other tenants' deliveries wait
   behind it for no longer than that.
4. ``webhooks_sweep`` (per tenant, from the beat task) catches what an
   enqueue lost: events left undispatched and deliveries overdue.

Every step is safe to repeat: the claim is a conditional UPDATE, the fan-out
locks its events with ``FOR UPDATE SKIP LOCKED`` and the database refuses a
second delivery of an event to a subscription. Deliveries are at least once:
a worker dying after the receiver answered but before the answer was
recorded sends that try again.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from access.actor import Actor
from access.audit import REDACTED, audit_record
from core.db import after_commit, connection
from core.errors import Conflict, NotFound, ValidationFailed
from core.queue import enqueue
from gamification.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from gamification.services.outbox import DISPATCH_OUTBOX, EVENT_TYPES, PACE_HORIZON
from gamification.webhooks.chat import CHAT_EVENTS, CHAT_FORMATS, chat_payload, names_wanted
from gamification.webhooks.delivery import Outcome, payload_body, post, request_headers
from gamification.webhooks.secrets import SecretUnavailable, secret_open, secret_seal
from gamification.webhooks.selectors import chat_names
from gamification.webhooks.urls_guard import url_resolve

logger = logging.getLogger(__name__)

DELIVER = "gamification.webhooks.tasks.deliver"

WILDCARD = "*"
# A subscription whose last this-many deliveries all failed every try is deactivated.
DEACTIVATE_AFTER = 20
# Backoff between tries: base (SSI_WEBHOOK_BACKOFF_SECONDS) x 3^(n-1), at most this, plus up to 10 %.
# Well under Redis' 1 h visibility timeout, past which a waiting message is delivered again.
BACKOFF_CAP_SECONDS = 30 * 60
# A claimed try holds its delivery this long; a worker that died mid-try loses it after that.
CLAIM_LEASE = timedelta(minutes=5)
# The sweep leaves events and deliveries alone for this long: their own task is on its way.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_LIMIT = 1000  # overdue deliveries re-enqueued per tenant and sweep
DISPATCH_BATCH = 500  # outbox events fanned out per transaction
Pending = WebhookDelivery.Status.PENDING
Succeeded = WebhookDelivery.Status.SUCCEEDED
Failed = WebhookDelivery.Status.FAILED
FORMATS = tuple(WebhookSubscription.Format.values)


# --- Subscriptions ------------------------------------------------------------------------------------


def secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def events_validate(events: Any) -> list[str]:
    """A non-empty list of event names, or exactly ``["*"]``; repeats are dropped."""
    if not isinstance(events, list) or not events:
        raise ValidationFailed(
            'A non-empty list of event names, or ["*"].', code="invalid" if events else "empty", attr="events"
        )
    for index, name in enumerate(events):
        if name != WILDCARD and name not in EVENT_TYPES:
            raise ValidationFailed(
                f"{name!r} is not an event; one of {', '.join(EVENT_TYPES)}, or ['*'] alone.",
                code="invalid_choice",
                attr=f"events.{index}",
            )
    if WILDCARD in events and len(set(events)) > 1:
        raise ValidationFailed('"*" means every event: send it alone.', code="invalid", attr="events")
    return list(dict.fromkeys(events))


def format_validate(format: Any) -> str:
    """``json``, ``slack`` or ``teams``; 400 ``invalid_choice`` on ``format`` else."""
    if format not in FORMATS:
        raise ValidationFailed(f"One of {', '.join(FORMATS)}.", code="invalid_choice", attr="format")
    return str(format)


def chat_events() -> list[str]:
    """The events a chat format announces that exist (``contest.ended`` once contests do)."""
    return [name for name in CHAT_EVENTS if name in EVENT_TYPES]


def format_events_check(*, format: str, events: list[str]) -> None:
    """A chat webhook subscribes to events it can announce, named one by one.

    Refused rather than skipped (400 ``chat_event_unsupported``): a Slack or Teams
    webhook subscribed to ``scores.computed`` would otherwise look subscribed and
    never post. ``["*"]`` is refused too: it also means the events added later.
    """
    if format not in CHAT_FORMATS:
        return
    allowed = chat_events()
    message = f"A {format} webhook announces {', '.join(allowed)} only: name those it should post."
    if WILDCARD in events:
        raise ValidationFailed(message, code="chat_event_unsupported", attr="events")
    for index, name in enumerate(events):
        if name not in allowed:
            raise ValidationFailed(
                f"{name} is not announced in chat. {message}",
                code="chat_event_unsupported",
                attr=f"events.{index}",
            )


def url_validate(url: str) -> str:
    """http(s) to a public address (unless SSI_WEBHOOK_ALLOW_PRIVATE); 400 ``url_not_allowed`` else."""
    url_resolve(url, allow_private=settings.SSI_WEBHOOK_ALLOW_PRIVATE)
    return url.strip()


def subscription_create(
    *,
    url: str,
    events: list[str],
    actor: Actor,
    active: bool = True,
    description: str = "",
    format: str = WebhookSubscription.Format.JSON,
) -> WebhookSubscription:
    """A new subscription with a fresh secret (the caller shows it once)."""
    events = events_validate(events)  # the cheap checks first: the URL check resolves the host
    format = format_validate(format)
    format_events_check(format=format, events=events)
    url = url_validate(url)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            url=url,
            events=events,
            format=format,
            active=active,
            description=description,
            secret=secret_seal(secret_new()),
        )
        audit_record(
            actor=actor,
            action="create",
            target_type="webhook",
            target_id=subscription.pk,
            after=subscription_snapshot(subscription),
        )
    return subscription


def subscription_snapshot(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log keeps of a webhook: never its secret."""
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "events": list(subscription.events),
        "format": subscription.format,
        "active": subscription.active,
        "description": subscription.description,
        "secret": REDACTED,
    }


def subscription_update(
    *, subscription: WebhookSubscription, data: dict[str, Any], actor: Actor
) -> WebhookSubscription:
    """Change ``url``, ``events``, ``format``, ``active`` or ``description``.

    Turning a subscription back on gives it a clean slate: its failure count
    and ``deactivated_at`` are cleared. The format and the events are checked
    together, as they will be (a chat format takes its events only).
    """
    before = subscription_snapshot(subscription)
    fields: set[str] = {name for name in ("events", "format", "url", "description", "active") if name in data}
    if "events" in data:
        subscription.events = events_validate(data["events"])
    if "format" in data:
        subscription.format = format_validate(data["format"])
    if "events" in data or "format" in data:
        format_events_check(format=subscription.format, events=list(subscription.events))
    if "url" in data:
        subscription.url = url_validate(data["url"])
    if "description" in data:
        subscription.description = data["description"]
    if "active" in data:
        if data["active"] and not subscription.active:
            subscription.consecutive_failures = 0
            subscription.deactivated_at = None
            fields |= {"consecutive_failures", "deactivated_at"}
        subscription.active = data["active"]
    with transaction.atomic():
        # Only what changed: a worker may be counting this webhook's failures right now.
        subscription.save(update_fields=sorted(fields | {"updated_at"}))
        audit_record(
            actor=actor,
            action="update",
            target_type="webhook",
            target_id=subscription.pk,
            before=before,
            after=subscription_snapshot(subscription),
        )
    return subscription


def subscription_delete(*, subscription: WebhookSubscription, actor: Actor) -> None:
    """Delete it with its deliveries and their tries; a try in flight finds nothing to record."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="delete",
            target_type="webhook",
            target_id=subscription.pk,
            before=subscription_snapshot(subscription),
        )
        subscription.delete()


# --- Fan-out -------------------------------------------------------------------------------------------


def outbox_dispatch() -> int:
    """Fan every undispatched outbox event of this tenant out into deliveries. Returns how many."""
    created = 0
    while True:
        deliveries, events = _dispatch_batch()
        created += deliveries
        if events < DISPATCH_BATCH:
            return created


def _announced(format: str, event_type: str) -> bool:
    """Whether a webhook of this format is sent this event: a chat format, its events only."""
    return format not in CHAT_FORMATS or event_type in CHAT_EVENTS


# The next undispatched events due within the pace horizon, oldest first, marked dispatched;
# SKIP LOCKED: events another worker is fanning out right now are its business.
_TAKE_EVENTS = """
UPDATE gamification_outboxevent SET dispatched_at = %(now)s
 WHERE id IN (SELECT id FROM gamification_outboxevent
               WHERE dispatched_at IS NULL AND created_at <= %(horizon)s
               ORDER BY created_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED)
RETURNING id, type, created_at
"""


def _dispatch_batch() -> tuple[int, int]:
    with transaction.atomic():
        now = timezone.now()
        # A paced event (gamification.services.outbox) waits until its slot is near. Taken and
        # marked dispatched in one statement; the deliveries below commit with it.
        with connection.cursor() as cursor:
            cursor.execute(_TAKE_EVENTS, {"now": now, "horizon": now + PACE_HORIZON, "batch": DISPATCH_BATCH})
            events = sorted(cursor.fetchall(), key=lambda event: (event[2], event[0]))
        if not events:
            return 0, 0
        subscriptions = list(
            WebhookSubscription.objects.filter(active=True).values_list("id", "events", "format")
        )
        deliveries = [
            WebhookDelivery(subscription_id=subscription_id, event_id=event_id, next_attempt_at=max(now, at))
            for event_id, event_type, at in events
            for subscription_id, names, format in subscriptions
            if (WILDCARD in names or event_type in names) and _announced(format, event_type)
        ]
        # The unique (subscription, event) constraint backs the lock: a second fan-out would fail here.
        WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
        ids = [str(delivery.pk) for delivery in deliveries if delivery.next_attempt_at <= now]
        if ids:
            after_commit(lambda: deliveries_enqueue(ids))
        paced = [
            (str(d.pk), (d.next_attempt_at - now).total_seconds())
            for d in deliveries
            if d.next_attempt_at > now
        ]
        if paced:
            after_commit(lambda: _paced_enqueue(paced))
    return len(deliveries), len(events)


def _paced_enqueue(paced: Sequence[tuple[str, float]]) -> None:
    """Each paced delivery with its countdown to its slot (the sweep re-enqueues what is lost)."""
    for sent, (delivery_id, countdown) in enumerate(paced):
        if not enqueue(DELIVER, args=[delivery_id], countdown=countdown):
            logger.warning("could not enqueue %d paced webhook deliveries; the sweep will", len(paced) - sent)
            return


def deliveries_enqueue(ids: Sequence[str], *, countdown: float = 0) -> int:
    """One ``deliver`` task per delivery. A broker outage loses nothing: the sweep re-enqueues."""
    for sent, delivery_id in enumerate(ids):
        if not enqueue(DELIVER, args=[delivery_id], countdown=countdown or None):
            logger.warning("could not enqueue %d webhook deliveries; the sweep will", len(ids) - sent)
            return sent
    return len(ids)


# --- Tries ---------------------------------------------------------------------------------------------


def backoff_seconds(tries: int) -> float:
    """The wait after the ``tries``-th failed try: 10 s, 30 s, 1.5 min, 4.5 min, 13.5 min, 30 min, ..."""
    base = float(settings.SSI_WEBHOOK_BACKOFF_SECONDS)
    delay = min(BACKOFF_CAP_SECONDS, base * 3 ** (tries - 1))
    return delay * (1 + random.random() / 10)  # noqa: S311 (spreading retries, not a secret)


def delivery_run(*, delivery_id: str) -> Outcome | None:
    """Make the next try of a delivery, if it is due and this caller claims it.

    Returns what the try got, or None when there was nothing to do (finished,
    not due yet, being tried elsewhere, deleted).
    """
    now = timezone.now()
    # The claim: one worker per try. It also moves next_attempt_at past the
    # lease, so the sweep leaves a try in flight alone.
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=Pending, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    if not delivery.subscription.active:
        # Switched off (by hand, or after 20 failed deliveries): nothing is sent.
        # The delivery can be redelivered once the subscription is active again.
        WebhookDelivery.objects.filter(pk=delivery.pk, status=Pending).update(
            status=Failed,
            attempts=F("attempts") - 1,
            finished_at=now,
            last_error="Not sent: webhook inactive.",
        )
        return None
    format = delivery.subscription.format
    if not _announced(format, delivery.event.type):
        # Queued before the webhook became a chat one: that format has no message for it.
        WebhookDelivery.objects.filter(pk=delivery.pk, status=Pending).update(
            status=Failed,
            attempts=F("attempts") - 1,
            finished_at=now,
            last_error=f"Not sent: a {format} webhook does not announce {delivery.event.type}.",
        )
        return None
    if not _may_try(delivery, now):
        return None
    started = timezone.now()
    outcome = _try(delivery)
    _record(delivery, outcome, started)
    return outcome


def _receiver_failing(outcome: Outcome) -> bool:
    """No answer (timeout, refused), or an answer that says "not now" (5xx, 429)."""
    if outcome.unsent:
        return False
    return outcome.status_code is None or outcome.status_code >= 500 or outcome.status_code == 429


def _may_try(delivery: WebhookDelivery, now: datetime) -> bool:
    """Whether this claimed delivery may be tried now; if not, it is held back (not a try).

    A healthy subscription: yes. A failing one: its probe (the delivery whose
    failure blocked it) when its own retry comes; another once the block is
    over, and then alone (it becomes the probe for a lease of two timeouts).
    """
    # As loaded with the delivery a moment ago; the conditional update below is what
    # settles a race with another worker.
    blocked_until = delivery.subscription.blocked_until
    if blocked_until is None or delivery.subscription.probe_delivery == delivery.pk:
        return True
    subscription = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    lease = timedelta(seconds=2 * float(settings.SSI_WEBHOOK_TIMEOUT_SECONDS) + 5)
    if subscription.filter(blocked_until__lte=now).update(
        blocked_until=now + lease, probe_delivery=delivery.pk
    ):
        return True
    until = max(blocked_until, now + timedelta(seconds=1))
    held = WebhookDelivery.objects.filter(pk=delivery.pk, status=Pending, attempts=delivery.attempts).update(
        attempts=F("attempts") - 1, next_attempt_at=until
    )
    if held:
        deliveries_enqueue([str(delivery.pk)], countdown=(until - now).total_seconds())
    return False


def request_body(*, format: str, event: OutboxEvent) -> bytes | None:
    """What a delivery of ``event`` to a webhook of ``format`` POSTs: the JSON envelope, or a
    chat message naming reps and teams by their current names (None: no message for it)."""
    if format not in CHAT_FORMATS:
        return payload_body(
            event_id=str(event.id), type=event.type, created_at=event.created_at, data=event.data
        )
    reps, teams = names_wanted(event.type, event.data)
    return chat_payload(
        format=format, event_type=event.type, data=event.data, names=chat_names(reps=reps, teams=teams)
    )


def _try(delivery: WebhookDelivery) -> Outcome:
    event = delivery.event
    body = request_body(format=delivery.subscription.format, event=event)
    if body is None:
        error = f"A {delivery.subscription.format} webhook has no message for {event.type}."
        return Outcome(status_code=None, error=error, duration_ms=0, unsent=True)
    try:
        # Checked again at every try: the name may point somewhere else by now.
        target = url_resolve(delivery.subscription.url, allow_private=settings.SSI_WEBHOOK_ALLOW_PRIVATE)
    except ValidationFailed as exc:
        return Outcome(status_code=None, error=f"{exc.code}: {exc.detail}", duration_ms=0, unsent=True)
    try:
        secret = secret_open(delivery.subscription.secret)
    except SecretUnavailable as exc:  # SSI_SECRETS_KEY missing or wrong: the try fails, retried later
        return Outcome(status_code=None, error=str(exc), duration_ms=0, unsent=True)
    headers = request_headers(secret=secret, event_type=event.type, delivery_id=str(delivery.pk), body=body)
    return post(
        target=target, body=body, headers=headers, timeout=float(settings.SSI_WEBHOOK_TIMEOUT_SECONDS)
    )


def _record(delivery: WebhookDelivery, outcome: Outcome, started: datetime) -> None:
    tries = delivery.attempts  # this try's number within the current round (after the claim)
    now = timezone.now()
    with transaction.atomic():
        # Locked, so a delete of the webhook waits for this record; gone already: nothing to record.
        if not WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).exists():
            return
        # Numbered across redeliveries, so the listed tries read in order.
        last = WebhookAttempt.objects.filter(delivery=delivery).aggregate(n=Max("number"))["n"] or 0
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=last + 1,
            at=started,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        # Still ours? (Not deleted, not retaken after the lease ran out.)
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, status=Pending, attempts=tries)
        result = {"last_status_code": outcome.status_code, "last_error": outcome.error}
        subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
        retries = tries < int(settings.SSI_WEBHOOK_MAX_TRIES)
        delay = backoff_seconds(tries)
        if _receiver_failing(outcome):
            # Hold the subscription's other deliveries back until this one's next try.
            subscriptions.update(
                blocked_until=now + timedelta(seconds=delay), probe_delivery=delivery.pk if retries else None
            )
        else:  # the receiver answers
            subscriptions.exclude(blocked_until=None).update(blocked_until=None, probe_delivery=None)
        if outcome.ok:
            if mine.update(status=Succeeded, finished_at=now, **result):
                subscriptions.update(consecutive_failures=0)
        elif retries:
            if mine.update(next_attempt_at=now + timedelta(seconds=delay), **result):
                delivery_id = str(delivery.pk)
                after_commit(lambda: deliveries_enqueue([delivery_id], countdown=delay))
        elif mine.update(status=Failed, finished_at=now, **result):
            subscriptions.update(consecutive_failures=F("consecutive_failures") + 1)
            if subscriptions.filter(active=True, consecutive_failures__gte=DEACTIVATE_AFTER).update(
                active=False, deactivated_at=now
            ):
                logger.warning(
                    "webhook %s deactivated after %d failed deliveries in a row",
                    delivery.subscription_id,
                    DEACTIVATE_AFTER,
                )


def delivery_redeliver(*, subscription: WebhookSubscription, delivery_id: str) -> WebhookDelivery:
    """Send a finished (failed or succeeded) delivery again, with a fresh set of tries.

    Its earlier tries stay listed. A pending delivery is being tried already (409).
    """
    if not subscription.active:
        raise Conflict("This webhook is inactive; activate it first.", code="webhook_inactive")
    with transaction.atomic():
        restarted = WebhookDelivery.objects.filter(
            pk=delivery_id, subscription=subscription, status__in=[Failed, Succeeded]
        ).update(
            status=Pending,
            attempts=0,
            next_attempt_at=timezone.now(),
            finished_at=None,
            last_status_code=None,
            last_error="",
        )
        delivery = WebhookDelivery.objects.filter(pk=delivery_id, subscription=subscription).first()
        if delivery is None:
            raise NotFound("This webhook has no delivery with this id.")
        if not restarted:
            raise Conflict("This delivery is still being tried.", code="delivery_pending")
        after_commit(lambda: deliveries_enqueue([str(delivery_id)]))
    return delivery


# --- The safety net ----------------------------------------------------------------------------------


def webhooks_sweep() -> int:
    """In this tenant: dispatch leftover outbox events and re-enqueue overdue deliveries.

    What an enqueue lost (a broker outage, a worker that died mid-try) goes
    out here. Returns the number of tasks enqueued.
    """
    now = timezone.now()
    cutoff = now - SWEEP_GRACE
    enqueued = 0
    # Left behind, or paced and due within the horizon (their slot is near: nothing else fans them out).
    undispatched = OutboxEvent.objects.filter(
        Q(created_at__lt=cutoff) | Q(created_at__gt=now, created_at__lte=now + PACE_HORIZON),
        dispatched_at__isnull=True,
    )
    if undispatched.exists() and enqueue(DISPATCH_OUTBOX):
        enqueued += 1
    overdue = [
        str(pk)
        for pk in WebhookDelivery.objects.filter(status=Pending, next_attempt_at__lt=cutoff)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    ]
    if overdue:
        # Re-armed to now: still due for the claim, but not overdue again for
        # SWEEP_GRACE, so the next sweeps leave them alone while these messages wait.
        WebhookDelivery.objects.filter(pk__in=overdue, status=Pending, next_attempt_at__lt=cutoff).update(
            next_attempt_at=now
        )
        enqueued += deliveries_enqueue(overdue)
    return enqueued
