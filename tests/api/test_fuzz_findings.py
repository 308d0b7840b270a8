"""What the schema fuzz (``test_fuzz_schema.py``) found, one regression test each.

Each of these failed before its fix; the fuzz would find them again, but only
by chance and slowly, so they are pinned here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant


def test_a_criteria_op_that_is_not_a_string_is_a_400_not_a_500(acme: ApiClient) -> None:
    body = {"slug": "odd-op", "name": "Odd", "criteria": {"metric": "xp", "op": {}, "value": 1}}
    assert_error(acme.post("/api/v1/badges", body), 400, code="invalid_choice", attr="criteria.op")


def test_a_badge_slug_with_a_trailing_newline_is_refused(acme: ApiClient) -> None:
    # `$` matches before a final newline: "newline\n" passed the slug pattern and was stored.
    body = {"slug": "newline\n", "name": "N", "criteria": {"metric": "xp", "op": ">", "value": 1}}
    assert_error(acme.post("/api/v1/badges", body), 400, attr="slug")


def test_an_event_rep_with_a_trailing_newline_is_rejected_not_created(acme: ApiClient) -> None:
    event = {"id": "e-1", "rep": "crm-9\n", "type": "post_published", "occurred_at": "2026-01-01T10:00:00Z"}
    answer = acme.post("/api/v1/activities", {"events": [event]}).json()
    assert answer["accepted"] == 0 and answer["rejected"][0]["errors"][0]["attr"] == "rep", answer
    assert acme.get("/api/v1/reps").json()["count"] == 0


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "1.5", "null"])
@pytest.mark.parametrize("path", ["/api/v1/teams", "/api/v1/activities", "/api/v1/scores"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_a_400(
    acme: ApiClient, path: str, page_size: str
) -> None:
    # It used to be ignored: the default page came back, as if the client had asked for it.
    assert_error(acme.get(path, {"page_size": page_size, "date": "2026-01-01"}), 400, attr="page_size")


def test_a_page_size_over_the_maximum_is_capped(acme: ApiClient) -> None:
    assert acme.get("/api/v1/teams", {"page_size": "100000"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/activities", "since"),
        ("/api/v1/activities", "until"),
        ("/api/v1/awards", "since"),
        ("/api/v1/reps", "team"),
    ],
)
def test_an_empty_typed_filter_is_a_400_not_ignored(acme: ApiClient, path: str, param: str) -> None:
    assert_error(acme.get(path, {param: ""}), 400, attr=param)


def test_an_empty_text_filter_still_means_no_filter(acme: ApiClient) -> None:
    assert acme.get("/api/v1/reps", {"search": ""}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        ("/api/v1/teams", {"name": 0}, "name"),
        ("/api/v1/teams", {"name": "T", "description": 5}, "description"),
        ("/api/v1/reps", {"external_id": "r-1", "active": 0}, "active"),
        ("/api/v1/reps", {"external_id": "r-1", "active": "true"}, "active"),
        ("/api/v1/api-keys", {"name": 0, "role": "read"}, "name"),
        ("/api/v1/rep-tokens", {"rep": 5}, "rep"),
    ],
)
def test_a_json_value_of_the_wrong_type_is_a_400_not_coerced(
    acme: ApiClient, path: str, body: dict[str, Any], attr: str
) -> None:
    # DRF turned 0 into "0" or False; the schema says string / boolean.
    assert_error(acme.post(path, body), 400, code="invalid_type", attr=attr)


@pytest.mark.parametrize("value", ["1", "yes", "TRUE", ""])
def test_include_revoked_is_true_or_false(acme: ApiClient, value: str) -> None:
    assert_error(acme.get("/api/v1/api-keys", {"include_revoked": value}), 400, attr="include_revoked")


def test_an_empty_date_in_a_body_is_a_400_not_the_default_day(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/scores/recompute", {"date": ""}), 400, code="invalid_date", attr="date")


def test_an_empty_date_in_a_query_is_a_400(acme: ApiClient, world: World) -> None:
    with in_tenant("acme"):
        RepFactory.create(external_id="crm-1")
    assert_error(acme.get("/api/v1/reps/crm-1/ssi", {"date": ""}), 400, code="invalid_date", attr="date")


@pytest.mark.parametrize(
    ("path", "body", "attr"),
    [
        (
            "/api/v1/badges",
            {"slug": "nul", "name": "a\u0000b", "criteria": {"metric": "xp", "op": ">", "value": 1}},
            "name",
        ),
        ("/api/v1/goals", {"title": "G", "rep": "a\u0000", "metric": "ssi", "target": 1}, "rep"),
        ("/api/v1/scores/recompute", {"reps": ["ok", "a\u0000"]}, "reps.1"),
    ],
)
def test_text_with_a_nul_character_is_a_400_not_a_500(
    acme: ApiClient, path: str, body: dict[str, Any], attr: str
) -> None:
    # PostgreSQL cannot store U+0000: it reached the database and came back as a 500.
    assert_error(acme.post(path, body), 400, code="null_characters_not_allowed", attr=attr)


def test_a_nul_character_in_one_event_rejects_that_event_only(acme: ApiClient) -> None:
    events = [
        {"id": "ok-1", "rep": "r-1", "type": "post_published", "occurred_at": "2026-01-01T10:00:00Z"},
        {
            "id": "nul-1",
            "rep": "r-1",
            "type": "post_published",
            "occurred_at": "2026-01-01T10:00:00Z",
            "metadata": {"a": "\u0000"},
        },
    ]
    answer = acme.post("/api/v1/activities", {"events": events})
    assert answer.status_code == 200, answer.content
    assert answer.json()["accepted"] == 1 and [r["index"] for r in answer.json()["rejected"]] == [1]


@pytest.mark.parametrize("path", ["/api/v1/activities", "/api/v1/awards", "/api/v1/audit-log"])
@pytest.mark.parametrize(
    ("instant", "status"),
    [
        ("2026-01-01T00:00:00-18:46", 200),  # converted to UTC first
        ("0001-01-01T00:00:00+01:00", 400),  # before year 1 in UTC: out of range
    ],
)
def test_a_datetime_filter_with_an_offset_postgresql_refuses_is_not_a_500(
    acme: ApiClient, path: str, instant: str, status: int
) -> None:
    # PostgreSQL takes offsets up to ±15:59: "-18:46" (valid ISO 8601) reached it and was a 500.
    answer = acme.get(path, {"since": instant})
    assert answer.status_code == status, answer.content
    if status == 400:
        assert answer.json()["errors"][0]["attr"] == "since", answer.content
