"""The tenant-aware Celery app.

tenant-schemas-celery's ``CeleryApp`` records the current schema in every
message header and switches the worker's connection to it before the task
runs: a task enqueued while serving tenant A runs in A's schema. A plain
``Celery()`` would run every task in ``public`` (TRAPS.md).
"""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

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
    # Read the tenant row afresh for every task (one indexed query; tasks are coarse). A
    # cached row (tenant-schemas-celery issue 28) carries settings as they were: with 60 s,
    # the re-dating a time zone change enqueues ran with the old zone and changed nothing.
    task_tenant_cache_seconds=0,
    timezone="UTC",
)
app.autodiscover_tasks()
