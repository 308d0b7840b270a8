"""Teams and reps: the writes. Run inside the tenant's schema."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from core.db import connection
from core.errors import Conflict, ValidationFailed
from scoring.models import Rep, Team
from scoring.services.summaries import ssi_summaries_refresh

# external_id appears in URLs: no slash, no whitespace, no control characters; no lone
# surrogate either (core.text: it has no UTF-8 form, the database could not receive it).
# \Z: "$" would let "id\n" through.
EXTERNAL_ID_RE = re.compile(r"^[^/\s\x00-\x1f\x7f?#%\\\ud800-\udfff]{1,128}\Z")


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


# Events, the daily rollup and the XP ledger name their rep without a database foreign
# key: its check cost every ingested event an index probe and a row lock at commit, the
# largest single cost of an ingest after the insert itself (docs/performance.md). What
# the key guaranteed, no row for a rep that is gone, is kept by this tenant-wide lock:
# every transaction writing such rows holds it shared, a rep's deletion exclusively. A
# deletion waits for the ingests in flight and deletes what they stored; an ingest that
# starts meanwhile waits (milliseconds) and then finds the rep gone.
REP_ROWS_TABLES = ("scoring_activity", "scoring_activitydaily", "gamification_xpdaily")
_REP_ROWS_LOCK = "SELECT pg_advisory_xact_lock{mode}(hashtextextended('rep-rows:' || %s, 0))"


def rep_rows_write_lock(cursor: Any) -> None:
    """Before writing rows of ``REP_ROWS_TABLES``, in the writing transaction: the first
    lock of the lock order.

    Lock order. Every writer of the rows that concurrent transactions share takes its
    locks in one order, so that two transactions over the same reps wait for each other
    instead of deadlocking: this lock (shared), then the event rows (only a duplicate
    event id makes two batches meet there), the daily rollup rows, the daily XP ledger
    rows, then the reps' rows (their XP totals), each in key order. A writer that has no
    rows of a step skips it (a badge award writes no event or rollup row); the badge
    evaluation queue is appended to and waits for no one. The ingest's one statement
    (scoring.services.ingest) and the XP credit (gamification.services.xp) follow it.
    """
    cursor.execute(_REP_ROWS_LOCK.format(mode="_shared"), [connection.schema_name])


def rep_rows_exclusive_lock(cursor: Any) -> None:
    """The lock of ``rep_rows_write_lock``, exclusively: no ingest writes rows of
    ``REP_ROWS_TABLES`` until this transaction ends (a rep's deletion or erasure)."""
    cursor.execute(_REP_ROWS_LOCK.format(mode=""), [connection.schema_name])


def rep_delete(*, rep: Rep) -> None:
    """Delete a rep and everything recorded for it. To keep history, set ``active`` false instead."""
    with transaction.atomic(), connection.cursor() as cursor:
        rep_rows_exclusive_lock(cursor)
        # Its snapshots go with it: the days they were in no longer hold the reps they scored.
        cursor.execute(
            "UPDATE scoring_scoredday SET ranks_current = false WHERE ranks_current AND day IN "
            "(SELECT day FROM scoring_scoresnapshot WHERE rep_id = %s)",
            [rep.pk],
        )
        cursor.execute("SELECT day FROM scoring_scoresnapshot WHERE rep_id = %s", [rep.pk])
        days = [row[0] for row in cursor.fetchall()]
        # In SQL: Django would load every row first (django-tenants listens to every delete).
        for table in REP_ROWS_TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE rep_id = %s", [rep.pk])  # noqa: S608 (fixed names)
        rep.delete()
        # The company's and its teams' summaries of those days no longer count it.
        ssi_summaries_refresh(days=days)
