"""Input PostgreSQL or the answer cannot hold is refused where it is, never a 500
(docs/security.md "Malformed requests", docs/ingestion.md "Per-event errors"): a lone
surrogate in any text (``"\\ud800"``: no UTF-8 form), a number no 64-bit float holds (a
400-digit integer, ``1e400``). In a batch of events it rejects that event only; in any other
body it is a 400 naming the value; in a URL it never reaches the database.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.renderers import JSONRenderer

from api.errors import exception_handler
from core.errors import ValidationFailed
from scoring.services.ingest import MAX_EVENT_VALUE
from tests.support.http import ApiClient, assert_error
from tests.support.schema_objects import Objects, schema_document, schema_operations, write_bodies

GOOD = {"id": "good-1", "rep": "r-1", "type": "post_published", "occurred_at": "2026-01-01T10:00:00Z"}
LONE = "\ud800"  # json.dumps writes it as the escape \ud800, as a client would
HUGE_INT = 10**400 - 1
SURROGATE = "surrogate_characters_not_allowed"
WRITES = [(m, p) for m, p in schema_operations() if m in ("POST", "PUT", "PATCH")]
PLATFORM_BODIES = {
    ("POST", "/api/v1/platform/tenants"): {"slug": "hooli", "name": "Hooli", "timezone": "UTC"},
    ("PATCH", "/api/v1/platform/tenants/{slug}"): {"name": "Acme", "rate_limit_per_minute": 100},
    ("POST", "/api/v1/platform/tenants/{slug}/restore"): {},
}


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    """The probes below send a few thousand requests with one key in a minute: not what the
    key's rate limit (6000 a minute) is for, nor what they test."""
    settings.SSI_RATE_LIMIT_PER_MINUTE = 0


def _batch(acme: ApiClient, bad_event: str) -> dict[str, Any]:
    """Post GOOD and ``bad_event`` (JSON text): 200, GOOD stored, the bad one rejected alone."""
    body = f'{{"events": [{json.dumps(GOOD)}, {bad_event}]}}'
    answer = acme.post("/api/v1/activities", body, raw=True)
    assert answer.status_code == 200, answer.content
    result: dict[str, Any] = answer.json()
    assert result["accepted"] == 1, result
    assert [item["index"] for item in result["rejected"]] == [1], result
    return result


def _event(**fields: Any) -> str:
    return json.dumps({**GOOD, "id": "bad-1", **fields})


@pytest.mark.parametrize(
    ("event", "code", "attr"),
    [
        (_event(id=LONE), "surrogate_characters_not_allowed", "id"),
        (_event(id=f"crm-{LONE}-1"), "surrogate_characters_not_allowed", "id"),
        (_event(rep=f"ann{LONE}"), "surrogate_characters_not_allowed", "rep"),
        (_event(type=LONE), "surrogate_characters_not_allowed", "type"),
        (_event(metadata={"a": LONE}), "surrogate_characters_not_allowed", "metadata"),
        (_event(metadata={LONE: 1}), "surrogate_characters_not_allowed", "metadata"),
        (_event(metadata={"a": [{"b": f"x{chr(0xDFFF)}"}]}), "surrogate_characters_not_allowed", "metadata"),
        (_event(**{LONE: 1}), "unknown_field", "\\ud800"),
        (_event(value=HUGE_INT), "value_too_large", "value"),
        (_event(value=-HUGE_INT), "invalid_value", "value"),
        (_event(value=1e308), "value_too_large", "value"),
        (_event(value=MAX_EVENT_VALUE + 1), "value_too_large", "value"),
        (_event(value="__").replace('"__"', "1e400"), "invalid_value", "value"),
        (_event(metadata={"a": "__"}).replace('"__"', "1e400"), "number_out_of_range", "metadata"),
    ],
)
def test_an_event_holding_what_cannot_be_stored_is_rejected_alone(
    acme: ApiClient, event: str, code: str, attr: str
) -> None:
    rejected = _batch(acme, event)["rejected"][0]
    assert [(e["code"], e["attr"]) for e in rejected["errors"]] == [(code, attr)], rejected


def test_a_rejected_id_with_a_lone_surrogate_is_shown_as_its_escape(acme: ApiClient) -> None:
    assert _batch(acme, _event(id=f"crm-{LONE}"))["rejected"][0]["id"] == "crm-\\ud800"


