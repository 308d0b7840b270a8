"""The one way to publish a Celery task: by its name, once, without retries.

Services name the task they want run (``"scoring.tasks.run_job"``) instead of
importing it: a task module imports the services it runs, so a service that
imported its task back would close an import loop. The tasks are registered
when Django starts (each app's ``AppConfig.ready`` imports its ``tasks``
module), so a name always resolves; an unknown one raises ``KeyError``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import current_app

logger = logging.getLogger(__name__)

# After a failed publish, further best-effort publishes to the same broker are skipped for this
# long (per process): one request pays for finding the broker down, the next ones do not.
BROKER_DOWN_BACKOFF_SECONDS = 10.0
_broker_down: dict[str, float] = {}


def enqueue(
    task_name: str, *, args: tuple[Any, ...] | list[Any] = (), countdown: float | None = None
) -> bool:
    """Publish the task named ``task_name`` once, without retries; False if the broker is
    unavailable (logged).

    For work that is also recorded in the database and swept by beat: the
    caller loses nothing when this fails, and a request never waits on a dead
    broker for more than one attempt (bounded by the broker socket timeouts).
    Eager mode (tests) runs the task inline and lets its errors propagate.
    """
    app = current_app
    task = app.tasks[task_name]
    if app.conf.task_always_eager:
        task.apply_async(args=args, countdown=countdown)
        return True
    url = str(app.conf.broker_url)
    if _broker_down.get(url, 0.0) > time.monotonic():
        logger.info("broker unavailable (recently): %s left for the sweep", task_name)
        return False
    try:
        task.apply_async(args=args, countdown=countdown, retry=False)
    except Exception:
        _broker_down[url] = time.monotonic() + BROKER_DOWN_BACKOFF_SECONDS
        logger.warning("broker unavailable: %s left for the sweep", task_name, exc_info=True)
        return False
    _broker_down.pop(url, None)
    return True


def enqueue_reset() -> None:
    """Forget recent broker failures (tests that switch brokers)."""
    _broker_down.clear()
