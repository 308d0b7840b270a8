"""Tenant API keys: the writes. Run inside the tenant's schema."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from api.models import ApiKey, Role
from tenants.errors import Conflict, NotFound, ValidationFailed
from tenants.keys import TENANT_KEY, new_token


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    token: str


def api_key_create(*, name: str, role: str) -> CreatedApiKey:
    """Mint a key. The token is returned here once; only its hash is kept."""
    if role not in Role.values:
        raise ValidationFailed(
            f"Role must be one of {', '.join(Role.values)}.", code="invalid_choice", attr="role"
        )
    token = new_token(TENANT_KEY)
    key = ApiKey.objects.create(name=name, role=role, prefix=token.prefix, key_hash=token.hash)
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
            return key
        if key.role == Role.ADMIN and len(admins) <= 1:
            raise Conflict(
                "This is the last active admin key; create another admin key first.",
                code="last_admin_key",
            )
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        return key
