"""A rep's own page (``/console/me``): a rep token exchanged for a short rep session, the page
it shows, sign out, and the origins allowed to frame it (the ``embed_origins`` setting)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from access.models import RepSession, RepToken
from console.pages.me import REP_COOKIE
from tests.factories.scoring import RepFactory
from tests.support.csp import assert_strict_csp, parse_csp
from tests.support.http import ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

APP = "https://app.acme.example"


@pytest.fixture
def reps(acme: ApiClient) -> dict[str, str]:
    """ann and bob in acme; a rep token for each."""
    with in_tenant("acme"):
        RepFactory.create(external_id="ann", name="Ann Archer")
        RepFactory.create(external_id="bob", name="Bob Baker")
    return {name: mint(acme, name)["token"] for name in ("ann", "bob")}


class RepBrowser:
    """Django's test client with cookies, on one tenant host, as a rep's browser."""

    def __init__(self, host: str) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.host = host

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query or None, HTTP_HOST=self.host)

    def post(self, path: str, fields: dict[str, str]) -> Any:
        return self.client.post(path, fields, HTTP_HOST=self.host)

    def open_link(self, token: str) -> Any:
        """Follow the rep link: the exchange, then the page it sends to."""
        exchange = self.get("/console/me", token=token)
        assert exchange.status_code == 303, (exchange.status_code, exchange.content[:300])
        return self.get(exchange["Location"])


def settings_patch(acme: ApiClient, **changes: Any) -> Any:
    return acme.patch("/api/v1/settings", changes)


# --- the exchange ---------------------------------------------------------------------------------------


def test_a_rep_link_redirects_to_the_page_without_the_token(world: World, reps: dict[str, str]) -> None:
    browser = RepBrowser(world.acme.host)
    exchange = browser.get("/console/me", token=reps["ann"])
    assert exchange.status_code == 303
    assert exchange["Location"] == "/console/me"
    assert exchange["Referrer-Policy"] == "no-referrer"
    assert exchange["Cache-Control"] == "no-store"
    page = browser.get("/console/me")
    assert page.status_code == 200
    assert "<h1>Ann Archer</h1>" in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"
    assert reps["ann"] not in page.content.decode()


def test_the_session_cookie_is_its_own_http_only_and_kept_only_as_a_hash(
    world: World, reps: dict[str, str]
) -> None:
    exchange = RepBrowser(world.acme.host).get("/console/me", token=reps["ann"])
    cookie = exchange.cookies[REP_COOKIE]
    header = cookie.output(header="")
    assert cookie["path"] == "/console/me"  # sent to this page only
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == 3600
    assert "Partitioned" not in header and "Domain" not in header
    assert "ssi_console=" not in str(exchange.cookies)  # no member session
    with in_tenant("acme"):
        session = RepSession.objects.get()
        assert session.key_hash == hashlib.sha256(cookie.value.encode()).hexdigest()
        assert cookie.value not in str(list(RepSession.objects.values()))
        assert session.rep.external_id == "ann"
        assert session.rep_token.prefix == reps["ann"][:12]
        lifetime = session.expires_at - timezone.now()
        assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)


def test_with_embedding_set_the_cookie_is_samesite_none_secure_partitioned(
    world: World, acme: ApiClient, reps: dict[str, str]
) -> None:
    assert settings_patch(acme, embed_origins=[APP]).status_code == 200
    exchange = RepBrowser(world.acme.host).get("/console/me", token=reps["ann"])
    header = exchange.cookies[REP_COOKIE].output(header="")
    assert "; Secure" in header and "SameSite=None; Partitioned" in header and "HttpOnly" in header, header


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), id="wrong-secret"),
        pytest.param(lambda t: "ssir_" + "A" * 43, id="unknown"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "not a token", id="garbage"),
        pytest.param(lambda t: "ssik_" + t[5:], id="another-kind"),
    ],
)
def test_a_bad_token_is_the_403_page(world: World, reps: dict[str, str], spoil: Any) -> None:
    answer = RepBrowser(world.acme.host).get("/console/me", token=spoil(reps["ann"]))
    assert_no_longer_works(answer)
    with in_tenant("acme"):
        assert not RepSession.objects.exists()


def assert_no_longer_works(answer: Any) -> None:
    assert answer.status_code == 403
    assert answer["Content-Type"].startswith("text/html")
    body = answer.content.decode()
    assert "<h1>This link no longer works</h1>" in body and "from your company&#x27;s app" in body
    assert REP_COOKIE not in answer.cookies
    assert_strict_csp(answer["Content-Security-Policy"])


def test_an_expired_token_is_the_403_page(world: World, reps: dict[str, str]) -> None:
    with in_tenant("acme"):
        RepToken.objects.filter(prefix=reps["ann"][:12]).update(expires_at=timezone.now())
    assert_no_longer_works(RepBrowser(world.acme.host).get("/console/me", token=reps["ann"]))


def test_a_revoked_token_is_the_403_page(world: World, acme: ApiClient, reps: dict[str, str]) -> None:
    assert acme.post("/api/v1/rep-tokens/revoke", {"rep": "ann"}).json()["revoked"] == 1
    assert_no_longer_works(RepBrowser(world.acme.host).get("/console/me", token=reps["ann"]))


def test_another_tenants_token_is_the_403_page(world: World, globex: ApiClient, reps: dict[str, str]) -> None:
    with in_tenant("globex"):
        RepFactory.create(external_id="gus", name="Gus Globex")
    token = mint(globex, "gus")["token"]
    assert_no_longer_works(RepBrowser(world.acme.host).get("/console/me", token=token))
    # And a session of globex's rep is nothing on acme's host.
    browser = RepBrowser(world.globex.host)
    assert "Gus Globex" in browser.open_link(token).content.decode()
    browser.host = world.acme.host
    assert_no_longer_works(browser.get("/console/me"))


def test_without_a_session_the_page_is_the_403_page(world: World, reps: dict[str, str]) -> None:
    assert_no_longer_works(RepBrowser(world.acme.host).get("/console/me"))
    browser = RepBrowser(world.acme.host)
    browser.client.cookies[REP_COOKIE] = "ssie_" + "x" * 43
    assert_no_longer_works(browser.get("/console/me"))


# --- the session ----------------------------------------------------------------------------------------


def test_revoking_the_rep_token_ends_the_session(world: World, acme: ApiClient, reps: dict[str, str]) -> None:
    browser = RepBrowser(world.acme.host)
    assert browser.open_link(reps["ann"]).status_code == 200
    acme.post("/api/v1/rep-tokens/revoke", {"rep": "ann"})
    assert_no_longer_works(browser.get("/console/me"))


def test_deleting_the_rep_ends_the_session(world: World, acme: ApiClient, reps: dict[str, str]) -> None:
    browser = RepBrowser(world.acme.host)
    assert browser.open_link(reps["ann"]).status_code == 200
    assert acme.delete("/api/v1/reps/ann").status_code == 204
    assert_no_longer_works(browser.get("/console/me"))
    with in_tenant("acme"):
        assert not RepSession.objects.exists()


def test_revoking_the_key_that_minted_the_token_ends_the_session(
    world: World, acme: ApiClient, reps: dict[str, str]
) -> None:
    from access.models import ApiKey

    integration = ApiClient(world.acme.host, world.acme.integration)
    browser = RepBrowser(world.acme.host)
    assert browser.open_link(mint(integration, "ann")["token"]).status_code == 200
    with in_tenant("acme"):
        key_id = ApiKey.objects.get(prefix=world.acme.integration[:12]).pk
    assert acme.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    assert_no_longer_works(browser.get("/console/me"))


def test_the_session_ends_after_an_hour(world: World, reps: dict[str, str]) -> None:
    browser = RepBrowser(world.acme.host)
    assert browser.open_link(reps["ann"]).status_code == 200
    with in_tenant("acme"):
        RepSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_no_longer_works(browser.get("/console/me"))


def test_a_rep_link_shows_that_rep_only(world: World, reps: dict[str, str]) -> None:
    ann, bob = RepBrowser(world.acme.host), RepBrowser(world.acme.host)
    ann_page = ann.open_link(reps["ann"]).content.decode()
    bob_page = bob.open_link(reps["bob"]).content.decode()
    assert "Ann Archer" in ann_page and "Bob Baker" not in ann_page
    assert "Bob Baker" in bob_page and "Ann Archer" not in bob_page
    # A new link in the same browser replaces its session.
    switched = ann.open_link(reps["bob"]).content.decode()
    assert "Bob Baker" in switched and "Ann Archer" not in switched
    with in_tenant("acme"):
        assert RepSession.objects.count() == 2


@pytest.mark.parametrize(
    "path",
    [
        "/console/",
        "/console/reps",
        "/console/leaderboards",
        "/console/weights",
        "/console/members",
        "/console/audit",
        "/console/keys",
    ],
)
def test_a_rep_session_opens_no_member_page(world: World, reps: dict[str, str], path: str) -> None:
    from django.urls import resolve

    resolve(path, urlconf="config.urls_tenant")  # a page of the console (Resolver404 if not)
    browser = RepBrowser(world.acme.host)
    browser.open_link(reps["ann"])
    # Even were the cookie sent beyond its path, it is no member's session.
    browser.client.cookies[REP_COOKIE]["path"] = "/"
    answer = browser.get(path)
    assert answer.status_code == 302 and answer["Location"].startswith("/console/login"), path


def test_the_rep_page_has_no_members_navigation_and_a_sign_out(world: World, reps: dict[str, str]) -> None:
    page = RepBrowser(world.acme.host).open_link(reps["ann"]).content.decode()
    assert 'aria-label="Console"' not in page and ">Overview</a>" not in page
    assert ">Sign out</button>" in page and 'action="/console/me"' in page
    assert "csrfmiddlewaretoken" not in page


def test_sign_out_ends_the_rep_session(world: World, reps: dict[str, str]) -> None:
    browser = RepBrowser(world.acme.host)
    page = browser.open_link(reps["ann"]).content.decode()
    code = page.split('name="signout" value="', 1)[1].split('"', 1)[0]
    answer = browser.post("/console/me", {"signout": code})
    assert answer.status_code == 200
    assert "<h1>You are signed out</h1>" in answer.content.decode()
    assert answer.cookies[REP_COOKIE]["max-age"] == 0
    with in_tenant("acme"):
        assert not RepSession.objects.exists()
    assert_no_longer_works(browser.get("/console/me"))


def test_sign_out_without_the_pages_code_is_refused(world: World, reps: dict[str, str]) -> None:
    """Another site posting to the page (the cookie is sent to frames of allowed sites) cannot
    know the code: the session stays."""
    browser = RepBrowser(world.acme.host)
    browser.open_link(reps["ann"])
    for fields in ({}, {"signout": "0" * 64}):
        answer = browser.post("/console/me", fields)
        assert answer.status_code == 403 and "This form has expired" in answer.content.decode()
    assert browser.get("/console/me").status_code == 200


def test_the_rep_link_never_reaches_gunicorns_logs(reps: dict[str, str]) -> None:
    from config.gunicorn_logging import redact

    token = reps["ann"]
    for line in (f'"GET /console/me?token={token} HTTP/1.1" 303', f'"GET /console/me?x=1&token={token}"'):
        assert token[5:] not in redact(line), redact(line)
        assert "token=[redacted]" in redact(line)


# --- frame-ancestors ------------------------------------------------------------------------------------


def test_without_embed_origins_nobody_may_frame_the_page(world: World, reps: dict[str, str]) -> None:
    browser = RepBrowser(world.acme.host)
    exchange = browser.get("/console/me", token=reps["ann"])
    page = browser.get("/console/me")
    for answer in (exchange, page, RepBrowser(world.acme.host).get("/console/me")):
        assert parse_csp(answer["Content-Security-Policy"])["frame-ancestors"] == ("'none'",)
        assert answer["X-Frame-Options"] == "DENY"
    assert_strict_csp(page["Content-Security-Policy"])


def test_embed_origins_are_the_pages_frame_ancestors_and_only_its(
    world: World, acme: ApiClient, reps: dict[str, str]
) -> None:
    from tests.support.console import console_client

    origins = [APP, "http://embedder.localhost:8123"]
    assert settings_patch(acme, embed_origins=origins).json()["embed_origins"] == origins
    browser = RepBrowser(world.acme.host)
    exchange = browser.get("/console/me", token=reps["ann"])
    page = browser.get("/console/me")
    dead = RepBrowser(world.acme.host).get("/console/me")  # the 403 page shows inside the frame too
    for answer in (exchange, page, dead):
        assert parse_csp(answer["Content-Security-Policy"])["frame-ancestors"] == tuple(origins)
        assert "X-Frame-Options" not in answer
    assert_strict_csp(page["Content-Security-Policy"], frame_ancestors=origins)
    # Every other console page keeps nobody.
    for path in ("/console/", "/console/login", "/console/me/other", "/console/reps"):
        answer = console_client(world.acme, "viewer").get(path)
        assert parse_csp(answer["Content-Security-Policy"])["frame-ancestors"] == ("'none'",), path
        assert answer["X-Frame-Options"] == "DENY", path
    # Emptied: nobody again.
    assert settings_patch(acme, embed_origins=[]).status_code == 200
    answer = browser.get("/console/me")
    assert parse_csp(answer["Content-Security-Policy"])["frame-ancestors"] == ("'none'",)


# --- the setting ----------------------------------------------------------------------------------------


def test_embed_origins_is_empty_by_default_and_shown_normalised(acme: ApiClient, world: World) -> None:
    assert acme.get("/api/v1/settings").json()["embed_origins"] == []
    given = ["https://App.Acme.example/", "http://localhost:3000", "https://app.acme.example"]
    answer = settings_patch(acme, embed_origins=given)
    assert answer.status_code == 200, answer.content
    assert answer.json()["embed_origins"] == ["https://app.acme.example", "http://localhost:3000"]
    assert acme.get("/api/v1/settings").json()["embed_origins"] == answer.json()["embed_origins"]


@pytest.mark.parametrize(
    ("value", "code", "attr"),
    [
        ("https://app.acme.example", "invalid_type", "embed_origins"),
        ([5], "invalid_type", "embed_origins.0"),
        ([APP, "http://app.acme.example"], "insecure_origin", "embed_origins.1"),
        (["https://app.acme.example/path"], "invalid_origin", "embed_origins.0"),
        (["https://app.acme.example?x=1"], "invalid_origin", "embed_origins.0"),
        (["https://*.acme.example"], "invalid_origin", "embed_origins.0"),
        (["ftp://app.acme.example"], "invalid_origin", "embed_origins.0"),
        (["app.acme.example"], "invalid_origin", "embed_origins.0"),
        (["https://user@app.acme.example"], "invalid_origin", "embed_origins.0"),
        (["https://app.acme.example:99999"], "invalid_origin", "embed_origins.0"),
        (["https://a.example; script-src *"], "invalid_origin", "embed_origins.0"),
        (["'self'"], "invalid_origin", "embed_origins.0"),
        ([f"https://app{i}.acme.example" for i in range(21)], "too_many", "embed_origins"),
    ],
)
def test_a_bad_embed_origins_is_a_400_naming_the_field(
    acme: ApiClient, world: World, value: Any, code: str, attr: str
) -> None:
    assert_error(settings_patch(acme, embed_origins=value), 400, code=code, attr=attr)
    assert acme.get("/api/v1/settings").json()["embed_origins"] == []


def test_twenty_origins_are_allowed_and_the_change_is_audited(acme: ApiClient, world: World) -> None:
    origins = [f"https://app{i}.acme.example:8443" for i in range(20)]
    assert settings_patch(acme, embed_origins=origins).json()["embed_origins"] == origins
    entry = acme.get("/api/v1/audit-log", {"target_type": "settings"}).json()["results"][0]
    assert entry["before"]["embed_origins"] == [] and entry["after"]["embed_origins"] == origins
