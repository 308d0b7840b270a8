"""CSV answers, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula, and a formula can run
commands or send the sheet's data away (CSV injection, OWASP). Every text cell we
write that starts with one of them gets a leading ``'``, which spreadsheets show
as text; numbers are written as they are. docs/security.md ("CSV exports").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` as written to a CSV cell: text that a spreadsheet would run is quoted with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(*, header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> HttpResponse:
    """An attachment ``filename`` with ``header`` and ``rows``, every cell through ``csv_cell``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
