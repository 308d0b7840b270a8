"""``/api/v1/teams``: CRUD of teams, keyed by ``id``."""

from __future__ import annotations

from scoring.models import Rep, Team
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import in_tenant


def test_create_team_answers_201_with_the_created_team(acme: ApiClient) -> None:
    response = acme.post("/api/v1/teams", {"name": "Closers", "description": "The best"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Closers"
    assert body["description"] == "The best"
    assert isinstance(body["id"], int)
    assert body["created_at"] and body["updated_at"]

    fetched = acme.get(f"/api/v1/teams/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_description_defaults_to_empty(acme: ApiClient) -> None:
    response = acme.post("/api/v1/teams", {"name": "Hunters"})
    assert response.status_code == 201
    assert response.json()["description"] == ""


def test_list_teams_is_paginated(acme: ApiClient) -> None:
    with in_tenant("acme"):
        TeamFactory.create_batch(3)
    response = acme.get("/api/v1/teams", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "page=2" in body["next"]

    second = acme.get("/api/v1/teams", {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    assert second["previous"] is not None
    ids = [t["id"] for t in body["results"] + second["results"]]
    assert ids == sorted(ids)


def test_list_teams_filters_by_name(acme: ApiClient) -> None:
    with in_tenant("acme"):
        TeamFactory.create(name="North Sales")
        TeamFactory.create(name="South Sales")
        TeamFactory.create(name="Support")
    response = acme.get("/api/v1/teams", {"name": "sales"})
    assert response.status_code == 200
    assert sorted(t["name"] for t in response.json()["results"]) == ["North Sales", "South Sales"]


def test_duplicate_team_name_is_a_409(acme: ApiClient) -> None:
    assert acme.post("/api/v1/teams", {"name": "Closers"}).status_code == 201
    assert_error(acme.post("/api/v1/teams", {"name": "Closers"}), 409, code="already_exists", attr="name")
    assert_error(acme.post("/api/v1/teams", {"name": "CLOSERS"}), 409, code="already_exists", attr="name")
    assert acme.get("/api/v1/teams").json()["count"] == 1


def test_renaming_a_team_to_a_taken_name_is_a_409(acme: ApiClient) -> None:
    with in_tenant("acme"):
        TeamFactory.create(name="Closers")
        other = TeamFactory.create(name="Hunters")
    response = acme.patch(f"/api/v1/teams/{other.pk}", {"name": "closers"})
    assert_error(response, 409, code="already_exists", attr="name")
    assert acme.get(f"/api/v1/teams/{other.pk}").json()["name"] == "Hunters"


def test_patch_changes_only_the_given_fields(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create(name="Closers", description="old")
    response = acme.patch(f"/api/v1/teams/{team.pk}", {"description": "new"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Closers"
    assert response.json()["description"] == "new"
    assert acme.get(f"/api/v1/teams/{team.pk}").json()["description"] == "new"


def test_put_replaces_a_team_and_accepts_its_read_only_fields_back(acme: ApiClient) -> None:
    created = acme.post("/api/v1/teams", {"name": "Closers", "description": "old"}).json()
    response = acme.put(f"/api/v1/teams/{created['id']}", {**created, "name": "Openers"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Openers"
    assert response.json()["id"] == created["id"]


def test_put_without_a_name_is_a_400(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
    assert_error(
        acme.put(f"/api/v1/teams/{team.pk}", {"description": "x"}), 400, code="required", attr="name"
    )


def test_create_team_requires_a_name(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/teams", {}), 400, code="required", attr="name")
    assert_error(acme.post("/api/v1/teams", {"name": ""}), 400, code="blank", attr="name")


def test_delete_team_answers_204_and_its_reps_stay_without_a_team(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create()
        rep = RepFactory.create(team=team)
    assert acme.get(f"/api/v1/reps/{rep.external_id}").json()["team"] == team.pk

    response = acme.delete(f"/api/v1/teams/{team.pk}")
    assert response.status_code == 204
    assert_error(acme.get(f"/api/v1/teams/{team.pk}"), 404, code="not_found")

    kept = acme.get(f"/api/v1/reps/{rep.external_id}")
    assert kept.status_code == 200
    assert kept.json()["team"] is None
    with in_tenant("acme"):
        assert Rep.objects.filter(pk=rep.pk, team__isnull=True).exists()
        assert not Team.objects.filter(pk=team.pk).exists()


def test_unknown_team_is_a_404(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/teams/999999"), 404, code="not_found")
    assert_error(acme.patch("/api/v1/teams/999999", {"name": "x"}), 404, code="not_found")
    assert_error(acme.delete("/api/v1/teams/999999"), 404, code="not_found")
    assert_error(acme.get("/api/v1/teams/not-a-number"), 404)
