"""Erasing a rep's personal data while its scores keep counting (docs/security.md#erasing-a-rep).

An erasure spans apps (the rep and its events in scoring, its tokens and sessions and the audit
log in access, contests and webhook events in gamification), hence its place here. What it
leaves: the rep row, inactive, without name, email or team, under an opaque external_id
(``erased-`` and a keyed hash of the old one); its events without metadata and under opaque
ids; its rollups, XP, snapshots, awards and standings as they were. The stored company and
team summaries are not touched, so past days keep counting it.
"""

from __future__ import annotations

import json
import operator
import secrets
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from access.actor import Actor
from access.audit import audit_record
from access.models import AuditEntry, RepSession, RepToken
from core.db import connection
from scoring.models import IdempotencyRecord, PreviewResult, Rep
from scoring.services.people import rep_rows_exclusive_lock

ERASED_PREFIX = "erased-"
# JSON columns that may name a rep by external_id (or carry its name or email): audit
# snapshots, webhook events, contests' participants and announced leaders.
JSON_PLACES = (
    ("api_auditentry", "before"),
    ("api_auditentry", "after"),
    ("gamification_outboxevent", "data"),
    ("gamification_contest", "participants"),
    ("gamification_contest", "lead"),
    ("gamification_contestseries", "participants"),
)


def erased_external_id(external_id: str) -> str:
    """The opaque external_id an erased rep gets: a hash of the old one keyed by the
    deployment's secret and the tenant, so that no one without the secret can tell which
    id it was, and asking to erase the old id again finds the erased rep."""
    digest = salted_hmac(
        "provisioning.erasure.rep",
        f"{connection.schema_name}:{external_id}",
        secret=settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()
    return ERASED_PREFIX + digest[:32]


def rep_to_erase(external_id: str) -> Rep | None:
    """The rep ``DELETE /reps/{external_id}?erase=true`` names: by its external_id, or, once
    erased, by the one it had (a repeated erasure finds it, and changes nothing)."""
    rep = Rep.objects.filter(external_id=external_id).first()
    if rep is None:
        rep = Rep.objects.filter(external_id=erased_external_id(external_id), erased_at__isnull=False).first()
    return rep


def rep_erase(*, rep: Rep, actor: Actor) -> bool:
    """Erase ``rep``'s personal data (see the module's docstring); False when it was erased
    already. Recorded in the audit log under the new external_id, with counts only."""
    if rep.erased_at is not None:
        return False
    with transaction.atomic(), connection.cursor() as cursor:
        rep_rows_exclusive_lock(cursor)
        rep = Rep.objects.select_for_update().get(pk=rep.pk)
        if rep.erased_at is not None:  # another request got there first
            return False
        old = {"external_id": rep.external_id, "name": rep.name, "email": rep.email}
        new_id = erased_external_id(rep.external_id)
        if Rep.objects.filter(external_id=new_id).exists():  # the same id erased before, another rep
            new_id = f"{new_id}-{rep.pk}"
        events = _events_anonymize(cursor, rep.pk)
        tokens = RepToken.objects.filter(rep=rep).count()
        RepSession.objects.filter(rep=rep).delete()
        RepToken.objects.filter(rep=rep).delete()
        Rep.objects.filter(pk=rep.pk).update(
            external_id=new_id,
            name="",
            email="",
            team=None,
            active=False,
            erased_at=timezone.now(),
            updated_at=timezone.now(),
        )
        _references_rewrite(cursor, old=old, new_id=new_id)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.ERASE,
            target_type=AuditEntry.TargetType.REP,
            target_id=new_id,
            after={"erased": True, "events": events, "rep_tokens_revoked": tokens},
        )
    return True


def _events_anonymize(cursor: Any, rep_id: int) -> int:
    """Empty the metadata of the rep's events and give them opaque ids (the client's may
    embed who it was): a hash salted with a random value kept nowhere, so no one can tell
    which id it was. Returns how many events the rep has."""
    salt = secrets.token_hex(16)
    cursor.execute(
        "UPDATE scoring_activity SET metadata = NULL, "
        "event_id = %s || encode(sha256(convert_to(%s || event_id, 'UTF8')), 'hex') "
        "WHERE rep_id = %s",
        [ERASED_PREFIX, salt, rep_id],
    )
    return int(cursor.rowcount)


def _references_rewrite(cursor: Any, *, old: dict[str, str], new_id: str) -> None:
    """Where other rows name the rep: its old external_id becomes the new one, its name and
    email are blanked (strings equal to them, in the JSON columns of ``JSON_PLACES``); the
    answers kept for idempotent retries that mention any of them are forgotten."""
    mapping = {old["external_id"]: new_id}
    mapping.update({old[field]: "" for field in ("name", "email") if old[field]})
    needles = [json.dumps(value, ensure_ascii=False) for value in mapping]
    for table, column in JSON_PLACES:
        match = " OR ".join(f"strpos({column}::text, %s) > 0" for _ in needles)
        cursor.execute(f"SELECT id, {column} FROM {table} WHERE {match}", needles)  # noqa: S608 (fixed names)
        for pk, value in cursor.fetchall():
            decoded = json.loads(value) if isinstance(value, str) else value
            cursor.execute(
                f"UPDATE {table} SET {column} = %s::jsonb WHERE id = %s",  # noqa: S608 (fixed names)
                [json.dumps(_rewritten(decoded, mapping)), pk],
            )
    AuditEntry.objects.filter(
        target_type=AuditEntry.TargetType.REP_TOKENS, target_id=old["external_id"]
    ).update(target_id=new_id)
    PreviewResult.objects.filter(rep=old["external_id"]).update(rep=new_id)
    # A kept answer may carry them inside other text (an event id made of the rep's id): any
    # occurrence drops it. A retry of that request then runs again, and finds its events stored.
    mentions = [value for value in mapping if value]
    IdempotencyRecord.objects.filter(reduce(operator.or_, (Q(body__icontains=v) for v in mentions))).delete()


def _rewritten(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every string (keys too) equal to one of ``mapping`` replaced."""
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_rewritten(item, mapping) for item in value]
    if isinstance(value, dict):
        return {mapping.get(key, key): _rewritten(item, mapping) for key, item in value.items()}
    return value
