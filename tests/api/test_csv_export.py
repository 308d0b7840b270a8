"""CSV answers are safe to open in a spreadsheet (docs/security.md, "CSV exports").

A text cell starting with ``= + - @``, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets; every such cell we write gets a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from api.csv_export import csv_cell
from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant

D = date(2026, 3, 10)
FORMULAS = ["=1+2", "=cmd|'-c'!A0", "@SUM(1)", "+1+1", "-1+1", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["ann", "a=b", "", "1+1", 12, -3, 1.5, None])
def test_other_cells_are_written_as_they_are(value: object) -> None:
    assert csv_cell(value) == value


def test_the_scores_csv_quotes_external_ids_that_look_like_formulas(acme: ApiClient) -> None:
    with in_tenant("acme"):
        for external_id in [*FORMULAS, "plain"]:
            RepFactory.create(external_id=external_id)
    at = datetime(D.year, D.month, D.day, 10, tzinfo=ZoneInfo("Europe/Berlin")).isoformat()
    events = [
        {"id": f"e{i}", "rep": rep, "type": "post_published", "occurred_at": at}
        for i, rep in enumerate([*FORMULAS, "plain"])
        if not rep.startswith(("\t", "\r"))  # the ingest refuses control characters; still scored
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == len(events)
    with in_tenant("acme") as tenant:
        scores_compute_day(tenant=tenant, day=D)

    answer = acme.get("/api/v1/scores", {"date": D.isoformat(), "format": "csv"})

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode(), newline="")))
    assert sorted(row["rep"] for row in rows) == sorted(["'" + f for f in FORMULAS] + ["plain"])
    for row in rows:  # nothing else in a row starts like a formula either
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values()), row
