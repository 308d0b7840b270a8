"""XP, badges, goals, rep tokens and webhooks (docs/gamification.md). Tenant schema."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from scoring.models import Rep, Team


class XpDaily(models.Model):
    """XP a rep earned per local day (events by their day, badge rewards on the award day).

    ``Rep.xp`` is the running total; this ledger answers "XP earned within a period".
    """

    pk = models.CompositePrimaryKey("rep_id", "day")
    # No index of its own: the primary key (rep, day) serves every lookup by rep. No
    # database foreign key: see scoring.services.people.rep_rows_write_lock.
    rep = models.ForeignKey(
        Rep, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    xp = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="xpdaily_day")]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.day} {self.xp}"


class Badge(models.Model):
    class Repeat(models.TextChoices):
        ONCE = "once"
        DAILY = "daily"
        WEEKLY = "weekly"
        MONTHLY = "monthly"

    slug = models.SlugField(max_length=64, db_index=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    image_url = models.URLField(max_length=500, blank=True, default="")
    criteria = models.JSONField()
    repeat = models.CharField(max_length=8, choices=Repeat.choices, default=Repeat.ONCE)
    xp_reward = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    # True when every metric of the criteria changes at ingestion: evaluated
    # within seconds of an ingest, not only after the nightly recompute.
    ingest_time = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # A constraint, not ``unique=True``, which adds a varchar_pattern_ops twin no query uses
        # (the name is the one PostgreSQL gave the column's UNIQUE).
        constraints = [models.UniqueConstraint(fields=["slug"], name="gamification_badge_slug_key")]

    def __str__(self) -> str:
        return self.slug


class BadgeAward(models.Model):
    """A badge earned by a rep; unique per (rep, badge, period): the database says so."""

    # No index of its own: ``award_once_per_period`` leads with the rep.
    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="awards", db_index=False)
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="awards")
    # "" for once, YYYY-MM-DD daily, YYYY-Www weekly (ISO), YYYY-MM monthly, contest-<id> a prize.
    period = models.CharField(max_length=20, default="")
    awarded_at = models.DateTimeField(default=timezone.now)
    xp_reward = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "badge", "period"], name="award_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.badge_id} {self.period}"


class PendingEvaluation(models.Model):
    """Reps whose ingest-time badges and goals need evaluating: one row per ingest
    transaction, written in it (so nothing is lost if the broker is down), drained by
    a worker task, which evaluates each rep once however many rows name it.

    A queue of appended rows rather than one row per rep: the worker holds the rows it
    took until its evaluation commits, and an ingest coalescing into such a row would
    wait for that whole evaluation. Appending never waits. ``rep_ids`` may name a rep
    deleted since: the evaluation skips it."""

    rep_ids = ArrayField(models.BigIntegerField())
    queued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.pk}: {len(self.rep_ids)} reps"


class Goal(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        ACHIEVED = "achieved"
        MISSED = "missed"

    class Aggregate(models.TextChoices):
        AVG = "avg"
        SUM = "sum"
        MIN = "min"

    title = models.CharField(max_length=200)
    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.CASCADE, related_name="goals")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="goals")
    metric = models.CharField(max_length=100)
    target = models.FloatField()
    start_date = models.DateField()
    end_date = models.DateField()
    aggregate = models.CharField(max_length=3, choices=Aggregate.choices, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rep__isnull=False, team__isnull=True)
                | models.Q(rep__isnull=True, team__isnull=False),
                name="goal_rep_xor_team",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="goal_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class WebhookSubscription(models.Model):
    class Format(models.TextChoices):
        """What a delivery's body is: the JSON envelope, or a chat message (gamification/webhooks/chat.py)."""

        JSON = "json", "JSON"
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    url = models.URLField(max_length=1000)
    events = models.JSONField(default=list)  # event names, or ["*"]
    format = models.CharField(
        max_length=10, choices=Format.choices, default=Format.JSON, db_default=Format.JSON
    )
    active = models.BooleanField(default=True)
    # Needed back to sign, so not hashed: sealed with SSI_SECRETS_KEY when set (webhooks/secrets.py).
    secret = models.CharField(max_length=300)
    description = models.CharField(max_length=200, blank=True, default="")
    consecutive_failures = models.PositiveIntegerField(default=0)  # failed deliveries in a row
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # The receiver is failing (timeouts, refusals, 5xx): until then only ``probe_delivery``
    # (the last failed one, retrying) may try; after it, one other at a time. See delivery_run.
    blocked_until = models.DateTimeField(null=True, blank=True)
    probe_delivery = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(format__in=["json", "slack", "teams"]), name="webhook_format_known"
            )
        ]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """An event for webhooks, written in the same transaction as what it reports
    (an award, a level, a goal, a scored day): nothing is lost if the broker is down."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the event has been fanned out into deliveries.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_pending", condition=models.Q(dispatched_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event to one subscription; tried until it succeeds or runs out of tries."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: ``delivery_once_per_event`` leads with the subscription.
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once_per_event"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One try of a delivery: what was sent back, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


class Contest(models.Model):
    """A time-boxed competition on a metric between reps or teams (docs/contests.md).

    ``status`` is what the tick last wrote (scheduled, running, ended, cancelled); the API
    shows it as of now (``gamification.services.contests.contest_status``)."""

    class Kind(models.TextChoices):
        LEADERBOARD = "leaderboard"
        RACE = "race"
        TEAMS = "teams"

    class Aggregate(models.TextChoices):
        AVG = "avg"
        SUM = "sum"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        RUNNING = "running"
        ENDED = "ended"
        CANCELLED = "cancelled"

    name = models.CharField(max_length=120)
    metric = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    target = models.FloatField(null=True, blank=True)
    aggregate = models.CharField(max_length=3, choices=Aggregate.choices, blank=True, default="")
    start_date = models.DateField()
    end_date = models.DateField()
    # {"all": true} | {"teams": [ids]} | {"reps": [external ids]}
    participants = models.JSONField()
    # [{"rank": r, "xp": n, "badge": slug?}, ...]
    prizes = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    finalized_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The stored live standings (``ContestLiveStanding``): when their measure began, the local
    # day they measured up to, and a refresh's claim (gamification.services.contest_live).
    live_at = models.DateTimeField(null=True, blank=True)
    live_day = models.DateField(null=True, blank=True)
    live_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A season of a series: the series (null once it is deleted) and the season's label
    # (``2026-W49``, ``2026-12``); empty for a contest made by hand.
    # No index of its own: ``season_once`` leads with the series.
    series = models.ForeignKey(
        "ContestSeries",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="seasons",
        db_index=False,
    )
    season = models.CharField(max_length=8, blank=True, default="")
    # The leader the last ``contest.lead_changed`` announced (``{"rep"|"team", "value"}``), and when.
    lead = models.JSONField(null=True, blank=True)
    lead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A season is opened once, whichever worker gets there first.
            # (No condition needed: a null series is never equal to another.)
            models.UniqueConstraint(fields=["series", "start_date"], name="season_once"),
            models.CheckConstraint(
                condition=models.Q(series__isnull=True) | ~models.Q(season=""), name="contest_season_label"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["leaderboard", "race", "teams"]), name="contest_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["scheduled", "running", "ended", "cancelled"]),
                name="contest_status",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="race", target__isnull=False, target__gt=0)
                | (~models.Q(kind="race") & models.Q(target__isnull=True)),
                name="contest_target_for_race_only",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="teams", aggregate__in=["avg", "sum"])
                | (~models.Q(kind="teams") & models.Q(aggregate="")),
                name="contest_aggregate_for_teams_only",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date"))
                & models.Q(end_date__lte=models.F("start_date") + timedelta(days=366)),
                name="contest_dates",
            ),
            models.CheckConstraint(
                condition=models.Q(finalized_at__isnull=True) | models.Q(status="ended"),
                name="contest_finalized_is_ended",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContestSeries(models.Model):
    """A recurring contest (docs/contests.md#seasons): the definition of a contest without its
    dates, and a cadence. The tick opens one contest per season (an ISO week or a calendar
    month, local) from ``starts_on`` on, while the series is ``active``."""

    class Every(models.TextChoices):
        WEEK = "week"
        MONTH = "month"

    name = models.CharField(max_length=100)
    metric = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Contest.Kind.choices)
    target = models.FloatField(null=True, blank=True)
    aggregate = models.CharField(max_length=3, blank=True, default="")
    participants = models.JSONField()
    prizes = models.JSONField(default=list)
    every = models.CharField(max_length=5, choices=Every.choices)
    starts_on = models.DateField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["leaderboard", "race", "teams"]), name="series_kind"
            ),
            models.CheckConstraint(condition=models.Q(every__in=["week", "month"]), name="series_every"),
            models.CheckConstraint(
                condition=models.Q(kind="race", target__isnull=False, target__gt=0)
                | (~models.Q(kind="race") & models.Q(target__isnull=True)),
                name="series_target_for_race_only",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="teams", aggregate__in=["avg", "sum"])
                | (~models.Q(kind="teams") & models.Q(aggregate="")),
                name="series_aggregate_for_teams_only",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StandingRow(models.Model):
    """A row of a contest's standings: a participant rep or, in a teams contest, a team
    (``rep`` xor ``team``), numbered by ``position`` (0, 1, 2, ... in rank order, reps and
    teams each from 0)."""

    rep = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    value = models.FloatField()
    reached_at = models.DateTimeField(null=True, blank=True)
    members = models.PositiveIntegerField(null=True, blank=True)  # team rows: participant members

    class Meta:
        abstract = True


ONE_OF_REP_OR_TEAM = models.Q(rep__isnull=False, team__isnull=True) | models.Q(
    rep__isnull=True, team__isnull=False
)


class ContestStanding(StandingRow):
    """A finalized contest's frozen standings, with the prize each row won."""

    # No index of its own: ``standing_page`` leads with the contest.
    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="standings", db_index=False)
    prize_xp = models.PositiveIntegerField(default=0)
    prize_badge = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["contest", "position"]
        constraints = [
            models.CheckConstraint(condition=ONE_OF_REP_OR_TEAM, name="standing_rep_xor_team"),
            # The idempotency key of a prize: one frozen row (and grant) per contest and rep.
            models.UniqueConstraint(
                fields=["contest", "rep"], condition=models.Q(rep__isnull=False), name="standing_once_per_rep"
            ),
            models.UniqueConstraint(
                fields=["contest", "team"],
                condition=models.Q(team__isnull=False),
                name="standing_once_per_team",
            ),
        ]
        indexes = [
            models.Index(fields=["contest", "team", "position"], name="standing_page"),
            # A page of the reps' rows is a range of positions (gamification.services.contest_live).
            models.Index(
                fields=["contest", "position"],
                condition=models.Q(team__isnull=True),
                name="standing_rep_page",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contest_id} #{self.rank} {self.rep_id or self.team_id}"


class ContestLiveStanding(StandingRow):
    """A running contest's standings as last measured (docs/contests.md#how-fresh-live-standings-are),
    replaced whole by each measure, so a read pages stored rows instead of measuring every
    participant. Finalizing drops them (the frozen ``ContestStanding`` rows take over)."""

    # No index of its own: ``live_standing_page`` and ``live_standing_rep`` lead with the contest.
    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="live_standings", db_index=False
    )

    class Meta:
        ordering = ["contest", "position"]
        constraints = [
            models.CheckConstraint(condition=ONE_OF_REP_OR_TEAM, name="live_standing_rep_xor_team")
        ]
        indexes = [
            models.Index(fields=["contest", "team", "position"], name="live_standing_page"),
            models.Index(
                fields=["contest", "position"],
                condition=models.Q(team__isnull=True),
                name="live_standing_rep_page",
            ),
            models.Index(fields=["contest", "rep"], name="live_standing_rep"),
        ]

    def __str__(self) -> str:
        return f"{self.contest_id} #{self.rank} {self.rep_id or self.team_id} (live)"


class Challenge(models.Model):
    """A head-to-head challenge between two reps on a metric over local dates (docs/contests.md
    #head-to-head-challenges): pending until the opponent answers or ``expires_at`` passes; once
    accepted, a two-rep leaderboard finalized once by the contests tick."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        EXPIRED = "expired"
        ENDED = "ended"

    challenger = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="+")
    opponent = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    # Frozen at the end: both values and the winner (null: a tie) with the XP it won.
    challenger_value = models.FloatField(null=True, blank=True)
    opponent_value = models.FloatField(null=True, blank=True)
    winner = models.ForeignKey(Rep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    xp_won = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "declined", "expired", "ended"]),
                name="challenge_status",
            ),
            models.CheckConstraint(
                condition=~models.Q(challenger=models.F("opponent")), name="challenge_two_reps"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date"))
                & models.Q(end_date__lte=models.F("start_date") + timedelta(days=31)),
                name="challenge_dates",
            ),
        ]
        indexes = [models.Index(fields=["status", "end_date"], name="challenge_due")]

    def __str__(self) -> str:
        return f"challenge {self.pk}: {self.challenger_id} v {self.opponent_id}"
