"""The audit log's actor, built from the authenticated request: services are handed it."""

from __future__ import annotations

from rest_framework.request import Request

from access.actor import Actor
from access.models import AuditEntry
from api.middleware import request_id_of

ACTOR_KINDS = frozenset({AuditEntry.ActorKind.KEY, AuditEntry.ActorKind.PLATFORM, AuditEntry.ActorKind.REP})


def actor_of(request: Request) -> Actor:
    """Who makes the change: the request's principal (``api.auth.Principal``) and the key row it
    authenticated with, with the request's id. A request without one acts as ``system``."""
    principal = getattr(request, "user", None)
    kind = getattr(principal, "kind", None)
    request_id = request_id_of(request)
    if kind not in ACTOR_KINDS:
        return Actor(kind=AuditEntry.ActorKind.SYSTEM, request_id=request_id)
    row = getattr(request, "auth", None)  # the ApiKey, PlatformKey or RepToken row
    return Actor(
        kind=str(kind),
        key_id=getattr(principal, "key_id", None),
        prefix=getattr(row, "prefix", ""),
        name=getattr(row, "name", ""),
        role=getattr(principal, "role", None) or "",
        request_id=request_id,
    )
