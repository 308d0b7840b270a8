"""``python -m bench.screenshots`` (``make screenshots``): the run, as the package's docstring
describes it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.screenshots.answers import page_answers, targets_for
from bench.screenshots.shots import DOCS, SIZE_WARNING_BYTES, WIDTHS, gallery_write, say, shoot
from config import processes
from config.embedded import BASE_DIR
from config.processes import EmbeddedPostgres
from console.catalog import Page, pages_named

if TYPE_CHECKING:
    from access.models import Member
    from tenants.models import Tenant


def demo_member() -> tuple[Tenant, Member]:
    """The demo tenant, made or brought up to date as ``make run`` does, and its admin member."""
    from django_tenants.utils import tenant_context

    from access.models import Member
    from provisioning.demo import DEMO_ADMIN_EMAIL, DEMO_SLUG, demo_activity_refresh, demo_ensure
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    member = None
    if tenant is not None:
        with tenant_context(tenant):
            member = Member.objects.filter(email__iexact=DEMO_ADMIN_EMAIL).first()
    if tenant is None or member is None:
        say("making the demo tenant (as make run does)…")
        demo_ensure()
        tenant = Tenant.objects.get(slug=DEMO_SLUG)
        with tenant_context(tenant):
            member = Member.objects.get(email__iexact=DEMO_ADMIN_EMAIL)
    else:
        days = demo_activity_refresh(tenant)
        say(f"demo tenant up to date ({days} day(s) scored now)")
    return tenant, member


def session_end(tenant: Tenant, session: str) -> None:
    from django_tenants.utils import tenant_context

    from access.models import MemberSession
    from core.tokens import hash_token

    with tenant_context(tenant):
        MemberSession.objects.filter(key_hash=hash_token(session)).delete()


def run(pages: Sequence[Page], env: dict[str, str], data_dir: Path) -> int:
    """Setup, the answers, the shots, the gallery. 0 when every page answered and was shot."""
    say("migrating the database…")
    subprocess.run([sys.executable, "manage.py", "setup_db", "-v", "0"], env=env, check=True, cwd=BASE_DIR)
    import django

    django.setup()
    tenant, member = demo_member()
    targets = targets_for(tenant, member)
    say(f"signed in as {member.email}; top rep {targets.rep}")
    processes.broker_folders(data_dir)
    port = processes.free_port()
    web = processes.gunicorn(
        bind=f"127.0.0.1:{port}", workers=2,
        # Its own server: the per-address limit would count every page and file it loads.
        env={**env, "SSI_DATA_DIR": str(data_dir), "SSI_ANON_RATE_LIMIT_PER_MINUTE": "0"},
        log=data_dir / "gunicorn.log", own_session=True,
    ).start()  # fmt: skip
    try:
        web.wait_healthy(host="localhost", timeout=60)
        say(
            f"gunicorn on 127.0.0.1:{port}; {len(pages)} page(s) at {', '.join(f'{w} px' for _, w in WIDTHS)}"
        )
        answers = page_answers(port, targets, pages)
        for answer in answers:
            say(f"  {'ok ' if answer.problem is None else 'BAD'} {answer}")
        good = [a.page for a in answers if a.problem is None]
        problems = [str(a) for a in answers if a.problem is not None]
        problems += shoot(port, targets, good)
    finally:
        web.stop()
        session_end(tenant, targets.session)
    shown = gallery_write()
    total = sum(p.stat().st_size for p in DOCS.glob("*.jpg"))
    say(f"docs/console.md shows {shown} page(s); docs/console/ holds {total / 2**20:.1f} MiB of screenshots")
    if total > SIZE_WARNING_BYTES:
        say(
            f"warning: more than {SIZE_WARNING_BYTES // 2**20} MiB of screenshots; lower JPEG_QUALITY or MAX_HEIGHT"
        )
    if problems:
        say("pages at fault:\n  " + "\n  ".join(problems))
        if any(a.status >= 500 for a in answers):
            print(web.tail(), flush=True)
        return 1
    return 0


def main() -> int:
    os.chdir(BASE_DIR)
    try:
        pages = pages_named(os.environ.get("SCREENSHOT_PAGES", ""))
    except KeyError as exc:
        say(f"SCREENSHOT_PAGES: {exc.args[0]}")
        return 2
    from tests.support.browser import missing_browser

    reason = missing_browser()
    if reason:
        say(f"cannot take screenshots: {reason}")
        return 2
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("DJANGO_DEBUG", "false")  # the pages as production shows them
    postgres = None
    if not env.get("DATABASE_URL", "").strip():
        embedded = EmbeddedPostgres()
        env["DATABASE_URL"] = embedded.start()
        postgres = embedded if embedded.started_here else None
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DATABASE_URL")})
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="ssi-screenshots-") as tmp:
            code = run(pages, env, Path(tmp))
    finally:
        if postgres is not None:
            postgres.stop()
    say(f"done in {time.monotonic() - started:.0f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
