"""``make run`` (``config/devstack.py``) as a developer meets it: the URLs and keys are the last
thing it prints, in a frame, as the README shows them; Ctrl-C stops everything and exits 0 (make
too, when it is typed in a terminal); a process that dies on its own is reported and the run exits
non-zero.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.devstack import (
    ADMIN_KEY,
    INVITE_TOKEN,
    PLATFORM_KEY,
    Devstack,
    TerminalRun,
    devstack_database,
)
from tests.support.readme import code_blocks
from tests.support.server import HttpClient

pytestmark = pytest.mark.worker  # starts make run's processes

QUIET_SECONDS = 5


@pytest.fixture(scope="module")
def database_url(django_db_setup: None) -> Iterator[str]:
    with devstack_database("devstack") as url:
        yield url


@pytest.fixture
def devstack(database_url: str, tmp_path: Path) -> Iterator[Devstack]:
    stack = Devstack(database_url=database_url, data_dir=tmp_path).start()
    try:
        yield stack
    finally:
        stack.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")


def as_in_readme(banner: list[str], port: int) -> list[str]:
    """The banner's lines without their frame, with the README's port and placeholder keys."""
    inner = [line[2:-2].rstrip() for line in banner[1:-1]]
    keys = [
        INVITE_TOKEN.sub("ssii_…", ADMIN_KEY.sub("ssik_…", PLATFORM_KEY.sub("ssip_…", line)))
        for line in inner
    ]
    return [line.replace(f":{port}/", ":8000/") for line in keys]


def test_make_run_prints_its_keys_last_and_stops_cleanly_on_ctrl_c(devstack: Devstack) -> None:
    banner = devstack.wait_for_banner()
    time.sleep(QUIET_SECONDS)
    end = devstack.banner_end()
    assert end is not None
    after = [line.text for line in devstack.lines[end + 1 :] if line.text.strip()]
    assert after == [], f"printed after the banner:\n{devstack.output}"

    platform_key, admin_key = devstack.keys()
    client = HttpClient(devstack.port, host="demo.localhost", token=admin_key)
    assert client.json("GET", "/api/v1/reps", expect=200)["results"]
    client.close()
    platform = HttpClient(devstack.port, host="localhost", token=platform_key)
    assert platform.json("GET", "/api/v1/platform/tenants", expect=200)
    platform.close()
    invite = INVITE_TOKEN.search("\n".join(banner))
    assert invite, banner
    console = HttpClient(devstack.port, host="demo.localhost")
    status, page, _ = console.request("GET", f"/console/invite/{invite.group(0)}")
    assert status == 200 and b"Set password" in page, page[:300]  # the printed console link works
    console.close()

    readme = [line.rstrip() for line in code_blocks("What `make run` gives you")[0].splitlines()]
    assert as_in_readme(banner, devstack.port) == [line[2:-2].rstrip() for line in readme[1:-1]]

    before = devstack.output
    assert "SecurityWarning" not in before
    assert "[tasks]" not in before and "celery beat v" not in before  # no Celery banners
    assert len(devstack.lines) < 40, before

    children = devstack.children()
    assert set(children) == {"gunicorn", "worker", "beat"}
    devstack.interrupt()
    assert devstack.wait() == 0, devstack.output
    assert "unexpectedly" not in devstack.output
    assert "on its own" not in devstack.output
    assert "Traceback" not in devstack.output
    assert devstack.lines[-1].text == "[make run] stopped"
    assert not [name for name, pid in children.items() if alive(pid)]


def test_make_run_reports_a_process_that_dies_and_exits_non_zero(devstack: Devstack) -> None:
    devstack.wait_for_banner()
    children = devstack.children()
    os.kill(children["beat"], signal.SIGKILL)

    assert devstack.wait() == 1, devstack.output
    report = re.search(
        r"\[make run\] beat \(pid (\d+)\) stopped on its own \(killed by SIGKILL\)",
        devstack.output,
    )
    assert report, devstack.output
    assert int(report.group(1)) == children["beat"]
    assert devstack.lines[-1].text == "[make run] stopped"
    assert not [name for name, pid in children.items() if alive(pid)]


def test_ctrl_c_in_a_terminal_ends_make_run_itself_with_status_0(database_url: str, tmp_path: Path) -> None:
    """Through make and a terminal, as a developer runs it: the terminal's Ctrl-C reaches the
    devstack alone (its own foreground process group), so make is not killed by it (130)."""
    run = TerminalRun(Devstack(database_url=database_url, data_dir=tmp_path)).start()
    try:
        run.read_until("Logs: warnings and errors")
        run.ctrl_c()
        assert run.wait() == 0, run.output
    finally:
        run.stop()
    assert run.output.rstrip().endswith("[make run] stopped"), run.output
    assert "Error" not in run.output and "unexpectedly" not in run.output, run.output
