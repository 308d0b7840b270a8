"""The audit log page: readable entries (who, what, the changed fields), filters in the
tenant's dates, the API's cursors, managers and admins only, one tenant's entries only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest

from access.models import AuditEntry
from tests.factories.access import AuditEntryFactory
from tests.support.console import console_client
from tests.support.http import ApiClient
from tests.support.tenants import World, in_tenant

pytestmark = pytest.mark.django_db
HOOK = "http://127.0.0.1:9/hook"


def page_of(world: World, role: str = "admin", **query: Any) -> Any:
    return console_client(world.acme, role).get("/console/audit", **query)


def entries_of(html: str) -> list[str]:
    """Each entry's text, tags stripped and spaces folded, newest first."""
    items = re.findall(r'<li class="panel">(.*?)</li>\s*(?=<li class="panel">|</ol>)', html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()).replace(" :", ":") for item in items]


def test_api_and_console_changes_read_as_who_what_and_field_changes(world: World, acme: ApiClient) -> None:
    hook = acme.post("/api/v1/webhooks", {"url": HOOK, "events": ["level.up"]}).json()
    acme.patch(f"/api/v1/webhooks/{hook['id']}", {"url": "http://127.0.0.1:9/other", "active": False})
    console = console_client(world.acme, "admin")
    console.submit("/console/keys", {"name": "CRM sync", "role": "read"})
    with in_tenant("acme"):
        by_key = AuditEntry.objects.filter(actor_kind="key").first()
        assert by_key
        prefix = by_key.actor_prefix
        AuditEntryFactory.create(before={"name": "Old"}, after={"name": "New"}, target_id="first-post")

    rows = entries_of(page_of(world).content.decode())
    assert rows[0].startswith("Updated badge first-post by system (a command or a task)")
    assert "name: Old → New" in rows[0]
    assert rows[1].startswith("Created API key ")
    assert "by admin@acme.example (member, admin)" in rows[1]
    assert "name: — → CRM sync" in rows[1] and "role: — → read" in rows[1]
    key = f"admin (created with the tenant) (API key {prefix}…, admin)"
    assert rows[2].startswith(f"Updated webhook {hook['id']} by {key}")
    assert "url: http://127.0.0.1:9/hook → http://127.0.0.1:9/other" in rows[2]
    assert "active: yes → no" in rows[2]
    assert "events" not in rows[2]  # unchanged fields are left out
    assert rows[3].startswith(f"Created webhook {hook['id']}")
    assert "secret: — → [redacted]" in rows[3] and "events: — → level.up" in rows[3]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0])


def test_filters_by_what_action_and_the_tenants_dates(world: World) -> None:
    with in_tenant("acme"):
        # Recorded in this order (the log is newest first by when it was written).
        AuditEntryFactory.create(at=datetime(2026, 3, 1, 12, tzinfo=UTC), target_id="noon")
        AuditEntryFactory.create(
            at=datetime(2026, 3, 1, 12, tzinfo=UTC), target_type="goal", action="delete", target_id="7"
        )
        # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin, acme's time zone.
        late = AuditEntryFactory.create(at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC), target_id="late")
    assert late.pk

    def whats(**query: str) -> list[str]:
        answer = page_of(world, **query)
        assert answer.status_code == 200
        return [row.split(" by ")[0] for row in entries_of(answer.content.decode())]

    assert whats(since="2026-03-02", until="2026-03-02") == ["Updated badge late"]
    assert whats(since="2026-03-01", until="2026-03-01") == ["Deleted goal 7", "Updated badge noon"]
    assert whats(target_type="goal") == ["Deleted goal 7"]
    assert whats(action="update", until="2026-03-02") == ["Updated badge late", "Updated badge noon"]
    assert whats(target_type="webhook") == []
    filtered = page_of(world, target_type="goal", since="2026-03-01").content.decode()
    assert '<option value="goal" selected>goal</option>' in filtered and 'value="2026-03-01"' in filtered


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"target_type": "secrets"}, "target_type"),
        ({"action": "drop"}, "action"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_error_next_to_its_field(
    world: World, query: dict[str, str], field: str
) -> None:
    answer = page_of(world, **query)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert f'aria-describedby="{field}-error"' in html
    assert re.search(rf'<span class="field-error" id="{field}-error">[^<]+</span>', html)


def test_pages_of_fifty_newest_first_with_the_apis_cursors(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = console_client(world.acme, "manager")
    with in_tenant("acme"):
        AuditEntry.objects.bulk_create(
            AuditEntryFactory.build(target_id=f"b-{n:03d}", before={"n": n}, after={"n": n + 1})
            for n in range(120)
        )
    with django_assert_max_num_queries(8):
        first = client.get("/console/audit", target_type="badge").content.decode()
    rows = entries_of(first)
    assert len(rows) == 50 and rows[0].startswith("Updated badge b-119") and "n: 119 → 120" in rows[0]
    older = re.search(r'<a href="([^"]+)">Older changes</a>', first)
    assert older and "cursor=" in older.group(1) and "target_type=badge" in older.group(1)
    second = client.get(unescape(older.group(1))).content.decode()
    assert entries_of(second)[0].startswith("Updated badge b-069") and "Newer changes" in second


def test_managers_and_admins_read_it_viewers_do_not(world: World) -> None:
    assert page_of(world, "manager").status_code == 200
    assert page_of(world, "admin").status_code == 200
    viewer = console_client(world.acme, "viewer")
    refused = viewer.get("/console/audit")
    assert refused.status_code == 403 and "Not for your role" in refused.content.decode()
    assert 'href="/console/audit"' not in viewer.get("/console/").content.decode()
    assert 'href="/console/audit"' in console_client(world.acme, "manager").get("/console/").content.decode()


def test_another_tenants_entries_are_not_shown(world: World, globex: ApiClient) -> None:
    globex.post("/api/v1/webhooks", {"url": HOOK, "events": ["*"]})
    with in_tenant("acme"):
        AuditEntryFactory.create(target_id="acme-badge")
    html = page_of(world, target_type="webhook").content.decode()
    assert entries_of(html) == []
    assert "acme-badge" in page_of(world).content.decode()


def test_changes_spell_out_nested_fields_times_and_lists() -> None:
    from console.pages.audit import Change, changes_of

    before = {"id": 3, "weights": {"posts": 1.0, "comments": 2.0}, "revoked_at": None, "events": ["*"]}
    after = {
        "id": 3,
        "weights": {"posts": 1.5, "comments": 2.0},
        "revoked_at": "2026-03-01T23:30:00.123Z",
        "events": ["level.up", "badge.awarded"],
    }
    assert changes_of(before, after) == [
        Change("weights.posts", "1.0", "1.5"),
        Change("revoked_at", "—", "2026-03-01 23:30:00 UTC"),
        Change("events", "*", "level.up, badge.awarded"),
    ]
    assert changes_of({"name": "x", "description": ""}, None) == [Change("name", "x", "—")]


@pytest.mark.parametrize("query", [{"cursor": "not-a-cursor"}, {"page_size": "0"}, {"page_size": "x"}])
def test_a_cursor_that_is_not_ours_is_a_404_page_never_a_500(world: World, query: dict[str, str]) -> None:
    answer = page_of(world, **query)
    assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")
