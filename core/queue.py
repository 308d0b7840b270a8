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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import current_app

logger = logging.getLogger(__name__)

# After a failed publish, further best-effort publishes to the same broker are skipped for this
# long (per process): one request pays for finding the broker down, the next ones do not.
BROKER_DOWN_BACKOFF_SECONDS = 10.0
_broker_down: dict[str, float] = {}

# Tasks a worker may run itself, at the end of a unit of a batch (``batched``), rather than send.
_RUN_HERE_WHEN_BATCHED: set[str] = set()
# Inside ``batched``: the enqueues held for the end of the block, once per (task, args).
_Held = dict[tuple[str, tuple[Any, ...]], None]
_held: ContextVar[_Held | None] = ContextVar("core_queue_held", default=None)
_running_held: ContextVar[bool] = ContextVar("core_queue_running_held", default=False)


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
    held = _held.get()
    if held is not None and countdown is None and task_name in _RUN_HERE_WHEN_BATCHED:
        held[(task_name, tuple(args))] = None
        return True
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


def run_here_when_batched(task_name: str) -> None:
    """Declare ``task_name`` short and local (a few statements in the schema it is sent from, no
    call outside the database): inside ``batched`` its enqueues run in the enqueuing process."""
    _RUN_HERE_WHEN_BATCHED.add(task_name)


@contextmanager
def batched() -> Iterator[None]:
    """One unit of a worker's batch of several tenants' work (``scoring.tasks.run_jobs``).

    Inside, the enqueues without a countdown of the tasks declared with ``run_here_when_batched``
    are held, once per task and arguments, and run here when the block ends, in the schema
    current then (enter this inside the tenant's context), rather than each making a trip
    through the broker and back to a worker: at thousands of small tenants those trips, not
    the work, set the nightly's length. Every other enqueue is sent as usual. A held task that
    fails is logged and left to the sweep that backs its enqueue, as a lost message would be.
    The batch checked its tenants' state when it began: a held task runs with
    ``running_held()`` true, and need not read it again.
    """
    held: _Held = {}
    token = _held.set(held)
    try:
        yield
    finally:  # the unit failed too: what it committed before still has its tasks run
        _held.reset(token)
        running = _running_held.set(True)
        try:
            for task_name, args in held:
                try:
                    current_app.tasks[task_name].apply(args=args, throw=True)
                except Exception:
                    logger.exception(
                        "%s, run at the end of a batch unit, failed; its sweep takes it", task_name
                    )
        finally:
            _running_held.reset(running)


def running_held() -> bool:
    """Whether this is a held task run at the end of a ``batched`` unit."""
    return _running_held.get()