def test_a_full_batch_at_the_maximum_value_is_stored(acme: ApiClient) -> None:
    # Two values near 1.8e308 on one day would overflow the rollup's float8 total (a 500, then
    # for every later batch of that rep, type and day); 1000 at the maximum add up exactly.
    events = [{**GOOD, "id": f"max-{i}", "value": MAX_EVENT_VALUE} for i in range(1000)]
    answer = acme.post("/api/v1/activities", {"events": events})
    assert answer.json() == {"accepted": 1000, "duplicates": 0, "rejected": []}, answer.content[:300]


def test_a_negative_zero_value_is_stored_as_zero(acme: ApiClient) -> None:
    answer = acme.post("/api/v1/activities", {"events": [{**GOOD, "id": "zero-1", "value": -0.0}]})
    assert answer.json()["accepted"] == 1
    listed = acme.get("/api/v1/activities", {"rep": "r-1"}).json()["results"]
    assert [(a["id"], json.dumps(a["value"])) for a in listed] == [("zero-1", "0.0")]


def test_nan_and_infinity_are_not_json_the_whole_body_is_a_400(acme: ApiClient) -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = '{"events": [' + _event(value="__").replace('"__"', literal) + "]}"
        assert_error(acme.post("/api/v1/activities", body, raw=True), 400, "parse_error")


def test_a_surrogate_pair_is_one_character_and_is_stored(acme: ApiClient) -> None:
    smile = "\U0001f600"  # json.dumps writes the pair \ud83d\ude00
    answer = acme.post("/api/v1/activities", {"events": [{**GOOD, "id": f"pair-{smile}"}]})
    assert answer.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert acme.post("/api/v1/teams", {"name": f"Team {smile}"}).status_code == 201


def test_a_lone_surrogate_outside_the_events_refuses_the_batch(acme: ApiClient) -> None:
    body = '{"events": [], "\\ud800": 1}'
    assert_error(acme.post("/api/v1/activities", body, raw=True), 400, "unknown_field", "\\ud800")


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) of a JSON document that is not an object or a list."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path, node


