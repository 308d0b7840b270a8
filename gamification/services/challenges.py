"""Head-to-head challenges (docs/contests.md#head-to-head-challenges).

A rep challenges another rep of the tenant on a contest metric over at most 31 days apart.
The challenge is ``pending`` until the opponent accepts or declines, or ``expires_at``
(creation + the tenant's ``challenge_accept_hours``) passes: then it is ``expired``, written
lazily when read and by the contests tick. An accepted challenge is a two-rep ``leaderboard``
contest: its values are the contests' (``contest_values.contest_measure``, on an unsaved
``Contest`` of the challenge's metric and period), and it is finalized once by the tick with a
conditional UPDATE claim; the higher rounded value wins ``challenge_xp`` through the XP ledger,
a tie wins nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from core.clock import parse_date
from core.db import connection
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from gamification.models import Challenge, Contest
from gamification.rules.contests import Entry, metric_parse, rank_by_value
from gamification.services.contest_values import contest_measure
from gamification.services.contests import contest_metric_clean, tenant_today
from gamification.services.xp import level_ups_emit, xp_apply
from scoring.engine import round2
from scoring.models import Rep
from scoring.services.people import rep_rows_write_lock
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

FIELDS = ("challenger", "opponent", "metric", "start_date", "end_date")
MAX_DAYS_APART = 31


@dataclass(frozen=True)
class Values:
    challenger: float
    opponent: float


def challenge_snapshot(challenge: Challenge) -> dict[str, Any]:
    """What the audit log keeps of a challenge."""
    return {
        "challenger": challenge.challenger.external_id,
        "opponent": challenge.opponent.external_id,
        "metric": challenge.metric,
        "start_date": challenge.start_date,
        "end_date": challenge.end_date,
        "status": challenge.status,
        "expires_at": challenge.expires_at,
    }


def challenge_create(
    *, tenant: Tenant, data: Mapping[str, Any], actor: Actor, challenger_rep_id: int | None
) -> Challenge:
    """A new pending challenge. ``challenger_rep_id``: a rep token's rep (then ``challenger``,
    if given, must be that rep); None for an admin key (then ``challenger`` is required)."""
    settings = settings_get(tenant)
    if not settings["challenges_enabled"]:
        raise Forbidden("Challenges are switched off for this tenant.", code="challenges_disabled")
    for name in data:
        if name not in FIELDS:
            raise ValidationFailed("Unknown field.", code="unknown_field", attr=str(name))
    for name in ("opponent", "metric", "start_date", "end_date"):
        if data.get(name) in (None, ""):
            raise ValidationFailed("This field is required.", code="required", attr=name)
    if challenger_rep_id is None:
        if data.get("challenger") in (None, ""):
            raise ValidationFailed("This field is required.", code="required", attr="challenger")
        challenger = _active_rep(data["challenger"], "challenger")
    else:
        challenger = Rep.objects.get(pk=challenger_rep_id)
        given = data.get("challenger")
        if given not in (None, challenger.external_id):
            raise Forbidden(
                "A rep token challenges as its own rep only.", code="not_your_rep", attr="challenger"
            )
        if not challenger.active:
            raise ValidationFailed("The challenger is not active.", code="inactive_rep", attr="challenger")
    opponent = _active_rep(data["opponent"], "opponent")
    if opponent.pk == challenger.pk:
        raise ValidationFailed("A rep cannot challenge itself.", code="invalid", attr="opponent")
    metric = contest_metric_clean(data["metric"])
    parsed = metric_parse(metric)
    if parsed is not None and parsed.family == "gain" and parsed.arg != "ssi":
        raise ValidationFailed(
            "Of the gains, challenges take ssi.gain only.", code="unknown_metric", attr="metric"
        )
    start, end = (parse_date(data[name], name) for name in ("start_date", "end_date"))
    assert start is not None and end is not None
    if end < start:
        raise ValidationFailed("end_date is before start_date.", code="invalid", attr="end_date")
    if (end - start).days > MAX_DAYS_APART:
        raise ValidationFailed(
            f"start_date and end_date are at most {MAX_DAYS_APART} days apart.",
            code="invalid",
            attr="end_date",
        )
    hours = timedelta(hours=int(settings["challenge_accept_hours"]))
    with transaction.atomic():
        challenge = Challenge.objects.create(
            challenger=challenger,
            opponent=opponent,
            metric=metric,
            start_date=start,
            end_date=end,
            expires_at=timezone.now() + hours,
        )
        # Exactly the limit after the creation time the API shows.
        challenge.expires_at = challenge.created_at + hours
        challenge.save(update_fields=["expires_at"])
        audit_record(
            actor=actor,
            action="create",
            target_type="challenge",
            target_id=challenge.pk,
            after=challenge_snapshot(challenge),
        )
    return challenge


def _active_rep(external_id: Any, attr: str) -> Rep:
    if not isinstance(external_id, str):
        raise ValidationFailed("A rep's external_id.", code="invalid", attr=attr)
    rep = Rep.objects.filter(external_id=external_id).first()
    if rep is None:
        raise ValidationFailed(f"No rep {external_id!r}.", code="unknown_rep", attr=attr)
    if not rep.active:
        raise ValidationFailed(f"The rep {external_id!r} is not active.", code="inactive_rep", attr=attr)
    return rep


def challenges_expire(*, now: datetime | None = None) -> list[int]:
    """Pending challenges whose time to answer is over: ``expired`` (one UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gamification_challenge SET status = 'expired', updated_at = now() "
            "WHERE status = 'pending' AND expires_at <= %s RETURNING id",
            [now or timezone.now()],
        )
        return sorted(row[0] for row in cursor.fetchall())


