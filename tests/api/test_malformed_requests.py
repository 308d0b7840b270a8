"""Malformed requests get the API's error shape, never Django's HTML pages, and log no traceback
(docs/security.md, "Malformed requests")."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World


@pytest.mark.parametrize(
    "host",
    [
        "acme.localhost:globex",
        "acme.localhost..",
        ".acme.localhost",
        "acme..localhost",
        "acme localhost",
        "acme.localhost:80:80",
        "acme.localhost/evil",
    ],
)
def test_a_malformed_host_is_a_json_400_logged_as_a_warning_at_most(
    world: World, db: None, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        answer = Client().get("/api/v1/reps", HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {world.acme.admin}")
    assert_error(answer, 400, "invalid_host")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert not any(r.exc_info for r in caplog.records)


def test_a_host_with_one_trailing_dot_is_the_same_host(world: World, acme: ApiClient) -> None:
    answer = ApiClient(world.acme.host + ".", world.acme.admin).get("/api/v1/reps")
    assert answer.status_code == 200


def test_a_host_with_a_port_is_the_same_host(world: World, acme: ApiClient) -> None:
    answer = ApiClient(world.acme.host + ":8000", world.acme.admin).get("/api/v1/reps")
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ('{"name": "k", "role": "read", "role": "admin"}', "role"),
        ('{"name": "k", "name": "k", "role": "read"}', "name"),
    ],
)
def test_a_key_given_twice_in_a_json_object_is_a_400(acme: ApiClient, body: str, attr: str) -> None:
    answer = acme.post("/api/v1/api-keys", body, raw=True)
    assert_error(answer, 400, "duplicate_key", attr=attr)


def test_a_duplicate_key_deep_in_a_batch_refuses_the_batch(acme: ApiClient) -> None:
    body = (
        '{"events": [{"id": "e1", "rep": "ann", "rep": "bob", "type": "post_published",'
        ' "occurred_at": "2026-03-10T10:00:00Z"}]}'
    )
    assert_error(acme.post("/api/v1/activities", body, raw=True), 400, "duplicate_key", attr="rep")


def test_the_same_key_in_two_objects_is_fine(acme: ApiClient) -> None:
    events = [
        {"id": f"e{i}", "rep": "ann", "type": "post_published", "occurred_at": "2026-03-10T10:00:00Z"}
        for i in range(2)
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 2
