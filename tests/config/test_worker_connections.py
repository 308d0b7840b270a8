"""A real worker keeps its database connection from one task to the next, as gunicorn does
between requests (``CONN_MAX_AGE``): Celery's Django fixup would close it after every task."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from core.queue import enqueue
from gamification.tasks import sweep_pending_evaluations
from tests.support.tenants import TenantKeys
from tests.support.worker import celery_worker, wait_for

pytestmark = pytest.mark.worker

APP_NAME = "ssi-test-worker-connections"
TASK = "gamification.tasks.sweep_pending_evaluations"


def worker_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
        return {pid for (pid,) in cursor.fetchall()}


def test_the_worker_reuses_its_database_connection_across_tasks(
    committed_tenant: TenantKeys, tmp_path: Path
) -> None:
    # committed_tenant: the worker, another process, sees committed rows only; the sweep
    # task then has a tenant schema to look into.
    log = tmp_path / "worker.log"

    def succeeded() -> int:
        text = log.read_text() if log.exists() else ""
        return len(re.findall(rf"Task {re.escape(TASK)}\[[^]]+\] succeeded", text))

    # libpq names the worker's connections after PGAPPNAME: this test tells them apart.
    with celery_worker(tmp_path, extra_env={"PGAPPNAME": APP_NAME}):
        assert enqueue(sweep_pending_evaluations.name)
        wait_for(lambda: succeeded() >= 1, what="the first task", log=log)
        after_first = wait_for(worker_backends, what="the worker's connection after a task", log=log)
        assert enqueue(sweep_pending_evaluations.name)
        wait_for(lambda: succeeded() >= 2, what="the second task", log=log)
        after_second = worker_backends()
    assert after_first & after_second, (after_first, after_second)
    assert len(after_second) == 1  # one process (solo pool), one connection
