"""What ends a recompute job ``failed`` and what puts it back in the queue: an outage of the
database is retried; any other error, a statement the database refuses included, fails the
job with its error at once (a retry would fail the same way, and the job would stay queued)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from django.db import OperationalError
from django_tenants.utils import tenant_context

import gamification.services.evaluation
import scoring.services.jobs
from scoring.models import Job
from scoring.services.jobs import job_run
from tenants.models import Tenant
from tests.factories.scoring import JobFactory
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys

# PostgreSQL refuses a target list over 1,664 entries (SQLSTATE 54011, an OperationalError): what
# a badge's metrics query once did in the evaluation that follows a scored day.
TOO_MANY_COLUMNS = "SELECT " + ", ".join(["1"] * 1700)


def _refused(**kwargs: Any) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TOO_MANY_COLUMNS)


def test_a_recompute_whose_badges_hit_a_refused_statement_ends_failed_with_its_error(
    committed_tenant: TenantKeys, monkeypatch: Any
) -> None:
    """Run eagerly on commit, as ``CELERY_TASK_ALWAYS_EAGER`` does: the answer is still the 202."""
    monkeypatch.setattr(gamification.services.evaluation, "badges_evaluate", _refused)
    client = ApiClient(committed_tenant.host, committed_tenant.admin)

    response = client.post("/api/v1/scores/recompute", {"date": "2026-03-10"})

    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/jobs/{response.json()['job']['id']}").json()
    assert job["status"] == "failed", job
    assert "target lists can have at most 1664 entries" in job["error"]
    assert job["finished_at"] is not None and job["attempts"] == 1


@pytest.fixture
def in_acme(acme_tenant: Tenant) -> Iterator[None]:
    with tenant_context(acme_tenant):
        yield


def test_a_job_that_loses_the_database_goes_back_to_the_queue(in_acme: None, monkeypatch: Any) -> None:
    def outage(**kwargs: Any) -> None:
        try:
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")
        except psycopg.Error as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr(scoring.services.jobs, "scores_compute_day", outage)
    job = JobFactory.create(params={"days": ["2026-03-10"]})
    with pytest.raises(OperationalError):
        job_run(tenant=Tenant.objects.get(slug="acme"), job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.QUEUED, "")


def test_a_refused_statement_fails_the_job_it_ran_in(in_acme: None, monkeypatch: Any) -> None:
    monkeypatch.setattr(scoring.services.jobs, "scores_compute_day", _refused)
    job = JobFactory.create(params={"days": [date(2026, 3, 10).isoformat()]})
    with pytest.raises(OperationalError):
        job_run(tenant=Tenant.objects.get(slug="acme"), job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("OperationalError: target lists can have at most 1664 entries")
