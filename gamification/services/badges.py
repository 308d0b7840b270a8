"""Badges: definitions, defaults, and awarding (docs/gamification.md#badges).

Awards are unique per (rep, badge, period) in the database: evaluation
inserts candidates with ``ON CONFLICT DO NOTHING`` and only the rows it
actually inserted grant ``xp_reward`` and emit ``badge.awarded``. Evaluating
twice, concurrently or not, never awards twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from core.db import connection
from core.errors import Conflict, ValidationFailed
from gamification.models import Badge, BadgeAward
from gamification.rules import periods
from gamification.rules.criteria import (
    Criteria,
    CriteriaError,
    evaluate,
    is_ingest_time,
    metrics_needed,
    parse_criteria,
)
from gamification.services.metrics import metrics_load
from gamification.services.outbox import events_emit
from gamification.services.xp import level_ups_emit, xp_apply
from scoring.models import Rep
from scoring.selectors import rep_rows
from scoring.services.config import scoring_config_current
from scoring.services.people import rep_rows_write_lock
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")  # \Z: "$" would let "slug\n" through
# Paths under /api/v1/badges that are actions, not badges (POST /badges/preview).
RESERVED_SLUGS = frozenset({"preview"})
# Reps whose metrics are loaded at once by ``criteria_met``.
EVALUATE_BATCH = 5000
FIELDS = ("slug", "name", "description", "image_url", "criteria", "repeat", "xp_reward", "active")

DEFAULT_BADGES: tuple[dict[str, Any], ...] = (
    {"slug": "first-post", "name": "First post", "description": "Published a first post.",
     "criteria": {"metric": "events.post_published", "op": ">=", "value": 1}, "repeat": "once"},
    {"slug": "all-star-profile", "name": "All-star profile", "description": "Profile 100% complete.",
     "criteria": {"metric": "state.profile_updated", "op": ">=", "value": 100}, "repeat": "once"},
    {"slug": "social-seller", "name": "Social seller", "description": "Reached an SSI of 70.",
     "criteria": {"metric": "ssi", "op": ">=", "value": 70}, "repeat": "once"},
    {"slug": "elite-seller", "name": "Elite seller", "description": "Reached an SSI of 85.",
     "criteria": {"metric": "ssi", "op": ">=", "value": 85}, "repeat": "once"},
    {"slug": "on-fire", "name": "On fire", "description": "A 5-day streak.",
     "criteria": {"metric": "streak.current", "op": ">=", "value": 5}, "repeat": "once"},
    {"slug": "unstoppable", "name": "Unstoppable", "description": "A 20-day streak.",
     "criteria": {"metric": "streak.current", "op": ">=", "value": 20}, "repeat": "once"},
    {"slug": "thought-leader", "name": "Thought leader", "description": "8 posts in 30 days.",
     "criteria": {"metric": "events.post_published", "op": ">=", "value": 8, "window_days": 30},
     "repeat": "monthly"},
    {"slug": "top-10", "name": "Top 10%", "description": "In the top 10% of the company by SSI.",
     "criteria": {"metric": "rank.top_percent", "op": "<=", "value": 10}, "repeat": "weekly"},
    {"slug": "networker", "name": "Networker", "description": "20 decision makers in 90 days.",
     "criteria": {"metric": "events.decision_maker_connected", "op": ">=", "value": 20, "window_days": 90},
     "repeat": "once"},
)  # fmt: skip


def period_key(repeat: str, day: date) -> str:
    """The period an award belongs to: once per ever, local day, ISO week or month."""
    return periods.period_key(repeat, day)


def known_types() -> frozenset[str]:
    return scoring_config_current().config.event_types


def criteria_parse_or_400(data: Any) -> Criteria:
    try:
        return parse_criteria(data, known_types=known_types())
    except CriteriaError as exc:
        raise ValidationFailed(exc.message, code=exc.code, attr=exc.path) from exc


def _clean(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name not in FIELDS:
            raise ValidationFailed("Unknown field.", code="unknown_field", attr=str(name))
        if name == "slug":
            if not isinstance(value, str) or not SLUG_RE.match(value):
                raise ValidationFailed(
                    "Lowercase letters, digits and hyphens (1-64).", code="invalid", attr="slug"
                )
            if value in RESERVED_SLUGS:
                raise ValidationFailed(
                    f"{value!r} names an action under /badges: choose another slug.",
                    code="reserved",
                    attr="slug",
                )
        elif name == "criteria":
            criteria = criteria_parse_or_400(value)
            clean["ingest_time"] = is_ingest_time(criteria)
        elif name == "repeat":
            if value not in Badge.Repeat.values:
                raise ValidationFailed(
                    f"One of {', '.join(Badge.Repeat.values)}.", code="invalid_choice", attr="repeat"
                )
        elif name == "xp_reward":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
                raise ValidationFailed("A whole number from 0 to 100000.", code="invalid", attr="xp_reward")
        elif name == "active":
            if not isinstance(value, bool):
                raise ValidationFailed("Must be true or false.", code="invalid_type", attr="active")
        elif name in ("name", "description", "image_url"):
            if not isinstance(value, str) or (name == "name" and not value.strip()):
                raise ValidationFailed("Must be a text.", code="invalid_type", attr=name)
            limit = {"name": 200, "description": 2000, "image_url": 500}[name]
            if len(value) > limit:
                raise ValidationFailed(f"At most {limit} characters.", code="max_length", attr=name)
            if name == "image_url" and value and not value.startswith(("https://", "http://")):
                raise ValidationFailed("An http(s) URL.", code="invalid", attr="image_url")
        clean[name] = value
    if not partial:
        for name in ("slug", "name", "criteria"):
            if name not in clean:
                raise ValidationFailed("This field is required.", code="required", attr=name)
    return clean


def badge_snapshot(badge: Badge) -> dict[str, Any]:
    """What the audit log keeps of a badge: its definition."""
    return {name: getattr(badge, name) for name in FIELDS}


def badge_create(*, data: Mapping[str, Any], actor: Actor) -> Badge:
    clean = _clean(data, partial=False)
    try:
        with transaction.atomic():
            badge = Badge.objects.create(**clean)
            audit_record(
                actor=actor,
                action="create",
                target_type="badge",
                target_id=badge.slug,
                after=badge_snapshot(badge),
            )
            return badge
    except IntegrityError as exc:
        raise Conflict(f"A badge {clean['slug']!r} exists.", code="already_exists", attr="slug") from exc


REPLACE_DEFAULTS = {"description": "", "image_url": "", "repeat": "once", "xp_reward": 0, "active": True}


def badge_update(*, badge: Badge, data: Mapping[str, Any], partial: bool, actor: Actor) -> Badge:
    """PATCH (partial) changes what it names; PUT replaces: what it leaves out goes back to its default."""
    clean = _clean(data, partial=partial)
    if not partial:
        clean = {**REPLACE_DEFAULTS, **clean}
    if clean.get("slug", badge.slug) != badge.slug:
        raise ValidationFailed("A badge's slug cannot change.", code="immutable", attr="slug")
    before = badge_snapshot(badge)
    for name, value in clean.items():
        setattr(badge, name, value)
    with transaction.atomic():
        badge.save()
        audit_record(
            actor=actor,
            action="update",
            target_type="badge",
            target_id=badge.slug,
            before=before,
            after=badge_snapshot(badge),
        )
    return badge


def badge_delete(*, badge: Badge, actor: Actor) -> None:
    """Delete a definition (its awards go with it)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="delete",
            target_type="badge",
            target_id=badge.slug,
            before=badge_snapshot(badge),
        )
        badge.delete()


