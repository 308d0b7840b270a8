"""The admin pages (webhooks, API keys, members): real data, the same objects and audit entries
as the API makes, admins only (hidden and refused), CSRF, errors next to their field, and
another tenant's ids are 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from access.models import ApiKey, AuditEntry, Member, MemberSession
from gamification.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from gamification.services.outbox import event_emit
from tests.factories.gamification import WebhookDeliveryFactory, WebhookSubscriptionFactory
from tests.support.console import ConsoleClient, console_client, member_signed_in
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/console/webhooks", "/console/keys", "/console/members"]
HOOK = "http://127.0.0.1:9/hook"


def text(answer: Any) -> str:
    return str(answer.content.decode())


def admin(world: World) -> ConsoleClient:
    return console_client(world.acme, "admin")


def last_entry() -> AuditEntry:
    return AuditEntry.objects.order_by("-id").first()  # type: ignore[return-value]


def fields(snapshot: Any) -> dict[str, Any]:
    """An audit entry's ``before`` or ``after``: an object."""
    assert isinstance(snapshot, dict)
    return snapshot


def assert_by_member(entry: AuditEntry, email: str = "admin@acme.example") -> None:
    assert (entry.actor_kind, entry.actor_name, entry.actor_role) == ("member", email, "admin")
    with in_tenant("acme"):
        assert entry.actor_key_id == Member.objects.get(email=email).pk


# --- Webhooks ---------------------------------------------------------------------------------------


def test_the_webhooks_page_lists_subscriptions_with_their_last_delivery(world: World) -> None:
    with in_tenant("acme"):
        hook = WebhookSubscriptionFactory.create(url="https://hooks.acme.example/ssi", events=["level.up"])
        quiet = WebhookSubscriptionFactory.create(url="https://quiet.acme.example/", active=False)
        event = event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 100})
        WebhookDeliveryFactory.create(subscription=hook, event=event, status=WebhookDelivery.Status.FAILED)
    page = text(admin(world).get("/console/webhooks"))
    assert f'<a href="/console/webhooks/{hook.pk}">https://hooks.acme.example/ssi</a>' in page
    assert re.search(
        r'"Events">level.up</td>\s*<td data-label="Active">yes</td>\s*'
        r'<td data-label="Last delivery">failed, \d{4}-\d\d-\d\d \d\d:\d\d</td>',
        page,
    )
    assert f'href="/console/webhooks/{quiet.pk}"' in page and "none yet" in page
    assert "whsec_" not in page


def test_the_webhooks_list_is_one_query_however_many_there_are(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = admin(world)
    with in_tenant("acme"):
        for n in range(30):
            hook = WebhookSubscriptionFactory.create(url=f"https://h{n}.acme.example/")
            WebhookDeliveryFactory.create(subscription=hook)
    with django_assert_max_num_queries(8):
        answer = client.get("/console/webhooks")
    assert text(answer).count('href="/console/webhooks/') == 30


def test_a_webhook_made_by_the_form_is_what_the_api_makes_and_its_secret_is_shown_once(world: World) -> None:
    client = admin(world)
    answer = client.submit(
        "/console/webhooks", {"url": HOOK, "events": ["level.up", "goal.achieved"], "active": "on"}
    )
    assert answer.status_code == 201
    page = text(answer)
    secret = re.search(r'value="(whsec_[^"]+)"', page)
    assert secret and "only time it is shown" in page
    with in_tenant("acme"):
        hook = WebhookSubscription.objects.get()
        assert (hook.url, hook.events, hook.active) == (HOOK, ["level.up", "goal.achieved"], True)
        entry = last_entry()
    assert (entry.action, entry.target_type, entry.target_id) == ("create", "webhook", str(hook.pk))
    assert fields(entry.after)["secret"] == "[redacted]" and secret.group(1) not in str(entry.after)
    assert_by_member(entry)
    # Never again: not on the list, not on its page.
    assert secret.group(1) not in text(client.get("/console/webhooks"))
    assert secret.group(1) not in text(client.get(f"/console/webhooks/{hook.pk}"))


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://exa mple.com/", "http://user@host/", "https://", "x" * 1001]
)
def test_a_url_the_service_cannot_parse_is_refused_next_to_the_field(world: World, url: str) -> None:
    answer = admin(world).submit("/console/webhooks", {"url": url, "events": ["level.up"]})
    assert answer.status_code == 400 and '<p class="field-error" id="url-error">' in text(answer)


