"""Signing in to the console in a real browser, by the visible labels of its controls.

An admin key invites a member; the member opens the link, sets a password and lands
on ``/console/``; signs out; signs in again with Email and Password. A browser sends
``Origin`` with a form's POST, which Django's CSRF check compares with the host: the
test client does not, so only a browser proves the forms work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.support.browser import screenshot
from tests.support.csp import assert_strict_csp
from tests.support.server import HttpClient, Server, gunicorn_server
from tests.support.tenants import TenantKeys

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.worker  # starts gunicorn

PASSWORD = "plum orchard 7 lanterns"


@pytest.fixture(scope="module")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with gunicorn_server(tmp_path_factory.mktemp("console"), workers=1) as running:
        yield running


def invite(server: Server, tenant: TenantKeys, email: str) -> str:
    """An invitation link for a new admin member, on the server's port."""
    client = HttpClient(server.port, host=tenant.host, token=tenant.admin)
    member = client.json("POST", "/api/v1/members", {"email": email, "role": "admin"}, expect=201)
    client.close()
    link = urlsplit(member["invite_url"])
    return f"http://{tenant.host}:{server.port}{link.path}"


def test_a_member_accepts_an_invitation_signs_out_and_signs_in(
    server: Server, committed_tenant: TenantKeys, page: Page
) -> None:
    from playwright.sync_api import expect

    response = page.goto(invite(server, committed_tenant, "ann@example.com"))
    assert response is not None and response.status == 200
    assert response.headers["referrer-policy"] == "same-origin"
    assert_strict_csp(response.headers.get("content-security-policy"))

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    screenshot(page, "console-landing")

    sign_out.click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