def badges_seed() -> None:
    """The default badges (run once per tenant), in one INSERT; existing slugs are kept."""
    types = known_types()
    Badge.objects.bulk_create(
        [
            Badge(**spec, ingest_time=is_ingest_time(parse_criteria(spec["criteria"], known_types=types)))
            for spec in DEFAULT_BADGES
        ],
        ignore_conflicts=True,
    )


def badges_evaluate(
    *, tenant: Tenant, rep_ids: Sequence[int], day: date, ingest_time_only: bool, all_active: bool = False
) -> list[BadgeAward]:
    """Award every earned badge to ``rep_ids`` as of local ``day``. Returns the new awards.

    A rep that already holds a badge for the day's period is not evaluated for it again
    (its award would be a no-op), and only the metrics of badges some rep may still earn
    are loaded, for those reps. ``all_active``: ``rep_ids`` are the tenant's active reps,
    just read, in id order (else the inactive ones among them are left out first).
    """
    queryset = Badge.objects.filter(active=True)
    if ingest_time_only:
        queryset = queryset.filter(ingest_time=True)
    badges = list(queryset)
    if not badges or not rep_ids:
        return []
    reps = list(rep_ids) if all_active else _active_reps(rep_ids)
    if not reps:
        return []
    types = known_types()
    parsed: list[tuple[Badge, Criteria, str]] = []
    for badge in badges:
        try:
            parsed.append(
                (
                    badge,
                    parse_criteria(badge.criteria, known_types=types, stored=True),
                    period_key(badge.repeat, day),
                )
            )
        except CriteriaError:  # e.g. a custom type removed from the config since: skip, never crash
            continue
    held = _held(reps, [(badge.pk, period) for badge, _, period in parsed])
    open_reps = {badge.pk: [rep for rep in reps if (rep, badge.pk) not in held] for badge, _, _ in parsed}
    parsed = [(badge, criteria, period) for badge, criteria, period in parsed if open_reps[badge.pk]]
    if not parsed:
        return []
    refs = set().union(*(metrics_needed(c) for _, c, _ in parsed))
    evaluated = sorted(set().union(*(open_reps[badge.pk] for badge, _, _ in parsed)))
    values = metrics_load(tenant=tenant, rep_ids=evaluated, refs=refs, day=day)
    candidates = [
        (rep, badge.pk, period, badge.xp_reward)
        for badge, criteria, period in parsed
        for rep in open_reps[badge.pk]
        if evaluate(criteria, values[rep].get)
    ]
    if not candidates:
        return []
    return _award(candidates, day)


