"""Schema fuzzing (issue 6, part 1): schemathesis over every operation of ``/api/v1/schema/``.

Every operation is fuzzed with all of schemathesis' default checks (no server
error, documented status codes, content types and bodies, schema-valid data
accepted, schema-violating data rejected, ...) against the real app: the
Django WSGI handler in-process, on the real PostgreSQL, tenant operations on
acme's host with its admin key, platform operations on the platform host with
the platform key.

In-process rather than a live server: the requests run on the test's own
connection, so each example runs in a savepoint rolled back after it (a DELETE
or a new tenant of one example is gone before the next) and the whole module
leaves the shared ``acme``/``globex`` tenants as it found them; and it is
several times faster than HTTP to a server thread. The HTTP layer it skips
(gunicorn) is not ours.

Positive examples reach real objects: their path parameters are replaced by
those of one object of every kind (``tests.support.schema_objects``); negative ones keep
what was generated. ``FUZZ_EXAMPLES`` (default 10) sets the examples per
operation; the run is derandomized (same cases every run) so CI is
deterministic. ``make soak`` runs it with more.

Schema-valid data may still be refused for rules that OpenAPI cannot state
(a rep that must exist, ``from`` before ``to``, ...). ``SEMANTIC_ERRORS`` lists
them per operation by error code: a 400 on positive data passes only when
every error it carries is one of them; any other 400 fails as schemathesis'
``positive_data_acceptance`` would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.support.http import PLATFORM_HOST, ApiClient
from tests.support.schema_objects import Objects, make_objects, schema_document
from tests.support.tenants import World

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))

# The document /api/v1/schema/ serves (test_the_fuzzed_document_is_the_served_one checks it is).
DOCUMENT = schema_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = WSGIHandler()
schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)

CRITERIA_ERRORS = {"unknown_metric@criteria", "too_many_conditions@criteria", "too_many_windows@criteria"}
CONTEST_ERRORS = {
    "invalid@name",
    "unknown_metric@metric",
    "invalid@end_date",
    "invalid@target",
    "required@target",
    "invalid@aggregate",
    "required@aggregate",
    "invalid@participants",
    "unknown_team@participants",
    "unknown_rep@participants",
    "unknown_badge@prizes",
    "duplicate@prizes",
}
# A series: the contest's rules but its dates, and a first day that begins a season not over.
SERIES_ERRORS = (CONTEST_ERRORS - {"invalid@end_date"}) | {"invalid@starts_on"}
# A name of whitespace only, by Python's definition (wider than JSON Schema's `\s`: U+001C-U+001F).
BADGE_ERRORS = CRITERIA_ERRORS | {"invalid_type@name"}

# Rules of an operation that the schema cannot state, by the errors that name them:
# `code` (any field) or `code@attr` (that field, or a path under it).
SEMANTIC_ERRORS: dict[str, set[str]] = {
    # An event type the tenant does not have (its config decides); more conditions or windows in
    # the whole tree than allowed (the schema bounds each list only).
    "POST /api/v1/badges": BADGE_ERRORS | {"reserved@slug"},
    # ... and a badge's slug never changes.
    "PUT /api/v1/badges/{slug}": BADGE_ERRORS | {"immutable@slug"},
    "PATCH /api/v1/badges/{slug}": BADGE_ERRORS | {"immutable@slug"},
    # A preview refuses what creating or changing would (a change's errors under `changes.`).
    "POST /api/v1/badges/preview": BADGE_ERRORS
    | {"reserved@slug", "immutable@changes.slug"}
    | {f"{code}@changes.{attr}" for code, _, attr in (rule.partition("@") for rule in BADGE_ERRORS)},
    # The rep or team must exist, the metric be the tenant's, the end not before the start, an
    # aggregate only on team goals; a goal's rep or team never changes.
    "POST /api/v1/goals": {
        "unknown_rep@rep",
        "unknown_team@team",
        "unknown_metric@metric",
        "invalid@end_date",
        "invalid@aggregate",
    },
    "PATCH /api/v1/goals/{id}": {
        "immutable",
        "unknown_metric@metric",
        "invalid@end_date",
        "invalid@aggregate",
    },
    # Contests: the metric the tenant's, teams, reps and badges that exist, 2 distinct reps, a
    # name not only whitespace, the end within 366 days of the start, a target for races only,
    # an aggregate for teams contests only, one prize per rank (docs/contests.md).
    "POST /api/v1/contests": CONTEST_ERRORS,
    "PATCH /api/v1/contests/{id}": CONTEST_ERRORS,
    "POST /api/v1/contest-series": SERIES_ERRORS,
    "PATCH /api/v1/contest-series/{id}": SERIES_ERRORS,
    # Challenges: an admin key names the challenger (a rep token need not); both reps exist, are
    # active and differ; the metric is the tenant's (of the gains, ssi.gain); at most 31 days.
    "POST /api/v1/challenges": {
        "required@challenger",
        "unknown_rep@challenger",
        "inactive_rep@challenger",
        "unknown_rep@opponent",
        "inactive_rep@opponent",
        "invalid@opponent",
        "unknown_metric@metric",
        "invalid@end_date",
    },
    "GET /api/v1/leaderboards/{metric}": {"does_not_exist@team"},
    # A time zone name the tz database does not know (the schema states its format only).
    "PATCH /api/v1/platform/tenants/{slug}": {"immutable@slug", "invalid_timezone@timezone"},
    "POST /api/v1/platform/tenants": {"reserved_slug@slug", "invalid_timezone@timezone"},
    # purge=now: the slug repeated in confirm, which the schema cannot say.
    "DELETE /api/v1/platform/tenants/{slug}": {
        "confirmation_required@confirm",
        "confirmation_mismatch@confirm",
    },
    "POST /api/v1/rep-tokens": {"unknown_rep@rep"},
    "POST /api/v1/rep-tokens/revoke": {"unknown_rep@rep"},
    "POST /api/v1/reps": {"does_not_exist@team"},
    "PUT /api/v1/reps/{external_id}": {"immutable@external_id", "does_not_exist@team"},
    "PATCH /api/v1/reps/{external_id}": {"immutable@external_id", "does_not_exist@team"},
    "GET /api/v1/reps/{external_id}/ssi/history": {"invalid_range@from"},
    "GET /api/v1/reps/{external_id}/ssi/changes": {"invalid_range@from"},
    "POST /api/v1/scores/recompute": {"unknown_rep@reps", "in_future@date"},
    # max_points add up to 100; signal keys unique; custom types new, and declared before use.
    "PUT /api/v1/scoring-config": {"invalid_total@pillars", "duplicate", "unknown_event_type@pillars"},
    "POST /api/v1/scoring-config/preview": {
        "invalid_total@config.pillars",
        "duplicate",
        "unknown_rep@reps",
        "unknown_event_type@config.pillars",
    },
    # Thresholds start at 0 and increase; XP only for the tenant's event types.
    "PATCH /api/v1/settings": {
        "invalid@level_thresholds",
        "unknown_event_type@xp_per_type",
        "unknown_event_type@daily_caps",
        "invalid_timezone@timezone",
        # An origin's host and port (the schema states its outline), https but for localhost.
        "invalid_origin@embed_origins",
        "insecure_origin@embed_origins",
    },
    # The host must resolve (to public addresses, unless SSI_WEBHOOK_ALLOW_PRIVATE); a chat
    # format (slack, teams) takes the events it announces only, named (no "*").
    "POST /api/v1/webhooks": {"url_not_allowed@url", "chat_event_unsupported@events"},
    "PUT /api/v1/webhooks/{id}": {"url_not_allowed@url", "chat_event_unsupported@events"},
    "PATCH /api/v1/webhooks/{id}": {"url_not_allowed@url", "chat_event_unsupported@events"},
}


# Rules of every operation: a day between 1900-01-01 and 2999-12-31 (OpenAPI has no bounds
# for a date string).
EVERY_OPERATION = {"date_out_of_range"}


def _semantic(error: dict[str, Any], allowed: set[str]) -> bool:
    attr = error.get("attr") or ""
    for rule in allowed:
        code, _, prefix = rule.partition("@")
        if error["code"] == code and (not prefix or attr == prefix or attr.startswith(prefix + ".")):
            return True
    return False


def semantic_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' ``positive_data_acceptance``, except for a 400 whose errors are all SEMANTIC_ERRORS."""
    allowed = SEMANTIC_ERRORS.get(f"{case.method} {case.path}", set()) | EVERY_OPERATION
    if response.status_code == 400 and allowed:
        errors = json.loads(response.content)["errors"]
        if errors and all(_semantic(error, allowed) for error in errors):
            return None
    return positive_data_acceptance(ctx, response, case)


