"""What runs after events are stored, and after a day is scored. Other apps register
here (gamification does).

A registry rather than Django signals: the calls are explicit, ordered and
easy to follow from the one place that fires them.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

logger = logging.getLogger(__name__)

DayScoredHook = Callable[..., Any]
EventsStoredHook = Callable[..., Any]


@dataclass(frozen=True)
class StoredSQL:
    """What a hook adds to the ingest's events statement (scoring.services.ingest), so that
    its writes cost no statement, no round trip and no arrays of their own.

    ``ctes``: further common table expressions, each written ``, name AS (...)``. They may
    read ``stored`` (rep_id, type, local_day, n: the events stored now, one row per rep,
    type and local day) and ``rollup`` (rep_id, type, day, n: one row per rollup row
    written, ``n`` its count after this statement; referencing it makes the rollup's
    writes, and row locks, come first). ``rows``: a SELECT from them of
    bigint columns named ``columns`` (``SELECT id AS rep_id, ...``); its rows go to the hook
    as ``rows``, each a ``row_type``: a named tuple of ``columns``, the class made once
    here. ``params(tenant=..., config=...)``: their named parameters (``%(name)b`` for
    binary ones).
    """

    ctes: str
    rows: str
    columns: tuple[str, ...]
    params: Callable[..., Mapping[str, Any]]
    row_type: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_type", namedtuple("StoredRow", self.columns))


JobRunner = Callable[..., dict[str, Any]]

_day_scored: list[DayScoredHook] = []
_job_runners: dict[str, JobRunner] = {}
_events_stored: list[tuple[EventsStoredHook, StoredSQL | None]] = []


def on_events_stored(hook: EventsStoredHook, *, sql: StoredSQL | None = None) -> EventsStoredHook:
    """Register ``hook(tenant=..., stored=..., external_ids=..., config=..., rows=...)``, called
    inside the ingest transaction with ``stored``: (rep id, type, local day, count) of the
    events stored now (duplicates excluded), the scoring config the batch was validated
    with and, given ``sql``, the rows of its ``rows`` SELECT as ``sql.row_type`` (else an
    empty list)."""
    if all(registered is not hook for registered, _ in _events_stored):
        _events_stored.append((hook, sql))
    return hook


def events_stored_sql() -> list[StoredSQL | None]:
    """The SQL of each registered hook, in order (None for a hook without)."""
    return [sql for _, sql in _events_stored]


def events_stored(
    *,
    tenant: Any,
    stored: list[tuple[int, str, date, int]],
    external_ids: dict[int, str],
    config: Any,
    rows: Mapping[int, list[tuple[Any, ...]]],
) -> None:
    """Call every hook; ``rows`` holds each hook's SQL rows by its position."""
    for index, (hook, _) in enumerate(_events_stored):
        hook(tenant=tenant, stored=stored, external_ids=external_ids, config=config, rows=rows.get(index, []))


def on_day_scored(hook: DayScoredHook) -> DayScoredHook:
    """Register ``hook(tenant=..., day=..., nightly=...)``, called after a day's snapshots commit."""
    if hook not in _day_scored:
        _day_scored.append(hook)
    return hook


def day_scored(*, tenant: Any, day: date, nightly: bool = False) -> None:
    for hook in _day_scored:
        hook(tenant=tenant, day=day, nightly=nightly)


def on_job_kind(kind: str, runner: JobRunner) -> JobRunner:
    """Register ``runner(tenant=..., job=..., progress=...)`` for the jobs of ``kind`` another
    app creates (``scoring.services.jobs.job_create``); it returns the job's result. The job
    machinery (claim, heartbeat, retries, sweep) stays the same for every kind."""
    _job_runners[kind] = runner
    return runner


def job_runner(kind: str) -> JobRunner | None:
    return _job_runners.get(kind)
