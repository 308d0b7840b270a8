"""Load without loss (issue 6, part 4): concurrent clients, re-sent batches, a recompute running.

The real stack: gunicorn (``tests.support.server``) and a Celery worker
(``tests.support.worker``) as subprocesses on the test database. ``CLIENTS`` threads
post every event of a fresh tenant in batches over HTTP; 10% of the batches
are sent again, as a client that timed out would: the same event ids, with
the same ``Idempotency-Key`` (the answer is replayed), with a new key or none
(the events are duplicates), or half of them reshuffled. Two recompute jobs
are queued through ``POST /api/v1/scores/recompute`` while the load runs, and
the worker evaluates badges (some with an ``xp_reward``) as batches commit.

Afterwards, from the database: every event is stored exactly once (the count
and the set of event ids, and per rep, type and local day the count and sum
of values the test generated); the daily rollup equals the raw events; each
rep's XP is the tenant's XP per type over its events plus the rewards of its
awards, and the XP ledger adds up to it.

Scale: ``SSI_LOAD_EVENTS`` events (20,000 by default, the CI scale; ``make
soak`` runs 200,000). The test id names the scale that ran
(``[ci-20000-events]``, ``[soak-200000-events]``) and a line is printed.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Sum
from django_tenants.utils import schema_context

from gamification.models import BadgeAward, PendingEvaluation, XpDaily
from scoring.models import Activity, ActivityDaily, Job, Rep
from tests.support.server import NETWORK_ERRORS, HttpClient, Server, gunicorn_server
from tests.support.tenants import TenantKeys
from tests.support.worker import celery_worker, wait_for

SCALE_ENV = "SSI_LOAD_EVENTS"
CI_EVENTS = 20_000
SOAK_EVENTS = 200_000
EVENTS = int(os.environ.get(SCALE_ENV) or CI_EVENTS)
SCALE_ID = f"{'soak' if EVENTS >= SOAK_EVENTS else 'ci'}-{EVENTS}-events"
CLIENTS = 8
BATCH = 250
RESEND_SHARE = 0.10
# The tenant's XP per type (set through PATCH /api/v1/settings), and how often each type occurs.
XP = {"post_published": 7, "post_commented": 2, "message_sent": 1, "lead_saved": 4, "profile_viewed": 0,
      "connection_request_sent": 3}  # fmt: skip
WEIGHTS = {"post_published": 2, "post_commented": 3, "message_sent": 5, "lead_saved": 1, "profile_viewed": 4,
           "connection_request_sent": 2}  # fmt: skip
BADGES = [
    {"slug": "load-ten-posts", "name": "Ten posts", "repeat": "once", "xp_reward": 50,
     "criteria": {"metric": "events.post_published", "op": ">=", "value": 10}},
    {"slug": "load-chatty-day", "name": "Chatty day", "repeat": "daily", "xp_reward": 5,
     "criteria": {"metric": "events.message_sent", "op": ">=", "value": 3, "window_days": 1}},
]  # fmt: skip
RESEND_KINDS = ("same-key", "no-key", "same-key", "half", "new-key")
MAX_TRIES = 200  # per request: 409 (same key still running), 503, network errors


@dataclass(frozen=True)
class Event:
    id: str
    rep: str
    type: str
    occurred_at: datetime
    value: float

    def body(self) -> dict[str, Any]:
        return {"id": self.id, "rep": self.rep, "type": self.type,
                "occurred_at": self.occurred_at.isoformat(), "value": self.value}  # fmt: skip


@dataclass(frozen=True)
class Send:
    batch: int
    kind: str  # "original" or one of RESEND_KINDS
    events: tuple[Event, ...]
    key: str | None

    def body(self) -> bytes:
        return json.dumps({"events": [e.body() for e in self.events]}).encode()


@dataclass
class Outcome:
    send: Send
    status: int
    answer: dict[str, Any]
    raw: bytes
    replayed: bool
    tries: int


@dataclass
class Load:
    sends: list[Send]
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    retries: Counter[str] = field(default_factory=Counter)
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def generate(n: int, rng: random.Random, now: datetime) -> list[Event]:
    reps = max(40, n // 250)
    types = [t for t, w in WEIGHTS.items() for _ in range(w)]
    return [
        Event(
            id=f"ld-{i:07d}",
            rep=f"ld-rep-{rng.randrange(reps)}",
            type=rng.choice(types),
            occurred_at=now - timedelta(seconds=rng.randint(600, 6 * 86400)),
            value=float(rng.choice((1, 1, 2, 3))),
        )
        for i in range(n)
    ]


def plan(events: list[Event], rng: random.Random) -> list[Send]:
    """Every batch once, and 10% of them again a little later (often while the first is running)."""
    batches = [tuple(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]
    how_many = max(len(RESEND_KINDS), round(len(batches) * RESEND_SHARE))
    resent = sorted(rng.sample(range(len(batches)), how_many))
    kinds = {b: RESEND_KINDS[i % len(RESEND_KINDS)] for i, b in enumerate(resent)}
    queue: list[Send] = []
    for b, batch in enumerate(batches):
        kind = kinds.get(b)
        # Most clients send a key; those re-sending without one ("no-key") never did.
        with_key = kind in ("same-key", "new-key", "half") or (kind is None and b % 3 != 0)
        queue.append(Send(b, "original", batch, f"ld-key-{b}" if with_key else None))
    for b in resent:
        first = next(s for s in queue if s.batch == b and s.kind == "original")
        kind = kinds[b]
        if kind == "same-key":
            again = Send(b, kind, first.events, first.key)
        elif kind == "new-key":
            again = Send(b, kind, first.events, f"ld-key-{b}-retry")
        elif kind == "half":
            half = list(first.events[: len(first.events) // 2])
            rng.shuffle(half)
            again = Send(b, kind, tuple(half), None)
        else:
            again = Send(b, kind, first.events, None)
        position = queue.index(first) + rng.randint(1, 2 * CLIENTS)
        queue.insert(min(position, len(queue)), again)
    return queue


def send_all(server: Server, keys: TenantKeys, load: Load) -> None:
    pending = deque(load.sends)

    def client() -> None:
        http = HttpClient(server.port, host=keys.host, token=keys.integration, timeout=120)
        try:
            while True:
                with load.lock:
                    if not pending:
                        return
                    send = pending.popleft()
                outcome = post(http, send, load)
                with load.lock:
                    load.done += 1
                    if outcome is not None:
                        load.outcomes.append(outcome)
        finally:
            http.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3600)
    assert not any(t.is_alive() for t in threads), "a client thread never finished"


def post(http: HttpClient, send: Send, load: Load) -> Outcome | None:
    """Send until there is a final answer: a client's retry loop (409 in progress, 503, network)."""
    headers = {"Idempotency-Key": send.key} if send.key else {}
    body = send.body()
    for tries in range(1, MAX_TRIES + 1):
        try:
            status, raw, answer_headers = http.request("POST", "/api/v1/activities", body, headers)
        except NETWORK_ERRORS as exc:
            with load.lock:
                load.retries[f"network {type(exc).__name__}"] += 1
            time.sleep(0.5)
            continue
        if status == 200:
            replayed = answer_headers.get("idempotent-replayed") == "true"
            return Outcome(send, status, json.loads(raw), raw, replayed, tries)
        code = _error_code(raw)
        if (status, code) == (409, "idempotency_in_progress") or status == 503:
            with load.lock:
                load.retries[f"{status} {code}"] += 1
            time.sleep(0.1 if status == 409 else 1.0)
            continue
        with load.lock:
            load.failures.append(f"batch {send.batch} ({send.kind}): HTTP {status} {raw[:300]!r}")
        return None
    with load.lock:
        load.failures.append(f"batch {send.batch} ({send.kind}): no final answer in {MAX_TRIES} tries")
    return None


