"""The embedded PostgreSQL's ``shared_buffers`` (docs/operations.md#postgresql-settings): a
quarter of the machine's memory, from 128 MiB to 4 GiB, set when a server starts with another
value, kept across restarts; processes that start it at once take turns."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from config.embedded import BASE_DIR
from config.processes import MIB, EmbeddedPostgres, memory_bytes, shared_buffers_bytes, shared_buffers_mib

GIB = 1024**3


@pytest.mark.parametrize(
    ("memory", "mib"),
    [
        (0, 128),  # the system does not say: PostgreSQL's default
        (256 * 1024**2, 128),  # a quarter would be 64 MiB: no less than the default
        (2 * GIB, 512),
        (8 * GIB, 2048),
        (24 * GIB, 4096),  # 6 GiB: at most 4
        (16 * GIB + 3, 4096),
        (3 * GIB + 4 * 1024**2, 769),  # a quarter of 3,076 MiB, in whole MiB
    ],
)
def test_shared_buffers_is_a_quarter_of_memory_within_bounds(memory: int, mib: int) -> None:
    assert shared_buffers_mib(memory) == mib


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/meminfo")
def test_memory_is_the_machines_or_its_containers_limit() -> None:
    lines = Path("/proc/meminfo").read_text().splitlines()
    physical = next(int(line.split()[1]) for line in lines if line.startswith("MemTotal:")) * 1024
    limit = Path("/sys/fs/cgroup/memory.max")
    text = limit.read_text().strip() if limit.exists() else "max"
    expected = min(physical, int(text)) if text.isdigit() else physical
    # MemTotal and the page count may differ by the kernel's own reservations: within 1%.
    assert abs(memory_bytes() - expected) <= expected // 100


CODE = (
    "import json, sys, warnings; from pathlib import Path; from config.processes import EmbeddedPostgres; "
    "pg = EmbeddedPostgres(Path(sys.argv[1])); url = pg.start(); "
    "print(json.dumps([pg.started_here, url]))"
)
# pgserver's own start, which sizes nothing: what a server keeps from an earlier start.
PLAIN_CODE = (
    "import sys, warnings; warnings.simplefilter('ignore'); import pgserver; "
    "print(pgserver.get_server(sys.argv[1], cleanup_mode=None).get_uri())"
)


def _run(code: str, pgdata: Path) -> str:
    """``code`` in a process of its own, as each ``make`` command does (pgserver keeps one handle
    per data directory in a process): its last line of output."""
    out = subprocess.run(
        [sys.executable, "-c", code, str(pgdata)], cwd=BASE_DIR, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _start(pgdata: Path) -> tuple[bool, str]:
    started, url = json.loads(_run(CODE, pgdata))
    return bool(started), str(url)


def _wanted_mib() -> int:
    wanted = shared_buffers_mib(memory_bytes())
    if wanted == 128:
        pytest.skip("on this machine a sized server has PostgreSQL's default: nothing to tell apart")
    return wanted


def test_a_new_embedded_server_is_sized_and_stays_so(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    wanted = _wanted_mib()
    try:
        started, url = _start(pgdata)
        assert started
        assert shared_buffers_bytes(url) == wanted * MIB
        # Started, then restarted sized: both in pgserver's log file (the restart kept it).
        assert (pgdata / "log").read_text().count("database system is ready to accept connections") == 2
        assert _start(pgdata)[0] is False  # reused while it runs
        assert EmbeddedPostgres(pgdata).stop()
        # Started again by pgserver alone, which sizes nothing: the value stayed.
        url = _run(PLAIN_CODE, pgdata)
        assert shared_buffers_bytes(url) == wanted * MIB
    finally:
        EmbeddedPostgres(pgdata).stop()


def test_processes_starting_it_at_once_take_turns(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    wanted = _wanted_mib()
    try:
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(_start, [pgdata] * 3))
        assert sorted(started for started, _ in results) == [False, False, True]  # one started it
        assert len({url for _, url in results}) == 1
        assert shared_buffers_bytes(results[0][1]) == wanted * MIB
        # One start and one restart to size it: two shutdowns would mean two restarts.
        assert (pgdata / "log").read_text().count("received fast shutdown request") == 1
    finally:
        EmbeddedPostgres(pgdata).stop()


def test_a_value_the_server_refuses_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Sizing is best effort: a value ``ALTER SYSTEM`` refuses (above PostgreSQL's maximum)
    leaves the server running with the value it had, and says so."""
    monkeypatch.setattr("config.processes.shared_buffers_mib", lambda memory: 10 * 1024**2 * 1024)
    pg = EmbeddedPostgres(tmp_path / "pg")
    try:
        url = pg.start()
        assert pg.started_here
        assert shared_buffers_bytes(url) == 128 * MIB
        assert "keeps its shared_buffers" in caplog.text
    finally:
        pg.stop()


@pytest.mark.skipif(
    Path("/proc/sys/vm/overcommit_memory").exists()
    and Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1",
    reason="this system grants any mapping: PostgreSQL would start with 4 TiB of shared_buffers",
)
def test_a_server_that_cannot_start_sized_starts_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A value ``ALTER SYSTEM`` takes but the operating system refuses at start (4 TiB of shared
    memory): the server is started again without it, not left down."""
    monkeypatch.setattr("config.processes.shared_buffers_mib", lambda memory: 4 * 1024**2)
    pg = EmbeddedPostgres(tmp_path / "pg")
    try:
        url = pg.start()
        assert shared_buffers_bytes(url) == 128 * MIB
        assert "shared_buffers" not in (tmp_path / "pg" / "postgresql.auto.conf").read_text()
        assert "did not start with shared_buffers" in caplog.text
    finally:
        pg.stop()
