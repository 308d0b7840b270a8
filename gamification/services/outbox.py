"""Events for webhooks, written in the caller's transaction (the outbox pattern).

``event_emit`` stores an ``OutboxEvent`` next to the change it reports; only
after the transaction commits is a task enqueued to fan it out into
deliveries. If the broker is down at that moment, the row is still there:
the periodic ``sweep_outbox`` task picks it up later. Nothing is lost.
"""

from __future__ import annotations

from typing import Any

from core.db import after_commit
from core.queue import enqueue
from gamification.models import OutboxEvent

DISPATCH_OUTBOX = "gamification.webhooks.tasks.dispatch_outbox"
EVENT_TYPES = (
    "badge.awarded",
    "contest.ended",
    "contest.started",
    "goal.achieved",
    "goal.missed",
    "level.up",
    "scores.computed",
)


def event_emit(*, type: str, data: dict[str, Any]) -> OutboxEvent:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = OutboxEvent.objects.create(type=type, data=data)
    after_commit(_kick_dispatch)
    return event


def events_emit(events: list[tuple[str, dict[str, Any]]]) -> None:
    """Several events in one INSERT."""
    if not events:
        return
    OutboxEvent.objects.bulk_create([OutboxEvent(type=t, data=d) for t, d in events])
    after_commit(_kick_dispatch)


def _kick_dispatch() -> None:
    enqueue(DISPATCH_OUTBOX)  # the broker is down: the periodic sweep will dispatch it