def batch_negative_data_rejection(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' ``negative_data_rejection``, except for a batch whose bad events are rejected.

    A batch is not refused for a bad event: the event is listed in ``rejected``
    (200) and the others are stored (docs/ingestion.md). So a schema-violating
    event is rejected when the answer lists it, not by a 400.
    """
    batch = f"{case.method} {case.path}" == "POST /api/v1/activities"
    if batch and response.status_code == 200 and json.loads(response.content)["rejected"]:
        return None
    return negative_data_rejection(ctx, response, case)


def _drops_authorization(case: Any) -> bool:
    """A negative case whose mutations removed the ``Authorization`` header: it must go without.

    schemathesis leaves such a header out itself only when the header is the one
    mutated location; with a query mutation beside it, ours would be sent again
    and the case would not be negative any more.
    """
    if case.meta is None or not case.meta.generation.mode.is_negative:
        return False
    if "Authorization" in (case.headers or {}):
        return False
    for mutation in getattr(case.meta.phase.data, "mutations", None) or []:
        original = mutation.original_value
        if mutation.parameter == "Authorization":
            return True
        if isinstance(original, list) and "Authorization" in original:
            return True
    return False


@pytest.fixture
def keep_the_test_transaction() -> Iterator[None]:
    """Django's test client does this too: a request must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def objects(world: World, db: None) -> Objects:
    return make_objects(world.acme)


def test_the_fuzzed_document_is_the_served_one(world: World, db: None) -> None:
    served = ApiClient(PLATFORM_HOST).get("/api/v1/schema/", {"format": "json"})
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(DOCUMENT, default=str))


@schema.parametrize()
@settings(
    deadline=None,
    database=None,  # derandomized: the same cases every run, nothing to remember between runs
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_survives_fuzzing(
    case: Any, world: World, objects: Objects, keep_the_test_transaction: None
) -> None:
    if case.path.startswith("/api/v1/platform/"):
        host, token = PLATFORM_HOST, world.platform_key
    else:
        host, token = world.acme.host, world.acme.admin
    if case.meta is not None and case.meta.generation.mode.is_positive and case.path_parameters:
        case.path_parameters.update(objects.path_parameters(case.path))
    headers = {} if _drops_authorization(case) else {"Authorization": f"Bearer {token}"}
    with transaction.atomic():
        try:
            case.call_and_validate(
                base_url=f"http://{host}",
                headers=headers,
                excluded_checks=[positive_data_acceptance, negative_data_rejection],
                additional_checks=[semantic_positive_data_acceptance, batch_negative_data_rejection],
            )
        finally:
            transaction.set_rollback(True)  # this example's writes go; the next one starts clean
