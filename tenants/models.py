from __future__ import annotations

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class TenantStatus(models.TextChoices):
    ACTIVE = "active", "Active: its keys, tokens and console work; its tasks run"
    SUSPENDED = "suspended", "Suspended: everything refused with 403 until restored or purged"


class Tenant(TenantMixin):
    """A company. Its data lives in its own PostgreSQL schema (``schema_name``)."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    # Tenant-level settings (auto_create_reps, recompute_hour, ...); defaults
    # live in tenants.settings_defaults and are merged on read.
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The nightly dispatcher's claim: the local day it last enqueued a
    # recompute for, and when (a conditional UPDATE makes it once per day).
    nightly_claim_day = models.DateField(null=True, blank=True)
    nightly_claim_at = models.DateTimeField(null=True, blank=True)
    # The latest day whose scores are complete (mirrors the tenant's ScoredDay).
    scored_through = models.DateField(null=True, blank=True)
    # Suspension (docs/operations.md, "Suspending, restoring and purging a tenant"): while
    # ``suspended_at`` is set the tenant's keys, rep tokens and console answer 403 and no task
    # runs for it; beat drops its schema once ``purge_after`` has passed.
    suspended_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(null=True, blank=True)

    # Schemas are made by tenants.services.tenant_create (clone of a template),
    # never implicitly on save(), and dropped explicitly by tenant_delete.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def status(self) -> str:
        """``active`` or ``suspended`` (a purged tenant has no row)."""
        return TenantStatus.SUSPENDED if self.suspended_at is not None else TenantStatus.ACTIVE


class Domain(DomainMixin):
    """A host name that routes to a tenant."""

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class PlatformKey(models.Model):
    """A key that manages tenants on the platform host. Only its hash is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Benchmark(models.Model):
    """An industry's benchmark of one day (docs/scoring.md#industry-benchmark): aggregates of
    the tenants that took part, never a rep or a name.

    Written whole by ``scoring.services.benchmark`` (a day's rows replaced at each run);
    whether it is shown (published) is decided when read, from the platform's thresholds.
    """

    industry = models.CharField(max_length=40)
    day = models.DateField()
    companies = models.PositiveIntegerField()
    reps = models.PositiveIntegerField()
    # The number of reps at each SSI, rounded to 2 decimals, in hundredths: {"7312": 3, ...}.
    histogram = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "industry"]
        constraints = [models.UniqueConstraint(fields=["industry", "day"], name="benchmark_industry_day")]

    def __str__(self) -> str:
        return f"{self.industry} {self.day}"


class BenchmarkCompany(models.Model):
    """One tenant's part of a benchmark: its company mean (SSI, 2 decimals) and its reps'
    count. Keyed by tenant internally, so that a tenant finds its own place; never shown with
    the tenant it belongs to."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="entries")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    reps = models.PositiveIntegerField()
    mean = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["benchmark", "tenant"]
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "tenant"], name="benchmarkcompany_benchmark_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.benchmark} {self.mean}"
