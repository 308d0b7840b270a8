"""Revoking rep tokens (docs/api.md, "Rep tokens"): an admin revokes a rep's tokens, and revoking
an API key revokes the tokens it minted. Either way the token is a 401 at once."""

from __future__ import annotations

from typing import Any

import pytest

from access.models import AuditEntry, RepToken
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant


@pytest.fixture
def ann(acme: ApiClient) -> str:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    return "ann"


def mint(client: ApiClient, rep: str) -> str:
    answer = client.post("/api/v1/rep-tokens", {"rep": rep})
    assert answer.status_code == 201, answer.content
    token: str = answer.json()["token"]
    return token


def card_status(world: World, token: str, rep: str = "ann") -> int:
    status: int = ApiClient(world.acme.host, token).get(f"/api/v1/reps/{rep}").status_code
    return status


def revoke(client: ApiClient, rep: str) -> Any:
    return client.post("/api/v1/rep-tokens/revoke", {"rep": rep})


def test_an_admin_revokes_every_token_of_a_rep_at_once(world: World, acme: ApiClient, ann: str) -> None:
    integration = ApiClient(world.acme.host, world.acme.integration)
    tokens = [mint(acme, ann), mint(integration, ann)]
    assert [card_status(world, t) for t in tokens] == [200, 200]

    answer = revoke(acme, ann)

    assert answer.status_code == 200 and answer.json() == {"rep": "ann", "revoked": 2}
    for token in tokens:
        assert_error(ApiClient(world.acme.host, token).get("/api/v1/reps/ann"), 401, "invalid_token")
    with in_tenant("acme"):
        entry = AuditEntry.objects.filter(target_type="rep_tokens").get()
    assert (entry.action, entry.target_id, entry.actor_kind) == ("revoke", "ann", "key")
    assert (entry.before, entry.after) == ({"live_tokens": 2}, {"live_tokens": 0})


def test_revoking_a_rep_without_live_tokens_changes_nothing(acme: ApiClient, ann: str) -> None:
    assert revoke(acme, ann).json() == {"rep": "ann", "revoked": 0}
    with in_tenant("acme"):
        assert not AuditEntry.objects.filter(target_type="rep_tokens").exists()


def test_the_other_reps_tokens_keep_working(world: World, acme: ApiClient, ann: str) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="bob")
    bobs = mint(acme, "bob")
    revoke(acme, ann)
    assert card_status(world, bobs, "bob") == 200


@pytest.mark.parametrize("role", ["integration", "read"])
def test_only_an_admin_key_revokes_a_reps_tokens(world: World, ann: str, role: str) -> None:
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    assert_error(revoke(client, ann), 403)


def test_a_rep_token_cannot_revoke_tokens(world: World, acme: ApiClient, ann: str) -> None:
    token = mint(acme, ann)
    assert_error(revoke(ApiClient(world.acme.host, token), ann), 403)
    assert card_status(world, token) == 200


def test_an_unknown_rep_is_a_400_naming_it(acme: ApiClient) -> None:
    assert_error(revoke(acme, "nobody"), 400, "unknown_rep", attr="rep")


def test_revoking_an_api_key_revokes_the_tokens_it_minted(world: World, acme: ApiClient, ann: str) -> None:
    created = acme.post("/api/v1/api-keys", {"name": "app", "role": "integration"}).json()
    app = ApiClient(world.acme.host, created["key"])
    by_app, by_admin = mint(app, ann), mint(acme, ann)

    assert acme.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204

    assert_error(ApiClient(world.acme.host, by_app).get("/api/v1/reps/ann"), 401, "invalid_token")
    assert card_status(world, by_admin) == 200
    with in_tenant("acme"):
        assert RepToken.objects.count() == 1
        entry = AuditEntry.objects.filter(target_type="api_key", action="revoke").get()
    assert entry.after is not None and entry.after["rep_tokens_revoked"] == 1


def test_another_tenants_admin_cannot_revoke_them(
    world: World, acme: ApiClient, globex: ApiClient, ann: str
) -> None:
    token = mint(acme, ann)
    assert_error(
        ApiClient(world.acme.host, world.globex.admin).post("/api/v1/rep-tokens/revoke", {"rep": ann}), 401
    )
    assert_error(revoke(globex, ann), 400, "unknown_rep", attr="rep")
    assert card_status(world, token) == 200
