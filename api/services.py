"""Tenant API keys and the audit log: the writes. Run inside the tenant's schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from api.middleware import current_request, request_id_of
from api.models import ApiKey, AuditEntry, Role
from tenants.db import connection
from tenants.errors import Conflict, NotFound, ValidationFailed
from tenants.keys import PLATFORM, PREFIX_LEN, REP_TOKEN, TENANT_KEY, new_token

# --- The audit log -------------------------------------------------------------------------------------

REDACTED = "[redacted]"
# Fields that hold a secret, wherever they appear in a snapshot.
SECRET_FIELDS = frozenset({"secret", "key_hash", "token", "admin_key", "password", "authorization"})
# Values that are secrets whatever their field is called: our tokens and webhook secrets
# (longer than a key's public prefix, which is kept: it names the key).
SECRET_PREFIXES = (f"{PLATFORM}_", f"{TENANT_KEY}_", f"{REP_TOKEN}_", "whsec_")


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


def _actor() -> dict[str, Any]:
    """Who is making the change: the request's principal, or ``system`` outside a request."""
    request = current_request()
    principal = getattr(request, "user", None)
    kind = getattr(principal, "kind", None)
    if kind not in ("key", "platform", "rep"):
        return {"actor_kind": AuditEntry.ActorKind.SYSTEM}
    row = getattr(request, "auth", None)  # the ApiKey, PlatformKey or RepToken row
    return {
        "actor_kind": kind,
        "actor_key_id": getattr(principal, "key_id", None),
        "actor_prefix": getattr(row, "prefix", ""),
        "actor_name": getattr(row, "name", ""),
        "actor_role": getattr(principal, "role", None) or "",
    }


def audit_record(
    *, action: str, target_type: str, target_id: str | int, before: Any = None, after: Any = None
) -> AuditEntry:
    """Record one change in the current tenant's audit log.

    Call it inside the transaction that makes the change (it refuses to run
    outside one): the entry commits with the change or rolls back with it.
    ``before`` is None for a creation, ``after`` None for a deletion.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    request = current_request()
    return AuditEntry.objects.create(
        at=timezone.now(),
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:100],
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=request_id_of(request),
        **_actor(),
    )


# --- API keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    token: str


def api_key_snapshot(key: ApiKey) -> dict[str, Any]:
    """What the audit log keeps of a key: never its token or hash."""
    return {
        "id": key.pk,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "revoked_at": key.revoked_at,
    }


def api_key_create(*, name: str, role: str) -> CreatedApiKey:
    """Mint a key. The token is returned here once; only its hash is kept."""
    if role not in Role.values:
        raise ValidationFailed(
            f"Role must be one of {', '.join(Role.values)}.", code="invalid_choice", attr="role"
        )
    token = new_token(TENANT_KEY)
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, role=role, prefix=token.prefix, key_hash=token.hash)
        audit_record(action="create", target_type="api_key", target_id=key.pk, after=api_key_snapshot(key))
    return CreatedApiKey(key=key, token=token.token)


def api_key_revoke(*, key_id: int) -> ApiKey:
    """Revoke a key (idempotent). The last active admin key cannot be revoked:
    the tenant would lock itself out."""
    with transaction.atomic():
        # Lock the admin keys so two concurrent revocations cannot both pass the check.
        admins = list(ApiKey.objects.select_for_update().filter(role=Role.ADMIN, revoked_at__isnull=True))
        key = ApiKey.objects.filter(pk=key_id).first()
        if key is None:
            raise NotFound("No API key with this id.")
        if key.revoked_at is not None:
            return key  # nothing changes, so nothing is recorded
        if key.role == Role.ADMIN and len(admins) <= 1:
            raise Conflict(
                "This is the last active admin key; create another admin key first.",
                code="last_admin_key",
            )
        before = api_key_snapshot(key)
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            action="revoke",
            target_type="api_key",
            target_id=key.pk,
            before=before,
            after=api_key_snapshot(key),
        )
        return key
