from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin: everything in the tenant"
    INTEGRATION = "integration", "Integration: ingest, manage reps and teams, mint rep tokens, read"
    READ = "read", "Read: read everything"


class ApiKey(models.Model):
    """A tenant API key. Lives in the tenant's schema: another tenant's host cannot even see it."""

    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=list(Role.values)), name="apikey_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
