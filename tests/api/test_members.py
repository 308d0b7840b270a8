"""``/api/v1/members``: console members and their invitations (admin keys only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core import mail
from django.test import Client
from django.utils import timezone

from access.models import AuditEntry, Member, MemberSession
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

STRONG = "plum-harbour-violet-42"


def invite(client: ApiClient, email: str = "ann@example.com", role: str = "viewer", **extra: Any) -> Any:
    response = client.post("/api/v1/members", {"email": email, "role": role, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def accept(url: str, password: str = STRONG) -> Any:
    """Open an invitation link and set a password, as the browser does (CSRF token included)."""
    parts = urlsplit(url)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(parts.path, HTTP_HOST=parts.netloc)
    if page.status_code != 200:
        return page
    token = browser.cookies["csrftoken"].value
    return browser.post(
        parts.path,
        {"password": password, "confirm": password, "csrfmiddlewaretoken": token},
        HTTP_HOST=parts.netloc,
    )


def test_invite_answers_the_member_and_a_link_on_the_tenant_host(acme: ApiClient, world: World) -> None:
    body = invite(acme, "Ann@Example.com", "manager", name="Ann")
    assert set(body) == {"id", "email", "name", "role", "status", "invite_url"}
    assert (body["email"], body["name"], body["role"], body["status"]) == (
        "Ann@Example.com",
        "Ann",
        "manager",
        "invited",
    )
    assert body["invite_url"].startswith(f"http://{world.acme.host}/console/invite/ssii_")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Ann@Example.com"]
    assert body["invite_url"] in mail.outbox[0].body


def test_an_email_already_a_member_is_409_in_any_case(acme: ApiClient) -> None:
    invite(acme, "bob@example.com")
    assert_error(
        acme.post("/api/v1/members", {"email": "BOB@example.com", "role": "admin"}), 409, "member_exists"
    )


def test_bad_role_and_bad_email_are_400(acme: ApiClient) -> None:
    assert_error(acme.post("/api/v1/members", {"email": "c@example.com", "role": "owner"}), 400, attr="role")
    assert_error(acme.post("/api/v1/members", {"email": "nope", "role": "viewer"}), 400, attr="email")


def test_only_admin_keys_manage_members(world: World, acme: ApiClient) -> None:
    member = invite(acme)
    for token in (world.acme.integration, world.acme.read):
        other = ApiClient(world.acme.host, token)
        assert_error(other.get("/api/v1/members"), 403)
        assert_error(other.post("/api/v1/members", {"email": "x@example.com", "role": "viewer"}), 403)
        assert_error(other.patch(f"/api/v1/members/{member['id']}", {"role": "admin"}), 403)
        assert_error(other.delete(f"/api/v1/members/{member['id']}"), 403)
        assert_error(other.post(f"/api/v1/members/{member['id']}/invite"), 403)


def test_list_get_patch_and_delete(acme: ApiClient) -> None:
    member = invite(acme, name="Ann")
    listed = acme.get("/api/v1/members").json()
    assert listed["count"] == 1 and listed["results"][0]["email"] == "ann@example.com"
    assert "password" not in listed["results"][0]
    patched = acme.patch(f"/api/v1/members/{member['id']}", {"role": "admin", "name": "Ann B"}).json()
    assert (patched["role"], patched["name"]) == ("admin", "Ann B")
    assert acme.get(f"/api/v1/members/{member['id']}").json()["role"] == "admin"
    assert acme.delete(f"/api/v1/members/{member['id']}").status_code == 204
    assert_error(acme.get(f"/api/v1/members/{member['id']}"), 404)


def test_invite_url_works_once(acme: ApiClient) -> None:
    url = invite(acme)["invite_url"]
    first = accept(url)
    assert first.status_code == 302 and first["Location"] == "/console/"
    assert accept(url).status_code == 404
    assert acme.get("/api/v1/members").json()["results"][0]["status"] == "active"


def test_invite_url_expires_after_7_days(acme: ApiClient, world: World) -> None:
    url = invite(acme)["invite_url"]
    with in_tenant(world.acme.slug):
        Member.objects.update(invite_expires_at=timezone.now() - timedelta(seconds=1))
    assert accept(url).status_code == 404


def test_invite_url_is_valid_for_7_days(acme: ApiClient, world: World) -> None:
    url = invite(acme)["invite_url"]
    with in_tenant(world.acme.slug):
        member = Member.objects.get()
        left = member.invite_expires_at - timezone.now()  # type: ignore[operator]
        assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
        Member.objects.update(invite_expires_at=timezone.now() + timedelta(minutes=1))
    assert accept(url).status_code == 302


def test_a_fresh_invite_stops_the_old_link(acme: ApiClient) -> None:
    member = invite(acme)
    fresh = acme.post(f"/api/v1/members/{member['id']}/invite")
    assert fresh.status_code == 201
    assert fresh.json()["invite_url"] != member["invite_url"]
    assert accept(member["invite_url"]).status_code == 404
    assert accept(fresh.json()["invite_url"]).status_code == 302
    assert len(mail.outbox) == 2


def test_delete_ends_the_members_sessions_at_once(acme: ApiClient, world: World) -> None:
    member = invite(acme)
    parts = urlsplit(member["invite_url"])
    browser = Client()
    browser.post(parts.path, {"password": STRONG, "confirm": STRONG}, HTTP_HOST=parts.netloc)
    assert browser.get("/console/", HTTP_HOST=world.acme.host).status_code == 200
    assert acme.delete(f"/api/v1/members/{member['id']}").status_code == 204
    with in_tenant(world.acme.slug):
        assert not MemberSession.objects.exists()
    answer = browser.get("/console/", HTTP_HOST=world.acme.host)
    assert answer.status_code == 302 and answer["Location"] == "/console/login"


def test_every_change_is_audited_without_secrets(acme: ApiClient, world: World) -> None:
    member = invite(acme)
    acme.patch(f"/api/v1/members/{member['id']}", {"role": "manager"})
    acme.post(f"/api/v1/members/{member['id']}/invite")
    acme.delete(f"/api/v1/members/{member['id']}")
    with in_tenant(world.acme.slug):
        entries = list(AuditEntry.objects.filter(target_type="member").order_by("id"))
    assert [e.action for e in entries] == ["create", "update", "update", "delete"]
    assert all(e.actor_kind == "key" and e.actor_role == "admin" for e in entries)
    assert entries[1].after["role"] == "manager"  # type: ignore[index]
    token = urlsplit(member["invite_url"]).path.rsplit("/", 1)[1]
    assert all(token not in str((e.before, e.after)) for e in entries)


def test_it_denies_cross_tenant_access(acme: ApiClient, globex: ApiClient, world: World) -> None:
    member = invite(acme)
    assert_error(ApiClient(world.acme.host, world.globex.admin).get("/api/v1/members"), 401)
    assert globex.get("/api/v1/members").json()["count"] == 0
    assert_error(globex.get(f"/api/v1/members/{member['id']}"), 404)
    assert_error(globex.delete(f"/api/v1/members/{member['id']}"), 404)
    assert acme.get(f"/api/v1/members/{member['id']}").status_code == 200
