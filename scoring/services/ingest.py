"""Activity ingestion: the hottest path of the product.

Validation is plain Python (no serializer per event). Accepted events are
written by ONE statement, an ``INSERT … SELECT FROM unnest(…) ON CONFLICT
(event_id) DO NOTHING`` fed binary arrays, whose ``RETURNING`` rows, grouped
per (rep, type, local day), feed the upsert of the daily rollup and the hooks'
writes (XP: see ``scoring.hooks.StoredSQL``) in the same statement: only events
stored now count, and a duplicate (same event id, in this batch or before) is
stored once and counted. The caller's transaction commits before the answer.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import psycopg
from django.db import transaction
from django.utils import timezone

from core.db import binary_cursor
from core.text import has_lone_surrogate, shown
from scoring import hooks
from scoring.engine import Config
from scoring.models import Rep
from scoring.services.config import scoring_config_current
from scoring.services.people import EXTERNAL_ID_RE, rep_rows_write_lock
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

MAX_BATCH = 1000
MAX_EVENT_ID = 128
MAX_METADATA_BYTES = 4096
# The largest value: counts and totals are far below it, and sums of it stay exact in a float8.
# Near 1.8e308, two values would overflow the day's total in PostgreSQL: an error for that
# batch and every later one of the same rep, type and day.
MAX_EVENT_VALUE = 10**15
FUTURE_TOLERANCE = timedelta(minutes=5)
EVENT_FIELDS = frozenset({"id", "rep", "type", "occurred_at", "value", "metadata"})


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    # rep id -> number of events stored now, by type (for XP and badge hooks)
    stored_by_rep: dict[int, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


class _Valid(NamedTuple):
    position: int  # in the batch
    event_id: str
    rep: str
    type: str
    occurred_at: datetime
    local_day: date
    value: float
    metadata: str | None  # JSON text


def _error(code: str, detail: str, attr: str | None) -> dict[str, Any]:
    return {"code": code, "detail": detail, "attr": attr}


def _parse_time(raw: Any) -> datetime | dict[str, Any]:
    if not isinstance(raw, str):
        return _error("invalid_type", "Must be an ISO 8601 timestamp with a time zone.", "occurred_at")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return _error("invalid_timestamp", "Not an ISO 8601 timestamp.", "occurred_at")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return _error(
            "naive_timestamp",
            "The timestamp has no time zone (add 'Z' or an offset like +02:00).",
            "occurred_at",
        )
    return parsed


def validate_event(
    raw: Any, *, known_types: frozenset[str], tz: ZoneInfo, now: datetime, index: int = 0
) -> _Valid | list[dict[str, Any]]:
    """One event: the clean row, or its list of errors (every problem at once).

    Each field's check appends its problems to ``errors`` and returns the field's value,
    clean when it found none, so that one pass reports every problem.
    """
    if not isinstance(raw, Mapping):
        return [_error("invalid_type", "An event must be an object.", None)]
    errors: list[dict[str, Any]] = []
    if not EVENT_FIELDS.issuperset(raw):  # one C-level pass; the loop only for the report
        for name in raw:
            if name not in EVENT_FIELDS:
                errors.append(_error("unknown_field", "Unknown field.", shown(str(name)[:64])))
    event_id = _check_event_id(raw.get("id"), errors)
    rep = _check_rep(raw.get("rep"), errors)
    type_name = _check_type(raw.get("type"), known_types, errors)
    occurred_at, day = _check_occurred_at(raw, tz, now, errors)
    value = _check_value(raw.get("value", 1), errors)
    metadata_text = _check_metadata(raw.get("metadata"), errors)
    if errors:
        return errors
    assert occurred_at is not None and day is not None
    # + 0.0: a value of -0.0 is stored as 0.
    return _Valid(
        index, str(event_id), str(rep), str(type_name), occurred_at, day, float(value) + 0.0, metadata_text
    )


def _surrogate_error(attr: str) -> dict[str, Any]:
    return _error(
        "surrogate_characters_not_allowed",
        "Text cannot contain a lone surrogate (an escape from \\ud800 to \\udfff without its pair).",
        attr,
    )


def _check_event_id(event_id: Any, errors: list[dict[str, Any]]) -> Any:
    """The event id: a string, or an integer taken as its decimal text."""
    if isinstance(event_id, int) and not isinstance(event_id, bool):
        event_id = str(event_id)
    if event_id is None:
        errors.append(_error("required", "This field is required.", "id"))
    elif not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID or "\x00" in event_id:
        errors.append(_error("invalid", f"A string of 1 to {MAX_EVENT_ID} characters.", "id"))
    elif has_lone_surrogate(event_id):
        errors.append(_surrogate_error("id"))
    return event_id


def _check_rep(rep: Any, errors: list[dict[str, Any]]) -> Any:
    if rep is None:
        errors.append(_error("required", "This field is required.", "rep"))
    elif not isinstance(rep, str) or not EXTERNAL_ID_RE.match(rep):
        if isinstance(rep, str) and has_lone_surrogate(rep):
            errors.append(_surrogate_error("rep"))
        else:
            errors.append(
                _error("invalid", "A rep external_id: 1-128 characters, no '/' or whitespace.", "rep")
            )
    return rep


def _check_type(type_name: Any, known_types: frozenset[str], errors: list[dict[str, Any]]) -> Any:
    if type_name is None:
        errors.append(_error("required", "This field is required.", "type"))
    elif not isinstance(type_name, str) or type_name not in known_types:
        errors.append(_unknown_type_error(type_name))
    return type_name


def _unknown_type_error(type_name: Any) -> dict[str, Any]:
    if isinstance(type_name, str) and has_lone_surrogate(type_name):
        return _surrogate_error("type")
    named = type_name if isinstance(type_name, str) else type(type_name).__name__
    return _error("unknown_type", f"Unknown event type {str(named)[:64]!r}.", "type")


def _check_occurred_at(
    raw: Mapping[str, Any], tz: ZoneInfo, now: datetime, errors: list[dict[str, Any]]
) -> tuple[datetime | None, date | None]:
    """The time in UTC and its local day in the tenant's zone, which decides the rollup row."""
    if "occurred_at" not in raw:
        errors.append(_error("required", "This field is required.", "occurred_at"))
        return None, None
    parsed = _parse_time(raw["occurred_at"])
    if isinstance(parsed, dict):
        errors.append(parsed)
    elif parsed - now > FUTURE_TOLERANCE:
        errors.append(_error("in_future", "More than 5 minutes in the future.", "occurred_at"))
    else:
        try:
            return parsed.astimezone(UTC), parsed.astimezone(tz).date()
        except (OverflowError, ValueError):
            errors.append(_error("invalid_timestamp", "Out of range.", "occurred_at"))
    return None, None


