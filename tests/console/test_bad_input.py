"""Whatever a query string holds, a console page answers a page: 200, 400 with the error by its
field, or 404, never a 500. Every page of the catalogue, as an admin, with values of the wrong
kind in every parameter the pages read."""

from __future__ import annotations

from typing import Any

import pytest

from console.catalog import PAGES
from tests.factories.scoring import RepFactory
from tests.support.console import console_client
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

PARAMETERS = (
    "page", "sort", "order", "team", "range", "metric", "period", "date", "day", "q", "search", "before",
    "after", "cursor", "page_size", "badge", "status", "since", "until", "from", "to", "target_type",
    "action", "done", "next",
)  # fmt: skip
GARBAGE = dict.fromkeys(PARAMETERS, "-1\x00'\"<x>" + "9" * 30)


@pytest.mark.parametrize("page", [p for p in PAGES if p.audience == "member"], ids=lambda p: p.name)
@pytest.mark.parametrize("variant", ["garbage", "huge", "empty"])
def test_a_page_never_fails_on_what_a_query_string_holds(world: World, page: Any, variant: str) -> None:
    with in_tenant(world.acme.slug):
        rep = RepFactory.create()
    query = {
        "garbage": GARBAGE,
        "huge": {name: "9" * 400 for name in GARBAGE},
        "empty": dict.fromkeys(GARBAGE, ""),
    }[variant]
    answer = console_client(world.acme, "admin").get(page.url(rep=str(rep.pk), token=""), **query)
    assert answer.status_code in (200, 400, 404), (page.path, answer.status_code, answer.content[:300])
    assert answer["Content-Type"].startswith("text/html")
