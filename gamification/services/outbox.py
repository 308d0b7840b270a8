"""Events for webhooks, written in the caller's transaction (the outbox pattern).

``event_emit`` stores an ``OutboxEvent`` next to the change it reports; only
after the transaction commits is a task enqueued to fan it out into
deliveries. If the broker is down at that moment, the row is still there:
the periodic ``sweep_outbox`` task picks it up later. Nothing is lost.

Paced events (``events_emit(..., paced=True)``: the awards of a badge given over
the past, thousands at once) are not sent at once: each gets its own slot as its
``created_at``, ``60 / SSI_WEBHOOK_PACED_PER_MINUTE`` seconds after the last event
already waiting, so receivers get a steady trickle. The fan-out takes an event
once its slot is less than ``PACE_HORIZON`` away and schedules its deliveries for
the slot (gamification.webhooks.services); the sweep fans out the next ones each
minute.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from core.db import after_commit, connection
from core.queue import enqueue
from gamification.models import OutboxEvent

DISPATCH_OUTBOX = "gamification.webhooks.tasks.dispatch_outbox"
EVENT_TYPES = (
    "badge.awarded",
    "contest.ended",
    "contest.lead_changed",
    "contest.started",
    "goal.achieved",
    "goal.missed",
    "level.up",
    "scores.computed",
)
# A paced event is fanned out into deliveries once its slot is this close (well under
# Redis' 1 h visibility timeout: its deliveries wait as countdowns).
PACE_HORIZON = timedelta(minutes=5)
PACE_LOCK = "gamification.outbox.pace"


def event_emit(*, type: str, data: dict[str, Any]) -> OutboxEvent:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = OutboxEvent.objects.create(type=type, data=data)
    after_commit(_kick_dispatch)
    return event


def events_emit(events: list[tuple[str, dict[str, Any]]], *, paced: bool = False) -> None:
    """Several events in one INSERT; ``paced``: each in its own slot (see above)."""
    if not events:
        return
    if not paced:
        OutboxEvent.objects.bulk_create([OutboxEvent(type=t, data=d) for t, d in events])
    else:
        slots = pace_slots(len(events))
        OutboxEvent.objects.bulk_create(
            [OutboxEvent(type=t, data=d, created_at=at) for (t, d), at in zip(events, slots, strict=True)]
        )
    after_commit(_kick_dispatch)


def pace_slots(count: int) -> list[Any]:
    """``count`` slots, one pace step apart, after the last event waiting (or now). Two pacing
    transactions take their slots one after the other (a transaction-level advisory lock)."""
    step = timedelta(minutes=1) / max(1, int(settings.SSI_WEBHOOK_PACED_PER_MINUTE))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{PACE_LOCK}:{connection.schema_name}"]
        )
    now = timezone.now()
    last = OutboxEvent.objects.filter(dispatched_at__isnull=True).aggregate(last=Max("created_at"))["last"]
    first = max(now, last + step) if last is not None else now
    return [first + step * i for i in range(count)]


def _kick_dispatch() -> None:
    enqueue(DISPATCH_OUTBOX)  # the broker is down: the periodic sweep will dispatch it
