"""Teams and reps: the writes. Run inside the tenant's schema."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from scoring.models import Rep, Team
from tenants.errors import Conflict, ValidationFailed

# external_id appears in URLs: no slash, no whitespace, no control characters.
EXTERNAL_ID_RE = re.compile(r"^[^/\s\x00-\x1f\x7f?#%\\]{1,128}\Z")  # \Z: "$" would let "id\n" through


def validate_external_id(value: str, *, attr: str = "external_id") -> str:
    if not EXTERNAL_ID_RE.match(value):
        raise ValidationFailed(
            "1 to 128 characters, without '/', '?', '#', '%', '\\' or whitespace.",
            code="invalid_external_id",
            attr=attr,
        )
    return value


def team_create(*, name: str, description: str = "") -> Team:
    try:
        with transaction.atomic():
            return Team.objects.create(name=name, description=description)
    except IntegrityError as exc:
        raise Conflict(f"A team named {name!r} exists.", code="already_exists", attr="name") from exc


def team_update(*, team: Team, data: dict[str, Any]) -> Team:
    for field in ("name", "description"):
        if field in data:
            setattr(team, field, data[field])
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise Conflict(f"A team named {team.name!r} exists.", code="already_exists", attr="name") from exc
    return team


def team_delete(*, team: Team) -> None:
    """Delete a team; its reps stay, without a team."""
    team.delete()


def rep_create(
    *, external_id: str, name: str = "", email: str = "", team: Team | None = None, active: bool = True
) -> Rep:
    validate_external_id(external_id)
    try:
        with transaction.atomic():
            return Rep.objects.create(
                external_id=external_id, name=name, email=email, team=team, active=active
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A rep with external_id {external_id!r} exists.", code="already_exists", attr="external_id"
        ) from exc


def rep_update(*, rep: Rep, data: dict[str, Any]) -> Rep:
    """Update a rep. ``external_id`` is its key and cannot change."""
    if "external_id" in data and data["external_id"] != rep.external_id:
        raise ValidationFailed("external_id cannot be changed.", code="immutable", attr="external_id")
    for field in ("name", "email", "team", "active"):
        if field in data:
            setattr(rep, field, data[field])
    rep.save()
    return rep


def rep_delete(*, rep: Rep) -> None:
    """Delete a rep and everything recorded for it. To keep history, set ``active`` false instead."""
    rep.delete()
