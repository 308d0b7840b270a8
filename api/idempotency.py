"""``Idempotency-Key``: the first answer to a request is replayed for 24 h.

Scoped to the tenant (the record lives in its schema) and the API key. The
same key with another body is a 422; the same key while the first request is
still being processed is a 409 (a transaction-scoped advisory lock tells).
The record is written in the same transaction as the work it answers for, so
a replayed answer always describes work that was committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from core.db import connection
from core.errors import DomainError
from scoring.models import IdempotencyRecord

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyInProgress(DomainError):
    status = 409
    code = "idempotency_in_progress"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: bytes


def fingerprint(data: Any) -> str:
    """The body's identity, independent of key order and white space."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.",
            code="invalid_idempotency_key",
            attr=HEADER,
        )
    return key


def idempotency_begin(*, api_key_id: int, key: str, body_fingerprint: str) -> Replay | None:
    """Inside the request's transaction: the stored answer to replay, or None to go ahead."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"idem:{connection.schema_name}:{api_key_id}:{key}"],
        )
        if not cursor.fetchone()[0]:
            raise IdempotencyInProgress(
                "A request with this Idempotency-Key is still being processed.", attr=HEADER
            )
    record = IdempotencyRecord.objects.filter(api_key_id=api_key_id, key=key).first()
    if record is None:
        return None
    if record.created_at < timezone.now() - TTL:
        record.delete()
        return None
    if record.fingerprint != body_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was used with another request body.", attr=HEADER)
    return Replay(status_code=record.status_code, body=record.body.encode())


def idempotency_save(
    *, api_key_id: int, key: str, body_fingerprint: str, status_code: int, body: bytes
) -> None:
    IdempotencyRecord.objects.create(
        api_key_id=api_key_id,
        key=key,
        fingerprint=body_fingerprint,
        status_code=status_code,
        body=body.decode(),
    )
