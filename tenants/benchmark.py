"""The industry benchmark in the public schema (docs/scoring.md#industry-benchmark): storing a
day's aggregates, and a tenant's place in them.

Only aggregates are stored and read here: per industry and day the number of reps at each
rounded SSI, and each taking-part company's mean, keyed by tenant so that a tenant finds its
own. No answer built from this module names another tenant or carries another tenant's
rep-level data: a rep's rank counts reps, a company's counts means.

Whether an industry is published (shown at all) is decided when read, from the platform's
thresholds ``SSI_BENCHMARK_MIN_COMPANIES`` and ``SSI_BENCHMARK_MIN_REPS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.db import connection
from tenants.models import Benchmark, BenchmarkCompany, Tenant
from tenants.tenant_settings import benchmark_industry

CENT = Decimal("0.01")


# --- The arithmetic (plain Python) -------------------------------------------------------


def top_percent(rank: int, of: int) -> int:
    """ceil(100 * rank / of), in integers."""
    return -(-100 * rank // of)


def mean_of_histogram(histogram: Mapping[int, int]) -> Decimal:
    """The mean SSI of a histogram of SSI in hundredths -> reps, rounded to 2 decimals half away
    from zero: the company ``mean`` of docs/scoring.md#company-and-team-ssi."""
    reps = sum(histogram.values())
    total = sum(cents * n for cents, n in histogram.items())
    return (Decimal(total) / reps / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def median_of(values: Sequence[Decimal]) -> Decimal:
    """The median (the mean of the two middle values for an even count), rounded to 2 decimals
    half away from zero (the values are never negative)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def published(*, companies: int, reps: int) -> bool:
    """Whether an industry's day may be shown: enough companies and enough reps."""
    return companies >= int(settings.SSI_BENCHMARK_MIN_COMPANIES) and reps >= int(
        settings.SSI_BENCHMARK_MIN_REPS
    )


# --- Storing a day -----------------------------------------------------------------------


@dataclass
class IndustryDay:
    """What an industry's benchmark of a day is made of: each company's reps per SSI."""

    histogram: dict[int, int] = field(default_factory=dict)  # SSI in hundredths -> reps
    companies: dict[int, tuple[int, Decimal]] = field(default_factory=dict)  # tenant id -> (reps, mean)

    def add(self, *, tenant_id: int, histogram: Mapping[int, int], mean: Decimal) -> None:
        for cents, n in histogram.items():
            self.histogram[cents] = self.histogram.get(cents, 0) + n
        self.companies[tenant_id] = (sum(histogram.values()), mean)

    @property
    def reps(self) -> int:
        return sum(self.histogram.values())


def benchmarks_replace(*, day: date, industries: Mapping[str, IndustryDay]) -> list[Benchmark]:
    """Replace the benchmark of ``day`` with ``industries`` (an industry absent: none that day),
    in one transaction; a second run for the same day at the same time waits for the first."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('benchmarks:' || %s, 0))", [day.isoformat()]
            )
        Benchmark.objects.filter(day=day).delete()
        stored = Benchmark.objects.bulk_create(
            Benchmark(
                industry=industry,
                day=day,
                companies=len(part.companies),
                reps=part.reps,
                histogram={str(cents): n for cents, n in sorted(part.histogram.items())},
                computed_at=now,
            )
            for industry, part in sorted(industries.items())
            if part.companies
        )
        BenchmarkCompany.objects.bulk_create(
            BenchmarkCompany(benchmark=benchmark, tenant_id=tenant_id, reps=reps, mean=mean)
            for benchmark in stored
            for tenant_id, (reps, mean) in sorted(industries[benchmark.industry].companies.items())
        )
    return stored


# --- A tenant's place in it ---------------------------------------------------------------

# The tenant's benchmark of a day, when it took part: the industry's counts, the reps above an
# SSI (in hundredths; null without one), every company's mean and the tenant's own. One query.
_PLACE_SQL = """
SELECT b.companies, b.reps,
       (SELECT coalesce(sum(h.value::bigint), 0) FROM jsonb_each_text(b.histogram) h
         WHERE %(cents)s::bigint IS NOT NULL AND h.key::bigint > %(cents)s::bigint),
       array(SELECT e.mean FROM tenants_benchmarkcompany e WHERE e.benchmark_id = b.id),
       c.mean
  FROM tenants_benchmark b
  JOIN tenants_benchmarkcompany c ON c.benchmark_id = b.id AND c.tenant_id = %(tenant)s
 WHERE b.industry = %(industry)s AND b.day = %(day)s
"""


def _place(tenant: Tenant, day: date, cents: int | None) -> tuple[str, Sequence[Any]] | None:
    industry = benchmark_industry(tenant)
    if industry is None:  # not taking part: no query at all
        return None
    with connection.cursor() as cursor:
        cursor.execute(_PLACE_SQL, {"cents": cents, "tenant": tenant.pk, "industry": industry, "day": day})
        row = cursor.fetchone()
    if row is None or not published(companies=row[0], reps=row[1]):
        return None
    return industry, row


def rep_industry_rank(*, tenant: Tenant, day: date, ssi: float) -> dict[str, Any] | None:
    """A rep's place in its industry on ``day`` (``ssi``: its SSI that day, 2 decimals), or
    None unless the tenant takes part, took part on ``day`` and the industry is published."""
    cents = int(Decimal(repr(ssi)).scaleb(2).to_integral_value(rounding=ROUND_HALF_UP))
    place = _place(tenant, day, cents)
    if place is None:
        return None
    industry, (companies, reps, higher, _means, _own) = place
    # The rep's SSI may have been rescored since the benchmark was computed: a rank past the
    # last is the last.
    rank = min(1 + int(higher), reps)
    return {
        "industry": industry,
        "rank": rank,
        "top_percent": top_percent(rank, reps),
        "reps": reps,
        "companies": companies,
    }


def company_industry_rank(*, tenant: Tenant, day: date) -> dict[str, Any] | None:
    """The company's place in its industry on ``day`` by its mean SSI, with the median of the
    companies' means, or None as for ``rep_industry_rank``."""
    place = _place(tenant, day, None)
    if place is None:
        return None
    industry, (companies, reps, _higher, means, own) = place
    rank = 1 + sum(1 for mean in means if mean > own)
    return {
        "industry": industry,
        "rank": rank,
        "top_percent": top_percent(rank, companies),
        "companies": companies,
        "reps": reps,
        "median_company_mean": float(median_of(list(means))),
    }
