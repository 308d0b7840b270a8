"""Console sessions: a random token in an HttpOnly cookie, its SHA-256 in the tenant's schema.

A session belongs to the tenant whose schema holds it: the same cookie on another
tenant's host finds no row there. Ending a member's sessions deletes their rows,
so every browser they signed in with is signed out at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from access.models import Member, MemberSession
from core.tokens import CONSOLE_SESSION, hash_token, new_token

SESSION_TTL = timedelta(hours=12)


def session_start(*, member: Member) -> str:
    """A new session for ``member``; the token is for the cookie only."""
    token = new_token(CONSOLE_SESSION)
    MemberSession.objects.create(member=member, key_hash=token.hash, expires_at=timezone.now() + SESSION_TTL)
    return token.token


def session_member(*, token: str) -> Member | None:
    """The member signed in with this cookie token, if the session exists and has not expired."""
    if not token:
        return None
    row = (
        MemberSession.objects.select_related("member")
        .filter(key_hash=hash_token(token), expires_at__gt=timezone.now())
        .first()
    )
    return row.member if row is not None else None


def sessions_end_all(*, member: Member) -> int:
    """Sign ``member`` out everywhere; returns how many sessions ended."""
    deleted, _ = MemberSession.objects.filter(member=member).delete()
    return deleted