def test_webhook_errors_are_next_to_their_field(world: World) -> None:
    client = admin(world)
    answer = client.submit("/console/webhooks", {"url": "ftp://example.com/x", "events": ["level.up"]})
    assert answer.status_code == 400
    assert re.search(r'<p class="field-error" id="url-error">[^<]+</p>', text(answer))
    answer = client.submit("/console/webhooks", {"url": HOOK, "events": ["*", "level.up"]})
    assert answer.status_code == 400
    assert re.search(r'id="events-error">"\*" means every event', text(answer).replace("&quot;", '"'))
    answer = client.submit("/console/webhooks", {"url": HOOK})
    assert answer.status_code == 400 and 'id="events-error"' in text(answer)
    answer = client.submit("/console/webhooks", {"url": HOOK, "events": ["no.such.event"]})
    assert answer.status_code == 400 and 'id="events-error"' in text(answer)
    with in_tenant("acme"):
        assert not WebhookSubscription.objects.exists()


def test_the_webhook_form_has_a_labelled_format_select_and_the_list_shows_the_format(world: World) -> None:
    client = admin(world)
    page = text(client.get("/console/webhooks"))
    assert '<label for="format">Format</label>' in page
    select = re.search(r'<select id="format" name="format"[^>]*>(.*?)</select>', page, re.S)
    assert select and re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', select.group(1)) == [
        ("json", " selected", "JSON"), ("slack", "", "Slack"), ("teams", "", "Microsoft Teams"),
    ]  # fmt: skip
    answer = client.submit(
        "/console/webhooks",
        {"url": HOOK, "events": ["badge.awarded", "level.up"], "format": "slack", "active": "on"},
    )
    assert answer.status_code == 201, text(answer)
    with in_tenant("acme"):
        hook = WebhookSubscription.objects.get()
        assert (hook.format, hook.events) == ("slack", ["badge.awarded", "level.up"])
        assert fields(last_entry().after)["format"] == "slack"
    listed = text(client.get("/console/webhooks"))
    assert re.search(
        r'<td data-label="Format">Slack</td>\s*<td data-label="Events">badge.awarded, level.up</td>', listed
    )
    assert "<dt>Format</dt><dd>Slack</dd>" in text(client.get(f"/console/webhooks/{hook.pk}"))
    edit = f"/console/webhooks/{hook.pk}/edit"
    assert '<option value="slack" selected>Slack</option>' in text(client.get(edit))
    answer = client.submit(edit, {"url": HOOK, "events": ["level.up"], "format": "teams", "active": "on"})
    assert answer.status_code == 303
    with in_tenant("acme"):
        hook.refresh_from_db()
        assert hook.format == "teams"
        entry = last_entry()
    assert (fields(entry.before)["format"], fields(entry.after)["format"]) == ("slack", "teams")


def test_a_chat_format_with_events_it_does_not_announce_is_refused_next_to_the_events(world: World) -> None:
    client = admin(world)
    answer = client.submit("/console/webhooks", {"url": HOOK, "events": ["*"], "format": "teams"})
    assert answer.status_code == 400
    page = text(answer)
    assert re.search(
        r'id="events-error">A teams webhook announces badge.awarded, level.up, goal.achieved', page
    )
    assert '<option value="teams" selected>Microsoft Teams</option>' in page  # what was chosen stays chosen
    answer = client.submit("/console/webhooks", {"url": HOOK, "events": ["level.up"], "format": "discord"})
    assert answer.status_code == 400 and 'id="format-error"' in text(answer)
    with in_tenant("acme"):
        assert not WebhookSubscription.objects.exists()


