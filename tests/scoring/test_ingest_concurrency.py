"""Parallel ingestion of the same events stores them once (real commits, real threads)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django_tenants.utils import schema_context

from scoring.models import Activity, ActivityDaily
from tests.conftest import ApiClient, TenantKeys


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
    with schema_context(committed_tenant.slug.replace("-", "_")):
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
    with schema_context(committed_tenant.slug.replace("-", "_")):
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
    with schema_context(committed_tenant.slug.replace("-", "_")):
        assert Activity.objects.count() == 200