def challenge_respond(*, challenge: Challenge, rep_id: int | None, accept: bool, actor: Actor) -> Challenge:
    """The opponent's answer, with its rep token; once, while pending and before ``expires_at``."""
    if rep_id is None or rep_id != challenge.opponent_id:
        raise Forbidden(
            "Only the challenged rep, with its rep token, can answer a challenge.", code="not_opponent"
        )
    now = timezone.now()
    new_status = Challenge.Status.ACCEPTED if accept else Challenge.Status.DECLINED
    with transaction.atomic():
        updated = Challenge.objects.filter(
            pk=challenge.pk, status=Challenge.Status.PENDING, expires_at__gt=now
        ).update(status=new_status, responded_at=now, updated_at=now)
        if not updated:
            challenges_expire(now=now)
            challenge.refresh_from_db()
            raise Conflict(
                f"The challenge is {challenge.status}: it can no longer be answered.",
                code=f"challenge_{challenge.status}",
            )
        before = challenge_snapshot(challenge)
        challenge.refresh_from_db()
        audit_record(
            actor=actor,
            action="accept" if accept else "decline",
            target_type="challenge",
            target_id=challenge.pk,
            before=before,
            after=challenge_snapshot(challenge),
        )
    return challenge


def challenges_visible_to_rep(queryset: QuerySet[Challenge], rep_id: int) -> QuerySet[Challenge]:
    """The challenges a rep is in, as challenger or opponent."""
    return queryset.filter(Q(challenger_id=rep_id) | Q(opponent_id=rep_id))


def challenge_get(*, queryset: QuerySet[Challenge], pk: Any) -> Challenge:
    try:
        return queryset.select_related("challenger", "opponent", "winner").get(pk=int(pk))
    except (Challenge.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such challenge.") from None


def _as_contest(challenge: Challenge) -> Contest:
    """The two-rep leaderboard contest the challenge is (never saved): what the contests'
    value code measures."""
    return Contest(
        name=f"challenge {challenge.pk}",
        metric=challenge.metric,
        kind=Contest.Kind.LEADERBOARD,
        start_date=challenge.start_date,
        end_date=challenge.end_date,
        participants={"reps": [challenge.challenger.external_id, challenge.opponent.external_id]},
    )


def challenge_values(*, tenant: Tenant, challenge: Challenge, today: date | None = None) -> Values:
    """Both reps' values: frozen once ended, otherwise over ``[start_date, min(end_date, today)]``
    (rounded to 2 decimals, as contests show them)."""
    if challenge.finalized_at is not None:
        return Values(challenge.challenger_value or 0.0, challenge.opponent_value or 0.0)
    measured = contest_measure(
        tenant=tenant,
        contest=_as_contest(challenge),
        rep_ids=[challenge.challenger_id, challenge.opponent_id],
        today=today or tenant_today(tenant),
    )
    return Values(
        round2(measured.values[challenge.challenger_id]), round2(measured.values[challenge.opponent_id])
    )


def challenges_finalize_due(*, tenant: Tenant, today: date) -> list[int]:
    """Finalize every accepted challenge whose ``end_date`` is over (the contests tick)."""
    due = (
        Challenge.objects.filter(status=Challenge.Status.ACCEPTED, end_date__lt=today)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [pk for pk in due if challenge_finalize(tenant=tenant, challenge_id=pk, today=today)]


def challenge_finalize(*, tenant: Tenant, challenge_id: int, today: date) -> bool:
    """Freeze both values and grant the winner ``challenge_xp``, once: the claim is one
    conditional UPDATE (``status='accepted' AND finalized_at IS NULL``); a second worker, or the
    same tick again, finds nothing to claim. False when not claimed."""
    with transaction.atomic():
        rows = list(
            Challenge.objects.raw(
                "UPDATE gamification_challenge SET status = 'ended', finalized_at = %s, updated_at = now() "
                "WHERE id = %s AND status = 'accepted' AND finalized_at IS NULL AND end_date < %s "
                "RETURNING *",
                [timezone.now(), challenge_id, today],
            )
        )
        if not rows:
            return False
        challenge = Challenge.objects.select_related("challenger", "opponent").get(pk=rows[0].pk)
        challenge.finalized_at = rows[0].finalized_at
        measured = contest_measure(
            tenant=tenant,
            contest=_as_contest(challenge),
            rep_ids=[challenge.challenger_id, challenge.opponent_id],
            today=challenge.end_date,
        )
        ranked = rank_by_value([Entry(rep, measured.values[rep]) for rep in measured.values])
        by_rep = {r.key: r for r in ranked}
        first = [r.key for r in ranked if r.rank == 1]
        winner = first[0] if len(first) == 1 else None  # both ranked 1: a tie wins nothing
        stake = int(settings_get(tenant)["challenge_xp"]) if winner is not None else 0
        Challenge.objects.filter(pk=challenge.pk).update(
            challenger_value=by_rep[challenge.challenger_id].value,
            opponent_value=by_rep[challenge.opponent_id].value,
            winner_id=winner,
            xp_won=stake,
        )
        if winner is not None and stake > 0:
            with connection.cursor() as cursor:
                rep_rows_write_lock(cursor)
            external = {
                challenge.challenger_id: challenge.challenger.external_id,
                challenge.opponent_id: challenge.opponent.external_id,
            }
            level_ups_emit(
                xp_apply([(winner, today, stake)]), settings_get(tenant)["level_thresholds"], external
            )
    return True
