"""Who may call, and what they changed: API keys, rep tokens and the audit log.

These tables keep the names they were created with (``api_apikey``,
``api_auditentry``, ``gamification_reptoken``): the models moved here without
their data moving (``access/migrations/0001_initial.py``).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    ADMIN = "admin", "Admin: everything in the tenant"
    INTEGRATION = "integration", "Integration: ingest, manage reps and teams, mint rep tokens, read"
    READ = "read", "Read: read everything"


class ApiKey(models.Model):
    """A tenant API key. Lives in the tenant's schema: another tenant's host cannot even see it."""

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_apikey"
        ordering = ["id"]
        # A constraint, not ``unique=True``, which adds a varchar_pattern_ops twin no query uses
        # (the name is the one PostgreSQL gave the column's UNIQUE).
        constraints = [
            models.UniqueConstraint(fields=["prefix"], name="api_apikey_prefix_key"),
            models.CheckConstraint(condition=models.Q(role__in=list(Role.values)), name="apikey_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(models.Model):
    """One change to the tenant's configuration: who, when, what, before and after.

    Written by ``access.audit.audit_record`` in the same transaction as the
    change it describes, so a change that rolls back leaves no entry and no
    change is committed without one. Never updated or deleted by the API.
    ``before``/``after`` never hold a secret (webhook secrets, keys, hashes
    are redacted). The actor is copied, not linked: an entry outlives a
    revoked key, and a platform key lives in another schema.
    """

    class ActorKind(models.TextChoices):
        KEY = "key", "A tenant API key"
        PLATFORM = "platform", "A platform key (the operator)"
        REP = "rep", "A rep token (challenges: its rep creates, accepts or declines)"
        MEMBER = "member", "A console member (actor_key_id: the member's id; actor_name: their email)"
        SYSTEM = "system", "No request: a management command, a task or a migration"

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        REVOKE = "revoke", "Revoked (API keys)"
        CANCEL = "cancel", "Cancelled (contests)"
        ACCEPT = "accept", "Accepted (challenges)"
        DECLINE = "decline", "Declined (challenges)"
        ERASE = "erase", "Erased (a rep's personal data)"

    class TargetType(models.TextChoices):
        SCORING_CONFIG = "scoring_config", "The scoring config (target_id: the new version)"
        SETTINGS = "settings", "The tenant's settings (target_id: the tenant's slug)"
        TENANT = "tenant", "The tenant itself, changed by the platform (target_id: the slug)"
        BADGE = "badge", "A badge definition (target_id: its slug)"
        GOAL = "goal", "A goal (target_id: its id)"
        WEBHOOK = "webhook", "A webhook subscription (target_id: its id)"
        API_KEY = "api_key", "An API key (target_id: its id)"
        REP_TOKENS = "rep_tokens", "A rep's rep tokens (target_id: the rep's external_id)"
        MEMBER = "member", "A console member (target_id: its id)"
        CONTEST = "contest", "A contest (target_id: its id)"
        CONTEST_SERIES = "contest_series", "A recurring contest (target_id: its id)"
        CHALLENGE = "challenge", "A head-to-head challenge (target_id: its id)"
        REP = "rep", "A rep (target_id: its external_id; after an erasure, the opaque one it was given)"
        EXPORT = "export", "An export of the tenant's data (target_id: its job's id)"

    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_key_id = models.BigIntegerField(null=True, blank=True)
    actor_prefix = models.CharField(max_length=16, blank=True)
    actor_name = models.CharField(max_length=100, blank=True)
    actor_role = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    target_type = models.CharField(max_length=32, choices=TargetType.choices)
    target_id = models.CharField(max_length=100)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        db_table = "api_auditentry"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="auditentry_target"),
            models.Index(fields=["at"], name="auditentry_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_kind} {self.action} {self.target_type} {self.target_id}"


class RepToken(models.Model):
    """A short-lived token for a client app showing one rep its own data. Only its hash is stored."""

    rep = models.ForeignKey("scoring.Rep", on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    created_by_key_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "gamification_reptoken"
        # A constraint, not ``unique=True``, which adds a varchar_pattern_ops twin no query uses
        # (the name is the one PostgreSQL gave the column's UNIQUE).
        constraints = [models.UniqueConstraint(fields=["prefix"], name="gamification_reptoken_prefix_key")]
        indexes = [models.Index(fields=["expires_at"], name="reptoken_expires")]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.prefix}…"


class MemberRole(models.TextChoices):
    ADMIN = "admin", "Admin: everything in the tenant"
    MANAGER = "manager", "Manager: reads everything; manages goals and badges"
    VIEWER = "viewer", "Viewer: reads"


class Member(models.Model):
    """A person who signs in to the tenant's console with an email and a password.

    Lives in the tenant's schema. The password is kept as Django's password hash
    (``make_password``); the one-time links (invitation, password reset) only as
    the SHA-256 of their token, with their expiry. A member is ``invited`` until
    they set a password through their invitation.
    """

    class Status(models.TextChoices):
        INVITED = "invited", "Invited: has not set a password yet"
        ACTIVE = "active", "Active: signs in with email and password"

    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=MemberRole.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    password = models.CharField(max_length=128, blank=True)
    invite_hash = models.CharField(max_length=64, blank=True)
    invite_expires_at = models.DateTimeField(null=True, blank=True)
    reset_hash = models.CharField(max_length=64, blank=True)
    reset_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="member_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(role__in=list(MemberRole.values)), name="member_role_valid"
            ),
        ]
        # Plain b-tree indexes: ``db_index=True`` would add a varchar_pattern_ops twin of each.
        indexes = [
            models.Index(fields=["invite_hash"], name="member_invite_hash"),
            models.Index(fields=["reset_hash"], name="member_reset_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.role}, {self.status})"


class MemberSession(models.Model):
    """A signed-in browser: the console cookie's token, of which only the SHA-256 is kept.

    Deleting a member's rows ends all their sessions at once (sign-out everywhere,
    a password reset, the member deleted).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="sessions")
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        # A constraint, not ``unique=True``, which adds a varchar_pattern_ops twin no query uses
        # (the name is the one PostgreSQL gave the column's UNIQUE).
        constraints = [models.UniqueConstraint(fields=["key_hash"], name="access_membersession_key_hash_key")]
        indexes = [models.Index(fields=["expires_at"], name="membersession_expires")]

    def __str__(self) -> str:
        return f"session of member {self.member_id}"


class RepSession(models.Model):
    """A rep signed in to their own console page (``/console/me``) with a rep token.

    Only the SHA-256 of the cookie's token is kept. A session lives an hour at most, and ends
    with the rep token it came from (revoking a rep's tokens deletes them) or with the rep.
    """

    rep = models.ForeignKey("scoring.Rep", on_delete=models.CASCADE, related_name="console_sessions")
    rep_token = models.ForeignKey(RepToken, on_delete=models.CASCADE, related_name="sessions")
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        # A constraint, not ``unique=True``, which adds a varchar_pattern_ops twin no query uses
        # (the name is the one PostgreSQL gave the column's UNIQUE).
        constraints = [models.UniqueConstraint(fields=["key_hash"], name="access_repsession_key_hash_key")]
        indexes = [models.Index(fields=["expires_at"], name="repsession_expires")]

    def __str__(self) -> str:
        return f"console session of rep {self.rep_id}"
