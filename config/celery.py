"""The tenant-aware Celery app.

tenant-schemas-celery's ``CeleryApp`` records the current schema in every
message header and switches the worker's connection to it before the task
runs: a task enqueued while serving tenant A runs in A's schema. A plain
``Celery()`` would run every task in ``public``
(docs/traps.md#a-plain-celery-app-runs-every-task-in-public).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import signals
from tenant_schemas_celery.app import CeleryApp

import config.broker  # noqa: F401  (filesystem:// writes whole messages)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
logger = logging.getLogger(__name__)

app = CeleryApp("ssi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,
    task_soft_time_limit=15 * 60,
    task_time_limit=20 * 60,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    # A publish that fails is not retried for long: every enqueue the API makes has its work
    # in a database table (outbox, evaluation queue, deliveries, jobs) that a beat sweep
    # re-enqueues. See ``enqueue`` below.
    broker_connection_timeout=3,
    task_publish_retry_policy={
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    },
    # Read the tenant row afresh for every task (one indexed query; tasks are coarse). A
    # cached row carries the settings as they were: the re-dating that a time zone change
    # enqueues would run with the old zone and change nothing
    # (docs/traps.md#the-worker-caches-tenant-rows).
    task_tenant_cache_seconds=0,
    timezone="UTC",
)
# Celery's Django fixup closes every database connection after every task, whatever
# CONN_MAX_AGE says, unless this is set: each task would pay for a new PostgreSQL backend (a
# fork, authentication, a cold catalog cache), and tasks are frequent under ingestion
# (docs/traps.md#the-worker-closes-its-database-connection-after-every-task). A count the
# fixup never reaches turns its closing off; the two handlers below give tasks Django's
# request lifecycle instead.
app.conf.update({"CELERY_DB_REUSE_MAX": 2**62})
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender: Any = None, **_: Any) -> None:
    """What Django does around every request: a connection older than ``CONN_MAX_AGE``, or
    broken, or left in a transaction, is closed (the next query opens a new one), and
    ``CONN_HEALTH_CHECKS`` checks a reused one before its first query. Not for a task run
    eagerly (tests), which runs inside its caller's connection and transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@signals.worker_ready.connect
def _mark_ready(**_: Any) -> None:
    """Create the file ``SSI_WORKER_READY_FILE`` names, if it names one, once the worker takes
    tasks: how ``make run`` knows the worker is up without reading its log (which it keeps
    quiet)."""
    ready_file = os.environ.get("SSI_WORKER_READY_FILE", "")
    if ready_file:
        Path(ready_file).touch()
