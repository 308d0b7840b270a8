"""Tenant isolation, proven for every operation of the schema (issue 6, part 2a).

The operations are read from the OpenAPI document itself, so a new endpoint is
covered the day it is added; one without a request here (``write_bodies`` for
writes, ``Objects.path_parameters`` for its path) fails this module. Each
request is one that acme's admin key may make on acme's objects (checked:
neither 401 nor 403), then it is replayed

(i)   with every globex key on acme's host: 401;
(ii)  with a rep token of acme's rep 1: on rep 2's data 403 or 404 (and rep
      2's goals never listed), on every operation that is not a rep token's
      (its own rep's reads, its goals, the leaderboards), 403;
(iii) with acme's ``read`` key on every write: 403.

Every call runs in a savepoint rolled back after it, so a DELETE that should
have been refused cannot hide the next one.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from tests.support.http import ApiClient
from tests.support.rep_tokens import mint
from tests.support.schema_objects import Objects, schema_operations, write_bodies
from tests.support.tenants import World

TENANT_OPERATIONS = [
    (method, path)
    for method, path in schema_operations()
    if path.startswith("/api/v1/") and not path.startswith("/api/v1/platform/")
]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Writes only the challenged rep (rep 2) makes, with its rep token: the "own" call is made with it
# (an admin key is refused with 403 `not_opponent`, as rep 1's token below).
OPPONENT_OPERATIONS = {
    ("POST", "/api/v1/challenges/{id}/accept"),
    ("POST", "/api/v1/challenges/{id}/decline"),
}
# What a rep token may do: read its own rep, its own and its team's goals, its team's and the
# company's SSI, the leaderboards, the contests it takes part in.
REP_TOKEN_OPERATIONS = {
    ("GET", "/api/v1/goals"),
    ("GET", "/api/v1/goals/{id}"),
    ("GET", "/api/v1/contests"),  # those the rep takes part in (tests/api/test_contests.py)
    ("GET", "/api/v1/contests/{id}"),
    ("GET", "/api/v1/contests/{id}/standings"),
    ("GET", "/api/v1/challenges"),  # those the rep is in (tests/api/test_challenges.py)
    ("GET", "/api/v1/challenges/{id}"),
    ("POST", "/api/v1/challenges"),  # as its own rep
    ("GET", "/api/v1/reps/{external_id}"),
    ("GET", "/api/v1/reps/{external_id}/ssi"),
    ("GET", "/api/v1/reps/{external_id}/ssi/history"),
    ("GET", "/api/v1/reps/{external_id}/ssi/explain"),
    ("GET", "/api/v1/reps/{external_id}/ssi/changes"),
    ("GET", "/api/v1/reps/{external_id}/badges"),
    ("GET", "/api/v1/leaderboards/{metric}"),
    ("GET", "/api/v1/company/ssi"),
    ("GET", "/api/v1/company/ssi/history"),
    ("GET", "/api/v1/teams/{id}/ssi"),
    ("GET", "/api/v1/teams/{id}/ssi/history"),
}


def send(client: ApiClient, method: str, path: str, body: Any) -> Any:
    """One call, rolled back after it."""
    with transaction.atomic():
        if method in ("GET", "DELETE"):
            response = getattr(client, method.lower())(path)
        else:
            response = getattr(client, method.lower())(path, body)
        transaction.set_rollback(True)
    return response


def request_for(
    method: str, path: str, objects: Objects, config: dict[str, Any], rep: str | None = None
) -> tuple[str, Any]:
    params = objects.path_parameters(path)
    if rep is not None and "external_id" in params:
        params["external_id"] = rep
    concrete = path.format(**params)
    if method not in WRITES:
        return concrete, None
    table = write_bodies(objects, config)
    assert (method, path) in table, f"{method} {path}: no body in schema_objects.write_bodies; add one"
    return concrete, table[(method, path)]


@pytest.mark.parametrize(
    ("method", "path"), TENANT_OPERATIONS, ids=[f"{m} {p}" for m, p in TENANT_OPERATIONS]
)
def test_every_operation_is_closed_to_other_tenants_other_reps_and_read_keys(
    world: World,
    acme: ApiClient,
    acme_objects: Objects,
    scoring_config: dict[str, Any],
    method: str,
    path: str,
) -> None:
    url, body = request_for(method, path, acme_objects, scoring_config)
    owner = acme
    if (method, path) in OPPONENT_OPERATIONS:
        owner = ApiClient(world.acme.host, mint(acme, acme_objects.other_rep)["token"])
    own = send(owner, method, url, body)
    assert own.status_code not in (401, 403) and own.status_code < 500, (own.status_code, own.content[:300])

    # (i) another tenant's keys, every role, on this tenant's host
    for role in ("admin", "integration", "read"):
        intruder = ApiClient(world.acme.host, getattr(world.globex, role))
        answer = send(intruder, method, url, body)
        assert answer.status_code == 401, (role, answer.status_code, answer.content[:300])

    # (ii) a rep token of rep 1
    token = mint(acme, acme_objects.rep)["token"]
    as_rep = ApiClient(world.acme.host, token)
    if (method, path) in REP_TOKEN_OPERATIONS:
        mine = send(as_rep, method, url, body)
        assert mine.status_code not in (401, 403) and mine.status_code < 500, (
            mine.status_code,
            mine.content[:300],
        )
        if "{external_id}" in path or path == "/api/v1/goals/{id}":
            other_url = (
                request_for(method, path, acme_objects, scoring_config, rep=acme_objects.other_rep)[0]
                if "{external_id}" in path
                else f"/api/v1/goals/{acme_objects.other_goal}"
            )
            theirs = send(as_rep, method, other_url, body)
            assert theirs.status_code in (403, 404), (theirs.status_code, theirs.content[:300])
        if path == "/api/v1/goals":
            assert mine.status_code == 200
            listed = {goal["rep"] for goal in mine.json()["results"]}
            assert acme_objects.other_rep not in listed and acme_objects.rep in listed, listed
    else:
        answer = send(as_rep, method, url, body)
        assert answer.status_code == 403, (answer.status_code, answer.content[:300])

    # (iii) a read key on a write
    if method in WRITES:
        reader = ApiClient(world.acme.host, world.acme.read)
        answer = send(reader, method, url, body)
        assert answer.status_code == 403, (answer.status_code, answer.content[:300])


def test_every_write_of_the_schema_has_a_request_here(acme_objects: Objects) -> None:
    writes = {(m, p) for m, p in TENANT_OPERATIONS if m in WRITES}
    assert writes == set(write_bodies(acme_objects, {})), writes ^ set(write_bodies(acme_objects, {}))
