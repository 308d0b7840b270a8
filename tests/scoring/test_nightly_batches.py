"""The nightly dispatcher sends the due tenants' jobs ``NIGHTLY_BATCH`` to a task, and ``run_jobs``
runs each job in its own tenant's context, going on past a failed job and stopping on an outage.
(The whole path on a real worker: tests/scoring/test_worker.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tenants.utils import schema_context

from core.db import connection
from scoring import tasks
from scoring.models import Job
from scoring.services.jobs import RUN_JOB
from scoring.tasks import RUN_JOBS, dispatch_nightly, run_jobs
from tenants.models import Tenant
from tests.support.tenants import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(world: World) -> list[Tenant]:
    """acme and globex due (recompute hour 0, never scored), every other tenant not."""
    Tenant.objects.exclude(slug__in=["acme", "globex"]).update(
        scored_through=timezone.now().date() + timedelta(days=2)
    )
    for tenant in Tenant.objects.filter(slug__in=["acme", "globex"]):
        Tenant.objects.filter(pk=tenant.pk).update(
            settings={**(tenant.settings or {}), "recompute_hour": 0},
            scored_through=None,
            nightly_claim_day=None,
            nightly_claim_at=None,
        )
    return list(Tenant.objects.filter(slug__in=["acme", "globex"]).order_by("id"))


def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """What the dispatcher publishes: (task, schema it was sent from, args)."""
    calls: list[tuple[str, str, Any]] = []

    def record(name: str, *, args: Any = (), countdown: float | None = None) -> bool:
        calls.append((name, connection.schema_name, args))
        return True

    monkeypatch.setattr(tasks, "enqueue", record)
    return calls


def job_ids(tenant: Tenant) -> list[str]:
    with schema_context(tenant.schema_name):
        return [str(pk) for pk in Job.objects.filter(kind="nightly").values_list("pk", flat=True)]


def test_due_tenants_go_out_together_in_one_task_sent_from_public(
    due: list[Tenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = sent(monkeypatch)
    assert dispatch_nightly() == 2
    expected = [[t.schema_name, job_ids(t)[0]] for t in due]
    assert calls == [(RUN_JOBS, "public", [expected])]


def test_a_claimed_tenant_is_not_dispatched_again_until_its_claim_is_old(
    due: list[Tenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = sent(monkeypatch)
    assert dispatch_nightly() == 2
    first = {t.slug: job_ids(t) for t in due}
    assert all(len(ids) == 1 for ids in first.values())
    with schema_context(due[0].schema_name):
        job = Job.objects.get()
        assert (job.status, job.params["days"][-1]) == (
            Job.Status.QUEUED,
            str(Tenant.objects.get(pk=due[0].pk).nightly_claim_day),
        )
    # Not run yet (a slow worker): a second dispatch leaves both alone.
    assert dispatch_nightly() == 0
    assert {t.slug: job_ids(t) for t in due} == first
    # acme's claim is old (its dispatcher or worker died): acme goes out again, globex does not.
    Tenant.objects.filter(pk=due[0].pk).update(nightly_claim_at=timezone.now() - timedelta(hours=4))
    assert dispatch_nightly() == 1
    assert len(job_ids(due[0])) == 2 and job_ids(due[1]) == first[due[1].slug]
    (new,) = set(job_ids(due[0])) - set(first[due[0].slug])
    assert calls[-1] == (RUN_JOB, due[0].schema_name, [new])  # a batch of one


def test_a_batch_of_one_is_a_run_job_in_its_tenants_schema(
    due: list[Tenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "NIGHTLY_BATCH", 1)
    calls = sent(monkeypatch)
    assert dispatch_nightly() == 2
    assert calls == [(RUN_JOB, t.schema_name, [job_ids(t)[0]]) for t in due]


def test_run_jobs_runs_each_in_its_tenant_and_goes_on_past_a_failure(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[str, str, str]] = []

    def job_run(*, tenant: Tenant, job_id: str) -> None:
        ran.append((tenant.slug, connection.schema_name, job_id))
        if job_id == "bad":
            raise ValueError("a statement the database refused")

    monkeypatch.setattr(tasks, "job_run", job_run)
    acme, globex = (Tenant.objects.get(slug=s) for s in ("acme", "globex"))
    count = run_jobs([[acme.schema_name, "bad"], ["no_such_schema", "x"], [globex.schema_name, "j2"]])
    assert count == 1
    assert ran == [("acme", acme.schema_name, "bad"), ("globex", globex.schema_name, "j2")]
    assert connection.schema_name == "public"


def test_run_jobs_stops_on_a_database_outage_and_leaves_the_rest_to_the_sweep(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []

    def job_run(*, tenant: Tenant, job_id: str) -> None:
        ran.append(job_id)
        error = psycopg.OperationalError("the server is shutting down")
        error.sqlstate = "57P01"
        raise OperationalError("terminating connection") from error

    monkeypatch.setattr(tasks, "job_run", job_run)
    acme, globex = (Tenant.objects.get(slug=s) for s in ("acme", "globex"))
    with pytest.raises(OperationalError):
        run_jobs([[acme.schema_name, "j1"], [globex.schema_name, "j2"]])
    assert ran == ["j1"]


def test_run_jobs_leaves_a_suspended_tenants_job_queued(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(tasks, "job_run", lambda *, tenant, job_id: ran.append(tenant.slug))
    acme, globex = (Tenant.objects.get(slug=s) for s in ("acme", "globex"))
    Tenant.objects.filter(pk=acme.pk).update(suspended_at=timezone.now())  # suspended since the dispatch
    assert run_jobs([[acme.schema_name, "j1"], [globex.schema_name, "j2"]]) == 1
    assert ran == ["globex"]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def test_a_batch_commits_asynchronously_and_sets_it_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/operations.md#the-nightly-batch: off while the batch's jobs run, on again after it,
    also when an outage stops the batch."""
    seen: list[str] = []
    monkeypatch.setattr(tasks, "job_run", lambda *, tenant, job_id: seen.append(synchronous_commit()))
    acme, globex = (Tenant.objects.get(slug=s) for s in ("acme", "globex"))
    assert synchronous_commit() == "on"
    assert run_jobs([[acme.schema_name, "j1"], [globex.schema_name, "j2"]]) == 2
    assert seen == ["off", "off"]
    assert synchronous_commit() == "on"

    def outage(*, tenant: Tenant, job_id: str) -> None:
        error = psycopg.OperationalError("the server is shutting down")
        error.sqlstate = "57P01"
        raise OperationalError("terminating connection") from error

    monkeypatch.setattr(tasks, "job_run", outage)
    with pytest.raises(OperationalError):
        run_jobs([[acme.schema_name, "j1"]])
    assert synchronous_commit() == "on"
