"""The scoring weights flow in a real browser, by the controls' labels: a bad value shows its
error next to the field; an admin raises the weight of posts, the preview shows the moves,
Publish saves version 2, the history shows it with a readable diff, and the recompute the
nightly runs for the latest day gives the rep the SSI the preview said. A viewer reads the same
page without a Preview or Publish button. CSP, an axe scan, screenshots at desktop and phone
width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import screenshot, serious
from tests.support.console import ConsoleSite, console_site, sign_in
from tests.support.csp import assert_strict_csp
from tests.support.server import HttpClient
from tests.support.tenants import in_tenant

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.worker  # starts gunicorn

PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleSite]:
    with console_site("cons-weights", django_db_blocker, tmp_path_factory.mktemp("site")) as s:
        s.blocker = django_db_blocker  # type: ignore[attr-defined]
        yield s


def test_an_admin_previews_publishes_and_the_recompute_follows_the_preview(
    site: ConsoleSite, page: Page
) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "admin")
    response = page.goto(site.url("/console/weights"))
    assert response is not None and response.status == 200
    assert_strict_csp(response.headers.get("content-security-policy"))
    expect(page.get_by_role("group", name="Brand: Establish your professional brand")).to_be_visible()
    expect(page.get_by_label("Posts weight")).to_have_value("2")
    screenshot(page, "console-weights")

    # A bad value: the error next to its field, the value kept.
    page.get_by_label("Posts target").fill("-1")
    page.get_by_role("button", name="Preview").click()
    target = page.get_by_label("Posts target")
    expect(target).to_have_value("-1")
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_accessible_description("Must be greater than 0.")
    screenshot(page, "console-weights-error")

    target.fill("12")
    page.get_by_label("Posts weight").fill("8")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview of the draft")).to_be_visible()
    summary = page.locator("#preview p").first.inner_text()
    day = date.fromisoformat(re.search(r"On (\d{4}-\d{2}-\d{2})", summary).group(1))  # type: ignore[union-attr]
    moves = page.locator("#preview table").first.locator("tbody tr")
    assert moves.count() >= 1
    first = moves.first.locator("th, td").all_inner_texts()
    rep, before, after = first[0].split()[-1], float(first[1]), float(first[2])  # "Name external-id"
    assert before != after
    expect(page.get_by_label("Posts weight")).to_have_value("8")  # the draft stays in the form
    screenshot(page, "console-weights-preview")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-weights-preview-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text("Published version 2")
    expect(page.get_by_label("Posts weight")).to_have_value("8")

    page.get_by_role("link", name="Version history").click()
    expect(page.get_by_role("heading", name="Scoring config versions")).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile(r"Version 2 .* admin@cons-weights\.example"))
    ).to_be_visible()
    screenshot(page, "console-weights-versions")
    page.get_by_role("link", name="Version 2", exact=True).click()
    expect(page.get_by_role("listitem").filter(has_text="Posts weight: 2 → 8")).to_be_visible()
    screenshot(page, "console-weights-diff")
    page.set_viewport_size(PHONE)
    screenshot(page, "console-weights-diff-phone")

    # The nightly's recompute of the latest day gives the rep the SSI the preview showed.
    from scoring.services.recompute import scores_compute_day

    with site.blocker.unblock(), in_tenant(site.tenant.slug) as tenant:  # type: ignore[attr-defined]
        scores_compute_day(tenant=tenant, day=day)
    api = HttpClient(site.server.port, host=site.tenant.host, token=site.tenant.admin)
    body = api.json("GET", f"/api/v1/reps/{rep}/ssi?date={day.isoformat()}", expect=200)
    api.close()
    assert body["ssi"] == pytest.approx(after, abs=0.005)
    assert body["config_version"] == 2


def test_a_viewer_reads_the_weights_without_preview_or_publish(site: ConsoleSite, page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, "viewer")
    page.goto(site.url("/console/weights"))
    expect(page.get_by_text("Only admins can change the weights")).to_be_visible()
    expect(page.get_by_label("Posts weight")).to_be_disabled()
    expect(page.get_by_role("button", name="Preview")).to_have_count(0)
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    page.set_viewport_size(PHONE)
    screenshot(page, "console-weights-viewer-phone")


def test_the_weights_pages_pass_an_axe_scan(site: ConsoleSite, axe_page: Page) -> None:
    from playwright.sync_api import expect

    sign_in(axe_page, site, "admin")
    axe_page.goto(site.url("/console/weights"))
    axe_page.get_by_text("Advanced: raw JSON").click()
    expect(axe_page.get_by_label("Config JSON")).to_be_visible()
    assert not serious(axe_page)
    axe_page.get_by_label("Brand max points").fill("30")
    axe_page.get_by_role("button", name="Preview").click()
    expect(axe_page.get_by_role("alert")).to_contain_text("must add up to 100")
    assert not serious(axe_page)
    axe_page.get_by_label("Brand max points").fill("25")
    axe_page.get_by_role("button", name="Preview").click()
    expect(axe_page.get_by_role("heading", name="Preview of the draft")).to_be_visible()
    assert not serious(axe_page)
    for path in ("/console/weights/versions", "/console/weights/versions/1"):
        axe_page.goto(site.url(path))
        assert not serious(axe_page), path


def test_a_preview_of_many_reps_runs_as_a_job_and_its_answer_comes_by_itself(
    site: ConsoleSite, page: Page
) -> None:
    """Above INLINE_REPS reps the preview is a job: "Preview running…", the draft kept, and
    weights.js swaps the answer in once the worker is done (here the test does the worker's
    part, the same ``job_run``)."""
    from playwright.sync_api import expect

    from scoring.models import Rep
    from scoring.services.jobs import job_run
    from scoring.services.preview import INLINE_REPS
    from tests.factories.scoring import RepFactory

    with site.blocker.unblock(), in_tenant(site.tenant.slug):  # type: ignore[attr-defined]
        Rep.objects.bulk_create([RepFactory.build(external_id=f"many-{i:03}") for i in range(INLINE_REPS)])
    sign_in(page, site, "admin")
    page.goto(site.url("/console/weights"))
    page.get_by_label("Posts weight").fill("3")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("status")).to_contain_text("Preview running…")
    expect(page.get_by_role("link", name="Refresh")).to_be_visible()
    expect(page.get_by_label("Posts weight")).to_have_value("3")
    response = page.reload()
    assert response is not None
    assert_strict_csp(response.headers.get("content-security-policy"))
    screenshot(page, "console-weights-preview-running")

    job_id = page.url.rsplit("/", 1)[1]
    with site.blocker.unblock(), in_tenant(site.tenant.slug) as tenant:  # type: ignore[attr-defined]
        job_run(tenant=tenant, job_id=job_id)
    expect(page.get_by_role("heading", name="Largest moves")).to_be_visible(timeout=10_000)
    expect(page.get_by_text(f"of {INLINE_REPS + 12} reps would change SSI or rank")).to_be_visible()
    expect(page.get_by_role("button", name="Publish")).to_be_visible()