def test_a_form_without_a_format_makes_a_json_webhook(world: World) -> None:
    answer = admin(world).submit("/console/webhooks", {"url": HOOK, "events": ["*"], "active": "on"})
    assert answer.status_code == 201
    with in_tenant("acme"):
        assert WebhookSubscription.objects.get().format == "json"


def test_edit_and_delete_a_webhook(world: World) -> None:
    client = admin(world)
    with in_tenant("acme"):
        hook = WebhookSubscriptionFactory.create(url=HOOK, events=["*"])
    edit = f"/console/webhooks/{hook.pk}/edit"
    assert 'value="http://127.0.0.1:9/hook"' in text(client.get(edit))
    answer = client.submit(
        edit, {"url": "http://127.0.0.1:9/other", "events": ["level.up"], "description": "CRM"}
    )
    assert answer.status_code == 303 and answer["Location"] == f"/console/webhooks/{hook.pk}?done=updated"
    assert "Webhook saved." in text(client.get(answer["Location"]))
    with in_tenant("acme"):
        hook.refresh_from_db()
        assert (hook.url, hook.events, hook.active, hook.description) == (
            "http://127.0.0.1:9/other",
            ["level.up"],
            False,
            "CRM",
        )
        entry = last_entry()
    assert (
        entry.action == "update"
        and fields(entry.before)["url"] == HOOK
        and fields(entry.after)["active"] is False
    )
    assert_by_member(entry)
    confirm = text(client.get(f"/console/webhooks/{hook.pk}/delete"))
    assert "Delete webhook" in confirm and "cannot be undone" in confirm
    answer = client.submit(f"/console/webhooks/{hook.pk}/delete", {})
    assert answer.status_code == 303 and answer["Location"] == "/console/webhooks?done=deleted"
    with in_tenant("acme"):
        assert not WebhookSubscription.objects.exists()
        assert last_entry().action == "delete"


def test_a_webhooks_page_shows_deliveries_newest_first_with_tries_and_redelivers(world: World) -> None:
    client = admin(world)
    with in_tenant("acme"):
        hook = WebhookSubscriptionFactory.create(url=HOOK)
        old = WebhookDeliveryFactory.create(
            subscription=hook,
            event=event_emit(type="level.up", data={"rep": "r1", "level": 2, "xp": 1}),
            status=WebhookDelivery.Status.FAILED,
            attempts=2,
        )
        WebhookAttempt.objects.create(
            delivery=old, number=1, status_code=500, error="HTTP 500 Internal Server Error"
        )
        WebhookAttempt.objects.create(delivery=old, number=2, status_code=None, error="timed out")
        new = WebhookDeliveryFactory.create(
            subscription=hook, event=event_emit(type="badge.awarded", data={"rep": "r1", "badge": "b"})
        )
    page = text(client.get(f"/console/webhooks/{hook.pk}"))
    assert page.index("badge.awarded") < page.index("level.up")
    assert "HTTP 500" in page and "HTTP 500 Internal Server Error" in page and "no answer · " in page
    assert "timed out" in page and "not tried yet" in page
    redeliver = f"/console/webhooks/{hook.pk}/deliveries/{old.pk}/redeliver"
    assert f'action="{redeliver}"' in page
    assert f"/deliveries/{new.pk}/redeliver" not in page  # pending: being tried already
    answer = client.submit(redeliver, {}, form_page=f"/console/webhooks/{hook.pk}")
    assert answer.status_code == 303 and answer["Location"] == f"/console/webhooks/{hook.pk}?done=redelivered"
    with in_tenant("acme"):
        old.refresh_from_db()
        assert (old.status, old.attempts) == ("pending", 0)
    # Twice: the service's 409 (still being tried), shown on the page.
    again = client.submit(redeliver, {}, form_page=f"/console/webhooks/{hook.pk}")
    assert again.status_code == 409 and "This delivery is still being tried." in text(again)