def _keys(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every object key of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _keys(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _keys(value, (*path, index))


def _with_leaf(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(body)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def _with_key(body: Any, path: tuple[Any, ...], key: str) -> Any:
    changed = copy.deepcopy(body)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[key] = node.pop(path[-1])
    return changed


def _send(client: ApiClient, method: str, url: str, text: str) -> Any:
    return getattr(client, method.lower())(url, text, raw=True)


def _refused(answer: Any, path: str, code: str, event_codes: set[str]) -> None:
    """A 400 ``code`` naming ``path``; in a batch of events, that event rejected with one of
    ``event_codes``."""
    if path.startswith("events.0."):
        assert answer.status_code == 200, answer.content
        errors = answer.json()["rejected"][0]["errors"]
        assert event_codes & {e["code"] for e in errors}, (path, errors)
    else:
        assert_error(answer, 400, code, path)


@pytest.fixture
def write_request(
    request: pytest.FixtureRequest,
    acme: ApiClient,
    platform: ApiClient,
    acme_objects: Objects,
    scoring_config: dict[str, Any],
) -> tuple[ApiClient, str, Any]:
    """(client, URL, valid body) of the test's write (its ``method`` and ``path`` parameters)."""
    method, path = request.node.callspec.params["method"], request.node.callspec.params["path"]
    url = path.format(**acme_objects.path_parameters(path))
    if path.startswith("/api/v1/platform/"):
        return platform, url, PLATFORM_BODIES[(method, path)]
    return acme, url, write_bodies(acme_objects, scoring_config)[(method, path)]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_a_lone_surrogate_in_any_text_of_any_body_is_refused_by_name(
    write_request: tuple[ApiClient, str, Any], method: str, path: str
) -> None:
    client, url, body = write_request
    # A timestamp holding one is no timestamp; ingestion checks the envelope's field names
    # itself (its events are checked one by one, not by the parser).
    in_event = {SURROGATE, "invalid_timestamp"}
    key_code = "unknown_field" if path == "/api/v1/activities" else SURROGATE
    for where, value in _leaves(body):
        if isinstance(value, str):
            answer = _send(client, method, url, json.dumps(_with_leaf(body, where, value + LONE)))
            _refused(answer, ".".join(map(str, where)), SURROGATE, in_event)
    for where in _keys(body):
        answer = _send(client, method, url, json.dumps(_with_key(body, where, f"{where[-1]}{LONE}")))
        dotted = ".".join(map(str, [*where[:-1], f"{where[-1]}\\ud800"]))
        _refused(answer, dotted, key_code, {"unknown_field"})


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
@pytest.mark.parametrize("literal", [str(HUGE_INT), "1e400", "-1e400"])
def test_a_number_beyond_a_float_in_any_body_is_refused_by_name(
    write_request: tuple[ApiClient, str, Any], method: str, path: str, literal: str
) -> None:
    client, url, body = write_request
    for where, value in _leaves(body):
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = json.dumps(_with_leaf(body, where, "__number__")).replace('"__number__"', literal)
            answer = _send(client, method, url, text)
            event_code = "value_too_large" if literal == str(HUGE_INT) else "invalid_value"
            _refused(answer, ".".join(map(str, where)), "number_out_of_range", {event_code})


def test_every_write_with_a_body_has_text_or_numbers_to_probe(
    acme_objects: Objects, scoring_config: dict[str, Any]
) -> None:
    bodies = {**write_bodies(acme_objects, scoring_config), **PLATFORM_BODIES}
    empty = [(m, p) for m, p in WRITES if not list(_leaves(bodies[(m, p)] or {}))]
    # These take an empty body (or none): nothing in them to spoil.
    assert set(empty) <= {
        ("POST", "/api/v1/scores/recompute"),
        ("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver"),
        ("POST", "/api/v1/members/{id}/invite"),
        ("POST", "/api/v1/contests/{id}/cancel"),
        ("POST", "/api/v1/challenges/{id}/accept"),
        ("POST", "/api/v1/challenges/{id}/decline"),
        ("POST", "/api/v1/exports"),
        ("POST", "/api/v1/platform/tenants/{slug}/restore"),
    }, empty


def _get_operations() -> list[tuple[str, str]]:
    return [(m, p) for m, p in schema_operations() if m == "GET" and not p.startswith("/api/v1/platform/")]


@pytest.mark.parametrize("value", ["%ED%A0%80", "a%ED%B0%80b", "%5Cud800", "9" * 400, "1e400"])
def test_a_lone_surrogate_or_a_huge_number_in_any_query_parameter_is_not_a_500(
    acme: ApiClient, acme_objects: Objects, value: str
) -> None:
    # UTF-8 bytes of a surrogate (ED A0 80) are not UTF-8: Django decodes them to U+FFFD.
    for _method, path in _get_operations():
        url = path.format(**acme_objects.path_parameters(path))
        operation = schema_document()["paths"][path]["get"]
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                answer = acme.client.get(f"{url}?{parameter['name']}={value}", **acme._extra(None))
                assert answer.status_code < 500, (path, parameter["name"], answer.content[:300])


@pytest.mark.parametrize("segment", ["%ED%A0%80", "ann%ED%A0%80", "9" * 400])
def test_a_lone_surrogate_or_a_huge_number_in_a_path_is_not_a_500(
    acme: ApiClient, acme_objects: Objects, segment: str
) -> None:
    for _method, path in _get_operations():
        parameters = acme_objects.path_parameters(path)
        for name in parameters:
            url = path.format(**{**parameters, name: segment})
            answer = acme.client.get(url, **acme._extra(None))
            assert answer.status_code < 500, (url, answer.content[:300])
            if answer.status_code >= 400:
                assert_error(answer, answer.status_code)


def test_an_error_repeating_a_lone_surrogate_still_renders() -> None:
    # Any error repeating what the client sent (an unknown field's name, a wrong choice) is
    # rendered as UTF-8, which a lone surrogate does not have.
    refused = ValidationFailed(f"Not a choice: {LONE}.", code="invalid_choice", attr=f"a{LONE}")
    answer = exception_handler(refused, {})
    assert json.loads(JSONRenderer().render(answer.data))["errors"][0] == {
        "code": "invalid_choice",
        "detail": "Not a choice: \\ud800.",
        "attr": "a\\ud800",
    }