def _error_code(raw: bytes) -> str:
    try:
        return str(json.loads(raw)["errors"][0]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return "?"


def recompute_during(server: Server, keys: TenantKeys, load: Load, jobs: list[str], today: date) -> None:
    """Queue a recompute of yesterday as the load starts, and of three days ago at half way.

    (Queued later, the first would wait behind the badge evaluations every
    batch enqueues, and might start only after the load.)"""
    admin = HttpClient(server.port, host=keys.host, token=keys.admin)
    try:
        for share, body in ((0.0, {}), (0.5, {"date": (today - timedelta(days=3)).isoformat()})):
            at = share * len(load.sends)
            wait_for(lambda at=at: load.done >= at, timeout=3600, what="the load")  # type: ignore[misc]
            answer = admin.json("POST", "/api/v1/scores/recompute", body, expect=202)
            jobs.append(answer["job"]["id"])
    finally:
        admin.close()


def setup_tenant(server: Server, keys: TenantKeys) -> None:
    admin = HttpClient(server.port, host=keys.host, token=keys.admin)
    try:
        admin.json("PATCH", "/api/v1/settings", {"xp_per_type": XP}, expect=200)
        for badge in BADGES:
            admin.json("POST", "/api/v1/badges", badge, expect=201)
    finally:
        admin.close()


def quiet(schema: str, broker_queue: Path) -> bool:
    """Nothing left to do: no job unfinished, no badge evaluation pending, no message queued."""
    with schema_context(schema):
        unfinished = Job.objects.exclude(status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED]).exists()
        pending = PendingEvaluation.objects.exists()
    return not unfinished and not pending and not any(broker_queue.iterdir())


