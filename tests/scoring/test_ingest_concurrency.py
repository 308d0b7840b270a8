"""Parallel ingestion of the same events stores them once (real commits, real threads)."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.db.models import Sum
from django_tenants.utils import schema_context, tenant_context

from gamification.models import XpDaily
from scoring.engine import DEFAULT_XP
from scoring.models import Activity, ActivityDaily, Rep
from scoring.services.ingest import activities_ingest
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys


def batch(prefix: str, n: int) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(hours=1)
    return {
        "events": [
            {
                "id": f"{prefix}-{i}",
                "rep": f"rep-{i % 7}",
                "type": "post_published",
                "occurred_at": at.isoformat(),
            }
            for i in range(n)
        ]
    }


def post_in_parallel(
    keys: TenantKeys, bodies: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> list[Any]:
    results: list[Any] = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = ApiClient(keys.host, keys.integration).post(
                "/api/v1/activities", bodies[i], headers=headers
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_parallel_posts_of_the_same_batch_store_it_once(committed_tenant: TenantKeys) -> None:
    body = batch("same", 500)
    first, second = post_in_parallel(committed_tenant, [body, body])
    assert first.status_code == second.status_code == 200, (first.content, second.content)
    answers = sorted((r.json()["accepted"], r.json()["duplicates"]) for r in (first, second))
    assert answers == [(0, 500), (500, 0)]
    with schema_context(committed_tenant.schema):
        assert Activity.objects.count() == 500
        # The rollup counts each event once too.
        assert sum(ActivityDaily.objects.values_list("n", flat=True)) == 500


def test_overlapping_batches_in_different_orders_lose_nothing_and_double_nothing(
    committed_tenant: TenantKeys,
) -> None:
    forward = batch("mix", 400)
    backward = {"events": list(reversed(forward["events"]))[:300] + batch("other", 100)["events"]}
    results = post_in_parallel(committed_tenant, [forward, backward, forward])
    assert all(r.status_code == 200 for r in results), [r.content for r in results]
    with schema_context(committed_tenant.schema):
        assert Activity.objects.count() == 500
        assert sum(ActivityDaily.objects.values_list("n", flat=True)) == 500
    assert sum(r.json()["accepted"] for r in results) == 500


def test_parallel_posts_with_one_idempotency_key_store_once_and_answer_alike(
    committed_tenant: TenantKeys,
) -> None:
    body = batch("idem", 200)
    results = post_in_parallel(committed_tenant, [body, body, body], headers={"Idempotency-Key": "k-1"})
    statuses = sorted(r.status_code for r in results)
    # The first stores; a concurrent repeat is told it is still running (409) or replays the answer.
    assert set(statuses) <= {200, 409}, statuses
    ok = [r.json() for r in results if r.status_code == 200]
    assert ok and all(answer == {"accepted": 200, "duplicates": 0, "rejected": []} for answer in ok)
    with schema_context(committed_tenant.schema):
        assert Activity.objects.count() == 200


def test_concurrent_batches_over_the_same_reps_never_deadlock_and_credit_xp_exactly(
    committed_tenant: TenantKeys,
) -> None:
    """Batches sharing reps (each in its own order, over several days) run at once, without
    the API's deadlock retry: every one commits, and XP, the daily XP ledger and the rollup
    count each event exactly once."""
    rng = random.Random(5)
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    reps = [f"rep-{i}" for i in range(60)]
    types = ["post_published", "post_liked", "post_commented", "lead_saved"]
    at = datetime.now(UTC) - timedelta(hours=1)
    bodies: list[list[dict[str, Any]]] = []
    for b in range(24):
        # Overlapping sets of reps, each shuffled; one type per batch of a round, so that
        # batches meet on the reps' XP rows and not first on the rollup's.
        chosen = rng.sample(reps, rng.randint(30, 60))
        bodies.append(
            [
                {
                    "id": f"b{b}-{i}",
                    "rep": rep,
                    "type": types[b % len(types)],
                    "occurred_at": (at - timedelta(days=rng.randint(0, 3))).isoformat(),
                }
                for i, rep in enumerate(chosen * 3)
            ]
        )
    errors: list[BaseException] = []

    def run(events: list[dict[str, Any]], barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            with tenant_context(tenant), transaction.atomic():
                result = activities_ingest(tenant=tenant, events=events)
                assert result.accepted == len(events) and not result.rejected
        except BaseException as exc:  # a deadlock would be an OperationalError here
            errors.append(exc)
        finally:
            connections.close_all()

    for round_bodies in (bodies[k : k + 4] for k in range(0, len(bodies), 4)):
        barrier = threading.Barrier(len(round_bodies))
        threads = [threading.Thread(target=run, args=(body, barrier)) for body in round_bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors

    expected_xp: dict[str, int] = defaultdict(int)
    expected_n: dict[str, int] = defaultdict(int)
    for body in bodies:
        for event in body:
            expected_xp[event["rep"]] += DEFAULT_XP[event["type"]]
            expected_n[event["rep"]] += 1
    with schema_context(tenant.schema_name):
        xp = dict(Rep.objects.values_list("external_id", "xp"))
        ledger = dict(
            XpDaily.objects.values("rep__external_id")
            .annotate(total=Sum("xp"))
            .values_list("rep__external_id", "total")
        )
        rolled = dict(
            ActivityDaily.objects.values("rep__external_id")
            .annotate(total=Sum("n"))
            .values_list("rep__external_id", "total")
        )
    assert {r: xp.get(r, 0) for r in expected_xp} == dict(expected_xp)
    assert ledger == dict(expected_xp)
    assert rolled == dict(expected_n)
