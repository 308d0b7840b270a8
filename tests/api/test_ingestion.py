"""``POST /api/v1/activities`` (batch ingestion) and ``GET /api/v1/activities`` (the event log).

docs/ingestion.md: every event is validated on its own, valid ones are stored even when
others in the batch are rejected, a malformed envelope is a 400 that stores nothing, an
event id is stored once, and an ``Idempotency-Key`` replays the first answer.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import TenantKeys, World, in_tenant

URL = "/api/v1/activities"
WHEN = "2026-03-10T09:00:00+00:00"


def event(id: str = "e-1", **fields: Any) -> dict[str, Any]:
    """A valid event; ``fields`` override (``None`` drops the field)."""
    body: dict[str, Any] = {"id": id, "rep": "rep-1", "type": "post_published", "occurred_at": WHEN}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def ingest(client: ApiClient, *events: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.post(URL, {"events": list(events)}, headers=headers)


def stored(client: ApiClient, **filters: Any) -> list[dict[str, Any]]:
    response = client.get(URL, {"page_size": 1000, **filters})
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def stored_ids(client: ApiClient, **filters: Any) -> list[str]:
    return [a["id"] for a in stored(client, **filters)]


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The single rejected event's single error."""
    assert len(body["rejected"]) == 1, body
    errors = body["rejected"][0]["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


def set_auto_create(client: ApiClient, on: bool) -> None:
    response = client.patch("/api/v1/settings", {"auto_create_reps": on})
    assert response.status_code == 200, response.content
    assert response.json()["auto_create_reps"] is on


# --- the answer ------------------------------------------------------------------------------------


def test_a_valid_batch_answers_200_with_counts_and_the_events_are_stored(acme: ApiClient) -> None:
    response = ingest(acme, event("e-1"), event("e-2", type="post_liked", value=3))
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}

    rows = {a["id"]: a for a in stored(acme)}
    assert set(rows) == {"e-1", "e-2"}
    assert rows["e-1"]["rep"] == "rep-1"
    assert rows["e-1"]["type"] == "post_published"
    assert rows["e-1"]["value"] == 1
    assert rows["e-2"]["type"] == "post_liked"
    assert rows["e-2"]["value"] == 3


def test_value_and_metadata_are_stored_as_sent(acme: ApiClient) -> None:
    metadata = {"url": "https://example.com/p/1", "tags": ["a", "b"], "nested": {"n": 1}}
    response = ingest(acme, event("e-1", type="profile_updated", value=87.5, metadata=metadata))
    assert response.json()["accepted"] == 1
    (row,) = stored(acme)
    assert row["value"] == 87.5
    assert row["metadata"] == metadata