def _check_value(value: Any, errors: list[dict[str, Any]]) -> Any:
    """The event's value: 1 when absent or null. An integer is compared as one (a 400-digit
    integer has no float: converting it first would raise)."""
    if value is None:
        value = 1
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(_error("invalid_type", "Must be a number.", "value"))
    elif (isinstance(value, float) and not math.isfinite(value)) or value < 0:
        errors.append(_error("invalid_value", "Must be a finite number >= 0.", "value"))
    elif value > MAX_EVENT_VALUE:
        errors.append(_error("value_too_large", f"At most {MAX_EVENT_VALUE:,} (10^15).", "value"))
    return value


def _check_metadata(metadata: Any, errors: list[dict[str, Any]]) -> str | None:
    """The metadata as the compact JSON text the database stores, or None without any."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        errors.append(_error("invalid_type", "Must be an object.", "metadata"))
        return None
    try:
        metadata_text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(metadata_text.encode())
    except UnicodeEncodeError:  # a lone surrogate, in a key or a value: no UTF-8 form to store
        errors.append(_surrogate_error("metadata"))
        return None
    except ValueError:  # a number that overflowed to infinity (1e400): jsonb has no such number
        errors.append(_error("number_out_of_range", "Numbers in metadata must be finite.", "metadata"))
        return None
    if size > MAX_METADATA_BYTES:
        errors.append(
            _error("metadata_too_large", f"At most {MAX_METADATA_BYTES} bytes as JSON.", "metadata")
        )
    elif "\\u0000" in metadata_text:
        errors.append(_error("invalid", "Text in metadata cannot contain NUL characters.", "metadata"))
    return metadata_text


# Lock order: see scoring.services.people.rep_rows_write_lock. This one statement keeps it:
# a data-modifying CTE runs when a later part first reads its rows (``stored`` reads all
# of ``ins``; the hooks' CTEs read ``rollup``), one nobody reads runs at the end. The
# statement returns what the hooks need: the events stored now, per (rep, type, local
# day), and each hook's rows; the rollup's rows never travel to Python.
_INSERT_CTES = """
WITH ins AS (
    INSERT INTO scoring_activity
        (event_id, rep_id, type, occurred_at, local_day, value, metadata, ingested_at)
    SELECT event_id, rep_id, type, occurred_at, local_day, value, metadata, clock_timestamp()
      FROM unnest(%(event_ids)b::varchar[], %(rep_ids)b::bigint[], %(types)b::varchar[],
                  %(occurred)b::timestamptz[], %(days)b::date[], %(values)b::float8[],
                  %(metadata)b::jsonb[])
           WITH ORDINALITY AS t(event_id, rep_id, type, occurred_at, local_day, value, metadata, ord)
     ORDER BY ord
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, rep_id, type, local_day, occurred_at, value
),
stored AS (
    SELECT rep_id, type, local_day, count(*) AS n, sum(value) AS total, max(occurred_at) AS last_at,
           (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] AS last_id,
           (array_agg(value ORDER BY occurred_at DESC, id DESC))[1] AS last_value
      FROM ins GROUP BY rep_id, type, local_day
),
rollup AS (
    INSERT INTO scoring_activitydaily AS d (rep_id, type, day, n, total, last_at, last_id, last_value)
    SELECT * FROM stored ORDER BY 1, 2, 3
    ON CONFLICT (rep_id, type, day) DO UPDATE SET
        n = d.n + excluded.n,
        total = d.total + excluded.total,
        last_value = CASE WHEN (excluded.last_at, excluded.last_id) > (d.last_at, d.last_id)
                          THEN excluded.last_value ELSE d.last_value END,
        last_id = CASE WHEN (excluded.last_at, excluded.last_id) > (d.last_at, d.last_id)
                       THEN excluded.last_id ELSE d.last_id END,
        last_at = GREATEST(d.last_at, excluded.last_at)
    RETURNING d.rep_id, d.type, d.day, d.n
)"""
# The statement's rows are (part, type, local_day, values…): part 0 the stored rows, whose
# values are (rep_id, n); part k + 1 hook k's rows, whose values are its ``columns``. Values
# are bigint, padded with NULLs to the widest part.
_STORED_COLUMNS = ("rep_id", "n")
_FIRST_VALUE = 3  # the position of a row's first value


def _insert_sql(parts: list[hooks.StoredSQL | None]) -> str:
    width = max([len(_STORED_COLUMNS), *(len(part.columns) for part in parts if part is not None)])
    ctes = [_INSERT_CTES]
    selects = [_part_select("0, type, local_day", _STORED_COLUMNS, width, "stored")]
    for index, part in enumerate(parts):
        if part is not None:
            ctes.append(part.ctes)
            values = [f"p.{column}" for column in part.columns]
            selects.append(_part_select(f"{index + 1}, NULL, NULL", values, width, f"({part.rows}) AS p"))
    return "\n".join(ctes) + "\n" + "\nUNION ALL\n".join(selects)


def _part_select(head: str, values: Sequence[str], width: int, source: str) -> str:
    """One part of the statement's UNION ALL: its values, padded to ``width`` with typed NULLs."""
    padded = [*values, *["NULL::bigint"] * (width - len(values))]
    return f"SELECT {head}, {', '.join(padded)} FROM {source}"  # noqa: S608 (fixed fragments, the hooks' fixed SQL)