def test_deliveries_are_paginated_with_cursors(world: World, django_assert_max_num_queries: Any) -> None:
    client = admin(world)
    with in_tenant("acme"):
        hook = WebhookSubscriptionFactory.create(url=HOOK)
        for _ in range(55):
            delivery = WebhookDeliveryFactory.create(
                subscription=hook, status=WebhookDelivery.Status.SUCCEEDED
            )
            WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=200)
    with django_assert_max_num_queries(10):  # not one per delivery or try
        first = text(client.get(f"/console/webhooks/{hook.pk}"))
    assert first.count("/redeliver") == 50
    older = re.search(r'<a href="(/console/webhooks/\d+\?cursor=[^"]+)">Older deliveries</a>', first)
    assert older
    second = text(client.get(older.group(1).replace("&amp;", "&")))
    assert second.count("/redeliver") == 5 and "Newer deliveries" in second


# --- API keys ---------------------------------------------------------------------------------------


def test_the_keys_page_lists_keys_with_role_prefix_and_use(world: World, acme: ApiClient) -> None:
    page = text(admin(world).get("/console/keys"))
    with in_tenant("acme"):
        keys = list(ApiKey.objects.all())
    for key in keys:
        assert f"<code>{key.prefix}…</code>" in page
    assert ">integration</td>" in page and 'data-label="Role">read</td>' in page
    assert "never" in page
    assert world.acme.admin not in page


def test_create_and_revoke_a_key_through_the_forms(world: World) -> None:
    client = admin(world)
    answer = client.submit("/console/keys", {"name": "CRM sync", "role": "integration"})
    assert answer.status_code == 201
    token = re.search(r'id="key" class="secret" readonly value="([^"]+)"', text(answer))
    assert token and "Copy it now" in text(answer)
    assert answer["Cache-Control"] == "no-store"
    assert ApiClient(world.acme.host, token.group(1)).get("/api/v1/reps").status_code == 200
    with in_tenant("acme"):
        key = ApiKey.objects.get(name="CRM sync")
        entry = last_entry()
    assert key.role == "integration" and token.group(1).startswith(key.prefix)
    assert (entry.action, entry.target_type, entry.target_id) == ("create", "api_key", str(key.pk))
    assert_by_member(entry)
    assert token.group(1) not in text(client.get("/console/keys"))

    revoke = f"/console/keys/{key.pk}/revoke"
    assert "Revoke key" in text(client.get(revoke))
    answer = client.submit(revoke, {})
    assert answer.status_code == 303 and answer["Location"] == "/console/keys?done=revoked"
    assert "Key revoked" in text(client.get(answer["Location"]))
    assert ApiClient(world.acme.host, token.group(1)).get("/api/v1/reps").status_code == 401
    with in_tenant("acme"):
        entry = last_entry()
    assert (entry.action, entry.target_id) == ("revoke", str(key.pk))
    assert_by_member(entry)


def test_key_errors_are_next_to_their_field_and_the_last_admin_key_stays(world: World) -> None:
    client = admin(world)
    answer = client.submit("/console/keys", {"name": "", "role": "owner"})
    assert answer.status_code == 400
    page = text(answer)
    assert 'id="name-error"' in page and 'id="role-error"' in page and 'aria-describedby="name-error"' in page
    with in_tenant("acme"):
        only_admin = ApiKey.objects.get(role="admin", revoked_at__isnull=True)
    answer = client.submit(f"/console/keys/{only_admin.pk}/revoke", {})
    assert answer.status_code == 409 and "last active admin key" in text(answer)


# --- Members ----------------------------------------------------------------------------------------


