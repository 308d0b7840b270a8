"""The admin pages and the audit log in a real browser, driven by the controls' labels: invite
a member and see the link, create and revoke a key, create a webhook and see its secret once,
filter the audit log; the strict CSP, an axe scan of each page, desktop and phone screenshots,
and what a manager and a viewer are shown."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import screenshot, serious
from tests.support.console import ConsoleSite, console_site, sign_in
from tests.support.csp import assert_strict_csp
from tests.support.tenants import in_tenant

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.worker  # starts gunicorn

HOOK = "http://127.0.0.1:9/hook"
PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site("cons-admin", django_db_blocker, tmp_path_factory.mktemp("site"), reps=4, days=2) as s:
        yield s


@pytest.fixture(scope="module")
def seeded(site: ConsoleSite, django_db_blocker: Any) -> dict[str, int]:
    with django_db_blocker.unblock():
        return _webhook_with_deliveries(site.tenant.slug)


def _webhook_with_deliveries(slug: str) -> dict[str, int]:
    """A webhook with a failed delivery (two tries) and a succeeded one, and an invited member."""
    from datetime import timedelta

    from django.utils import timezone

    from access.models import Member
    from gamification.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
    from gamification.services.outbox import event_emit

    with in_tenant(slug):
        # The events first: their fan-out (on commit) finds no webhook to deliver them to.
        level = event_emit(type="level.up", data={"rep": "r1", "level": 3, "xp": 250})
        badge = event_emit(type="badge.awarded", data={"rep": "r2", "badge": "first-post"})
        hook = WebhookSubscription.objects.create(
            url="https://crm.example.com/hooks/ssi",
            events=["level.up", "badge.awarded"],
            secret="whsec_seeded",
        )
        now = timezone.now()
        failed = WebhookDelivery.objects.create(
            subscription=hook,
            event=level,
            status=WebhookDelivery.Status.FAILED,
            attempts=2,
            created_at=now - timedelta(hours=2),
        )
        WebhookAttempt.objects.create(
            delivery=failed, number=1, status_code=503, error="HTTP 503 Service Unavailable"
        )
        WebhookAttempt.objects.create(
            delivery=failed, number=2, status_code=None, error="timed out after 10 s"
        )
        ok = WebhookDelivery.objects.create(
            subscription=hook,
            event=badge,
            status=WebhookDelivery.Status.SUCCEEDED,
            attempts=1,
        )
        WebhookAttempt.objects.create(delivery=ok, number=1, status_code=200, duration_ms=84)
        invited = Member.objects.create(email="dana@cons-admin.example", name="Dana", role="viewer")
        return {"hook": hook.pk, "member": invited.pk}


def _open(page: Page, site: ConsoleSite, path: str, role: str = "admin") -> Any:
    sign_in(page, site, role)
    response = page.goto(site.url(path))
    assert response is not None
    return response


def test_invite_a_member_by_the_labels_and_see_the_link(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    response = _open(page, site, "/console/members")
    assert response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    page.get_by_label("Email").fill("erin@cons-admin.example")
    page.get_by_label("Name").fill("Erin")
    page.get_by_label("Role").select_option("manager")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("heading", name="Invitation sent")).to_be_visible()
    link = page.get_by_label("Invitation link")
    expect(link).to_have_value(
        re.compile(rf"^http://{re.escape(site.tenant.host)}(:\d+)?/console/invite/ssii_")
    )
    screenshot(page, "console-member-invited")
    page.get_by_role("link", name="Back to members").click()
    expect(page.get_by_role("link", name="erin@cons-admin.example")).to_be_visible()


def test_create_a_key_see_it_once_and_revoke_it(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    _open(page, site, "/console/keys")
    page.get_by_label("Name").fill("Warehouse export")
    page.get_by_label("Role").select_option("read")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Key created")).to_be_visible()
    expect(page.get_by_label("API key")).to_have_value(re.compile(r"^ssik_"))
    expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    screenshot(page, "console-key-created")
    page.get_by_role("link", name="Back to API keys").click()
    page.get_by_role("link", name="Revoke Warehouse export").click()
    expect(page.get_by_role("heading", name="Revoke the key “Warehouse export”?")).to_be_visible()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("Key revoked")
    expect(page.get_by_role("link", name="Revoke Warehouse export")).to_have_count(0)


def test_create_a_webhook_and_see_its_secret_once(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    _open(page, site, "/console/webhooks")
    page.get_by_label("URL").fill(HOOK)
    expect(page.get_by_label("Format")).to_have_value("json")
    page.get_by_label("Format").select_option(label="Slack")
    page.get_by_label("level.up").check()
    page.get_by_label("goal.achieved").check()
    expect(page.get_by_label("Active")).to_be_checked()
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("heading", name="Webhook created")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    screenshot(page, "console-webhook-created")
    page.get_by_role("link", name="Open the webhook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Webhook \d+: " + re.escape(HOOK)))
    expect(page.get_by_text("Slack", exact=True)).to_be_visible()
    assert secret not in page.content()
    page.goto(site.url("/console/webhooks"))
    assert secret not in page.content()


def test_redeliver_a_failed_delivery(site: ConsoleSite, seeded: dict[str, int], page: Page) -> None:
    from playwright.sync_api import expect

    hook = seeded["hook"]
    _open(page, site, f"/console/webhooks/{hook}")
    expect(page.get_by_text("HTTP 503 Service Unavailable")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Redeliver level.up")).click()
    expect(page.get_by_role("status")).to_contain_text("Delivery queued again")


def test_filter_the_audit_log(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    response = _open(page, site, "/console/audit", role="manager")
    assert response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    page.get_by_label("What").select_option("api_key")
    page.get_by_label("Action").select_option("create")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"target_type=api_key&action=create"))
    entries = page.locator("ol.audit > li")
    expect(entries.first).to_contain_text("Created API key")
    for text in entries.all_inner_texts():
        assert text.startswith("Created API key"), text


def test_a_manager_and_a_viewer_are_shown_no_admin_page(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    _open(page, site, "/console/", role="manager")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Audit log")).to_be_visible()
    for label in ("Webhooks", "API keys", "Members"):
        expect(nav.get_by_role("link", name=label)).to_have_count(0)
    page.context.clear_cookies()
    response = _open(page, site, "/console/keys", role="viewer")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()


PAGES = [
    ("webhooks", "/console/webhooks"),
    ("webhook", "/console/webhooks/{hook}"),
    ("keys", "/console/keys"),
    ("members", "/console/members"),
    ("member", "/console/members/{member}"),
    ("audit", "/console/audit"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_each_page_passes_axe_and_is_screenshot_at_desktop_and_phone_width(
    site: ConsoleSite, seeded: dict[str, int], axe_page: Page, name: str, path: str
) -> None:
    response = _open(axe_page, site, path.format(**seeded))
    assert response.status == 200
    assert not serious(axe_page)
    screenshot(axe_page, f"console-{name}")
    axe_page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert not serious(axe_page)
    screenshot(axe_page, f"console-{name}-phone")
    assert axe_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