def _rep_ids(cursor: psycopg.Cursor[Any], external_ids: list[str], *, create: bool) -> dict[str, int]:
    """external_id -> rep id, creating missing reps in one statement when allowed."""
    cursor.execute(
        "SELECT external_id, id FROM scoring_rep WHERE external_id = ANY(%b::varchar[])", [external_ids]
    )
    found: dict[str, int] = dict(cursor.fetchall())
    missing = [e for e in external_ids if e not in found]
    if missing and create:
        cursor.execute(
            """
            INSERT INTO scoring_rep (external_id, name, email, active, created_at, updated_at)
            SELECT e, '', '', true, now(), now() FROM unnest(%b::varchar[]) AS e
            ON CONFLICT (external_id) DO NOTHING
            """,
            [missing],
        )
        # Another request may have created some of them a moment ago: read them all back.
        cursor.execute(
            "SELECT external_id, id FROM scoring_rep WHERE external_id = ANY(%b::varchar[])", [missing]
        )
        found.update(cursor.fetchall())
    return found


def activities_ingest(*, tenant: Tenant, events: Sequence[Any], now: datetime | None = None) -> IngestResult:
    """Validate and store a batch. Runs in the caller's transaction (or its own)."""
    now = now or timezone.now()
    config = scoring_config_current().config
    tz = ZoneInfo(tenant.timezone)
    result = IngestResult()

    auto_create = bool(settings_get(tenant)["auto_create_reps"])
    valid, rejected_reps = _validate_batch(events, config.event_types, tz, now, result)
    if not auto_create and rejected_reps:
        _report_unknown_reps(result.rejected, rejected_reps)
    if not valid:
        return result

    # No savepoint of its own inside the caller's transaction: an error here aborts it anyway.
    with transaction.atomic(savepoint=False), binary_cursor() as cursor:
        rep_rows_write_lock(cursor)
        reps = _rep_ids(cursor, sorted({v.rep for v in valid}), create=auto_create)
        rows = _with_known_rep(valid, reps, result)
        if not rows:
            return result
        stored = _store(cursor, tenant=tenant, config=config, rows=rows, reps=reps, result=result)
    result.accepted = stored
    result.duplicates += len(rows) - stored
    return result