def test_invite_a_member_through_the_form_as_the_api_does(world: World) -> None:
    client = admin(world)
    answer = client.submit(
        "/console/members", {"email": "ann@acme.example", "name": "Ann", "role": "manager"}
    )
    assert answer.status_code == 201
    link = re.search(r'id="link" class="secret" readonly value="([^"]+)"', text(answer))
    assert link and link.group(1).startswith(f"http://{world.acme.host}/console/invite/ssii_")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ann@acme.example"]
    assert link.group(1) in mail.outbox[0].body
    assert mail.outbox[0].subject == "You are invited to the SSI Cloud console"
    with in_tenant("acme"):
        ann = Member.objects.get(email="ann@acme.example")
        entry = last_entry()
    assert (ann.name, ann.role, ann.status) == ("Ann", "manager", "invited")
    assert (entry.action, entry.target_type, entry.target_id) == ("create", "member", str(ann.pk))
    assert_by_member(entry)
    listed = text(client.get("/console/members"))
    assert f'<a href="/console/members/{ann.pk}">ann@acme.example</a>' in listed
    assert re.search(
        r'"Name">Ann</td>\s*<td data-label="Role">manager</td>\s*<td data-label="Status">invited</td>', listed
    )
    # The link opens the invitation page.
    assert ConsoleClient(world.acme.host).get(link.group(1).split(world.acme.host)[1]).status_code == 200


def test_invite_errors_are_next_to_their_field(world: World) -> None:
    client = admin(world)
    answer = client.submit("/console/members", {"email": "not-an-email", "role": "viewer"})
    assert answer.status_code == 400 and 'id="email-error"' in text(answer)
    answer = client.submit("/console/members", {"email": "ADMIN@acme.example", "role": "viewer"})
    assert answer.status_code == 400
    assert '<p class="field-error" id="email-error">A member with this email already exists.</p>' in text(
        answer
    )
    assert not mail.outbox


def test_change_a_role_send_a_new_invitation_and_remove(world: World) -> None:
    client = admin(world)
    client.submit("/console/members", {"email": "bo@acme.example", "role": "viewer"})
    first_link = mail.outbox[0].body
    with in_tenant("acme"):
        bo = Member.objects.get(email="bo@acme.example")
    page = f"/console/members/{bo.pk}"
    assert "Send a new invitation" in text(client.get(page))
    answer = client.submit(page, {"role": "manager"})
    assert answer.status_code == 303 and answer["Location"] == f"{page}?done=role"
    assert "Role changed." in text(client.get(answer["Location"]))
    with in_tenant("acme"):
        bo.refresh_from_db()
        entry = last_entry()
    assert bo.role == "manager" and (fields(entry.before)["role"], fields(entry.after)["role"]) == (
        "viewer",
        "manager",
    )
    assert_by_member(entry)

    answer = client.submit(f"{page}/invite", {}, form_page=page)
    assert answer.status_code == 201 and len(mail.outbox) == 2 and mail.outbox[1].body != first_link
    assert "the previous link no longer works" in text(answer)
    with in_tenant("acme"):
        assert fields(last_entry().after)["invitation"] == "sent"

    session = member_signed_in("acme", "viewer", email="bo@acme.example")
    assert "Remove" in text(client.get(f"{page}/remove"))
    answer = client.submit(f"{page}/remove", {})
    assert answer.status_code == 303 and answer["Location"] == "/console/members?done=removed"
    with in_tenant("acme"):
        assert not Member.objects.filter(email="bo@acme.example").exists()
        assert last_entry().action == "delete"
    assert session and ConsoleClient(world.acme.host, session).get("/console/").status_code == 302


def test_the_last_admin_can_neither_be_demoted_nor_removed(world: World) -> None:
    client = admin(world)
    with in_tenant("acme"):
        me = Member.objects.get(email="admin@acme.example")
        Member.objects.filter(role="admin").exclude(pk=me.pk).delete()
    answer = client.submit(f"/console/members/{me.pk}", {"role": "viewer"})
    assert answer.status_code == 409
    assert re.search(r'<p class="field-error" id="role-error">This is the last active admin', text(answer))
    answer = client.submit(f"/console/members/{me.pk}/remove", {})
    assert answer.status_code == 409 and "This is the last active admin" in text(answer)
    with in_tenant("acme"):
        me.refresh_from_db()
        assert me.role == "admin" and MemberSession.objects.filter(member=me).exists()
    # With a second active admin, the first may step down.
    member_signed_in("acme", "admin", email="second@acme.example")
    assert client.submit(f"/console/members/{me.pk}", {"role": "manager"}).status_code == 303