def test_a_rejected_event_names_its_index_id_and_errors_and_valid_events_are_still_stored(
    acme: ApiClient,
) -> None:
    response = ingest(acme, event("ok-1"), event("bad-1", type="nope"), event("ok-2"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 0
    assert body["rejected"] == [
        {
            "index": 1,
            "id": "bad-1",
            "errors": [
                {"code": "unknown_type", "detail": body["rejected"][0]["errors"][0]["detail"], "attr": "type"}
            ],
        }
    ]
    assert body["rejected"][0]["errors"][0]["detail"]
    assert sorted(stored_ids(acme)) == ["ok-1", "ok-2"]


# --- every per-event error -------------------------------------------------------------------------


def test_an_unknown_type_is_rejected(acme: ApiClient) -> None:
    error = only_error(ingest(acme, event(type="webinar_hosted")).json())
    assert (error["code"], error["attr"]) == ("unknown_type", "type")
    assert stored_ids(acme) == []


@pytest.mark.parametrize("occurred_at", ["yesterday", "2026-13-01T10:00:00Z", "2026-03-10T25:00:00Z", ""])
def test_a_timestamp_that_is_not_iso_8601_is_rejected(acme: ApiClient, occurred_at: str) -> None:
    error = only_error(ingest(acme, event(occurred_at=occurred_at)).json())
    assert (error["code"], error["attr"]) == ("invalid_timestamp", "occurred_at")
    assert stored_ids(acme) == []


@pytest.mark.parametrize("occurred_at", ["2026-03-10T09:00:00", "2026-03-10"])
def test_a_timestamp_without_a_time_zone_is_rejected(acme: ApiClient, occurred_at: str) -> None:
    error = only_error(ingest(acme, event(occurred_at=occurred_at)).json())
    assert (error["code"], error["attr"]) == ("naive_timestamp", "occurred_at")
    assert stored_ids(acme) == []


def test_an_event_more_than_5_minutes_in_the_future_is_rejected(acme: ApiClient) -> None:
    ahead = (timezone.now() + timedelta(minutes=6)).isoformat()
    error = only_error(ingest(acme, event(occurred_at=ahead)).json())
    assert (error["code"], error["attr"]) == ("in_future", "occurred_at")
    assert stored_ids(acme) == []


def test_an_event_4_minutes_in_the_future_is_accepted(acme: ApiClient) -> None:
    ahead = (timezone.now() + timedelta(minutes=4)).isoformat()
    assert ingest(acme, event(occurred_at=ahead)).json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert stored_ids(acme) == ["e-1"]


def test_the_future_limit_applies_to_the_instant_whatever_the_offset(acme: ApiClient) -> None:
    # 10 minutes ahead written with a +14:00 offset is still 10 minutes ahead.
    ahead = (timezone.now() + timedelta(minutes=10)).astimezone(ZoneInfo("Pacific/Kiritimati")).isoformat()
    error = only_error(ingest(acme, event(occurred_at=ahead)).json())
    assert error["code"] == "in_future"


@pytest.mark.parametrize("value", [-1, -0.01])
def test_a_negative_value_is_rejected(acme: ApiClient, value: float) -> None:
    error = only_error(ingest(acme, event(value=value)).json())
    assert (error["code"], error["attr"]) == ("invalid_value", "value")
    assert stored_ids(acme) == []


@pytest.mark.parametrize("value", ["12", True, False, [1], {"n": 1}])
def test_a_value_that_is_not_a_number_is_rejected(acme: ApiClient, value: Any) -> None:
    error = only_error(ingest(acme, event(value=value)).json())
    assert (error["code"], error["attr"]) == ("invalid_type", "value")
    assert stored_ids(acme) == []


def test_a_zero_value_is_accepted_and_a_missing_value_defaults_to_1(acme: ApiClient) -> None:
    response = ingest(acme, event("e-0", value=0), event("e-1"))
    assert response.json()["accepted"] == 2
    values = {a["id"]: a["value"] for a in stored(acme)}
    assert values == {"e-0": 0, "e-1": 1}


def test_an_unknown_rep_is_rejected_when_auto_create_is_off(acme: ApiClient) -> None:
    set_auto_create(acme, False)
    with in_tenant("acme"):
        RepFactory.create(external_id="known")
    body = ingest(acme, event("e-1", rep="ghost"), event("e-2", rep="known")).json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [0]
    assert body["rejected"][0]["id"] == "e-1"
    error = only_error(body)
    assert (error["code"], error["attr"]) == ("unknown_rep", "rep")
    assert stored_ids(acme) == ["e-2"]
    assert_error(acme.get("/api/v1/reps/ghost"), 404)


def test_an_unknown_rep_is_created_by_default(acme: ApiClient) -> None:
    assert_error(acme.get("/api/v1/reps/newbie"), 404)
    assert ingest(acme, event(rep="newbie")).json()["accepted"] == 1
    response = acme.get("/api/v1/reps/newbie")
    assert response.status_code == 200, response.content
    assert response.json()["external_id"] == "newbie"
    assert response.json()["active"] is True


def test_metadata_over_4_kb_is_rejected(acme: ApiClient) -> None:
    error = only_error(ingest(acme, event(metadata={"blob": "x" * 4100})).json())
    assert (error["code"], error["attr"]) == ("metadata_too_large", "metadata")
    assert stored_ids(acme) == []


def test_metadata_of_exactly_4096_bytes_is_accepted(acme: ApiClient) -> None:
    metadata = {"b": "x" * (4096 - len('{"b":""}'))}
    assert len(json.dumps(metadata, separators=(",", ":")).encode()) == 4096
    assert ingest(acme, event(metadata=metadata)).json()["accepted"] == 1


@pytest.mark.parametrize("field", ["id", "rep", "type", "occurred_at"])
def test_a_missing_required_field_is_rejected(acme: ApiClient, field: str) -> None:
    raw = event()
    del raw[field]
    error = only_error(ingest(acme, raw).json())
    assert (error["code"], error["attr"]) == ("required", field)
    assert stored_ids(acme) == []


def test_an_unknown_field_in_an_event_is_rejected(acme: ApiClient) -> None:
    error = only_error(ingest(acme, event(colour="blue")).json())
    assert (error["code"], error["attr"]) == ("unknown_field", "colour")
    assert stored_ids(acme) == []


def test_every_problem_of_one_event_is_listed(acme: ApiClient) -> None:
    raw = {"id": "e-1", "rep": "rep-1", "type": "nope", "occurred_at": "later", "value": -5, "colour": 1}
    body = ingest(acme, raw, event("e-2")).json()
    assert body["accepted"] == 1
    (rejected,) = body["rejected"]
    assert (rejected["index"], rejected["id"]) == (0, "e-1")
    assert sorted((e["code"], e["attr"]) for e in rejected["errors"]) == [
        ("invalid_timestamp", "occurred_at"),
        ("invalid_value", "value"),
        ("unknown_field", "colour"),
        ("unknown_type", "type"),
    ]
    for error in rejected["errors"]:
        assert set(error) == {"code", "detail", "attr"}
        assert error["detail"]


def test_a_missing_event_lists_every_required_field(acme: ApiClient) -> None:
    body = ingest(acme, {}).json()
    (rejected,) = body["rejected"]
    assert rejected["id"] is None
    assert sorted((e["code"], e["attr"]) for e in rejected["errors"]) == [
        ("required", "id"),
        ("required", "occurred_at"),
        ("required", "rep"),
        ("required", "type"),
    ]


def test_an_unknown_rep_is_listed_with_the_events_other_problems(acme: ApiClient) -> None:
    set_auto_create(acme, False)
    body = ingest(acme, event(rep="ghost", value=-1)).json()
    (rejected,) = body["rejected"]
    assert sorted((e["code"], e["attr"]) for e in rejected["errors"]) == [
        ("invalid_value", "value"),
        ("unknown_rep", "rep"),
    ]


def test_rejected_events_of_a_batch_are_listed_in_batch_order(acme: ApiClient) -> None:
    set_auto_create(acme, False)
    with in_tenant("acme"):
        RepFactory.create(external_id="rep-1")
    body = ingest(
        acme,
        event("e-0", rep="ghost"),  # rejected after validation
        event("e-1", type="nope"),  # rejected by validation
        event("e-2"),
        event("e-3", rep="ghost-2"),
    ).json()
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [(0, "e-0"), (1, "e-1"), (3, "e-3")]
    assert body["accepted"] == 1


# --- the envelope ----------------------------------------------------------------------------------


def assert_nothing_stored(client: ApiClient) -> None:
    assert stored_ids(client) == []
    assert_error(client.get("/api/v1/reps/rep-1"), 404)


def test_a_body_that_is_not_json_is_a_400_and_stores_nothing(acme: ApiClient) -> None:
    text = '{"events": [' + json.dumps(event()) + "]"  # the closing brace is missing
    assert_error(acme.post(URL, text, raw=True), 400)
    assert_nothing_stored(acme)


def test_a_body_that_is_not_an_object_is_a_400_and_stores_nothing(acme: ApiClient) -> None:
    assert_error(acme.post(URL, [event()]), 400)
    assert_nothing_stored(acme)


def test_a_body_without_events_is_a_400_and_stores_nothing(acme: ApiClient) -> None:
    assert_error(acme.post(URL, {}), 400, attr="events")
    assert_error(acme.post(URL, {"event": [event()]}), 400)
    assert_nothing_stored(acme)


@pytest.mark.parametrize("events", [{"0": "x"}, "e-1", None, 3])
def test_events_that_are_not_a_list_are_a_400_and_store_nothing(acme: ApiClient, events: Any) -> None:
    assert_error(acme.post(URL, {"events": events}), 400, attr="events")
    assert_nothing_stored(acme)


def test_1001_events_are_a_400_batch_too_large_and_store_nothing(acme: ApiClient) -> None:
    response = ingest(acme, *(event(f"e-{i}") for i in range(1001)))
    assert_error(response, 400, code="batch_too_large", attr="events")
    assert_nothing_stored(acme)


def test_exactly_1000_events_are_accepted(acme: ApiClient) -> None:
    response = ingest(acme, *(event(f"e-{i}") for i in range(1000)))
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"accepted": 1000, "duplicates": 0, "rejected": []}
    assert len(stored_ids(acme)) == 1000


def test_an_empty_batch_is_accepted_and_stores_nothing(acme: ApiClient) -> None:
    assert ingest(acme).json() == {"accepted": 0, "duplicates": 0, "rejected": []}


# --- duplicates ------------------------------------------------------------------------------------


def test_the_same_batch_posted_twice_is_stored_once(acme: ApiClient) -> None:
    batch = [event(f"e-{i}") for i in range(3)]
    assert ingest(acme, *batch).json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert ingest(acme, *batch).json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert sorted(stored_ids(acme)) == ["e-0", "e-1", "e-2"]


def test_an_id_repeated_inside_one_batch_is_stored_once(acme: ApiClient) -> None:
    body = ingest(acme, event("e-1"), event("e-2"), event("e-1", type="post_liked")).json()
    assert body == {"accepted": 2, "duplicates": 1, "rejected": []}
    rows = stored(acme)
    assert sorted(a["id"] for a in rows) == ["e-1", "e-2"]
    # The first one counts.
    assert next(a for a in rows if a["id"] == "e-1")["type"] == "post_published"


def test_a_batch_mixing_new_and_seen_events_counts_both(acme: ApiClient) -> None:
    ingest(acme, event("e-1"))
    assert ingest(acme, event("e-1"), event("e-2")).json() == {"accepted": 1, "duplicates": 1, "rejected": []}


# --- Idempotency-Key -------------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replay_the_first_answer(acme: ApiClient) -> None:
    batch = [event("e-1"), event("e-2", type="nope")]
    headers = {"Idempotency-Key": "batch-42"}
    first = ingest(acme, *batch, headers=dict(headers))
    assert first.status_code == 200
    assert first.json()["accepted"] == 1
    assert not first.has_header("Idempotent-Replayed")

    second = ingest(acme, *batch, headers=dict(headers))
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    # A second run would have said "duplicates: 1"; the replay says what the first said.
    assert second.json() == first.json()
    assert stored_ids(acme) == ["e-1"]


def test_a_replayed_answer_is_the_first_answer_byte_for_byte(acme: ApiClient) -> None:
    batch = [event("e-1"), event("e-2", type="nope")]
    first = ingest(acme, *batch, headers={"Idempotency-Key": "batch-42"})
    second = ingest(acme, *batch, headers={"Idempotency-Key": "batch-42"})
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content


def test_the_same_idempotency_key_with_another_body_is_a_422(acme: ApiClient) -> None:
    assert ingest(acme, event("e-1"), headers={"Idempotency-Key": "k-1"}).status_code == 200
    response = ingest(acme, event("e-2"), headers={"Idempotency-Key": "k-1"})
    assert_error(response, 422, code="idempotency_key_reused")
    assert stored_ids(acme) == ["e-1"]


def test_idempotency_keys_are_per_api_key(world: World, acme: ApiClient) -> None:
    integration = ApiClient(world.acme.host, world.acme.integration)
    assert ingest(acme, event("e-1"), headers={"Idempotency-Key": "shared"}).json()["accepted"] == 1
    # Another key, the same Idempotency-Key, another body: not a reuse, a request of its own.
    other = ingest(integration, event("e-2"), headers={"Idempotency-Key": "shared"})
    assert other.status_code == 200, other.content
    assert not other.has_header("Idempotent-Replayed")
    assert other.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    # And the same body under another key is run again (so: a duplicate), not replayed.
    again = ingest(integration, event("e-1"), headers={"Idempotency-Key": "other"})
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert sorted(stored_ids(acme)) == ["e-1", "e-2"]


def test_an_envelope_error_is_not_remembered_under_its_idempotency_key(acme: ApiClient) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    assert_error(acme.post(URL, {"events": "oops"}, headers=dict(headers)), 400)
    # The client fixes its body and retries with the same key: it runs, no 422.
    response = ingest(acme, event("e-1"), headers=dict(headers))
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1


def test_without_an_idempotency_key_a_repeat_is_answered_afresh(acme: ApiClient) -> None:
    ingest(acme, event("e-1"))
    response = ingest(acme, event("e-1"))
    assert not response.has_header("Idempotent-Replayed")
    assert response.json() == {"accepted": 0, "duplicates": 1, "rejected": []}


# --- custom event types ----------------------------------------------------------------------------


def test_a_custom_event_type_becomes_accepted_once_it_is_in_the_scoring_config(acme: ApiClient) -> None:
    first = ingest(acme, event("e-1", type="webinar_hosted")).json()
    assert only_error(first)["code"] == "unknown_type"

    config = acme.get("/api/v1/scoring-config").json()
    body = {k: v for k, v in config.items() if k not in ("version", "created_at")}
    body["custom_event_types"] = [{"name": "webinar_hosted", "xp": 10}]
    response = acme.put("/api/v1/scoring-config", body)
    assert response.status_code == 200, response.content

    assert ingest(acme, event("e-1", type="webinar_hosted")).json() == {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
    }
    assert stored(acme)[0]["type"] == "webinar_hosted"


# --- roles -----------------------------------------------------------------------------------------


def test_a_read_key_cannot_ingest(world: World, acme: ApiClient) -> None:
    reader = ApiClient(world.acme.host, world.acme.read)
    assert_error(ingest(reader, event()), 403, code="permission_denied")
    assert stored_ids(acme) == []


def test_an_integration_key_can_ingest(world: World, acme: ApiClient) -> None:
    integration = ApiClient(world.acme.host, world.acme.integration)
    assert ingest(integration, event()).json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert stored_ids(acme) == ["e-1"]


@pytest.mark.parametrize("role", ["admin", "integration", "read"])
def test_every_key_can_read_the_event_log(world: World, acme: ApiClient, role: str) -> None:
    ingest(acme, event())
    response = ApiClient(world.acme.host, getattr(world.acme, role)).get(URL)
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == ["e-1"]


def test_ingestion_without_a_token_is_a_401(world: World, acme: ApiClient) -> None:
    assert_error(ingest(ApiClient(world.acme.host), event()), 401)
    assert stored_ids(acme) == []


# --- GET /api/v1/activities ------------------------------------------------------------------------


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_event_log_is_cursor_paginated_newest_first(acme: ApiClient) -> None:
    ingest(acme, *(event(f"e-{i}") for i in range(5)))
    first = acme.get(URL, {"page_size": 2})
    assert first.status_code == 200
    page = first.json()
    assert set(page) == {"next", "previous", "results"}
    assert [a["id"] for a in page["results"]] == ["e-4", "e-3"]
    assert page["previous"] is None
    assert page["next"] is not None

    second = acme.client.get(relative(page["next"]), **acme._extra(None)).json()
    assert [a["id"] for a in second["results"]] == ["e-2", "e-1"]
    assert second["previous"] is not None

    third = acme.client.get(relative(second["next"]), **acme._extra(None)).json()
    assert [a["id"] for a in third["results"]] == ["e-0"]
    assert third["next"] is None


def test_each_event_in_the_log_has_the_documented_fields(acme: ApiClient) -> None:
    ingest(acme, event(metadata={"k": "v"}))
    (row,) = stored(acme)
    assert set(row) >= {"id", "rep", "type", "occurred_at", "local_day", "value", "metadata"}
    assert row["ingested_at"]


def test_the_event_log_filters_by_rep_and_type(acme: ApiClient) -> None:
    ingest(
        acme,
        event("a-post", rep="ann"),
        event("a-like", rep="ann", type="post_liked"),
        event("b-post", rep="bob"),
    )
    assert sorted(stored_ids(acme, rep="ann")) == ["a-like", "a-post"]
    assert stored_ids(acme, type="post_liked") == ["a-like"]
    assert stored_ids(acme, rep="bob", type="post_published") == ["b-post"]
    assert stored_ids(acme, rep="nobody") == []


def test_the_event_log_filters_by_since_and_until(acme: ApiClient) -> None:
    ingest(
        acme,
        event("e-08", occurred_at="2026-03-10T08:00:00Z"),
        event("e-10", occurred_at="2026-03-10T10:00:00Z"),
        event("e-12", occurred_at="2026-03-10T12:00:00Z"),
    )
    assert sorted(stored_ids(acme, since="2026-03-10T09:00:00Z")) == ["e-10", "e-12"]
    assert sorted(stored_ids(acme, until="2026-03-10T11:00:00Z")) == ["e-08", "e-10"]
    assert stored_ids(acme, since="2026-03-10T09:00:00Z", until="2026-03-10T11:00:00Z") == ["e-10"]
    # since is inclusive; an offset names the same instant.
    assert stored_ids(acme, since="2026-03-10T13:00:00+01:00") == ["e-12"]


def test_a_bad_since_is_a_400_naming_it(acme: ApiClient) -> None:
    assert_error(acme.get(URL, {"since": "not-a-time"}), 400, attr="since")


def test_local_day_is_the_day_in_the_tenants_time_zone(acme: ApiClient) -> None:
    # acme is Europe/Berlin (UTC+1 in March): 23:30 UTC is already the next day there.
    ingest(
        acme,
        event("late", occurred_at="2026-03-09T23:30:00Z"),
        event("early", occurred_at="2026-03-09T22:30:00Z"),
        event("offset", occurred_at="2026-03-10T00:30:00+01:00"),
    )
    days = {a["id"]: a["local_day"] for a in stored(acme)}
    assert days == {"late": "2026-03-10", "early": "2026-03-09", "offset": "2026-03-10"}


def test_local_day_follows_summer_time(acme: ApiClient) -> None:
    # Berlin is UTC+2 in July: 22:30 UTC is 00:30 the next day.
    ingest(acme, event("summer", occurred_at="2026-07-01T22:30:00Z"))
    assert stored(acme)[0]["local_day"] == "2026-07-02"


def test_local_day_of_another_tenant_uses_its_own_time_zone(globex: ApiClient) -> None:
    # globex is America/New_York (UTC-4 on 2026-03-10, after the US switch on March 8).
    ingest(globex, event("ny", occurred_at="2026-03-10T02:30:00Z"))
    assert stored(globex)[0]["local_day"] == "2026-03-09"


def test_a_time_zone_change_by_the_platform_re_dates_stored_events(
    acme: ApiClient, platform: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    ingest(acme, event("late", occurred_at="2026-03-09T23:30:00Z"))
    assert stored(acme)[0]["local_day"] == "2026-03-10"
    with django_capture_on_commit_callbacks(execute=True):
        response = platform.patch("/api/v1/platform/tenants/acme", {"timezone": "UTC"})
    assert response.status_code == 200, response.content
    assert acme.get("/api/v1/settings").json()["timezone"] == "UTC"
    assert stored(acme)[0]["local_day"] == "2026-03-09"


# --- what runs after the ingest commits ------------------------------------------------------------

# A statement PostgreSQL refuses (a target list over 1,664 entries): what a badge's metrics query
# too wide once did in the evaluation that follows an ingest.
TOO_MANY_COLUMNS = "SELECT " + ", ".join(["1"] * 1700)


def _refused(*args: Any, **kwargs: Any) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(TOO_MANY_COLUMNS)


@pytest.mark.parametrize("step", ["badge evaluation", "webhook dispatch"])
def test_a_step_failing_after_the_ingest_committed_leaves_its_200_and_its_events(
    committed_tenant: TenantKeys, monkeypatch: Any, caplog: Any, step: str
) -> None:
    """The events are stored: an error answer would make the client send them again. The step
    (run eagerly here, as ``CELERY_TASK_ALWAYS_EAGER`` does) fails in the log instead."""
    import gamification.tasks
    import gamification.webhooks.tasks

    client = ApiClient(committed_tenant.host, committed_tenant.admin)
    if step == "badge evaluation":
        monkeypatch.setattr(gamification.tasks, "pending_evaluate", _refused)
    else:  # a level-up at the first event: its outbox event is dispatched after the commit
        assert client.patch("/api/v1/settings", {"level_thresholds": [0, 1]}).status_code == 200
        monkeypatch.setattr(gamification.webhooks.tasks.services, "outbox_dispatch", _refused)
    events = [event(f"after-{i}", occurred_at=timezone.now().isoformat()) for i in range(3)]

    response = ingest(client, *events)

    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert sorted(stored_ids(client)) == ["after-0", "after-1", "after-2"]
    assert "target lists can have at most 1664 entries" in caplog.text
    assert ingest(client, *events).json() == {"accepted": 0, "duplicates": 3, "rejected": []}
