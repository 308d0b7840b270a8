from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Team(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="team_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Rep(models.Model):
    """A sales rep, known to the client by ``external_id`` (the client's own id)."""

    external_id = models.CharField(max_length=128)  # unique: Meta.constraints
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    # No index of its own: rep_team_active (team, active) serves every lookup by team.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="reps", db_index=False
    )
    active = models.BooleanField(default=True)
    # Total XP: credited at ingestion (once per event) and by badge rewards.
    # The level is derived from it and the tenant's thresholds. A database
    # default too: ingestion creates reps with plain SQL.
    xp = models.BigIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the rep's personal data was erased (provisioning.erasure); null for a rep never erased.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        # A constraint, not ``unique=True``, which adds a varchar_pattern_ops twin no query uses.
        constraints = [models.UniqueConstraint(fields=["external_id"], name="scoring_rep_external_id_key")]
        indexes = [models.Index(fields=["team", "active"], name="rep_team_active")]

    def __str__(self) -> str:
        return self.external_id


class Activity(models.Model):
    """One event posted by the tenant. ``event_id`` is the client's id: a repeat is a duplicate."""

    event_id = models.CharField(max_length=128)
    # No index of its own: activity_rep_id (rep, -id) serves every lookup by rep.
    # No database foreign key either: see scoring.services.people.rep_rows_write_lock.
    rep = models.ForeignKey(
        Rep, on_delete=models.CASCADE, related_name="activities", db_index=False, db_constraint=False
    )
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    # The tenant-local day of occurred_at, fixed at ingestion (recomputed if the
    # tenant's time zone changes).
    local_day = models.DateField()
    value = models.FloatField(default=1.0)
    metadata = models.JSONField(null=True, blank=True)
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        # A constraint, not ``unique=True``: that would add a second, varchar_pattern_ops
        # index (for LIKE) that no query uses and every insert pays for. The name is the
        # one PostgreSQL gave the column's UNIQUE.
        constraints = [models.UniqueConstraint(fields=["event_id"], name="scoring_activity_event_id_key")]
        indexes = [
            models.Index(fields=["rep", "-id"], name="activity_rep_id"),
            models.Index(fields=["occurred_at"], name="activity_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class ActivityDaily(models.Model):
    """Daily rollup per (rep, type, local day), kept up to date at ingestion.

    Everything scoring needs comes from here (see scoring.engine.aggregate):
    ``n`` and ``total`` feed count, ratio and active_days signals, decayed per
    day; ``last_*`` is the day's latest event (by occurred_at, then id) for
    state signals.
    """

    pk = models.CompositePrimaryKey("rep_id", "type", "day")
    # No index of its own: the primary key (rep, type, day) serves every lookup by rep. No
    # database foreign key: see scoring.services.people.rep_rows_write_lock.
    rep = models.ForeignKey(
        Rep, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    type = models.CharField(max_length=64)
    day = models.DateField()
    n = models.IntegerField()
    total = models.FloatField()
    last_at = models.DateTimeField()
    last_id = models.BigIntegerField()
    last_value = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="activitydaily_day")]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.type} {self.day}"


class ScoringConfig(models.Model):
    """An immutable, numbered version of the tenant's scoring config."""

    version = models.PositiveIntegerField(unique=True)
    config = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class ScoreSnapshot(models.Model):
    """A rep's scores on a day. Recomputing a day replaces that day's snapshots."""

    # No index of its own: ``snapshot_rep_day`` leads with the rep.
    rep = models.ForeignKey(Rep, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    day = models.DateField()
    ssi = models.FloatField()
    brand = models.FloatField()
    find = models.FloatField()
    engage = models.FloatField()
    relationships = models.FloatField()
    config_version = models.PositiveIntegerField()
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tenant_rank = models.PositiveIntegerField()
    tenant_of = models.PositiveIntegerField()
    tenant_top_percent = models.PositiveSmallIntegerField()
    team_rank = models.PositiveIntegerField(null=True, blank=True)
    team_of = models.PositiveIntegerField(null=True, blank=True)
    team_top_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "tenant_rank", "rep_id"]
        constraints = [models.UniqueConstraint(fields=["rep", "day"], name="snapshot_rep_day")]
        indexes = [models.Index(fields=["day", "tenant_rank"], name="snapshot_day_rank")]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.day} {self.ssi:.2f}"


