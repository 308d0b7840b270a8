"""Computing the industry benchmark of a day (docs/scoring.md#industry-benchmark).

The one module that reads several tenants' schemas. In each taking-part tenant's schema, one
by one (``schema_context``, never two schemas on one search path), ONE aggregate statement: the
number of active reps at each rounded SSI of the day and the company mean. Only those
aggregates leave the schema; ``tenants.benchmark`` stores them in the public schema,
replacing the day's benchmark whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django_tenants.utils import get_public_schema_name, schema_context

from core.db import connection
from tenants.benchmark import IndustryDay, benchmarks_replace, mean_of_histogram, published
from tenants.models import Tenant
from tenants.tenant_settings import INDUSTRIES, benchmark_industry

COMPUTE_BENCHMARKS = "scoring.tasks.compute_benchmarks"

# The active reps with a snapshot on the day, and the erased reps with one (as the company's
# figures count them): how many at each SSI rounded to 2 decimals (in
# hundredths, as scoring.services.summaries rounds it), and on every row the company mean
# stored with the day's snapshots (null when the summary is missing: then it is computed
# from the same counts, the same way).
_TENANT_SQL = """
SELECT floor(s.ssi * 100 + 0.5 + 1e-9)::bigint AS cents, count(*),
       (SELECT m.mean FROM scoring_ssisummary m WHERE m.day = %(day)s AND m.team_id IS NULL)
  FROM scoring_scoresnapshot s JOIN scoring_rep r ON r.id = s.rep_id
 WHERE s.day = %(day)s AND (r.active OR r.erased_at IS NOT NULL)
 GROUP BY 1
"""


@dataclass(frozen=True)
class IndustryResult:
    industry: str
    companies: int
    reps: int
    published: bool


def _tenant_aggregates(tenant: Tenant, day: date) -> tuple[dict[int, int], Decimal | None]:
    with schema_context(tenant.schema_name), connection.cursor() as cursor:
        cursor.execute(_TENANT_SQL, {"day": day})
        rows = cursor.fetchall()
    histogram = {int(cents): int(n) for cents, n, _mean in rows}
    mean = rows[0][2] if rows else None
    return histogram, mean


def compute_benchmarks(
    day: date, *, progress: Callable[[Tenant, int], None] | None = None
) -> list[IndustryResult]:
    """Build the benchmark of ``day`` from every tenant that, now, takes part (``benchmark``
    true and an ``industry``) and has snapshots on ``day``, and replace the stored one: a
    tenant that opted out since drops out, one that scored ``day`` since comes in.
    ``progress(tenant, reps)`` is called after each tenant read. Returns each industry's
    counts, by industry."""
    candidates = Tenant.objects.exclude(schema_name=get_public_schema_name()).filter(
        settings__benchmark=True, settings__industry__in=INDUSTRIES
    )
    industries: dict[str, IndustryDay] = {}
    for tenant in candidates.order_by("id"):
        industry = benchmark_industry(tenant)
        if industry is None:
            continue
        histogram, mean = _tenant_aggregates(tenant, day)
        if progress is not None:
            progress(tenant, sum(histogram.values()))
        if not histogram:
            continue
        industries.setdefault(industry, IndustryDay()).add(
            tenant_id=tenant.pk,
            histogram=histogram,
            mean=mean if mean is not None else mean_of_histogram(histogram),
        )
    stored = benchmarks_replace(day=day, industries=industries)
    return [
        IndustryResult(
            industry=b.industry,
            companies=b.companies,
            reps=b.reps,
            published=published(companies=b.companies, reps=b.reps),
        )
        for b in stored
    ]
