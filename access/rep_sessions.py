"""A rep's console sessions: a rep token exchanged for a short session on their own page.

``/console/me?token=ssir_…`` trades a valid rep token for a random session token kept in a
cookie (``console.pages.me``); only its SHA-256 is stored, in the tenant's schema, as for
members (``access.sessions``). A rep session reads that rep's own page and nothing else. It
lives an hour at most and ends at once when the rep token it came from is revoked (the
token's row goes, and its sessions with it) or the rep is deleted.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from access.models import RepSession, RepToken
from core.tokens import REP_SESSION, hash_token, new_token

REP_SESSION_TTL = timedelta(hours=1)


def rep_session_start(*, rep_token: RepToken) -> str:
    """A new session for the rep of ``rep_token`` (a valid one: ``rep_token_check``); the
    returned token is for the cookie only. Forgets sessions that expired, to keep the table
    as small as the reps' recent use."""
    now = timezone.now()
    RepSession.objects.filter(expires_at__lte=now).delete()
    token = new_token(REP_SESSION)
    RepSession.objects.create(
        rep_id=rep_token.rep_id, rep_token=rep_token, key_hash=token.hash, expires_at=now + REP_SESSION_TTL
    )
    return token.token


def rep_session_get(*, token: str) -> RepSession | None:
    """The live session of this cookie token, with its rep, or None (unknown, ended, expired)."""
    if not token:
        return None
    return (
        RepSession.objects.select_related("rep")
        .filter(key_hash=hash_token(token), expires_at__gt=timezone.now())
        .first()
    )


def rep_session_end(*, token: str) -> bool:
    """End the session of this cookie token; whether there was one."""
    if not token:
        return False
    deleted, _ = RepSession.objects.filter(key_hash=hash_token(token)).delete()
    return deleted > 0
