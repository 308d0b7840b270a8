"""Celery tasks defined by the tests (the worker imports them with ``--include``).

Each try of each task appends one JSON line to a file: the schema the
connection names, the schema PostgreSQL actually searches
(``current_schema()``) and the API key prefixes it reads, which differ per
tenant. ``probe_retry`` retries itself with ``self.retry``;
``probe_autoretry`` through ``autoretry_for``; ``probe_fanout`` enqueues
chunk tasks, one by one and as a group.
"""

from __future__ import annotations

import json
from typing import Any

from celery import group

from access.models import ApiKey
from config.celery import app
from core.db import connection


class ProbeError(Exception):
    pass


def seen() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        current = cursor.fetchone()[0]
    return {
        "schema_name": connection.schema_name,
        "current_schema": current,
        "key_prefixes": sorted(ApiKey.objects.values_list("prefix", flat=True)),
    }


def record(path: str, label: str, tries: int) -> None:
    line = json.dumps({"label": label, "try": tries, **seen()})
    with open(path, "a") as out:
        out.write(line + "\n")


@app.task(bind=True, max_retries=5)
def probe_retry(self: Any, path: str, label: str, retries: int) -> None:
    record(path, label, self.request.retries)
    if self.request.retries < retries:
        raise self.retry(countdown=0)


@app.task(bind=True, autoretry_for=(ProbeError,), max_retries=5, default_retry_delay=0)
def probe_autoretry(self: Any, path: str, label: str, retries: int) -> None:
    record(path, label, self.request.retries)
    if self.request.retries < retries:
        raise ProbeError("again")


@app.task
def probe_chunk(path: str, label: str) -> None:
    record(path, label, 0)


@app.task
def probe_fanout(path: str, label: str, chunks: int) -> None:
    record(path, label, 0)
    for i in range(chunks):
        probe_chunk.delay(path, f"{label}/chunk-{i}")
    group(probe_chunk.s(path, f"{label}/group-{i}") for i in range(chunks)).apply_async()