@pytest.mark.worker
@pytest.mark.load
@pytest.mark.parametrize("events", [EVENTS], ids=[SCALE_ID])
def test_load_without_loss(
    events: int,
    committed_tenant: TenantKeys,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    record_property: Any,
) -> None:
    record_property("load_events", events)
    keys = committed_tenant
    schema = keys.schema
    tz = ZoneInfo("Europe/Berlin")  # the committed tenant's time zone
    rng = random.Random(6)
    now = datetime.now(UTC)
    generated = generate(events, rng, now)
    load = Load(plan(generated, rng))
    resends = [s for s in load.sends if s.kind != "original"]
    jobs: list[str] = []
    started = time.monotonic()

    with gunicorn_server(tmp_path, workers=3, env={"SSI_RATE_LIMIT_PER_MINUTE": "0"}) as server:
        setup_tenant(server, keys)
        with celery_worker(tmp_path, concurrency=2) as worker:
            log = tmp_path / "worker.log"
            wait_for(lambda: worker.poll() is not None or " ready." in log.read_text(), timeout=120,
                     what="the worker to start", log=log)  # fmt: skip
            recompute = threading.Thread(
                target=recompute_during,
                args=(server, keys, load, jobs, now.astimezone(tz).date()),
                daemon=True,
            )
            recompute.start()
            send_all(server, keys, load)
            load_finished = datetime.now(UTC)
            load_seconds = time.monotonic() - started
            recompute.join(timeout=60)
            assert server.process.poll() is None, server.tail()
            wait_for(
                lambda: worker.poll() is not None or quiet(schema, tmp_path / "broker" / "queue"),
                timeout=120 + events / 200, what="the worker to finish the jobs and evaluations", log=log,
            )  # fmt: skip
            assert worker.poll() is None, log.read_text()[-3000:]
        gunicorn_log = server.tail(5000)
    total_seconds = time.monotonic() - started

    # The answers: all final, none rejected; each event accepted once over the fresh answers.
    assert not load.failures, (load.failures[:10], gunicorn_log)
    assert len(load.outcomes) == len(load.sends)
    for outcome in load.outcomes:
        answer = outcome.answer
        assert answer["rejected"] == [], (outcome.send.batch, answer["rejected"][:3])
        assert answer["accepted"] + answer["duplicates"] == len(outcome.send.events), (outcome.send, answer)
    fresh = [o for o in load.outcomes if not o.replayed]
    assert sum(o.answer["accepted"] for o in fresh) == events
    by_key: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in load.outcomes:
        if outcome.send.key:
            by_key[outcome.send.key].append(outcome)
    for key, outcomes in by_key.items():
        assert sum(not o.replayed for o in outcomes) == 1, key  # one answer, replayed to the other
        assert len({o.raw for o in outcomes}) == 1, key
    replays = sum(o.replayed for o in load.outcomes)
    assert replays == sum(s.kind == "same-key" for s in resends) > 0

    expected_ids = {e.id for e in generated}
    expected_groups: Counter[tuple[str, str, date]] = Counter()
    expected_sums: dict[tuple[str, str, date], float] = defaultdict(float)
    expected_event_xp: Counter[str] = Counter()
    for e in generated:
        group = (e.rep, e.type, e.occurred_at.astimezone(tz).date())
        expected_groups[group] += 1
        expected_sums[group] += e.value
        expected_event_xp[e.rep] += XP[e.type]

    with schema_context(schema):
        # Every event stored exactly once.
        stored_ids = list(Activity.objects.values_list("event_id", flat=True))
        assert len(stored_ids) == events
        assert set(stored_ids) == expected_ids
        raw = {
            (row["rep__external_id"], row["type"], row["local_day"]): (row["n"], row["total"])
            for row in Activity.objects.values("rep__external_id", "type", "local_day").annotate(
                n=Count("id"), total=Sum("value")
            )
        }
        assert raw == {g: (n, expected_sums[g]) for g, n in expected_groups.items()}
        # The daily rollup is the raw events, group by group.
        rollup = {
            (row["rep__external_id"], row["type"], row["day"]): (row["n"], row["total"])
            for row in ActivityDaily.objects.values("rep__external_id", "type", "day", "n", "total")
        }
        assert rollup == raw
        assert sum(n for n, _ in rollup.values()) == events

        # XP: the tenant's XP per type over each rep's events, plus its awards' rewards.
        rewards: Counter[str] = Counter()
        for rep, reward in BadgeAward.objects.values_list("rep__external_id", "xp_reward"):
            rewards[rep] += reward
        xp = dict(Rep.objects.values_list("external_id", "xp"))
        assert set(xp) == set(expected_event_xp)
        wrong = {
            rep: (xp[rep], expected_event_xp[rep], rewards[rep])
            for rep in xp
            if xp[rep] != expected_event_xp[rep] + rewards[rep]
        }
        assert not wrong, list(wrong.items())[:10]
        ledger = dict(XpDaily.objects.values("rep__external_id").annotate(t=Sum("xp")).values_list(
            "rep__external_id", "t"
        ))  # fmt: skip
        assert {rep: ledger.get(rep, 0) for rep in xp} == xp
        assert sum(rewards.values()) > 0, "no badge reward was granted: the XP check misses rewards"
        awards = list(BadgeAward.objects.values_list("rep_id", "badge_id", "period"))
        assert len(awards) == len(set(awards))

        # The recomputes ran during the load, and succeeded.
        assert len(jobs) == 2
        finished = {str(j.id): j for j in Job.objects.filter(pk__in=jobs)}
        assert [finished[j].status for j in jobs] == [Job.Status.SUCCEEDED] * 2, [
            (finished[j].status, finished[j].error) for j in jobs
        ]
        first_started = finished[jobs[0]].started_at
        timeline = [(finished[j].created_at, finished[j].started_at, finished[j].finished_at) for j in jobs]
        # On a quiet machine the CI-scale load can end a moment before the worker starts the
        # job it was handed first: allow the job to start within 2 s of the last answer.
        assert first_started is not None, timeline
        assert first_started < load_finished + timedelta(seconds=2), (timeline, load_finished)

    with capsys.disabled():
        print(
            f"\n  load [{SCALE_ID}]: {events} events, {len(load.sends)} requests ({len(resends)} re-sent, "
            f"{replays} replayed), {CLIENTS} clients; load {load_seconds:.0f} s, "
            f"total {total_seconds:.0f} s; "
            f"client retries {dict(load.retries) or 'none'}"
        )
