"""The audit log: one entry per change to a tenant's configuration, written in the change's
transaction. Runs inside the tenant's schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from access.actor import Actor
from access.models import AuditEntry
from core.db import connection
from core.tokens import MEMBER_INVITE, PASSWORD_RESET, PLATFORM, PREFIX_LEN, REP_TOKEN, TENANT_KEY

# --- The audit log -------------------------------------------------------------------------------------

REDACTED = "[redacted]"
# Fields that hold a secret, wherever they appear in a snapshot.
SECRET_FIELDS = frozenset({"secret", "key_hash", "token", "admin_key", "password", "authorization"})
# Values that are secrets whatever their field is called: our tokens and webhook secrets
# (longer than a key's public prefix, which is kept: it names the key).
SECRET_PREFIXES = (
    f"{PLATFORM}_",
    f"{TENANT_KEY}_",
    f"{REP_TOKEN}_",
    f"{MEMBER_INVITE}_",
    f"{PASSWORD_RESET}_",
    "whsec_",
)


def redact(value: Any) -> Any:
    """A JSON-able copy of ``value`` with every secret replaced by ``"[redacted]"``.

    Snapshots are built without secrets in the first place; this is the safety
    net for a field added later.
    """
    if isinstance(value, Mapping):
        return {
            str(name): REDACTED if str(name).lower() in SECRET_FIELDS else redact(item)
            for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str) and value.startswith(SECRET_PREFIXES) and len(value) > PREFIX_LEN:
        return REDACTED
    return value


def _jsonable(value: Any) -> Any:
    # Dates, datetimes, decimals and UUIDs as the API writes them.
    return None if value is None else redact(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def audit_record(
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Record one change by ``actor`` in the current tenant's audit log.

    Call it inside the transaction that makes the change (it refuses to run
    outside one): the entry commits with the change or rolls back with it.
    ``before`` is None for a creation, ``after`` None for a deletion.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    return AuditEntry.objects.create(
        at=timezone.now(),
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:100],
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=actor.request_id,
        actor_kind=actor.kind,
        actor_key_id=actor.key_id,
        actor_prefix=actor.prefix,
        actor_name=actor.name,
        actor_role=actor.role,
    )
