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

from scoring.models import Rep
from tests.conftest import ApiClient
from tests.factories import in_tenant


def prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_hot_reads_are_prepared_and_each_answer_is_its_own_tenants(
    acme: ApiClient, globex: ApiClient
) -> None:
    for slug in ("acme", "globex"):
        with in_tenant(slug):
            Rep.objects.create(external_id="same-id", name=f"{slug} rep")
    for _ in range(8):
        for client, slug in ((acme, "acme"), (globex, "globex")):
            card = client.get("/api/v1/reps/same-id")
            assert card.status_code == 200, card.content
            assert card.json()["name"] == f"{slug} rep"
            assert client.get("/api/v1/reps/same-id/ssi").status_code == 404  # no snapshot: not_scored
            board = client.get("/api/v1/leaderboards/ssi")
            assert board.status_code in (200, 404), board.content
    statements = prepared()
    # The tenant by host, the key by prefix, the rep card, /ssi: prepared once, reused.
    assert any("tenants_tenant" in s and "tenants_domain" in s for s in statements), statements
    assert any("api_apikey" in s and "prefix" in s for s in statements), statements
    assert any("gamification_badgeaward" in s and "scoring_activitydaily" in s for s in statements)
    assert any("scoring_scoresnapshot" in s and "scoring_rep" in s for s in statements)
