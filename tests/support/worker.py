"""A real Celery worker process for tests, on the test database and a private broker."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu.pools
from django.db import connection

from config import processes
from config.celery import app
from config.embedded import BASE_DIR as BASE_DIR  # tests import it from here
from core.queue import enqueue_reset


def test_database_url() -> str:
    """The URL of the database pytest-django created, for another process."""
    return database_url_on_test_server(str(connection.settings_dict["NAME"]))


def database_url_on_test_server(name: str) -> str:
    """The URL of database ``name`` on the server of the test database."""
    s = connection.settings_dict
    user = quote(str(s.get("USER") or ""))
    password = quote(str(s.get("PASSWORD") or ""))
    auth = f"{user}:{password}@" if password else f"{user}@"
    host = str(s.get("HOST") or "")
    port = str(s.get("PORT") or "")
    if host.startswith("/"):
        return f"postgresql://{auth}/{name}?host={quote(host)}"
    return f"postgresql://{auth}{host or '127.0.0.1'}:{port or 5432}/{name}"


@contextmanager
def broker_for_this_process(data_dir: Path, broker_url: str | None = None) -> Iterator[Path]:
    """Point this process's producer at a filesystem broker under ``data_dir`` (or at
    ``broker_url``), eager mode off; yields the broker's folder. What is published waits
    there for a worker (``celery_worker`` starts one on the same folder)."""
    broker = processes.broker_folders(data_dir)
    options = {
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "processed_folder": str(broker / "processed"),
        "control_folder": str(broker / "control"),
        "store_processed": False,
    }
    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options", "task_always_eager")}
    if broker_url:
        app.conf.update(broker_url=broker_url, broker_transport_options={}, task_always_eager=False)
    else:
        app.conf.update(broker_url="filesystem://", broker_transport_options=options, task_always_eager=False)
    _reset_pools()
    try:
        yield broker
    finally:
        app.conf.update(saved)
        _reset_pools()


@contextmanager
def celery_worker(
    data_dir: Path,
    *,
    pool: str | None = None,
    concurrency: int = 1,
    include: Sequence[str] = (),
    broker_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``celery -A config worker`` on a filesystem broker under ``data_dir``;
    point this process's producer at the same broker, eager mode off.

    The worker leads its own process group (a test may SIGKILL the whole group).
    One process (``--pool solo``) unless ``concurrency`` > 1 (prefork, as in
    production, so a long task does not hold up the others) or ``pool`` says
    otherwise. ``include``: more modules for the worker to import (tasks defined
    by tests). ``broker_url``: another broker instead (a private Redis, say).
    ``extra_env``: more environment for the worker."""
    with broker_for_this_process(data_dir, broker_url):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": test_database_url(),
            "SSI_DATA_DIR": str(data_dir),
            "REDIS_URL": "",
            "CELERY_BROKER_URL": broker_url or "filesystem://",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            **(extra_env or {}),
        }
        worker = processes.celery_worker(
            pool=pool or ("prefork" if concurrency > 1 else "solo"),
            concurrency=concurrency,
            options=[*(["--include", ",".join(include)] if include else []),
                     "--without-mingle", "--without-gossip", "--without-heartbeat"],
            env=env,
            log=data_dir / "worker.log",
            own_session=True,
        ).start()  # fmt: skip
        try:
            yield worker.popen
        finally:
            worker.stop()


def _reset_pools() -> None:
    """Drop Celery's cached connection and producer pools, so the next send uses the current conf.

    kombu keeps pools in a global registry: closed ones must leave it too, or a
    later eager ``.delay()`` (which still wants a producer) gets a closed pool.
    """
    kombu.pools.reset()
    enqueue_reset()
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(
    check: Callable[[], Any], *, timeout: float = 60, what: str = "", log: Path | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{tail}")