class ScoredDay(models.Model):
    """A day whose snapshots are complete, with that day's averages."""

    day = models.DateField(primary_key=True)
    config_version = models.PositiveIntegerField()
    reps = models.PositiveIntegerField()
    # Whether the day's snapshots are still exactly the ``reps`` it scored: set by the
    # recompute, cleared when a rep with a snapshot that day is deleted (its snapshots go
    # with it). The tenant-wide SSI board reads the stored ranks only while it holds.
    ranks_current = models.BooleanField(default=True, db_default=True)
    # {"tenant": {"ssi": .., "brand": ..}, "teams": {"<team id>": {...}}}
    averages = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)


class SsiSummary(models.Model):
    """A day's SSI over a group of reps: the company (``team`` null) or one team.

    Written with the day's snapshots (scoring.services.summaries), from the active reps
    with a snapshot that day, each rep's SSI and pillars taken as the API shows them
    (rounded to 2 decimals). A team's reps are those the snapshots name (the team at
    scoring time).
    """

    day = models.DateField()
    # Null: the whole company. No index of its own: the unique constraints serve every read.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    reps = models.PositiveIntegerField()
    mean = models.DecimalField(max_digits=5, decimal_places=2)
    median = models.DecimalField(max_digits=5, decimal_places=2)
    brand = models.DecimalField(max_digits=5, decimal_places=2)
    find = models.DecimalField(max_digits=5, decimal_places=2)
    engage = models.DecimalField(max_digits=5, decimal_places=2)
    relationships = models.DecimalField(max_digits=5, decimal_places=2)
    good = models.PositiveIntegerField()  # SSI >= 70
    okay = models.PositiveIntegerField()  # 40 <= SSI < 70
    poor = models.PositiveIntegerField()  # SSI < 40

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day"], condition=models.Q(team__isnull=True), name="ssisummary_company_day"
            ),
            models.UniqueConstraint(
                fields=["team", "day"], condition=models.Q(team__isnull=False), name="ssisummary_team_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id or 'company'} {self.mean}"


class Job(models.Model):
    """A recompute (on demand or nightly), a preview of many reps or a job another app runs
    (``scoring.hooks.on_job_kind``: a badge awarded over the past), with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Kind(models.TextChoices):  # documented in the API; not a DB constraint
        RECOMPUTE = "recompute"  # POST /scores/recompute
        NIGHTLY = "nightly"  # the nightly run
        PREVIEW = "preview"  # a what-if preview of many reps
        BADGE_PAST = "badge_past"  # a new badge awarded over past periods (gamification)
        EXPORT = "export"  # an export of the tenant's data (provisioning.exports)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, default=Kind.RECOMPUTE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField(default=dict)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life: the claim, each day and chunk of a run, or the sweep re-enqueueing it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery task (message) id of the run holding the claim.
    claimed_by = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} {self.status}"


class PreviewResult(models.Model):
    """One rep's scores in a preview job's answer (scoring.services.preview), in answer order;
    purged with its job."""

    pk = models.CompositePrimaryKey("job_id", "position")
    # No index of its own: the primary key (job, position) serves every read, a page of a job.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.PositiveIntegerField()  # 0, 1, … by rank, then external_id
    rep = models.CharField(max_length=128)  # the rep's external_id when the job ran
    ssi = models.FloatField()
    brand = models.FloatField()
    find = models.FloatField()
    engage = models.FloatField()
    relationships = models.FloatField()
    rank = models.PositiveIntegerField()
    current_ssi = models.FloatField(null=True)

    def __str__(self) -> str:
        return f"{self.job_id} {self.position} {self.rep}"


class IdempotencyRecord(models.Model):
    """The first answer to a request with an ``Idempotency-Key``, replayed for 24 h."""

    api_key_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The answer exactly as sent (text, not jsonb, which would reorder keys).
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key_id", "key"], name="idempotency_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return self.key