def _validate_batch(
    events: Sequence[Any], known_types: frozenset[str], tz: ZoneInfo, now: datetime, result: IngestResult
) -> tuple[list[_Valid], dict[int, str]]:
    """The batch's valid events, the first of each event id (a repeat counts as a duplicate).

    An invalid event goes to ``result.rejected``; the rep it names, when well formed, is
    returned by its index, to tell it as unknown too when reps are not created.
    """
    valid: list[_Valid] = []
    seen: set[str] = set()
    rejected_reps: dict[int, str] = {}  # index -> the rep named by an already rejected event
    for index, raw in enumerate(events):
        checked = validate_event(raw, known_types=known_types, tz=tz, now=now, index=index)
        if isinstance(checked, list):
            result.rejected.append({"index": index, "id": _id_of(raw), "errors": checked})
            rep = raw.get("rep") if isinstance(raw, Mapping) else None
            if isinstance(rep, str) and EXTERNAL_ID_RE.match(rep):
                rejected_reps[index] = rep
            continue
        if checked.event_id in seen:  # repeated inside the batch: the first one counts
            result.duplicates += 1
            continue
        seen.add(checked.event_id)
        valid.append(checked)
    return valid, rejected_reps


def _report_unknown_reps(rejected: list[dict[str, Any]], rejected_reps: dict[int, str]) -> None:
    """Every problem at once: an event rejected for another reason is also told its rep is unknown."""
    known = set(
        Rep.objects.filter(external_id__in=set(rejected_reps.values())).values_list("external_id", flat=True)
    )
    for item in rejected:
        rep = rejected_reps.get(item["index"])
        if rep is not None and rep not in known:
            item["errors"].append(_error("unknown_rep", f"No rep with external_id {rep!r}.", "rep"))


