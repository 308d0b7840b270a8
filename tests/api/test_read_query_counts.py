"""The SQL statements of the hot reads, pinned (issue 5: reads): the rep card
``GET /api/v1/reps/{id}``, ``GET /api/v1/reps/{id}/ssi`` and the SSI leaderboard.

Every request pays for routing (the tenant by host: one query on the public schema) and
its key (one query); a ``SET search_path`` only when its connection was on another schema
before (``TENANT_LIMIT_SET_CALLS``, api/tenant_routing.py). Then the card and /ssi are one
query each, the ssi board two (its state, its page; a rep token's ``me`` one more). None of
these grows with the number of reps, days or badges.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.clock import local_today
from scoring.models import Rep
from scoring.services.recompute import scores_compute_day
from tests.factories.gamification import BadgeAwardFactory, BadgeFactory
from tests.factories.scoring import ActivityDailyFactory, RepFactory, TeamFactory
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

ROUTING_AND_KEY = 2  # the tenant by host, the key


def populate(reps: int, days: int) -> None:
    """``reps`` reps (in two teams) active on each of the last ``days`` days, badges awarded,
    and the last two days scored."""
    with in_tenant("acme") as tenant:
        today = local_today(tenant.timezone)
        teams = [TeamFactory.create(), TeamFactory.create()]
        badge = BadgeFactory.create(slug="weekly-q", name="W", criteria={}, repeat="weekly")
        start = Rep.objects.count()
        for i in range(start, start + reps):
            rep = RepFactory.create(external_id=f"q{i}", team=teams[i % 2])
            for d in range(1, days + 1):
                ActivityDailyFactory.create(
                    rep=rep, type="post_published", day=today - timedelta(days=d), n=1 + (i + d) % 4
                )
            for w in range(i % 3 + 1):
                BadgeAwardFactory.create(rep=rep, badge=badge, period=f"2026-W{w + 1:02d}")
        for d in (2, 1):
            scores_compute_day(tenant=tenant, day=today - timedelta(days=d))


def statements(assert_max: Any, client: ApiClient, path: str, expected: int) -> list[str]:
    """Ask ``path`` after a first request (so the key's last_used_at is fresh and the
    connection is on the tenant's path): ``expected`` statements, no SET search_path."""
    assert client.get(path).status_code == 200
    with assert_max(expected) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(sql) == expected, sql
    assert not any(s.startswith("SET") for s in sql), sql
    return sql


@pytest.mark.parametrize("scale", [(3, 5), (30, 40)])
def test_the_rep_card_is_one_query_after_routing_and_the_key(
    acme: ApiClient, django_assert_max_num_queries: Any, scale: tuple[int, int]
) -> None:
    populate(*scale)
    statements(django_assert_max_num_queries, acme, "/api/v1/reps/q1", ROUTING_AND_KEY + 1)
    body = acme.get("/api/v1/reps/q1").json()
    assert body["ssi"] is not None and body["badges"] == 2 and body["streak"]["longest"] >= 3


@pytest.mark.parametrize("scale", [(3, 5), (30, 40)])
def test_a_reps_ssi_is_one_query_after_routing_and_the_key(
    acme: ApiClient, django_assert_max_num_queries: Any, scale: tuple[int, int]
) -> None:
    populate(*scale)
    statements(django_assert_max_num_queries, acme, "/api/v1/reps/q2/ssi", ROUTING_AND_KEY + 1)
    day = acme.get("/api/v1/reps/q2/ssi").json()["date"]
    statements(django_assert_max_num_queries, acme, f"/api/v1/reps/q2/ssi?date={day}", ROUTING_AND_KEY + 1)


@pytest.mark.parametrize("scale", [(3, 5), (30, 40)])
def test_the_ssi_leaderboard_is_two_queries_after_routing_and_the_key(
    world: World, acme: ApiClient, django_assert_max_num_queries: Any, scale: tuple[int, int]
) -> None:
    populate(*scale)
    sql = statements(django_assert_max_num_queries, acme, "/api/v1/leaderboards/ssi", ROUTING_AND_KEY + 2)
    assert not any("RANK() OVER" in s for s in sql)  # the stored ranks serve the tenant-wide board
    token = acme.post("/api/v1/rep-tokens", {"rep": "q1"}).json()["token"]
    as_rep = ApiClient(world.acme.host, token)
    statements(django_assert_max_num_queries, as_rep, "/api/v1/leaderboards/ssi", ROUTING_AND_KEY + 3)
    assert as_rep.get("/api/v1/leaderboards/ssi").json()["me"]["rep"] == "q1"


def test_a_request_after_another_tenants_sets_the_search_path_once_and_reads_its_own_tenant(
    acme: ApiClient, globex: ApiClient, django_assert_max_num_queries: Any
) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="same-id", name="Acme's")
    with in_tenant("globex"):
        RepFactory.create(external_id="same-id", name="Globex's")
    acme.get("/api/v1/reps/same-id")  # the keys' last_used_at fresh
    globex.get("/api/v1/reps/same-id")
    for client, name in ((acme, "Acme's"), (globex, "Globex's"), (acme, "Acme's"), (globex, "Globex's")):
        with django_assert_max_num_queries(ROUTING_AND_KEY + 1 + 1) as captured:
            body = client.get("/api/v1/reps/same-id").json()
        assert body["name"] == name
        sets = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET search_path")]
        assert len(sets) == 1, sets
    # The same tenant again on the same connection: no SET.
    with django_assert_max_num_queries(ROUTING_AND_KEY + 1):
        assert globex.get("/api/v1/reps/same-id").json()["name"] == "Globex's"
