"""The statements every request runs are prepared statements, and stay in their tenant.

PostgreSQL plans a prepared statement once per connection and re-plans it by itself when
the ``search_path`` differs from the one it was planned under, so the same statement text
serves every tenant's schema. These requests share one connection (the test client runs
in this process) and alternate between two tenants holding a rep of the same
``external_id``: each answer must be its own tenant's, request after request, long after
the statements were prepared.
"""

from __future__ import annotations

from django.db import connection

from core.clock import local_yesterday
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant


def prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_hot_reads_are_prepared_and_each_answer_is_its_own_tenants(
    acme: ApiClient, globex: ApiClient
) -> None:
    days = {}
    for slug in ("acme", "globex"):
        with in_tenant(slug) as tenant:
            RepFactory.create(external_id="same-id", name=f"{slug} rep")
            days[slug] = local_yesterday(tenant.timezone)
            scores_compute_day(tenant=tenant, day=days[slug])
    for _ in range(8):
        for client, slug in ((acme, "acme"), (globex, "globex")):
            card = client.get("/api/v1/reps/same-id")
            assert card.status_code == 200, card.content
            assert card.json()["name"] == f"{slug} rep"
            ssi = client.get("/api/v1/reps/same-id/ssi")
            assert ssi.status_code == 200, ssi.content
            assert ssi.json()["date"] == days[slug].isoformat()
            board = client.get("/api/v1/leaderboards/ssi")
            assert board.status_code == 200, board.content
            assert [(r["rep"], r["name"]) for r in board.json()["results"]] == [("same-id", f"{slug} rep")]
    statements = prepared()
    # The tenant by host, the key by prefix, the rep card, /ssi, the board: prepared once, reused.
    assert any("tenants_tenant" in s and "tenants_domain" in s for s in statements), statements
    assert any("api_apikey" in s and "prefix" in s for s in statements), statements
    assert any("gamification_badgeaward" in s and "scoring_activitydaily" in s for s in statements)
    assert any("scoring_scoresnapshot" in s and "scoring_rep" in s for s in statements)
    assert any("scoring_scoredday" in s and "ranks_current" in s for s in statements)
