"""Tenant API keys: minted (the token shown once, its hash kept) and revoked. Run inside the
tenant's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from access.models import ApiKey, Role
from access.rep_tokens import rep_tokens_revoke_minted_by
from core.errors import Conflict, NotFound, ValidationFailed
from core.tokens import TENANT_KEY, new_token


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


def api_key_create(*, name: str, role: str, actor: Actor) -> CreatedApiKey:
    """Mint a key. The token is returned here once; only its hash is kept."""
    if role not in Role.values:
        raise ValidationFailed(
            f"Role must be one of {', '.join(Role.values)}.", code="invalid_choice", attr="role"
        )
    token = new_token(TENANT_KEY)
    with transaction.atomic():
        key = ApiKey.objects.create(name=name, role=role, prefix=token.prefix, key_hash=token.hash)
        audit_record(
            actor=actor, action="create", target_type="api_key", target_id=key.pk, after=api_key_snapshot(key)
        )
    return CreatedApiKey(key=key, token=token.token)


def api_key_revoke(*, key_id: int, actor: Actor) -> ApiKey:
    """Revoke a key (idempotent), and the rep tokens it minted. The last active admin key
    cannot be revoked: the tenant would lock itself out."""
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
        tokens = rep_tokens_revoke_minted_by(key_id=key.pk)
        audit_record(
            actor=actor,
            action="revoke",
            target_type="api_key",
            target_id=key.pk,
            before=before,
            after={**api_key_snapshot(key), "rep_tokens_revoked": tokens},
        )
        return key
