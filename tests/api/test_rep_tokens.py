"""``POST /api/v1/rep-tokens`` and what a rep token may do (docs/api.md#rep-tokens).

A rep token reads its own rep's card, SSI, SSI history and explanation, and the
leaderboards; everything else is a 403; an expired one is a 401 ``token_expired``;
on another tenant's host, revoked or unknown, a 401 ``invalid_token``.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from access.models import RepToken
from scoring.models import Activity, Rep
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import PLATFORM_HOST, ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 10)  # a Tuesday, long past


def parse_instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def reps(acme: ApiClient) -> dict[str, str]:
    """ann and bob in acme, each with events on D, and D scored; a rep token for ann."""
    with in_tenant("acme"):
        team = TeamFactory.create(name="North")
        RepFactory.create(external_id="ann", name="Ann", team=team)
        RepFactory.create(external_id="bob", name="Bob", team=team)
    at = datetime(D.year, D.month, D.day, 10, tzinfo=ZoneInfo("Europe/Berlin")).isoformat()
    events = [
        {"id": f"{rep}-{i}", "rep": rep, "type": "post_published", "occurred_at": at}
        for rep in ("ann", "bob")
        for i in range(2)
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 4
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=D)
    return {"ann": mint(acme, "ann")["token"]}


# --- minting -------------------------------------------------------------------------------------------


def test_an_admin_key_mints_a_token_for_an_hour_by_default(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    before = timezone.now()
    body = mint(acme, "ann")
    after = timezone.now()
    assert set(body) == {"token", "expires_at", "rep"}
    assert body["token"].startswith("ssir_")
    assert body["rep"] == "ann"
    expires = parse_instant(body["expires_at"])
    assert before + timedelta(seconds=3600) <= expires <= after + timedelta(seconds=3600)


def test_only_the_prefix_and_the_hash_are_stored(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    token = mint(acme, "ann")["token"]
    with in_tenant("acme"):
        row = RepToken.objects.get()
        assert row.rep.external_id == "ann"
        assert row.prefix == token[:12]
        assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {row.prefix, row.key_hash}


def test_an_integration_key_mints_tokens_too(world: World, acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    body = mint(ApiClient(world.acme.host, world.acme.integration), "ann", ttl_seconds=60)
    assert body["token"].startswith("ssir_")


def test_a_read_key_may_not_mint_tokens(world: World, acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    response = ApiClient(world.acme.host, world.acme.read).post("/api/v1/rep-tokens", {"rep": "ann"})
    assert_error(response, 403, code="permission_denied")
    with in_tenant("acme"):
        assert not RepToken.objects.exists()


@pytest.mark.parametrize("ttl", [1, 60, 86400])
def test_ttl_seconds_sets_the_lifetime(acme: ApiClient, ttl: int) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    before = timezone.now()
    expires = parse_instant(mint(acme, "ann", ttl_seconds=ttl)["expires_at"])
    assert before + timedelta(seconds=ttl) <= expires <= timezone.now() + timedelta(seconds=ttl)


@pytest.mark.parametrize("ttl", [0, -5, 86401, 10**12, "abc", True, 1.5, None])
def test_a_ttl_outside_one_second_to_one_day_is_a_400(acme: ApiClient, ttl: Any) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    response = acme.post("/api/v1/rep-tokens", {"rep": "ann", "ttl_seconds": ttl})
    assert_error(response, 400, attr="ttl_seconds")
    with in_tenant("acme"):
        assert not RepToken.objects.exists()


def test_an_unknown_rep_is_a_400_naming_rep(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/rep-tokens", {"rep": "nobody"}), 400, code="unknown_rep", attr="rep")
    assert_error(acme.post("/api/v1/rep-tokens", {}), 400, code="required", attr="rep")
    assert_error(acme.post("/api/v1/rep-tokens", {"rep": "x", "role": "admin"}), 400, attr="role")


def test_a_rep_of_another_tenant_is_unknown(acme: ApiClient, globex: ApiClient) -> None:
    with in_tenant("globex"):
        RepFactory.create(external_id="g-1")
    assert_error(acme.post("/api/v1/rep-tokens", {"rep": "g-1"}), 400, code="unknown_rep", attr="rep")


def test_minting_forgets_the_reps_tokens_expired_for_over_a_day(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    old, recent = mint(acme, "ann")["token"], mint(acme, "ann")["token"]
    with in_tenant("acme"):
        now = timezone.now()
        RepToken.objects.filter(prefix=old[:12]).update(expires_at=now - timedelta(days=2))
        RepToken.objects.filter(prefix=recent[:12]).update(expires_at=now - timedelta(hours=1))
    mint(acme, "ann")
    with in_tenant("acme"):
        assert set(RepToken.objects.values_list("prefix", flat=True)) >= {recent[:12]}
        assert not RepToken.objects.filter(prefix=old[:12]).exists()
        assert RepToken.objects.count() == 2


# --- what a rep token may read ------------------------------------------------------------------------

OWN = [
    "/api/v1/reps/ann",
    "/api/v1/reps/ann/ssi",
    "/api/v1/reps/ann/ssi/history",
    "/api/v1/reps/ann/ssi/explain",
    "/api/v1/leaderboards/ssi",
    "/api/v1/leaderboards/xp",
    "/api/v1/leaderboards/pillar.find",
    "/api/v1/leaderboards/events.post_published",
]


@pytest.mark.parametrize("path", OWN)
def test_a_rep_token_reads_its_own_rep_and_the_leaderboards(
    world: World, acme: ApiClient, reps: dict[str, str], path: str
) -> None:
    response = ApiClient(world.acme.host, reps["ann"]).get(path)
    assert response.status_code == 200, response.content
    if "/reps/" in path:
        # The same answer as an admin key's.
        assert response.json() == acme.get(path).json()


def test_a_rep_token_sees_its_own_card_and_scores(world: World, reps: dict[str, str]) -> None:
    client = ApiClient(world.acme.host, reps["ann"])
    card = client.get("/api/v1/reps/ann").json()
    assert card["external_id"] == "ann"
    assert card["xp"] == 20
    assert card["ssi"]["date"] == D.isoformat()
    assert client.get("/api/v1/reps/ann/ssi").json()["rep"] == "ann"
    assert [s["date"] for s in client.get("/api/v1/reps/ann/ssi/history").json()] == [D.isoformat()]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reps/bob",
        "/api/v1/reps/bob/ssi",
        "/api/v1/reps/bob/ssi/history",
        "/api/v1/reps/bob/ssi/explain",
        "/api/v1/reps/nobody",
        "/api/v1/reps/nobody/ssi",
    ],
)
def test_a_rep_token_may_not_read_another_rep(world: World, reps: dict[str, str], path: str) -> None:
    response = ApiClient(world.acme.host, reps["ann"]).get(path)
    body = assert_error(response, 403, code="permission_denied")
    assert "rep token" in body["errors"][0]["detail"]


# (method, path, body): every endpoint a rep token may not use, its own rep's writes included.
FORBIDDEN: list[tuple[str, str, Any]] = [
    ("get", "/api/v1/reps", None),
    ("post", "/api/v1/reps", {"external_id": "sneaky"}),
    ("patch", "/api/v1/reps/ann", {"name": "Changed"}),
    ("put", "/api/v1/reps/ann", {"name": "Changed"}),
    ("delete", "/api/v1/reps/ann", None),
    ("get", "/api/v1/teams", None),
    ("post", "/api/v1/teams", {"name": "Sneaky"}),
    ("get", "/api/v1/activities", None),
    (
        "post",
        "/api/v1/activities",
        {
            "events": [
                {
                    "id": "sneaky",
                    "rep": "ann",
                    "type": "post_published",
                    "occurred_at": "2026-03-10T10:00:00Z",
                }
            ]
        },
    ),
    ("get", "/api/v1/api-keys", None),
    ("post", "/api/v1/api-keys", {"name": "sneaky", "role": "admin"}),
    ("get", "/api/v1/scoring-config", None),
    ("get", "/api/v1/scoring-config/versions", None),
    ("post", "/api/v1/scoring-config/preview", {}),
    ("get", "/api/v1/settings", None),
    ("patch", "/api/v1/settings", {"leaderboard_names": "full"}),
    ("get", "/api/v1/scores", None),
    ("post", "/api/v1/scores/recompute", {}),
    ("get", "/api/v1/jobs/00000000-0000-0000-0000-000000000000", None),
    ("get", "/api/v1/event-types", None),
    ("post", "/api/v1/rep-tokens", {"rep": "ann"}),
    ("post", "/api/v1/rep-tokens", {"rep": "bob"}),
    ("get", "/api/v1/badges", None),
    ("get", "/api/v1/awards", None),
    (
        "post",
        "/api/v1/goals",
        {
            "title": "x",
            "rep": "ann",
            "metric": "xp",
            "target": 1,
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    ),
    ("get", "/api/v1/webhooks", None),
    ("post", "/api/v1/webhooks", {"url": "https://example.com/hook", "events": ["*"]}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), FORBIDDEN, ids=[f"{m.upper()} {p}" for m, p, _ in FORBIDDEN]
)
def test_a_rep_token_may_do_nothing_else(
    world: World, acme: ApiClient, reps: dict[str, str], method: str, path: str, body: Any
) -> None:
    client = ApiClient(world.acme.host, reps["ann"])
    response = getattr(client, method)(path) if body is None else getattr(client, method)(path, body)
    assert_error(response, 403, code="permission_denied")
    with in_tenant("acme"):
        assert Rep.objects.get(external_id="ann").name == "Ann"
        assert Activity.objects.count() == 4
        assert RepToken.objects.count() == 1
    assert acme.get("/api/v1/teams").json()["count"] == 1


# --- tokens that do not work --------------------------------------------------------------------------


def test_an_expired_token_is_a_401_token_expired(world: World, reps: dict[str, str]) -> None:
    token = reps["ann"]
    with in_tenant("acme"):
        RepToken.objects.filter(prefix=token[:12]).update(expires_at=timezone.now() - timedelta(seconds=1))
    for path in ("/api/v1/reps/ann", "/api/v1/leaderboards/xp"):
        response = ApiClient(world.acme.host, token).get(path)
        assert_error(response, 401, code="token_expired")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_with_a_wrong_secret_is_just_invalid(world: World, reps: dict[str, str]) -> None:
    token = reps["ann"]
    with in_tenant("acme"):
        RepToken.objects.filter(prefix=token[:12]).update(expires_at=timezone.now() - timedelta(seconds=1))
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_error(ApiClient(world.acme.host, forged).get("/api/v1/reps/ann"), 401, code="invalid_token")


def test_a_token_with_the_right_prefix_but_a_wrong_secret_is_a_401(
    world: World, reps: dict[str, str]
) -> None:
    token = reps["ann"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_error(ApiClient(world.acme.host, forged).get("/api/v1/reps/ann"), 401, code="invalid_token")


def test_a_revoked_token_is_a_401(world: World, reps: dict[str, str]) -> None:
    with in_tenant("acme"):
        RepToken.objects.filter(prefix=reps["ann"][:12]).delete()
    assert_error(ApiClient(world.acme.host, reps["ann"]).get("/api/v1/reps/ann"), 401, code="invalid_token")


def test_a_deleted_reps_tokens_stop_working(world: World, acme: ApiClient, reps: dict[str, str]) -> None:
    assert acme.delete("/api/v1/reps/ann").status_code == 204
    assert_error(ApiClient(world.acme.host, reps["ann"]).get("/api/v1/reps/ann"), 401, code="invalid_token")


def test_an_unknown_rep_token_is_a_401(world: World, db: None) -> None:
    response = ApiClient(world.acme.host, "ssir_" + "A" * 43).get("/api/v1/leaderboards/xp")
    assert_error(response, 401, code="invalid_token")


def test_it_denies_cross_tenant_access_with_a_rep_token(world: World, reps: dict[str, str]) -> None:
    with in_tenant("globex"):
        RepFactory.create(external_id="ann")  # the same external_id in the other tenant
    token = reps["ann"]
    for path in ("/api/v1/reps/ann", "/api/v1/reps/ann/ssi", "/api/v1/leaderboards/xp"):
        assert_error(ApiClient(world.globex.host, token).get(path), 401, code="invalid_token")
        response = ApiClient(PLATFORM_HOST, token, headers={"X-Tenant": "globex"}).get(path)
        assert_error(response, 401, code="invalid_token")
    # On the platform host only platform keys are valid.
    assert_error(ApiClient(PLATFORM_HOST, token).get("/api/v1/platform/tenants"), 401, code="invalid_token")
    # Through X-Tenant naming its own tenant, it works as on the tenant's host.
    response = ApiClient(PLATFORM_HOST, token, headers={"X-Tenant": "acme"}).get("/api/v1/reps/ann")
    assert response.status_code == 200, response.content


def test_rep_tokens_are_in_the_schema(world: World, db: None) -> None:
    doc = ApiClient(PLATFORM_HOST).get("/api/v1/schema/", {"format": "json"}).json()
    operation = doc["paths"]["/api/v1/rep-tokens"]["post"]
    assert operation["tags"] == ["rep-tokens"]
    assert {"201", "400", "401", "403"} <= set(operation["responses"])


def test_a_rep_token_reads_its_own_goals_and_its_teams_but_no_others(
    world: World, acme: ApiClient, reps: dict[str, str]
) -> None:
    with in_tenant("acme"):
        north = Rep.objects.get(external_id="ann").team
        assert north is not None
        other = TeamFactory.create(name="South")
        RepFactory.create(external_id="cyd", team=other)
    window = {
        "metric": "events.post_published",
        "target": 5,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }
    own = acme.post("/api/v1/goals", {"title": "mine", "rep": "ann", **window}).json()["id"]
    team = acme.post(
        "/api/v1/goals", {"title": "team", "team": north.pk, "aggregate": "sum", **window}
    ).json()["id"]
    acme.post("/api/v1/goals", {"title": "bob's", "rep": "bob", **window})
    acme.post("/api/v1/goals", {"title": "south", "team": other.pk, "aggregate": "avg", **window})
    client = ApiClient(world.acme.host, reps["ann"])
    listed = client.get("/api/v1/goals")
    assert listed.status_code == 200, listed.content
    assert sorted(g["id"] for g in listed.json()["results"]) == sorted([own, team])
    assert client.get(f"/api/v1/goals/{own}").status_code == 200