def test_the_api_keeps_the_last_admin_member_too(world: World, acme: ApiClient) -> None:
    member_signed_in("acme", "admin", email="only@acme.example")
    with in_tenant("acme"):
        only = Member.objects.get(email="only@acme.example")
        Member.objects.filter(role="admin").exclude(pk=only.pk).delete()
    demoted = acme.patch(f"/api/v1/members/{only.pk}", {"role": "viewer"})
    assert demoted.status_code == 409 and demoted.json()["errors"][0]["code"] == "last_admin"
    removed = acme.delete(f"/api/v1/members/{only.pk}")
    assert removed.status_code == 409 and removed.json()["errors"][0]["code"] == "last_admin"
    # An invited admin is no admin yet: the rule is about who can sign in.
    invited = acme.post("/api/v1/members", {"email": "new@acme.example", "role": "admin"}).json()
    assert acme.delete(f"/api/v1/members/{invited['id']}").status_code == 204
    assert acme.patch(f"/api/v1/members/{only.pk}", {"name": "Only"}).status_code == 200


# --- Roles, CSRF, isolation -------------------------------------------------------------------------


def _objects(slug: str) -> dict[str, int]:
    with in_tenant(slug):
        hook = WebhookSubscriptionFactory.create(url=HOOK)
        key = ApiKey.objects.exclude(role="admin").first()
        member = Member.objects.order_by("-id").first()
        assert key and member
        return {"hook": hook.pk, "key": key.pk, "member": member.pk}


def _admin_paths(ids: dict[str, int]) -> list[tuple[str, str]]:
    hook, key, member = ids["hook"], ids["key"], ids["member"]
    return [
        ("GET", "/console/webhooks"),
        ("POST", "/console/webhooks"),
        ("GET", f"/console/webhooks/{hook}"),
        ("GET", f"/console/webhooks/{hook}/edit"),
        ("POST", f"/console/webhooks/{hook}/edit"),
        ("GET", f"/console/webhooks/{hook}/delete"),
        ("POST", f"/console/webhooks/{hook}/delete"),
        ("POST", f"/console/webhooks/{hook}/deliveries/00000000-0000-0000-0000-000000000000/redeliver"),
        ("GET", "/console/keys"),
        ("POST", "/console/keys"),
        ("GET", f"/console/keys/{key}/revoke"),
        ("POST", f"/console/keys/{key}/revoke"),
        ("GET", "/console/members"),
        ("POST", "/console/members"),
        ("GET", f"/console/members/{member}"),
        ("POST", f"/console/members/{member}"),
        ("POST", f"/console/members/{member}/invite"),
        ("GET", f"/console/members/{member}/remove"),
        ("POST", f"/console/members/{member}/remove"),
    ]


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_managers_and_viewers_neither_see_nor_open_the_admin_pages(world: World, role: str) -> None:
    client = console_client(world.acme, role)
    ids = _objects("acme")
    home = text(client.get("/console/"))
    for path in ADMIN_PAGES:
        assert f'href="{path}"' not in home
    for method, path in _admin_paths(ids):
        if method == "GET":
            answer = client.get(path)
        else:
            answer = client.submit(
                path, {"url": HOOK, "events": ["*"], "name": "x", "role": "admin"}, form_page="/console/"
            )
        assert answer.status_code == 403, (method, path)
        assert "Not for your role" in text(answer)
    with in_tenant("acme"):
        assert WebhookSubscription.objects.filter(pk=ids["hook"]).exists()
        assert ApiKey.objects.get(pk=ids["key"]).revoked_at is None
        assert not AuditEntry.objects.filter(actor_kind="member").exists()


