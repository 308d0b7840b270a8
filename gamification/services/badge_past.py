"""Badge rules over the past (docs/gamification.md#badge-preview-and-past-awards).

``badge_preview`` answers which reps a new or changed badge would award now (and,
for a change, which current holders would no longer meet it), writing nothing.
``badge_create_awarding_past`` creates a badge and a job (``scoring.models.Job``,
kind ``badge_past``) that awards it over every past period with data:
``badge_past_run`` evaluates each period as of its last local day with the same
evaluation as every badge (``badges.criteria_met``) and awards through the same
path (``badges._award``: unique per rep, badge and period; XP through the ledger;
``badge.awarded`` paced in the outbox). A rerun, after a crash or not, awards
nothing twice, and resumes after the last period it finished.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django.db import transaction

from access.actor import Actor
from core.clock import local_today
from core.db import connection
from core.errors import NotFound, ValidationFailed
from gamification.models import Badge, BadgeAward
from gamification.rules.criteria import CriteriaError, parse_criteria
from gamification.rules.periods import past_period_ends
from gamification.services.badges import (
    REPLACE_DEFAULTS,
    _award,
    _clean,
    _held,
    badge_create,
    badge_snapshot,
    criteria_met,
    criteria_parse_or_400,
    known_types,
    period_key,
)
from scoring.models import Job, Rep
from scoring.services.jobs import job_create
from tenants.models import Tenant

BADGE_PAST = Job.Kind.BADGE_PAST


def _active_reps() -> list[tuple[int, str]]:
    return list(Rep.objects.filter(active=True).order_by("id").values_list("id", "external_id"))


def badge_preview(*, tenant: Tenant, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data``: a badge definition (as creating one takes, ``award_past`` ignored) or
    ``{"slug", "changes"}`` for an existing badge. Reads only."""
    today = local_today(tenant.timezone)
    reps = _active_reps()
    rep_ids = [rep for rep, _ in reps]
    badge: Badge | None = None
    if "changes" in data:
        extra = sorted(set(data) - {"slug", "changes"})
        if extra:
            raise ValidationFailed("Unknown field.", code="unknown_field", attr=extra[0])
        slug, changes = data.get("slug"), data["changes"]
        if not isinstance(slug, str):
            raise ValidationFailed("This field is required.", code="required", attr="slug")
        if not isinstance(changes, dict):
            raise ValidationFailed("An object of the fields to change.", code="invalid_type", attr="changes")
        badge = Badge.objects.filter(slug=slug).first()
        if badge is None:
            raise NotFound("No badge with this slug.")
        clean = _prefixed(lambda: _clean(changes, partial=True), "changes")
        if clean.get("slug", slug) != slug:
            raise ValidationFailed("A badge's slug cannot change.", code="immutable", attr="changes.slug")
        definition = {**badge_snapshot(badge), **clean}
        if "criteria" in clean:
            criteria = _prefixed(lambda: criteria_parse_or_400(definition["criteria"]), "changes")
        else:
            try:
                criteria = parse_criteria(badge.criteria, known_types=known_types(), stored=True)
            except CriteriaError as exc:  # e.g. a custom type removed from the config since
                raise ValidationFailed(exc.message, code=exc.code, attr="changes.criteria") from exc
    else:
        if not isinstance(data.get("award_past", False), bool):
            raise ValidationFailed("Must be true or false.", code="invalid_type", attr="award_past")
        clean = _clean({k: v for k, v in data.items() if k != "award_past"}, partial=False)
        definition = {**REPLACE_DEFAULTS, **clean}
        criteria = criteria_parse_or_400(definition["criteria"])
    period = period_key(definition["repeat"], today)
    met = set(criteria_met(tenant=tenant, criteria=criteria, rep_ids=rep_ids, day=today))
    held: set[int] = set()
    would_lose: list[str] = []
    if badge is not None and rep_ids:
        held = {rep for rep, _ in _held(rep_ids, [(badge.pk, period)])}
        holders = {rep for rep, _ in _held(rep_ids, [(badge.pk, period_key(badge.repeat, today))])}
        would_lose = sorted(external for rep, external in reps if rep in holders and rep not in met)
    would_award = (
        [
            {"rep": external, "period": period}
            for rep, external in sorted(reps, key=lambda r: r[1])
            if rep in met and rep not in held
        ]
        if definition["active"]
        else []
    )
    return {"would_award": would_award, "would_lose": would_lose}