def _with_known_rep(valid: list[_Valid], reps: Mapping[str, int], result: IngestResult) -> list[_Valid]:
    """The events whose rep exists; the others are rejected, and the rejections put in batch order."""
    rows: list[_Valid] = []
    for v in valid:
        if v.rep in reps:
            rows.append(v)
        else:
            result.rejected.append(
                {
                    "index": v.position,
                    "id": v.event_id,
                    "errors": [_error("unknown_rep", f"No rep with external_id {v.rep!r}.", "rep")],
                }
            )
    result.rejected.sort(key=lambda r: r["index"])
    return rows


def _store(
    cursor: psycopg.Cursor[Any],
    *,
    tenant: Tenant,
    config: Config,
    rows: list[_Valid],
    reps: Mapping[str, int],
    result: IngestResult,
) -> int:
    """Write ``rows`` with the hooks' SQL in one statement, then call the hooks: how many were stored."""
    parts = hooks.events_stored_sql()
    params = _insert_params(rows, reps)
    for part in parts:
        if part is not None:
            params.update(part.params(tenant=tenant, config=config))
    cursor.execute(_insert_sql(parts), params, binary=True)
    stored_rows, hook_rows = _returned_rows(cursor.fetchall(), parts)
    stored = 0
    for rep_id, type_name, _day, count in stored_rows:
        by_type = result.stored_by_rep.setdefault(rep_id, {})
        by_type[type_name] = by_type.get(type_name, 0) + count
        stored += count
    if stored_rows:
        # XP, levels and badge evaluation (gamification), in this same transaction.
        hooks.events_stored(
            tenant=tenant,
            stored=stored_rows,
            external_ids={rep_id: ext for ext, rep_id in reps.items()},
            config=config,
            rows=hook_rows,
        )
    return stored


def _insert_params(rows: list[_Valid], reps: Mapping[str, int]) -> dict[str, Any]:
    """The events as the statement's binary arrays, one per column."""
    return {
        "event_ids": [r.event_id for r in rows],
        "rep_ids": [reps[r.rep] for r in rows],
        "types": [r.type for r in rows],
        "occurred": [r.occurred_at for r in rows],
        "days": [r.local_day for r in rows],
        "values": [r.value for r in rows],
        "metadata": [r.metadata for r in rows],
    }


def _returned_rows(
    fetched: list[tuple[Any, ...]], parts: list[hooks.StoredSQL | None]
) -> tuple[list[tuple[int, str, date, int]], dict[int, list[tuple[Any, ...]]]]:
    """The statement's rows apart: (rep id, type, day, n) of the events stored now, sorted,
    and each hook's rows by its position, as its ``row_type``."""
    makers = {
        index + 1: (part.row_type._make, _FIRST_VALUE + len(part.columns))
        for index, part in enumerate(parts)
        if part is not None
    }
    stored_rows: list[tuple[int, str, date, int]] = []
    hook_rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in fetched:
        part_no = row[0]
        if part_no:
            make, end = makers[part_no]
            hook_rows[part_no - 1].append(make(row[_FIRST_VALUE:end]))
        else:  # (0, type, local_day, rep_id, n, NULL…)
            stored_rows.append((row[3], row[1], row[2], row[4]))
    stored_rows.sort()
    return stored_rows, hook_rows


def _id_of(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        value = raw.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return shown(str(value)[:MAX_EVENT_ID])
    return None
