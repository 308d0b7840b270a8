"""Console members: invited, activated, changed, removed; their one-time links and passwords.

Run inside the tenant's schema. A link's token is returned once (to be put in a
URL and emailed); only its SHA-256 is stored, with its expiry, and it works once.
A fresh invitation replaces the previous one, so the older link stops working.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from access.models import Member, MemberRole
from core.errors import Conflict, NotFound, ValidationFailed
from core.tokens import MEMBER_INVITE, PASSWORD_RESET, hash_token, new_token

logger = logging.getLogger(__name__)

INVITE_TTL = timedelta(days=7)
RESET_TTL = timedelta(hours=1)
# A hash no password ever matches: checked when the email is unknown, so a failed sign-in takes
# as long whether or not the account exists.
_NO_PASSWORD = make_password(None)


@dataclass(frozen=True)
class Invitation:
    member: Member
    token: str  # the link's secret: shown once, only its hash is kept


def member_snapshot(member: Member) -> dict[str, Any]:
    """What the audit log keeps of a member: never the password hash or a link's hash."""
    return {
        "id": member.pk,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "status": member.status,
    }


def _check_role(role: str) -> None:
    if role not in MemberRole.values:
        raise ValidationFailed(
            f"Role must be one of {', '.join(MemberRole.values)}.", code="invalid_choice", attr="role"
        )


def _new_invitation(member: Member) -> str:
    token = new_token(MEMBER_INVITE)
    member.invite_hash = token.hash
    member.invite_expires_at = timezone.now() + INVITE_TTL
    return token.token


def member_invite(*, email: str, role: str, actor: Actor, name: str = "") -> Invitation:
    """Add a member, invited: the answer's token makes their invitation link (valid 7 days, once).
    An email already a member (in any case) is a 409 ``member_exists``."""
    _check_role(role)
    email = email.strip()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed("Enter a valid email address.", code="invalid", attr="email") from exc
    with transaction.atomic():
        if Member.objects.filter(email__iexact=email).exists():
            raise Conflict("A member with this email already exists.", code="member_exists", attr="email")
        member = Member(email=email, name=name, role=role)
        token = _new_invitation(member)
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError as exc:  # another request added the same email meanwhile
            raise Conflict(
                "A member with this email already exists.", code="member_exists", attr="email"
            ) from exc
        audit_record(
            actor=actor,
            action="create",
            target_type="member",
            target_id=member.pk,
            after=member_snapshot(member),
        )
    return Invitation(member=member, token=token)


def member_reinvite(*, member_id: int, actor: Actor) -> Invitation:
    """A fresh invitation link for a member; the previous one stops working. An active member
    may be re-invited too (the link then sets a new password)."""
    with transaction.atomic():
        member = Member.objects.select_for_update().filter(pk=member_id).first()
        if member is None:
            raise NotFound("No member with this id.")
        token = _new_invitation(member)
        member.save(update_fields=["invite_hash", "invite_expires_at", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            target_type="member",
            target_id=member.pk,
            before=member_snapshot(member),
            after={**member_snapshot(member), "invitation": "sent"},
        )
    return Invitation(member=member, token=token)


def _keep_an_admin(member: Member, action: str) -> None:
    """Refuse to remove or demote the last active admin member: nobody could sign in to manage
    the console's members any more. Locks the active admins, so two admins demoting each other
    at once cannot both pass. Call it inside the change's transaction."""
    admins = list(
        Member.objects.select_for_update()
        .filter(role=MemberRole.ADMIN, status=Member.Status.ACTIVE)
        .values_list("pk", flat=True)
    )
    if member.pk in admins and len(admins) <= 1:
        raise Conflict(
            f"This is the last active admin; make another member an admin before you {action} this one.",
            code="last_admin",
            attr="role" if action == "demote" else None,
        )


def member_update(*, member: Member, changes: dict[str, Any], actor: Actor) -> Member:
    """Change a member's name or role. The last active admin cannot be demoted (409 ``last_admin``)."""
    if "role" in changes:
        _check_role(changes["role"])
    with transaction.atomic():
        if changes.get("role", MemberRole.ADMIN) != MemberRole.ADMIN:
            _keep_an_admin(member, "demote")
        before = member_snapshot(member)
        for field in ("name", "role"):
            if field in changes:
                setattr(member, field, changes[field])
        member.save(update_fields=["name", "role", "updated_at"])
        audit_record(
            actor=actor,
            action="update",
            target_type="member",
            target_id=member.pk,
            before=before,
            after=member_snapshot(member),
        )
    return member


def member_delete(*, member: Member, actor: Actor) -> None:
    """Remove a member. Their sessions go with them (cascade), so they are signed out at once.
    The last active admin cannot be removed (409 ``last_admin``)."""
    with transaction.atomic():
        _keep_an_admin(member, "remove")
        before = member_snapshot(member)
        target_id = member.pk
        member.delete()
        audit_record(actor=actor, action="delete", target_type="member", target_id=target_id, before=before)


INVITATION_SUBJECT = "You are invited to the SSI Cloud console"
INVITATION_INTRO = (
    "You are invited to your company's SSI Cloud console. Choose your password here "
    "(the link works once, for 7 days):"
)


def invitation_email_send(*, member: Member, url: str) -> None:
    """Email an invitation link (the API's and the console's Members page's)."""
    link_email_send(member=member, subject=INVITATION_SUBJECT, intro=INVITATION_INTRO, url=url)


def link_email_send(*, member: Member, subject: str, intro: str, url: str) -> None:
    """Email a one-time link. A mail server that fails is logged, never raised: the link is
    also in the API's answer, and the member may be sent a fresh one."""
    body = f"{intro}\n\n{url}\n\nIf you did not expect this email, ignore it.\n"
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [member.email])
    except Exception:  # an SMTP or network error of any kind
        logger.warning("email to member %s could not be sent", member.pk, exc_info=True)


