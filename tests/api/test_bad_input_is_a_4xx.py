"""Input the API cannot use is a 4xx in the error shape, never a 500 (docs/security.md,
"Malformed requests"): NUL in the URL, days out of range, a fractional id, a bad ``format``."""

from __future__ import annotations

import pytest

from core.clock import EARLIEST_DAY, LATEST_DAY, parse_date
from core.errors import ValidationFailed
from tests.support.http import ApiClient, assert_error


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reps/%00",
        "/api/v1/reps/%00/ssi",
        "/api/v1/reps/%00/ssi/history",
        "/api/v1/reps/%00/ssi/explain",
        "/api/v1/reps/%00/badges",
        "/api/v1/reps/ann%00/ssi",
        "/api/v1/badges/%00",
        "/api/v1/leaderboards/%00",
    ],
)
def test_nul_in_the_path_is_a_404(acme: ApiClient, path: str) -> None:
    assert_error(acme.client.get(path, **acme._extra(None)), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/activities", "rep=%00"),
        ("/api/v1/goals", "rep=a%00b"),
        ("/api/v1/awards", "badge=%00"),
        ("/api/v1/audit-log", "target_id=%00"),
    ],
)
def test_nul_in_the_query_is_a_400_naming_the_parameter(acme: ApiClient, path: str, query: str) -> None:
    answer = acme.client.get(f"{path}?{query}", **acme._extra(None))
    assert_error(answer, 400, "null_characters_not_allowed", query.split("=")[0])


@pytest.mark.parametrize(
    "query",
    [
        {"period": "week", "date": "9999-12-31"},
        {"period": "month", "date": "9999-12-31"},
        {"period": "week", "date": "0001-01-01"},
    ],
)
def test_a_leaderboard_day_out_of_range_is_a_400(acme: ApiClient, query: dict[str, str]) -> None:
    assert_error(acme.get("/api/v1/leaderboards/xp", query), 400, "date_out_of_range", "date")


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_recomputing_a_day_out_of_range_is_a_400(acme: ApiClient, day: str) -> None:
    assert_error(acme.post("/api/v1/scores/recompute", {"date": day}), 400, "date_out_of_range", "date")


@pytest.mark.parametrize("path", ["/api/v1/scores", "/api/v1/reps/ann/ssi/history"])
def test_read_days_out_of_range_are_a_400(acme: ApiClient, path: str) -> None:
    params = {"date": "9999-12-31"} if path.endswith("scores") else {"from": "0001-01-01"}
    assert_error(acme.get(path, params), 400, "date_out_of_range")


def test_the_days_at_the_bounds_are_accepted() -> None:
    assert parse_date(EARLIEST_DAY.isoformat(), "d") == EARLIEST_DAY
    assert parse_date(LATEST_DAY.isoformat(), "d") == LATEST_DAY
    with pytest.raises(ValidationFailed):
        parse_date("1899-12-31", "d")


@pytest.mark.parametrize("team", ["1.5", "1e3", "x"])
def test_a_team_filter_is_a_whole_number(acme: ApiClient, team: str) -> None:
    assert_error(acme.get("/api/v1/goals", {"team": team}), 400, attr="team")


@pytest.mark.parametrize(("path", "fmt"), [("/api/v1/docs/", "openapi"), ("/api/v1/schema/", "bogus")])
def test_a_bad_format_on_the_documents_is_a_json_404(acme: ApiClient, path: str, fmt: str) -> None:
    assert_error(acme.get(path, {"format": fmt}), 404)