def _prefixed(step: Callable[[], Any], prefix: str) -> Any:
    """``step()``, its validation errors naming their field under ``prefix``."""
    try:
        return step()
    except ValidationFailed as exc:
        attr = getattr(exc, "attr", None)
        raise ValidationFailed(
            exc.detail, code=exc.code, attr=f"{prefix}.{attr}" if attr else prefix
        ) from exc


def badge_create_awarding_past(*, tenant: Tenant, data: Mapping[str, Any], actor: Actor) -> tuple[Badge, Job]:
    """Create a badge and the job that awards it over the past (enqueued on commit)."""
    with transaction.atomic():
        badge = badge_create(data=data, actor=actor)
        job = job_create(
            kind=BADGE_PAST,
            days=[],
            params={"badge": badge.pk, "slug": badge.slug, "today": local_today(tenant.timezone).isoformat()},
        )
    return badge, job


def first_data_day() -> date | None:
    """The first local day with an event in the rollup or a score snapshot: where periods begin."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT least((SELECT min(day) FROM scoring_activitydaily), "
            "(SELECT min(day) FROM scoring_scoresnapshot))"
        )
        return cursor.fetchone()[0]


def badge_past_run(*, tenant: Tenant, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    """The job: award the badge for each past period, oldest first, one transaction each.

    The periods are fixed at the first run (``today`` at creation, the first day with data
    then), so a rerun resumes after the last period that committed (``progress_done``);
    the periods before it are not evaluated again (evaluating them would award nothing:
    awards are unique per rep, badge and period).
    """
    badge = Badge.objects.filter(pk=job.params.get("badge")).first()
    if badge is None:
        return {"badge": job.params.get("slug"), "periods": 0, "awarded": 0, "skipped": "deleted"}
    if not badge.active:
        return {"badge": badge.slug, "periods": 0, "awarded": 0, "skipped": "inactive"}
    try:
        criteria = parse_criteria(badge.criteria, known_types=known_types(), stored=True)
    except CriteriaError:
        return {"badge": badge.slug, "periods": 0, "awarded": 0, "skipped": "invalid_criteria"}
    if "first" not in job.params:
        first = first_data_day()
        job.params["first"] = first.isoformat() if first else None
        Job.objects.filter(pk=job.pk).update(params=job.params)
    first = date.fromisoformat(job.params["first"]) if job.params["first"] else None
    ends = past_period_ends(badge.repeat, first, date.fromisoformat(job.params["today"]))
    done = job.progress_done if job.progress_total == len(ends) else 0
    reps = [rep for rep, _ in _active_reps()]
    progress(done, len(ends))
    for index in range(done, len(ends)):
        end = ends[index]
        period = period_key(badge.repeat, end)
        held = {rep for rep, _ in _held(reps, [(badge.pk, period)])} if reps else set()
        open_reps = [rep for rep in reps if rep not in held]
        met = criteria_met(tenant=tenant, criteria=criteria, rep_ids=open_reps, day=end)
        if met:
            candidates = [(rep, badge.pk, period, badge.xp_reward) for rep in met]
            # XP on the day evaluated (the period's last day), as a recompute of that day would.
            _award(candidates, end, paced=True)
        progress(index + 1, len(ends))
    # Counted, not summed over runs: right after a rerun too.
    keys = {period_key(badge.repeat, end) for end in ends}
    awarded = BadgeAward.objects.filter(badge=badge, period__in=keys).count()
    return {"badge": badge.slug, "periods": len(ends), "awarded": awarded}
