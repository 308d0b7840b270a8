"""The console's sign-in pages on a tenant's host: invitation, sign-in, reset, sign-out,
CSRF, the throttle, and sessions that stay on their tenant's host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings

from tests.support.http import ApiClient
from tests.support.tenants import World

STRONG = "plum-harbour-violet-42"
OTHER = "quiet-lantern-meadow-77"


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


class Browser:
    """Django's test client with cookies and CSRF checks on, on one host, posting forms with
    the CSRF token of the page it last loaded."""

    def __init__(self, host: str) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.host = host

    def get(self, path: str) -> Any:
        return self.client.get(path, HTTP_HOST=self.host)

    def submit(self, path: str, fields: dict[str, str], csrf: bool = True) -> Any:
        page = self.get(path) if csrf else None
        data = dict(fields)
        if page is not None:
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
            assert match, page.content[:500]
            data["csrfmiddlewaretoken"] = match.group(1)
        return self.client.post(path, data, HTTP_HOST=self.host)

    def signed_in(self) -> bool:
        answer = self.get("/console/")
        return answer.status_code == 200 and b"Sign out" in answer.content


def invited(acme: ApiClient, email: str = "ann@example.com", role: str = "admin") -> tuple[str, str]:
    body = acme.post("/api/v1/members", {"email": email, "name": "Ann Admin", "role": role}).json()
    return body["invite_url"], body["id"]


def member(acme: ApiClient, world: World, email: str = "ann@example.com") -> Browser:
    """An active member, signed in through their invitation."""
    url, _ = invited(acme, email)
    browser = Browser(world.acme.host)
    answer = browser.submit(urlsplit(url).path, {"password": STRONG, "confirm": STRONG})
    assert answer.status_code == 302, answer.content[:500]
    return browser


def test_invitation_sets_a_password_and_lands_signed_in(acme: ApiClient, world: World) -> None:
    url, _ = invited(acme)
    browser = Browser(world.acme.host)
    page = browser.get(urlsplit(url).path).content.decode()
    assert '<label for="password">Password</label>' in page
    assert '<label for="confirm">Confirm password</label>' in page
    assert ">Set password</button>" in page
    answer = browser.submit(urlsplit(url).path, {"password": STRONG, "confirm": STRONG})
    assert answer.status_code == 302 and answer["Location"] == "/console/"
    cookie = answer.cookies["ssi_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["domain"]
    home = browser.get("/console/")
    assert home.status_code == 200
    text = home.content.decode()
    assert "Ann Admin" in text and "admin" in text and ">Sign out</button>" in text
    assert "'unsafe-inline'" not in home["Content-Security-Policy"]
    assert "style=" not in text and "<script" not in text


def test_a_weak_or_mismatched_password_is_refused_next_to_its_field(acme: ApiClient, world: World) -> None:
    url, _ = invited(acme)
    browser = Browser(world.acme.host)
    weak = browser.submit(urlsplit(url).path, {"password": "12345", "confirm": "12345"})
    assert weak.status_code == 400
    assert 'id="password-errors"' in weak.content.decode() and "too short" in weak.content.decode()
    differ = browser.submit(urlsplit(url).path, {"password": STRONG, "confirm": OTHER})
    assert differ.status_code == 400 and 'id="confirm-errors"' in differ.content.decode()
    assert not browser.signed_in()


def test_login_page_has_its_labels_and_the_reset_link(world: World, db: None) -> None:
    page = Browser(world.acme.host).get("/console/login").content.decode()
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert ">Sign in</button>" in page
    assert '<a href="/console/password-reset">Forgot password?</a>' in page


def test_login_with_the_right_password_signs_in(acme: ApiClient, world: World) -> None:
    member(acme, world)
    browser = Browser(world.acme.host)
    answer = browser.submit("/console/login", {"email": "ANN@example.com", "password": STRONG})
    assert answer.status_code == 302 and answer["Location"] == "/console/"
    assert browser.signed_in()


def test_a_failed_login_says_the_same_for_a_wrong_password_and_an_unknown_email(
    acme: ApiClient, world: World
) -> None:
    member(acme, world)
    browser = Browser(world.acme.host)
    wrong = browser.submit("/console/login", {"email": "ann@example.com", "password": OTHER})
    unknown = browser.submit("/console/login", {"email": "nobody@example.com", "password": OTHER})
    assert wrong.status_code == unknown.status_code == 400
    for answer in (wrong, unknown):
        text = answer.content.decode()
        assert "Email or password is not right." in text
        assert "no account" not in text.lower() and "unknown" not in text.lower()
    assert not browser.signed_in()


def test_an_invited_member_cannot_sign_in_before_setting_a_password(acme: ApiClient, world: World) -> None:
    invited(acme)
    browser = Browser(world.acme.host)
    assert browser.submit("/console/login", {"email": "ann@example.com", "password": ""}).status_code == 400


def test_a_post_without_the_csrf_token_is_refused(acme: ApiClient, world: World) -> None:
    member(acme, world)
    browser = Browser(world.acme.host)
    answer = browser.submit("/console/login", {"email": "ann@example.com", "password": STRONG}, csrf=False)
    assert answer.status_code == 403
    assert not browser.signed_in()


def test_the_api_needs_no_csrf_token(acme: ApiClient) -> None:
    acme.client = Client(enforce_csrf_checks=True)
    assert acme.post("/api/v1/teams", {"name": "No CSRF needed"}).status_code == 201


def test_sign_out_ends_every_session_of_the_member(acme: ApiClient, world: World) -> None:
    first = member(acme, world)
    second = Browser(world.acme.host)
    second.submit("/console/login", {"email": "ann@example.com", "password": STRONG})
    assert first.signed_in() and second.signed_in()
    answer = first.submit("/console/", {})
    assert answer.status_code == 405  # the landing page takes no POST; sign-out is its own form
    page = first.get("/console/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    out = first.client.post("/console/logout", {"csrfmiddlewaretoken": token}, HTTP_HOST=world.acme.host)
    assert out.status_code == 302 and out["Location"] == "/console/login"
    assert not first.signed_in() and not second.signed_in()


def test_password_reset_by_email_link(acme: ApiClient, world: World) -> None:
    member(acme, world)
    signed_in_elsewhere = Browser(world.acme.host)
    signed_in_elsewhere.submit("/console/login", {"email": "ann@example.com", "password": STRONG})
    browser = Browser(world.acme.host)
    page = browser.get("/console/password-reset").content.decode()
    assert '<label for="email">Email</label>' in page
    mail.outbox.clear()
    sent = browser.submit("/console/password-reset", {"email": "ann@example.com"})
    assert sent.status_code == 200 and len(mail.outbox) == 1
    found = re.search(r"http://\S+/console/password-reset/\S+", str(mail.outbox[0].body))
    assert found, mail.outbox[0].body
    link = found.group(0)
    assert urlsplit(link).netloc == world.acme.host
    form = browser.get(urlsplit(link).path).content.decode()
    assert "Confirm password" in form and ">Set password</button>" in form
    done = browser.submit(urlsplit(link).path, {"password": OTHER, "confirm": OTHER})
    assert done.status_code == 302 and done["Location"] == "/console/" and browser.signed_in()
    assert not signed_in_elsewhere.signed_in()  # a reset signs out everywhere
    assert browser.get(urlsplit(link).path).status_code == 404  # once
    again = Browser(world.acme.host)
    assert again.submit("/console/login", {"email": "ann@example.com", "password": STRONG}).status_code == 400
    assert again.submit("/console/login", {"email": "ann@example.com", "password": OTHER}).status_code == 302


def test_a_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(world: World, db: None) -> None:
    browser = Browser(world.acme.host)
    answer = browser.submit("/console/password-reset", {"email": "nobody@example.com"})
    assert answer.status_code == 200 and "Check your email" in answer.content.decode()
    assert mail.outbox == []


@override_settings(SSI_LOGIN_FAILURES_PER_EMAIL=5, SSI_LOGIN_FAILURES_PER_ADDRESS=20)
def test_five_failures_for_an_email_block_it_with_429(acme: ApiClient, world: World) -> None:
    member(acme, world)
    browser = Browser(world.acme.host)
    for _ in range(5):
        assert (
            browser.submit("/console/login", {"email": "ann@example.com", "password": OTHER}).status_code
            == 400
        )
    blocked = browser.submit("/console/login", {"email": "ann@example.com", "password": STRONG})
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.content.decode()
    assert not browser.signed_in()


@override_settings(SSI_LOGIN_FAILURES_PER_EMAIL=5, SSI_LOGIN_FAILURES_PER_ADDRESS=20)
def test_twenty_failures_from_an_address_block_it_with_429(acme: ApiClient, world: World) -> None:
    member(acme, world)
    browser = Browser(world.acme.host)
    for n in range(20):
        browser.submit("/console/login", {"email": f"guess{n}@example.com", "password": OTHER})
    assert (
        browser.submit("/console/login", {"email": "ann@example.com", "password": STRONG}).status_code == 429
    )


def test_a_session_of_one_tenant_opens_nothing_on_another_tenants_host(acme: ApiClient, world: World) -> None:
    browser = member(acme, world)
    assert browser.signed_in()
    browser.host = world.globex.host
    answer = browser.get("/console/")
    assert answer.status_code == 302 and answer["Location"] == "/console/login"
    other = Browser(world.globex.host)
    failed = other.submit("/console/login", {"email": "ann@example.com", "password": STRONG})
    assert failed.status_code == 400  # acme's member is no member of globex


def test_one_time_links_never_reach_gunicorns_logs() -> None:
    from config.gunicorn_logging import redact

    line = '"GET /console/invite/ssii_abc-DEF_123 HTTP/1.1" "GET /console/password-reset/ssiw_xyz HTTP/1.1"'
    assert "ssii_abc" not in redact(line) and "ssiw_xyz" not in redact(line)
