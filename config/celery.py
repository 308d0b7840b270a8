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
import time
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


# After a failed publish, further best-effort publishes to the same broker are skipped for this
# long (per process): one request pays for finding the broker down, the next ones do not.
BROKER_DOWN_BACKOFF_SECONDS = 10.0
_broker_down: dict[str, float] = {}


def enqueue(task: Any, *, args: tuple[Any, ...] | list[Any] = (), countdown: float | None = None) -> bool:
    """Publish ``task`` once, without retries; False if the broker is unavailable (logged).

    For work that is also recorded in the database and swept by beat: the
    caller loses nothing when this fails, and a request never waits on a dead
    broker for more than one attempt (bounded by the broker socket timeouts).
    Eager mode (tests) runs the task inline and lets its errors propagate.
    """
    if app.conf.task_always_eager:
        task.apply_async(args=args, countdown=countdown)
        return True
    url = str(app.conf.broker_url)
    if _broker_down.get(url, 0.0) > time.monotonic():
        logger.info("broker unavailable (recently): %s left for the sweep", task.name)
        return False
    try:
        task.apply_async(args=args, countdown=countdown, retry=False)
    except Exception:
        _broker_down[url] = time.monotonic() + BROKER_DOWN_BACKOFF_SECONDS
        logger.warning("broker unavailable: %s left for the sweep", task.name, exc_info=True)
        return False
    _broker_down.pop(url, None)
    return True


def enqueue_reset() -> None:
    """Forget recent broker failures (tests that switch brokers)."""
    _broker_down.clear()
