"""Phase ``badge_latency``: seconds from the answer to a new rep's first post to its
``badge.awarded`` webhook (``first-post``) arriving at a receiver on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.client import Client, Progress, percentile
from bench.context import BADGE, Context
from bench.results import Row

WEBHOOK_WAIT_SECONDS = 60


class Receiver:
    """A webhook receiver on 127.0.0.1: when each rep's ``first-post`` badge.awarded arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        arrived, lock = self.arrived, self.lock

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(204)
                self.end_headers()
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    payload = json.loads(body)
                    if payload["type"] == "badge.awarded" and payload["data"]["badge"] == "first-post":
                        with lock:
                            arrived.setdefault(payload["data"]["rep"], at)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, reps: list[str]) -> int:
        with self.lock:
            return sum(1 for r in reps if r in self.arrived)

    def wait_for(self, reps: list[str], *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count(reps) < len(reps):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no webhook for {reps} within {timeout:.0f}s")
            time.sleep(0.05)


class FirstPosts:
    """Sends each new rep's first ``post_published`` and notes when the API answered."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.answered: dict[str, float] = {}

    def send(self, rep: str) -> None:
        event = {"id": f"{rep}-p", "rep": rep, "type": "post_published",
                 "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip
        answer = self.client.json("POST", "/api/v1/activities", {"events": [event]}, expect=200)
        self.answered[rep] = time.monotonic()
        if answer["accepted"] != 1:
            raise RuntimeError(f"{rep}: {answer}")


def run(ctx: Context) -> None:
    n = ctx.scale.badge_samples
    reps = [f"badge-{i}" for i in range(n)]
    receiver = Receiver()
    client = Client(ctx.stack.port, host=ctx.host(BADGE), key=ctx.keys[BADGE])
    posts = FirstPosts(client)
    progress = Progress("badge latency")
    receiver.start()
    try:
        subscribe(client, receiver)
        # Warm-up: the worker's processes import the evaluation and delivery code.
        posts.send("badge-warm")
        receiver.wait_for(["badge-warm"], timeout=60)
        send_spaced(posts, receiver, reps, progress)
        client.close()
    finally:
        receiver.stop()
    latencies = [receiver.arrived[r] - posts.answered[r] for r in reps if r in receiver.arrived]
    record(ctx, latencies, n, progress)


def subscribe(client: Client, receiver: Receiver) -> None:
    client.json(
        "POST",
        "/api/v1/webhooks",
        {"url": f"http://127.0.0.1:{receiver.port}/hook", "events": ["badge.awarded"]},
        expect=201,
    )


def send_spaced(posts: FirstPosts, receiver: Receiver, reps: list[str], progress: Progress) -> None:
    """One new rep's first post every 0.25-0.75 s (the spacing is random so it does not lock
    onto the broker's polling), without waiting for the previous webhook; then up to a minute
    for the webhooks still on their way."""
    n = len(reps)
    rng = random.Random(7)
    for i, rep in enumerate(reps):
        posts.send(rep)
        progress.update(f"{i + 1}/{n} first posts sent, {receiver.count(reps)} webhooks received")
        time.sleep(rng.uniform(0.25, 0.75))
    deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
    while receiver.count(reps) < n and time.monotonic() < deadline:
        progress.update(f"{n}/{n} first posts sent, {receiver.count(reps)} webhooks received")
        time.sleep(0.1)


def record(ctx: Context, latencies: list[float], n: int, progress: Progress) -> None:
    missing = n - len(latencies)
    if not latencies:
        raise RuntimeError(f"no badge.awarded webhook arrived; worker log:\n{ctx.stack.tail('worker')}")
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    progress.done(
        f"{len(latencies)}/{n} badge.awarded webhooks: p50 {p50:.2f}s, p95 {p95:.2f}s, max {max(latencies):.2f}s"
    )
    if missing:
        ctx.errors.append(f"badge latency: {missing} of {n} webhooks did not arrive within 60s")
    ctx.rows += [
        Row("badge_latency.p50", p50, "s"),
        Row("badge_latency.p95", p95, "s", target="< 2", ok=p95 < 2 and not missing),
    ]
