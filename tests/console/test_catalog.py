"""The catalog of console pages (``console/catalog.py``) against the console itself: every path
resolves in ``console/urls.py``, and on a served tenant every page answers what ``make
screenshots`` checks before it shoots (so a page removed or renamed fails here, not there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from console.catalog import PAGES, Page, pages_named
from console.context import NAV
from tests.support.console import ConsoleSite, console_site
from tests.support.tenants import in_tenant


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_of_the_catalog_resolves_in_the_console_urls(page: Page) -> None:
    path = urlsplit(page.url(rep="1", token="ssir_abc")).path
    try:
        match = resolve(path, urlconf="config.urls_tenant")
    except Resolver404:
        pytest.fail(f"{page.name}: {path} is in console/catalog.py but no view of console/urls.py serves it")
    assert match.func.__module__.startswith("console."), (page.name, match.func.__module__)


def test_the_catalog_names_each_page_once_and_has_every_page_of_the_navigation() -> None:
    names = [p.name for p in PAGES]
    assert len(names) == len(set(names))
    assert all(name.replace("-", "").isalnum() and name.islower() for name in names)
    assert {item.path for item in NAV} <= {p.path for p in PAGES}
    assert [p.name for p in pages_named("me, login")] == ["login", "me"]
    with pytest.raises(KeyError, match="no console page 'nope'"):
        pages_named("nope")


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site(
        "cons-catalog", django_db_blocker, tmp_path_factory.mktemp("site"), reps=6, days=3
    ) as s:
        yield s


@pytest.mark.worker  # starts gunicorn
def test_every_page_answers_as_make_screenshots_expects(site: ConsoleSite, django_db_blocker: Any) -> None:
    from access.models import Member
    from bench.screenshots.answers import page_answers, targets_for

    with django_db_blocker.unblock(), in_tenant(site.tenant.slug) as tenant:
        admin = Member.objects.get(email=f"admin@{site.tenant.slug}.example")
        targets = targets_for(tenant, admin)
    answers = page_answers(site.server.port, targets)
    assert [a.page.name for a in answers] == [p.name for p in PAGES]
    problems = [str(a) for a in answers if a.problem is not None]
    assert not problems, "pages that make screenshots would not shoot:\n" + "\n".join(problems)
