"""``/api/v1/reps``: CRUD of reps, keyed by the client's own ``external_id``."""

from __future__ import annotations

import pytest

from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import in_tenant


def test_create_rep_answers_201_with_the_created_rep(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
    payload = {"external_id": "crm-42", "name": "Ada", "email": "ada@example.com", "team": team.pk}
    response = acme.post("/api/v1/reps", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in payload} == payload
    assert body["active"] is True
    assert body["created_at"] and body["updated_at"]

    fetched = acme.get("/api/v1/reps/crm-42")
    assert fetched.status_code == 200
    assert fetched.json()["external_id"] == "crm-42"
    assert fetched.json()["team"] == team.pk


def test_create_rep_needs_only_an_external_id(acme: ApiClient) -> None:
    response = acme.post("/api/v1/reps", {"external_id": "solo"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == ""
    assert body["email"] == ""
    assert body["team"] is None
    assert body["active"] is True


def test_external_id_may_hold_url_safe_punctuation(acme: ApiClient) -> None:
    assert acme.post("/api/v1/reps", {"external_id": "user@corp.com:7"}).status_code == 201
    response = acme.get("/api/v1/reps/user@corp.com:7")
    assert response.status_code == 200
    assert response.json()["external_id"] == "user@corp.com:7"


@pytest.mark.parametrize("external_id", ["", "a/b", "has space", "a?b", "a#b", "a%b", "x" * 129])
def test_invalid_external_id_is_a_400(acme: ApiClient, external_id: str) -> None:
    response = acme.post("/api/v1/reps", {"external_id": external_id})
    assert_error(response, 400, attr="external_id")
    assert acme.get("/api/v1/reps").json()["count"] == 0


def test_create_rep_requires_an_external_id(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/reps", {"name": "Ada"}), 400, code="required", attr="external_id")


def test_duplicate_external_id_is_a_409(acme: ApiClient) -> None:
    assert acme.post("/api/v1/reps", {"external_id": "crm-1", "name": "First"}).status_code == 201
    response = acme.post("/api/v1/reps", {"external_id": "crm-1", "name": "Second"})
    assert_error(response, 409, code="already_exists", attr="external_id")
    assert acme.get("/api/v1/reps/crm-1").json()["name"] == "First"


def test_unknown_team_id_is_a_400_naming_team(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/reps", {"external_id": "crm-1", "team": 999999}), 400, attr="team")
    assert_error(acme.get("/api/v1/reps/crm-1"), 404)

    with in_tenant("acme"):
        RepFactory.create(external_id="crm-2")
    assert_error(acme.patch("/api/v1/reps/crm-2", {"team": 999999}), 400, attr="team")


def test_invalid_email_is_a_400(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/reps", {"external_id": "crm-1", "email": "nope"}), 400, attr="email")


def test_external_id_cannot_change(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-1")
    assert_error(
        acme.patch("/api/v1/reps/crm-1", {"external_id": "crm-2"}), 400, code="immutable", attr="external_id"
    )
    assert_error(
        acme.put("/api/v1/reps/crm-1", {"external_id": "crm-2"}), 400, code="immutable", attr="external_id"
    )
    assert acme.get("/api/v1/reps/crm-1").status_code == 200
    assert_error(acme.get("/api/v1/reps/crm-2"), 404)


def test_sending_the_same_external_id_back_is_allowed(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-1", name="Old")
    current = acme.get("/api/v1/reps/crm-1").json()
    response = acme.put("/api/v1/reps/crm-1", {**current, "name": "New"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "New"
    assert response.json()["external_id"] == "crm-1"


def test_patch_moves_a_rep_between_teams_and_deactivates_it(acme: ApiClient) -> None:
    with in_tenant("acme"):
        first, second = TeamFactory.create_batch(2)
        RepFactory.create(external_id="crm-1", team=first, name="Ada")
    response = acme.patch("/api/v1/reps/crm-1", {"team": second.pk, "active": False})
    assert response.status_code == 200, response.content
    assert response.json()["team"] == second.pk
    assert response.json()["active"] is False
    assert response.json()["name"] == "Ada"

    fetched = acme.get("/api/v1/reps/crm-1").json()
    assert fetched["team"] == second.pk
    assert fetched["active"] is False

    cleared = acme.patch("/api/v1/reps/crm-1", {"team": None})
    assert cleared.status_code == 200
    assert cleared.json()["team"] is None


def test_delete_rep_answers_204_and_it_is_gone(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-1")
    assert acme.delete("/api/v1/reps/crm-1").status_code == 204
    assert_error(acme.get("/api/v1/reps/crm-1"), 404, code="not_found")
    assert_error(acme.delete("/api/v1/reps/crm-1"), 404, code="not_found")
    # The external_id is free again.
    assert acme.post("/api/v1/reps", {"external_id": "crm-1"}).status_code == 201


def test_unknown_rep_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps/nobody"), 404, code="not_found")
    assert_error(acme.patch("/api/v1/reps/nobody", {"name": "x"}), 404, code="not_found")


def test_list_reps_is_paginated(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create_batch(5)
    body = acme.get("/api/v1/reps", {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert body["next"] is not None

    last = acme.get("/api/v1/reps", {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None
    assert last["previous"] is not None


def test_list_reps_defaults_to_50_per_page(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create_batch(51)
    body = acme.get("/api/v1/reps").json()
    assert body["count"] == 51
    assert len(body["results"]) == 50
    assert body["next"] is not None


def test_page_size_is_capped_at_500(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create_batch(501)
    body = acme.get("/api/v1/reps", {"page_size": 1000}).json()
    assert body["count"] == 501
    assert len(body["results"]) == 500
    assert body["next"] is not None


def test_a_page_past_the_end_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps", {"page": 9}), 404)


def test_list_reps_filters_by_team(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team, other = TeamFactory.create_batch(2)
        RepFactory.create(external_id="in-1", team=team)
        RepFactory.create(external_id="in-2", team=team)
        RepFactory.create(external_id="out-1", team=other)
        RepFactory.create(external_id="out-2")
    response = acme.get("/api/v1/reps", {"team": team.pk})
    assert response.status_code == 200
    assert [r["external_id"] for r in response.json()["results"]] == ["in-1", "in-2"]


def test_filtering_by_a_non_numeric_team_is_a_400(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps", {"team": "abc"}), 400, attr="team")


def test_list_reps_filters_by_active(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="on", active=True)
        RepFactory.create(external_id="off", active=False)
    active = acme.get("/api/v1/reps", {"active": "true"}).json()["results"]
    inactive = acme.get("/api/v1/reps", {"active": "false"}).json()["results"]
    assert [r["external_id"] for r in active] == ["on"]
    assert [r["external_id"] for r in inactive] == ["off"]
    assert acme.get("/api/v1/reps").json()["count"] == 2


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("CRM-7", ["crm-7"]),
        ("lovelace", ["crm-8"]),
        ("@globex.test", ["crm-9"]),
        ("crm", ["crm-7", "crm-8", "crm-9"]),
        ("nothing-matches", []),
    ],
)
def test_list_reps_searches_external_id_name_and_email(
    acme: ApiClient, term: str, expected: list[str]
) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-7", name="Grace Hopper", email="grace@acme.test")
        RepFactory.create(external_id="crm-8", name="Ada Lovelace", email="ada@acme.test")
        RepFactory.create(external_id="crm-9", name="Alan Turing", email="alan@globex.test")
    response = acme.get("/api/v1/reps", {"search": term})
    assert response.status_code == 200
    assert [r["external_id"] for r in response.json()["results"]] == expected


def test_filters_combine(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
        RepFactory.create(external_id="a-1", name="Ada", team=team, active=True)
        RepFactory.create(external_id="a-2", name="Ada", team=team, active=False)
        RepFactory.create(external_id="a-3", name="Ada", active=True)
    response = acme.get("/api/v1/reps", {"team": team.pk, "active": "true", "search": "ada"})
    assert [r["external_id"] for r in response.json()["results"]] == ["a-1"]


def test_put_replaces_the_rep_and_resets_what_it_leaves_out(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
    acme.post(
        "/api/v1/reps", {"external_id": "put-1", "name": "Ann", "email": "ann@x.example", "team": team.pk}
    )
    response = acme.put("/api/v1/reps/put-1", {"name": "Ann B"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Ann B"
    assert body["email"] == ""
    assert body["team"] is None
    assert body["active"] is True


def test_the_card_shows_the_rep_as_the_list_and_the_create_do(acme: ApiClient) -> None:
    from datetime import UTC, datetime

    from api.v1.reps import RepSerializer, rep_body
    from scoring.models import Rep

    with in_tenant("acme"):
        team = TeamFactory.create()
        RepFactory.create(external_id="with-team", name="Ann", email="ann@example.com", team=team)
        whole = RepFactory.create(external_id="whole-second", active=False)
        # A timestamp on a whole second has no fraction in its ISO form: the same on both.
        Rep.objects.filter(pk=whole.pk).update(created_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
        reps = list(Rep.objects.order_by("id"))
        assert [rep_body(r) for r in reps] == [RepSerializer(r).data for r in reps]
    created = acme.post("/api/v1/reps", {"external_id": "new", "team": team.pk}).json()
    listed = {r["external_id"]: r for r in acme.get("/api/v1/reps").json()["results"]}
    for external_id in ("with-team", "whole-second", "new"):
        card = acme.get(f"/api/v1/reps/{external_id}").json()
        assert {k: card[k] for k in listed[external_id]} == listed[external_id]
    assert {k: acme.get("/api/v1/reps/new").json()[k] for k in created} == created
    assert listed["whole-second"]["created_at"] == "2026-03-01T12:00:00Z"


def test_the_lists_filters_apply_to_a_card_as_to_any_retrieve(acme: ApiClient) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
    assert acme.get("/api/v1/reps/ann", {"active": "true"}).status_code == 200
    assert_error(acme.get("/api/v1/reps/ann", {"active": "false"}), 404, "not_found")
    assert_error(acme.get("/api/v1/reps/ann", {"team": "x"}), 400)
    assert_error(acme.get("/api/v1/reps/nobody"), 404, "not_found")
