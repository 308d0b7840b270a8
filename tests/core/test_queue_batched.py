"""``core.queue.batched``: inside a unit of a worker's batch, the enqueues of the tasks declared
short and local run in the enqueuing process when the unit ends, once each, in its schema; every
other enqueue goes out at once. And the nightly batch (``run_jobs``) fans each tenant's outbox out
that way instead of sending one message per tenant."""

from __future__ import annotations

from typing import Any

import pytest
from celery import current_app, shared_task
from django_tenants.utils import schema_context

from core.clock import local_yesterday
from core.db import connection
from core.queue import _RUN_HERE_WHEN_BATCHED, batched, enqueue, run_here_when_batched, running_held
from gamification.models import OutboxEvent
from gamification.services.outbox import DISPATCH_OUTBOX
from scoring.models import Job
from scoring.tasks import run_jobs
from tenants.models import Tenant
from tests.support.tenants import TenantKeys, World

RECORD = "tests.core.queue.record"
FAIL = "tests.core.queue.fail"
ELSEWHERE = "tests.core.queue.elsewhere"
ran: list[tuple[str, str, str]] = []  # (task, schema it ran in, its argument)


@shared_task(name=RECORD)
def record(arg: str) -> None:
    ran.append((RECORD, connection.schema_name, arg if not running_held() else f"{arg} (held)"))


@shared_task(name=FAIL)
def fail() -> None:
    raise RuntimeError("a held task that fails")


@shared_task(name=ELSEWHERE)
def elsewhere(arg: str) -> None:
    ran.append((ELSEWHERE, connection.schema_name, arg))


@pytest.fixture(autouse=True)
def declared() -> Any:
    ran.clear()
    run_here_when_batched(RECORD)
    run_here_when_batched(FAIL)
    yield
    _RUN_HERE_WHEN_BATCHED.difference_update({RECORD, FAIL})


@pytest.mark.django_db
def test_held_tasks_run_once_each_when_the_unit_ends_in_its_schema(world: World) -> None:
    schema = Tenant.objects.get(slug="acme").schema_name
    with schema_context(schema):
        with batched():
            assert enqueue(RECORD, args=["a"]) is True
            enqueue(RECORD, args=["a"])
            enqueue(RECORD, args=["b"])
            assert ran == []  # held
        assert ran == [(RECORD, schema, "a (held)"), (RECORD, schema, "b (held)")]
    assert not running_held()


@pytest.mark.django_db
def test_other_tasks_and_countdowns_go_out_at_once(world: World) -> None:
    with batched():
        enqueue(ELSEWHERE, args=["x"])
        enqueue(RECORD, args=["later"], countdown=5)  # eager in tests: run at once, countdown or not
        assert ran == [(ELSEWHERE, "public", "x"), (RECORD, "public", "later")]
    assert len(ran) == 2


@pytest.mark.django_db
def test_outside_a_unit_a_declared_task_goes_out_at_once(world: World) -> None:
    enqueue(RECORD, args=["now"])
    assert ran == [(RECORD, "public", "now")]


@pytest.mark.django_db
def test_a_failing_held_task_is_logged_and_the_others_run(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with batched():
        enqueue(FAIL)
        enqueue(RECORD, args=["after"])
    assert ran == [(RECORD, "public", "after (held)")]
    assert f"{FAIL}, run at the end of a batch unit, failed" in caplog.text


@pytest.mark.django_db
def test_a_unit_that_raises_still_runs_what_it_held(world: World) -> None:
    def unit() -> None:
        with batched():
            enqueue(RECORD, args=["committed before"])
            raise ValueError("the unit failed after a commit")

    with pytest.raises(ValueError, match="after a commit"):
        unit()
    assert ran == [(RECORD, "public", "committed before (held)")]


def test_the_nightly_batch_fans_each_tenants_outbox_out_without_a_message(
    committed_tenant: TenantKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committed, so that the job's commit runs its hooks (badges, ``scores.computed``) as on a worker."""
    published: list[str] = []
    task = current_app.tasks[DISPATCH_OUTBOX]
    real = task.apply_async

    def spy(*args: Any, **kwargs: Any) -> Any:
        published.append(connection.schema_name)
        return real(*args, **kwargs)

    monkeypatch.setattr(task, "apply_async", spy)
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with schema_context(tenant.schema_name):
        day = local_yesterday(tenant.timezone).isoformat()
        job = Job.objects.create(kind="nightly", params={"days": [day]})
    assert run_jobs([[tenant.schema_name, str(job.id)]]) == 1
    assert published == []  # not one message for the fan-out
    with schema_context(tenant.schema_name):
        assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
        assert OutboxEvent.objects.filter(type="scores.computed").count() == 1
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()  # fanned out, in here