def test_a_post_without_the_csrf_token_is_refused(world: World) -> None:
    client = admin(world)
    ids = _objects("acme")
    for method, path in _admin_paths(ids):
        if method == "POST":
            answer = client.client.post(path, {"name": "x", "role": "read"}, HTTP_HOST=world.acme.host)
            assert answer.status_code == 403, path
    with in_tenant("acme"):
        assert not AuditEntry.objects.filter(actor_kind="member").exists()


def test_another_tenants_ids_are_404(world: World) -> None:
    client = admin(world)
    with in_tenant("globex"):
        for n in range(3):
            WebhookSubscriptionFactory.create(url=f"{HOOK}{n}")
        for n in range(3):
            Member.objects.create(email=f"g{n}@globex.example", role="viewer")
    ids = _objects("globex")
    with in_tenant("acme"):
        assert not WebhookSubscription.objects.filter(pk=ids["hook"]).exists()
        assert not Member.objects.filter(pk=ids["member"]).exists()
        ApiKey.objects.filter(pk=ids["key"]).delete()
    for method, path in _admin_paths(ids):
        if "/" not in path.removeprefix("/console/"):
            continue  # the lists
        if method == "GET":
            answer = client.get(path)
        else:
            answer = client.submit(
                path, {"url": HOOK, "events": ["*"], "role": "viewer"}, form_page="/console/"
            )
        assert answer.status_code == 404, (method, path)
    with in_tenant("globex"):
        assert WebhookSubscription.objects.filter(pk=ids["hook"]).exists()
        assert ApiKey.objects.get(pk=ids["key"]).revoked_at is None


def test_an_admin_who_steps_down_or_leaves_is_sent_where_they_still_may_go(world: World) -> None:
    member_signed_in("acme", "admin", email="second@acme.example")
    client = admin(world)
    with in_tenant("acme"):
        me = Member.objects.get(email="admin@acme.example")
    answer = client.submit(f"/console/members/{me.pk}", {"role": "manager"})
    assert answer.status_code == 303 and answer["Location"] == "/console/"
    assert client.get("/console/members").status_code == 403

    leaving = ConsoleClient(world.acme.host, member_signed_in("acme", "admin", email="third@acme.example"))
    with in_tenant("acme"):
        third = Member.objects.get(email="third@acme.example")
    answer = leaving.submit(f"/console/members/{third.pk}/remove", {})
    assert answer.status_code == 303 and answer["Location"] == "/console/login"
    assert leaving.get("/console/").status_code == 302


def test_the_console_writes_the_same_audit_snapshots_as_the_api(world: World, acme: ApiClient) -> None:
    """Only the actor differs: the same services write the same before and after."""
    client = admin(world)
    client.submit("/console/keys", {"name": "from console", "role": "read"})
    acme.post("/api/v1/api-keys", {"name": "from api", "role": "read"})
    client.submit("/console/members", {"email": "c@acme.example", "role": "viewer"})
    acme.post("/api/v1/members", {"email": "a@acme.example", "role": "viewer"})
    client.submit("/console/webhooks", {"url": HOOK, "events": ["*"], "active": "on"})
    acme.post("/api/v1/webhooks", {"url": HOOK, "events": ["*"]})
    with in_tenant("acme"):
        entries = list(AuditEntry.objects.order_by("id"))[-6:]
    for console_made, api_made in zip(entries[::2], entries[1::2], strict=True):
        assert (console_made.actor_kind, api_made.actor_kind) == ("member", "key")
        assert (console_made.action, console_made.target_type) == (api_made.action, api_made.target_type)
        ignored = {"id", "name", "prefix", "email"}
        assert {k: v for k, v in fields(console_made.after).items() if k not in ignored} == {
            k: v for k, v in fields(api_made.after).items() if k not in ignored
        }