# --- One-time links and passwords (the console's sign-in pages) -----------------------------------------


def member_by_link(*, token: str, purpose: str) -> Member | None:
    """The member whose unexpired invitation (``purpose="invite"``) or reset link this is."""
    field = "invite" if purpose == "invite" else "reset"
    if not token:
        return None
    member = Member.objects.filter(**{f"{field}_hash": hash_token(token)}).first()
    expires = getattr(member, f"{field}_expires_at", None)
    if member is None or expires is None or expires <= timezone.now():
        return None
    return member


def password_check_rules(*, member: Member, password: str) -> list[str]:
    """The messages of AUTH_PASSWORD_VALIDATORS this password breaks (empty: it is fine)."""
    try:
        validate_password(password, user=member)  # type: ignore[arg-type]  # reads email and name only
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def member_set_password(*, token: str, purpose: str, password: str) -> Member | None:
    """Use a link: set the password, make the member active, spend the link, and end every
    session the member had (a reset signs out everywhere). None when the link is not valid
    (unknown, used, expired or replaced). The password must have passed ``password_check_rules``."""
    field = "invite" if purpose == "invite" else "reset"
    with transaction.atomic():
        # Locked by its hash: of two requests with the same link, the second finds it spent.
        member = (
            Member.objects.select_for_update()
            .filter(**{f"{field}_hash": hash_token(token), f"{field}_expires_at__gt": timezone.now()})
            .first()
        )
        if not token or member is None:
            return None
        member.password = make_password(password)
        member.status = Member.Status.ACTIVE
        member.invite_hash, member.invite_expires_at = "", None
        member.reset_hash, member.reset_expires_at = "", None
        member.save()
        member.sessions.all().delete()
    return member


def password_reset_start(*, email: str) -> tuple[Member, str] | None:
    """A reset link's token for an active member with this email (valid 1 hour, once), or None."""
    with transaction.atomic():
        member = (
            Member.objects.select_for_update()
            .filter(email__iexact=email.strip(), status=Member.Status.ACTIVE)
            .first()
        )
        if member is None:
            return None
        token = new_token(PASSWORD_RESET)
        member.reset_hash = token.hash
        member.reset_expires_at = timezone.now() + RESET_TTL
        member.save(update_fields=["reset_hash", "reset_expires_at", "updated_at"])
    return member, token.token


def member_authenticate(*, email: str, password: str) -> Member | None:
    """The active member with this email and password, or None (whatever the reason)."""
    member = Member.objects.filter(email__iexact=email.strip(), status=Member.Status.ACTIVE).first()
    if member is None or not member.password:
        check_password(password, _NO_PASSWORD)  # as slow as a real check
        return None
    return member if check_password(password, member.password) else None
