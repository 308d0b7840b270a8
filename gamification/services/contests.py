"""Contests: definitions, their status, edits and cancellation (docs/contests.md).

Creating and changing a contest is validated here, field by field, then as a whole
(the database checks the same coherence again). The stored ``status`` is what the tick
last wrote; ``contest_status`` answers it as of now, in the tenant's time zone.
Cancelling is a conditional UPDATE (``WHERE finalized_at IS NULL``), so a contest that
a worker is finalizing at that moment is either cancelled or ended, never both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from core.clock import local_today, parse_date
from core.errors import Conflict, ValidationFailed
from gamification.models import Badge, Contest
from gamification.rules.contests import AGGREGATES, KINDS, metric_parse
from gamification.services.badges import SLUG_RE, known_types
from gamification.services.contest_live import live_drop
from scoring.models import Rep, Team
from tenants.models import Tenant

FIELDS = ("name", "metric", "kind", "target", "aggregate", "start_date", "end_date", "participants", "prizes")
# A contest's definition but its dates: what a series of contests (seasons) shares.
DEFINITION = ("name", "metric", "kind", "target", "aggregate", "participants", "prizes")
NAME_MAX = 120
# What a running contest may still change: nothing that decides who wins.
RUNNING_FIELDS = frozenset({"name", "prizes"})
MAX_DAYS_APART = 366
MAX_PRIZE_XP = 100_000
MAX_LISTED = 10_000


def contest_status(contest: Contest, today: date) -> str:
    """The status as of local ``today``: cancelled and ended as stored; otherwise
    scheduled before ``start_date`` and running from then until it is finalized."""
    if contest.status in (Contest.Status.CANCELLED, Contest.Status.ENDED):
        return contest.status
    return Contest.Status.SCHEDULED if today < contest.start_date else Contest.Status.RUNNING


def tenant_today(tenant: Tenant) -> date:
    return local_today(tenant.timezone)


def contest_snapshot(contest: Contest) -> dict[str, Any]:
    """What the audit log keeps of a contest: its definition and status."""
    return {**{name: getattr(contest, name) for name in FIELDS}, "status": contest.status}


def contest_payload(contest: Contest) -> dict[str, Any]:
    """A contest in webhook payloads (``contest.started``, ``contest.ended``,
    ``contest.lead_changed``): its definition, its series and season, and its stored status, as
    the API shows them."""
    return {
        "id": contest.pk,
        "name": contest.name,
        "metric": contest.metric,
        "kind": contest.kind,
        "target": contest.target,
        "aggregate": contest.aggregate or None,
        "start_date": contest.start_date.isoformat(),
        "end_date": contest.end_date.isoformat(),
        "participants": contest.participants,
        "prizes": contest.prizes,
        "series": contest.series_id,
        "season": contest.season or None,
        "status": contest.status,
    }


def contest_create(*, tenant: Tenant, data: Mapping[str, Any], actor: Actor) -> Contest:
    clean = _clean(data, current=None)
    with transaction.atomic():
        contest = Contest.objects.create(**clean)
        audit_record(
            actor=actor,
            action="create",
            target_type="contest",
            target_id=contest.pk,
            after=contest_snapshot(contest),
        )
    return contest


def contest_update(*, tenant: Tenant, contest: Contest, data: Mapping[str, Any], actor: Actor) -> Contest:
    """PATCH: every field while the contest is scheduled; only ``name`` and ``prizes`` once
    it runs; nothing once it ended or was cancelled."""
    with transaction.atomic():
        contest = Contest.objects.select_for_update().get(pk=contest.pk)
        status = contest_status(contest, tenant_today(tenant))
        if status in (Contest.Status.ENDED, Contest.Status.CANCELLED):
            raise Conflict(f"The contest is {status}: it can no longer change.", code=f"contest_{status}")
        if status == Contest.Status.RUNNING:
            for name in data:
                if name in FIELDS and name not in RUNNING_FIELDS:
                    raise Conflict(
                        "A running contest may only change its name and prizes.",
                        code="contest_running",
                        attr=str(name),
                    )
        clean = _clean(data, current=contest)
        before = contest_snapshot(contest)
        for name, value in clean.items():
            setattr(contest, name, value)
        if set(clean) - set(RUNNING_FIELDS):
            live_drop(contest)  # what it measures changed: the stored live rows no longer hold
        contest.save()
        audit_record(
            actor=actor,
            action="update",
            target_type="contest",
            target_id=contest.pk,
            before=before,
            after=contest_snapshot(contest),
        )
    return contest


def contest_cancel(*, contest: Contest, actor: Actor) -> Contest:
    """Cancel a contest that has not ended (cancelling twice is a no-op). A cancelled
    contest is never finalized: it grants nothing."""
    with transaction.atomic():
        before = contest_snapshot(contest)
        updated = Contest.objects.filter(
            pk=contest.pk,
            finalized_at__isnull=True,
            status__in=[Contest.Status.SCHEDULED, Contest.Status.RUNNING],
        ).update(status=Contest.Status.CANCELLED, cancelled_at=timezone.now(), updated_at=timezone.now())
        contest.refresh_from_db()
        if not updated:
            if contest.status == Contest.Status.CANCELLED:
                return contest
            raise Conflict("The contest has ended: it can no longer be cancelled.", code="contest_ended")
        audit_record(
            actor=actor,
            action="cancel",
            target_type="contest",
            target_id=contest.pk,
            before=before,
            after=contest_snapshot(contest),
        )
    return contest


def contests_visible_to_rep(queryset: QuerySet[Contest], rep_id: int) -> QuerySet[Contest]:
    """The contests a rep takes part in: as frozen in the standings once ended; otherwise as
    ``participants`` say now (every active rep, its team's members, or the listed reps).
    A cancelled contest is shown to those it named."""
    rep = Rep.objects.filter(pk=rep_id).values("external_id", "team_id", "active").first()
    if rep is None:
        return queryset.none()
    ended = Q(status=Contest.Status.ENDED, standings__rep_id=rep_id)
    named = Q(participants__reps__contains=[rep["external_id"]])
    if rep["team_id"] is not None:
        named |= Q(participants__teams__contains=[rep["team_id"]])
    if rep["active"]:
        named |= Q(participants__all=True)
    else:
        named = Q(pk__in=[])
    return queryset.filter(ended | (~Q(status=Contest.Status.ENDED) & named)).distinct()


# --- Validation ---------------------------------------------------------------------------------------


def _clean(data: Mapping[str, Any], current: Contest | None) -> dict[str, Any]:
    """The fields of ``data`` checked and converted, then the whole contest (a new one when
    ``current`` is None) checked once the change is applied."""
    for name in data:
        if name not in FIELDS:
            raise ValidationFailed("Unknown field.", code="unknown_field", attr=str(name))
    clean = contest_fields_clean(data)
    merged = {name: getattr(current, name) for name in FIELDS} if current is not None else {}
    final = {**merged, **clean}
    contest_definition_check(final)
    _check_dates(final)
    return clean


def contest_fields_clean(data: Mapping[str, Any], *, name_max: int = NAME_MAX) -> dict[str, Any]:
    """Each contest field present in ``data`` checked and converted (a series checks its
    definition with it too, with a shorter name: its seasons' names add the season)."""
    clean: dict[str, Any] = {}
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > name_max:
            raise ValidationFailed(f"A name of 1 to {name_max} characters.", code="invalid", attr="name")
        clean["name"] = name
    if "metric" in data:
        clean["metric"] = contest_metric_clean(data["metric"])
    if "kind" in data:
        if data["kind"] not in KINDS:
            raise ValidationFailed(f"One of {', '.join(KINDS)}.", code="invalid_choice", attr="kind")
        clean["kind"] = data["kind"]
    if "target" in data and data["target"] is not None:
        target = data["target"]
        if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target < 1e15:
            raise ValidationFailed("A number greater than 0.", code="invalid", attr="target")
        clean["target"] = float(target)
    elif "target" in data:
        clean["target"] = None
    if "aggregate" in data:
        if data["aggregate"] not in (*AGGREGATES, None):
            raise ValidationFailed(
                f"One of {', '.join(AGGREGATES)}.", code="invalid_choice", attr="aggregate"
            )
        clean["aggregate"] = data["aggregate"] or ""
    for name in ("start_date", "end_date"):
        if name in data:
            day = parse_date(data[name], name)
            if day is None:
                raise ValidationFailed("This field is required.", code="required", attr=name)
            clean[name] = day
    if "participants" in data:
        clean["participants"] = _clean_participants(data["participants"])
    if "prizes" in data:
        clean["prizes"] = _clean_prizes(data["prizes"])
    return clean


def contest_metric_clean(metric: Any) -> str:
    """A contest metric the tenant has (challenges check theirs with it too), or a 400."""
    parsed = metric_parse(metric)
    if parsed is None:
        raise ValidationFailed(
            "One of events.<type>, sum.<type>, xp, ssi.gain, pillar.<brand|find|engage|relationships>.gain.",
            code="unknown_metric",
            attr="metric",
        )
    if parsed.family in ("events", "sum") and parsed.arg not in known_types():
        raise ValidationFailed(f"No event type {parsed.arg!r}.", code="unknown_metric", attr="metric")
    return str(metric)


def _clean_participants(value: Any) -> dict[str, Any]:
    shapes = '{"all": true}, {"teams": [ids]} or {"reps": [external ids]}'
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValidationFailed(f"One of {shapes}.", code="invalid", attr="participants")
    ((form, items),) = value.items()
    if form == "all":
        if items is not True:
            raise ValidationFailed(f"One of {shapes}.", code="invalid", attr="participants.all")
        return {"all": True}
    if form == "teams":
        if (
            not isinstance(items, list)
            or not items
            or len(items) > MAX_LISTED
            or not all(isinstance(t, int) and not isinstance(t, bool) and 0 < t < 2**63 for t in items)
        ):
            raise ValidationFailed("A list of team ids.", code="invalid", attr="participants.teams")
        teams = sorted(set(items))
        found_teams: set[int] = set(Team.objects.filter(pk__in=teams).values_list("pk", flat=True))
        missing = [t for t in teams if t not in found_teams]
        if missing:
            raise ValidationFailed(f"No team {missing[0]}.", code="unknown_team", attr="participants.teams")
        return {"teams": teams}
    if form == "reps":
        if (
            not isinstance(items, list)
            or len(items) > MAX_LISTED
            or not all(isinstance(r, str) and r for r in items)
            or len(set(items)) < 2
        ):
            raise ValidationFailed(
                "A list of 2 or more rep external_ids.", code="invalid", attr="participants.reps"
            )
        reps = sorted(set(items))
        found: set[str] = set(Rep.objects.filter(external_id__in=reps).values_list("external_id", flat=True))
        missing = [r for r in reps if r not in found]
        if missing:
            raise ValidationFailed(f"No rep {missing[0]!r}.", code="unknown_rep", attr="participants.reps")
        return {"reps": reps}
    raise ValidationFailed(f"One of {shapes}.", code="invalid", attr="participants")


def _clean_prizes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > 100:
        raise ValidationFailed("A list of at most 100 prizes.", code="invalid", attr="prizes")
    prizes: list[dict[str, Any]] = []
    ranks: set[int] = set()
    for index, prize in enumerate(value):
        attr = f"prizes.{index}"
        if not isinstance(prize, Mapping) or not set(prize) <= {"rank", "xp", "badge"}:
            raise ValidationFailed('{"rank": r, "xp": n, "badge": slug?}.', code="invalid", attr=attr)
        rank, xp, badge = prize.get("rank"), prize.get("xp"), prize.get("badge")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= MAX_LISTED:
            raise ValidationFailed("A rank from 1.", code="invalid", attr=f"{attr}.rank")
        if rank in ranks:
            raise ValidationFailed("One prize per rank.", code="duplicate", attr=f"{attr}.rank")
        if isinstance(xp, bool) or not isinstance(xp, int) or not 0 <= xp <= MAX_PRIZE_XP:
            raise ValidationFailed(
                f"A whole number from 0 to {MAX_PRIZE_XP}.", code="invalid", attr=f"{attr}.xp"
            )
        clean: dict[str, Any] = {"rank": rank, "xp": xp}
        if badge is not None:
            slug_ok = isinstance(badge, str) and SLUG_RE.match(badge)
            if not slug_ok or not Badge.objects.filter(slug=badge).exists():
                raise ValidationFailed("No badge with this slug.", code="unknown_badge", attr=f"{attr}.badge")
            clean["badge"] = badge
        ranks.add(rank)
        prizes.append(clean)
    return sorted(prizes, key=lambda p: p["rank"])


def contest_definition_check(final: Mapping[str, Any]) -> None:
    """What holds across a contest's fields but its dates, once a change is applied (a
    series' definition too)."""
    for name in ("name", "metric", "kind", "participants"):
        if final.get(name) in (None, ""):
            raise ValidationFailed("This field is required.", code="required", attr=name)
    kind = final["kind"]
    if kind == Contest.Kind.RACE and final.get("target") is None:
        raise ValidationFailed("A race needs a target.", code="required", attr="target")
    if kind != Contest.Kind.RACE and final.get("target") is not None:
        raise ValidationFailed("Only a race takes a target.", code="invalid", attr="target")
    if kind == Contest.Kind.TEAMS and not final.get("aggregate"):
        raise ValidationFailed(
            "A teams contest needs an aggregate: avg or sum.", code="required", attr="aggregate"
        )
    if kind != Contest.Kind.TEAMS and final.get("aggregate"):
        raise ValidationFailed("Only a teams contest takes an aggregate.", code="invalid", attr="aggregate")


def _check_dates(final: Mapping[str, Any]) -> None:
    for name in ("start_date", "end_date"):
        if final.get(name) is None:
            raise ValidationFailed("This field is required.", code="required", attr=name)
    start, end = final["start_date"], final["end_date"]
    if end < start:
        raise ValidationFailed("end_date is before start_date.", code="invalid", attr="end_date")
    if (end - start).days > MAX_DAYS_APART:
        raise ValidationFailed(
            f"start_date and end_date are at most {MAX_DAYS_APART} days apart.",
            code="invalid",
            attr="end_date",
        )
