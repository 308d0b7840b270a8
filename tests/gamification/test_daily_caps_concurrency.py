"""Daily caps under concurrent ingestion (docs/gamification.md#daily-caps-fair-play): batches
of the same rep, type and local day, committed at once by several clients, credit the cap's
XP once between them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from django.db import connections
from django_tenants.utils import tenant_context

from gamification.models import XpDaily
from scoring.models import ActivityDaily, Rep
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys

CLIENTS = 4
PER_BATCH = 3
CAP = 5


def test_concurrent_batches_of_one_capped_day_credit_the_cap_once(committed_tenant: TenantKeys) -> None:
    admin = ApiClient(committed_tenant.host, committed_tenant.admin)
    assert admin.patch("/api/v1/settings", {"daily_caps": {"post_published": CAP}}).status_code == 200
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    # The rep exists first: the batches race on its rollup row, not on creating it.
    first = {"id": "e-0", "rep": "ada", "type": "post_published", "occurred_at": at}
    assert admin.post("/api/v1/activities", {"events": [first]}).json()["accepted"] == 1
    barrier = threading.Barrier(CLIENTS)
    accepted: list[int] = []

    def send(client_index: int) -> None:
        try:
            client = ApiClient(committed_tenant.host, committed_tenant.integration)
            events = [
                {"id": f"e-{client_index}-{i}", "rep": "ada", "type": "post_published", "occurred_at": at}
                for i in range(PER_BATCH)
            ]
            barrier.wait()
            answer = client.post("/api/v1/activities", {"events": events})
            accepted.append(answer.json()["accepted"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert accepted == [PER_BATCH] * CLIENTS
    tenant = Tenant.objects.get(slug=committed_tenant.slug)
    with tenant_context(tenant):
        rep = Rep.objects.get(external_id="ada")
        # 13 posts stored on the day; 5 earn their 10 XP.
        assert (
            sum(ActivityDaily.objects.filter(rep=rep).values_list("n", flat=True)) == 1 + CLIENTS * PER_BATCH
        )
        assert rep.xp == CAP * 10
        assert sum(XpDaily.objects.filter(rep=rep).values_list("xp", flat=True)) == CAP * 10
