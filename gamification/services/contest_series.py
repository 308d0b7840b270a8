"""Recurring contests: series and their seasons (docs/contests.md#seasons).

A series is a contest's definition without dates, and a cadence (``week``: ISO weeks, Monday
to Sunday; ``month``: calendar months), from ``starts_on`` on. The contests tick opens each
season's contest when the season begins (``seasons_open``): a normal contest linked to the
series, which then starts, runs and ends as any other. The definition is checked by the
contest service's own validation. A season is opened once: the tick locks the series' row
before it looks for the season, and a unique constraint on (series, start_date) backs it up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction

from access.actor import SYSTEM, Actor
from access.audit import audit_record
from core.clock import parse_date
from core.errors import Conflict, ValidationFailed
from gamification.models import Contest, ContestSeries
from gamification.rules.seasons import EVERY, season_aligned, season_containing
from gamification.services.contests import (
    DEFINITION,
    NAME_MAX,
    contest_definition_check,
    contest_fields_clean,
    contest_snapshot,
    tenant_today,
)
from tenants.models import Tenant

SERIES_FIELDS = (*DEFINITION, "every", "starts_on", "active")
SEASON_SEPARATOR = " · "
# A season's contest is named "<name> · <label>" (a label has at most 8 characters: 2026-W49),
# which must fit a contest's name.
SERIES_NAME_MAX = 100
assert SERIES_NAME_MAX + len(SEASON_SEPARATOR) + 8 <= NAME_MAX
# What decides the seasons: fixed once one has opened.
CADENCE = ("every", "starts_on")


def series_snapshot(series: ContestSeries) -> dict[str, Any]:
    """What the audit log keeps of a series."""
    return {name: getattr(series, name) for name in SERIES_FIELDS}


def contest_series_create(*, tenant: Tenant, data: Mapping[str, Any], actor: Actor) -> ContestSeries:
    clean = _clean(tenant, data, current=None)
    with transaction.atomic():
        series = ContestSeries.objects.create(**clean)
        audit_record(
            actor=actor,
            action="create",
            target_type="contest_series",
            target_id=series.pk,
            after=series_snapshot(series),
        )
    return series


def contest_series_update(
    *, tenant: Tenant, series: ContestSeries, data: Mapping[str, Any], actor: Actor
) -> ContestSeries:
    """PATCH: the definition and ``active`` at any time (seasons opened from then on take the new
    definition; those already opened keep theirs); ``every`` and ``starts_on`` only until the
    first season opens."""
    with transaction.atomic():
        series = ContestSeries.objects.select_for_update().get(pk=series.pk)
        started = Contest.objects.filter(series=series).exists()
        clean = _clean(tenant, data, current=series, started=started)
        before = series_snapshot(series)
        for name, value in clean.items():
            setattr(series, name, value)
        series.save()
        audit_record(
            actor=actor,
            action="update",
            target_type="contest_series",
            target_id=series.pk,
            before=before,
            after=series_snapshot(series),
        )
    return series


def contest_series_delete(*, series: ContestSeries, actor: Actor) -> None:
    """Delete a series: no season opens any more; the contests of its seasons stay (their
    ``series`` becomes null, their ``season`` label stays), the current one runs to its end."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="delete",
            target_type="contest_series",
            target_id=series.pk,
            before=series_snapshot(series),
        )
        series.delete()


def seasons_open(*, today: date) -> list[int]:
    """Open the current season of every active series that has not got it yet: a contest over the
    season's days, scheduled (the tick starts it right after). Only the season containing local
    ``today`` opens: a season that passed entirely while no tick ran (or while the series was
    inactive) is not opened afterwards. Returns the new contests' ids."""
    opened: list[int] = []
    with transaction.atomic():
        # The lock makes a second worker wait, then find the season this one opened.
        due = (
            ContestSeries.objects.select_for_update().filter(active=True, starts_on__lte=today).order_by("id")
        )
        for series in due:
            season = season_containing(series.every, today)
            if Contest.objects.filter(series=series, start_date=season.start).exists():
                continue
            contest = Contest.objects.create(
                name=f"{series.name}{SEASON_SEPARATOR}{season.label}",
                metric=series.metric,
                kind=series.kind,
                target=series.target,
                aggregate=series.aggregate,
                start_date=season.start,
                end_date=season.end,
                participants=series.participants,
                prizes=series.prizes,
                series=series,
                season=season.label,
            )
            audit_record(
                actor=SYSTEM,
                action="create",
                target_type="contest",
                target_id=contest.pk,
                after=contest_snapshot(contest),
            )
            opened.append(contest.pk)
    return opened


# --- Validation ---------------------------------------------------------------------------------------


def _clean(
    tenant: Tenant, data: Mapping[str, Any], current: ContestSeries | None, started: bool = False
) -> dict[str, Any]:
    """The fields of ``data`` checked and converted (the definition by the contest service),
    then the whole series once the change is applied. ``started``: a season has opened, so the
    cadence may not change."""
    for name in data:
        if name not in SERIES_FIELDS:
            raise ValidationFailed("Unknown field.", code="unknown_field", attr=str(name))
    clean = contest_fields_clean({k: v for k, v in data.items() if k in DEFINITION}, name_max=SERIES_NAME_MAX)
    if "every" in data:
        if data["every"] not in EVERY:
            raise ValidationFailed(f"One of {', '.join(EVERY)}.", code="invalid_choice", attr="every")
        clean["every"] = data["every"]
    if "starts_on" in data:
        clean["starts_on"] = parse_date(data["starts_on"], "starts_on")
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise ValidationFailed("true or false.", code="invalid", attr="active")
        clean["active"] = data["active"]
    merged = {name: getattr(current, name) for name in SERIES_FIELDS} if current is not None else {}
    final = {**merged, **clean}
    contest_definition_check(final)
    for name in CADENCE:
        if final.get(name) is None:
            raise ValidationFailed("This field is required.", code="required", attr=name)
    changed = [name for name in CADENCE if name in clean and clean[name] != merged.get(name)]
    if changed and started:
        raise Conflict(
            "A season has opened: the series' cadence and first day can no longer change.",
            code="series_started",
            attr=changed[0],
        )
    if changed:
        _check_cadence(tenant, final["every"], final["starts_on"])
    return clean


def _check_cadence(tenant: Tenant, every: str, starts_on: date) -> None:
    """``starts_on`` is the first day of a season, and not of one already over."""
    if not season_aligned(every, starts_on):
        first = "a Monday" if every == "week" else "the 1st of a month"
        raise ValidationFailed(f"The first day of a season: {first}.", code="invalid", attr="starts_on")
    if starts_on < season_containing(every, tenant_today(tenant)).start:
        raise ValidationFailed(
            "The first season cannot be one that is already over.", code="invalid", attr="starts_on"
        )
