"""Rep tokens: short-lived bearer tokens a client app uses to show one rep its own data.

A rep token (``ssir_…``) reads that rep's card, scores and badges and the
leaderboards, and nothing else (``api.permissions``). Like API keys, only its
public prefix and SHA-256 are stored (``core.tokens``); the token itself is
shown once. A token lives at most a day; revoking it deletes its row, which
ends it at once: an admin revokes a rep's tokens (``rep_tokens_revoke``), and
revoking an API key revokes the tokens it minted (``access.keys``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from access.models import RepToken
from core.errors import ValidationFailed
from core.tokens import REP_TOKEN, new_token, token_kind, token_matches, token_prefix

DEFAULT_TTL_SECONDS = 3600
MAX_TTL_SECONDS = 86400
# Expired tokens are kept this long so that using one answers ``token_expired``
# (the client knows to mint a new one) rather than ``invalid_token``.
EXPIRED_KEPT = timedelta(days=1)
# The prefix is 7 random characters behind ``ssir_``: a clash with a live row
# is very unlikely, and a fresh token is drawn when it happens.
MINT_ATTEMPTS = 3
MAX_TOKEN_LENGTH = 256
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+$")  # what secrets.token_urlsafe mints, behind the kind


@dataclass(frozen=True)
class RepTokenCreated:
    token: str  # the secret: shown once, never stored
    rep_token: RepToken

    @property
    def expires_at(self) -> datetime:
        return self.rep_token.expires_at


def rep_token_create(
    *, rep_id: int, ttl_seconds: int = DEFAULT_TTL_SECONDS, created_by_key_id: int | None = None
) -> RepTokenCreated:
    """Mint a token for the rep ``rep_id`` valid ``ttl_seconds`` (1..86400) from now.

    Also forgets this rep's tokens that expired more than a day ago, so the
    table stays as small as the reps' recent use.
    """
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise ValidationFailed("A whole number of seconds.", code="invalid_type", attr="ttl_seconds")
    if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValidationFailed(
            f"Must be between 1 and {MAX_TTL_SECONDS} seconds.", code="out_of_range", attr="ttl_seconds"
        )
    now = timezone.now()
    RepToken.objects.filter(rep_id=rep_id, expires_at__lt=now - EXPIRED_KEPT).delete()
    for attempt in range(MINT_ATTEMPTS):
        new = new_token(REP_TOKEN)
        try:
            with transaction.atomic():  # a savepoint: a prefix clash must not spoil the caller's transaction
                row = RepToken.objects.create(
                    rep_id=rep_id,
                    prefix=new.prefix,
                    key_hash=new.hash,
                    expires_at=now + timedelta(seconds=ttl_seconds),
                    created_by_key_id=created_by_key_id,
                )
        except IntegrityError:
            if attempt == MINT_ATTEMPTS - 1:
                raise
            continue
        return RepTokenCreated(token=new.token, rep_token=row)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class RepTokenCheck:
    """What a presented rep token is: ``rep_token`` is its row when the secret matches one of
    this tenant's (revoked tokens have no row); ``expired`` when that row is past its expiry."""

    rep_token: RepToken | None
    expired: bool = False

    @property
    def valid(self) -> bool:
        return self.rep_token is not None and not self.expired


def rep_token_check(*, token: str) -> RepTokenCheck:
    """Find the rep token ``token`` in the current tenant's schema: by its public prefix, then
    its SHA-256 compared in constant time. The API's bearer authentication and the console's
    rep link (``/console/me?token=``) both ask here, so they accept and refuse the same tokens."""
    if len(token) > MAX_TOKEN_LENGTH or not TOKEN_RE.match(token) or token_kind(token) != REP_TOKEN:
        return RepTokenCheck(rep_token=None)
    row = RepToken.objects.filter(prefix=token_prefix(token)).select_related("rep").first()
    if row is None or not token_matches(token, row.key_hash):
        return RepTokenCheck(rep_token=None)
    return RepTokenCheck(rep_token=row, expired=row.expires_at <= timezone.now())


def rep_tokens_purge_expired(*, kept: timedelta = EXPIRED_KEPT) -> int:
    """Delete tokens expired for longer than ``kept`` (for a periodic task); returns how many."""
    deleted, _ = RepToken.objects.filter(expires_at__lt=timezone.now() - kept).delete()
    return deleted


def rep_tokens_revoke(*, rep_id: int, rep_external_id: str, actor: Actor) -> int:
    """Revoke every token of the rep ``rep_id`` (expired ones too); returns how many were live.

    Recorded in the audit log when it revokes a live token; revoking none changes nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        tokens = RepToken.objects.filter(rep_id=rep_id)
        live = tokens.filter(expires_at__gt=now).count()
        tokens.delete()
        if live:
            audit_record(
                actor=actor,
                action="revoke",
                target_type="rep_tokens",
                target_id=rep_external_id,
                before={"live_tokens": live},
                after={"live_tokens": 0},
            )
    return live


def rep_tokens_revoke_minted_by(*, key_id: int) -> int:
    """Revoke the tokens the API key ``key_id`` minted (its own revocation); returns how many were live."""
    tokens = RepToken.objects.filter(created_by_key_id=key_id)
    live = tokens.filter(expires_at__gt=timezone.now()).count()
    tokens.delete()
    return live