def _active_reps(rep_ids: Sequence[int]) -> list[int]:
    """The active ones among ``rep_ids``, in id order."""
    return [
        rep
        for (rep,) in rep_rows(
            "SELECT id FROM scoring_rep WHERE active AND {reps} ORDER BY id", rep_ids, "id"
        )
    ]


def _held(reps: list[int], periods: list[tuple[int, str]]) -> set[tuple[int, int]]:
    """(rep, badge) of the awards ``reps`` already hold for these (badge, period) pairs."""
    if not periods:
        return set()
    rows = rep_rows(
        "SELECT a.rep_id, a.badge_id FROM gamification_badgeaward a "
        "JOIN unnest(%(badges)s::bigint[], %(periods)s::text[]) AS p(badge_id, period) "
        "ON p.badge_id = a.badge_id AND p.period = a.period WHERE {reps}",
        reps,
        "a.rep_id",
        {"badges": [b for b, _ in periods], "periods": [p for _, p in periods]},
    )
    return {(rep, badge) for rep, badge in rows}


def criteria_met(*, tenant: Tenant, criteria: Criteria, rep_ids: Sequence[int], day: date) -> list[int]:
    """The reps among ``rep_ids`` that meet ``criteria`` as of local ``day``, in their order: the
    evaluation of ``badges_evaluate`` (one bulk load of the metrics per ``EVALUATE_BATCH`` reps,
    then the rules in memory) for one criteria tree."""
    refs = metrics_needed(criteria)
    met: list[int] = []
    for start in range(0, len(rep_ids), EVALUATE_BATCH):
        chunk = list(rep_ids[start : start + EVALUATE_BATCH])
        values = metrics_load(tenant=tenant, rep_ids=chunk, refs=refs, day=day)
        met += [rep for rep in chunk if evaluate(criteria, values[rep].get)]
    return met


# The new awards (a rep deleted since it was evaluated gets nothing, and no XP row outlives
# it), read back with what their events name, newest first as BadgeAward orders them.
_AWARD_SQL = """
WITH new AS (
    INSERT INTO gamification_badgeaward (rep_id, badge_id, period, xp_reward, awarded_at)
    SELECT rep_id, badge_id, period, xp_reward, %s
      FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::int[])
        AS t(rep_id, badge_id, period, xp_reward)
     WHERE EXISTS (SELECT 1 FROM scoring_rep r WHERE r.id = t.rep_id)
     ORDER BY rep_id, badge_id
    ON CONFLICT (rep_id, badge_id, period) DO NOTHING
    RETURNING id, rep_id, badge_id, period, awarded_at, xp_reward)
SELECT new.*, r.external_id, b.slug, b.name
  FROM new
  JOIN scoring_rep r ON r.id = new.rep_id
  JOIN gamification_badge b ON b.id = new.badge_id
 ORDER BY new.id DESC
"""
_AWARD_FIELDS = ["id", "rep_id", "badge_id", "period", "awarded_at", "xp_reward"]


def _award_from_row(row: tuple[Any, ...]) -> BadgeAward:
    """A BadgeAward of ``_AWARD_SQL``'s row, its rep and badge loaded with what it read of them
    (their other fields load on first use, as deferred fields do)."""
    award = BadgeAward.from_db(connection.alias, _AWARD_FIELDS, row[:6])
    external_id, slug, name = row[6:]
    award.rep = Rep.from_db(connection.alias, ["id", "external_id"], [award.rep_id, external_id])
    award.badge = Badge.from_db(connection.alias, ["id", "slug", "name"], [award.badge_id, slug, name])
    return award


def _award(
    candidates: list[tuple[int, int, str, int]], day: date, *, paced: bool = False
) -> list[BadgeAward]:
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # inside an evaluation's transaction: no savepoint
        with connection.cursor() as cursor:
            # A rep deleted since it was evaluated gets nothing (and no XP row outlives it).
            rep_rows_write_lock(cursor)
            cursor.execute(_AWARD_SQL, [now, *(list(column) for column in zip(*candidates, strict=True))])
            awards = [_award_from_row(row) for row in cursor.fetchall()]
        if not awards:
            return []
        rewards: dict[int, int] = defaultdict(int)
        for award in awards:
            rewards[award.rep_id] += award.xp_reward
        rows = sorted((rep, day, xp) for rep, xp in rewards.items() if xp)
        external_ids = {a.rep_id: a.rep.external_id for a in awards}
        if rows:
            tenant_settings = settings_get(connection.tenant)
            level_ups_emit(xp_apply(rows), tenant_settings["level_thresholds"], external_ids)
        events_emit([("badge.awarded", award_payload(award)) for award in awards], paced=paced)
    return awards


def award_payload(award: BadgeAward) -> dict[str, Any]:
    return {
        "id": award.pk,
        "rep": award.rep.external_id,
        "badge": award.badge.slug,
        "name": award.badge.name,
        "period": award.period,
        "xp_reward": award.xp_reward,
        "awarded_at": award.awarded_at.isoformat(),
    }


def badges_grant(*, grants: Sequence[tuple[int, str, str]], day: date) -> list[BadgeAward]:
    """Award badges outside their criteria (a contest's prizes): (rep id, badge slug, period)
    each once, with the badge's ``xp_reward`` credited on local ``day`` and ``badge.awarded``
    emitted, as an earned award. A slug no longer defined is skipped."""
    badges = {b.slug: b for b in Badge.objects.filter(slug__in={slug for _, slug, _ in grants})}
    candidates = sorted(
        (rep, badges[slug].pk, period, badges[slug].xp_reward)
        for rep, slug, period in grants
        if slug in badges
    )
    return _award(candidates, day) if candidates else []
