"""The embedded PostgreSQL's ``shared_buffers`` (docs/operations.md#postgresql-settings): a
quarter of the machine's memory, from 128 MiB to 4 GiB, set on the first start of a server and
kept across restarts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config.embedded import BASE_DIR
from config.processes import EmbeddedPostgres, memory_bytes, shared_buffers_bytes, shared_buffers_mib

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


def test_memory_bytes_is_this_machines() -> None:
    lines = Path("/proc/meminfo").read_text().splitlines()
    total_kib = next(int(line.split()[1]) for line in lines if line.startswith("MemTotal:"))
    assert memory_bytes() == total_kib * 1024


def _shared_buffers_mib(url: str) -> int:
    return shared_buffers_bytes(url) // 1048576


def _start_in_a_process(pgdata: Path) -> tuple[bool, str]:
    """``EmbeddedPostgres(pgdata).start()`` in a process of its own, as ``make run`` does (pgserver
    keeps one handle per data directory in a process): (started here, URL)."""
    code = (
        "import json, sys; from pathlib import Path; from config.processes import EmbeddedPostgres; "
        "pg = EmbeddedPostgres(Path(sys.argv[1])); url = pg.start(); "
        "print(json.dumps([pg.started_here, url]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(pgdata)], cwd=BASE_DIR, check=True, capture_output=True, text=True
    )
    started, url = json.loads(out.stdout.strip().splitlines()[-1])
    return bool(started), str(url)


def test_a_new_embedded_server_is_sized_and_stays_so(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    wanted = shared_buffers_mib(memory_bytes())
    assert wanted != 128, "this machine's size would not tell a sized server from a default one"
    try:
        started, url = _start_in_a_process(pgdata)
        assert started
        assert _shared_buffers_mib(url) == wanted
        assert f"shared_buffers = '{wanted}MB'" in (pgdata / "postgresql.auto.conf").read_text()
        # Reused while it runs, then started again: still sized, without being told again.
        assert _start_in_a_process(pgdata)[0] is False
        assert EmbeddedPostgres(pgdata).stop()
        started, url = _start_in_a_process(pgdata)
        assert started
        assert _shared_buffers_mib(url) == wanted
    finally:
        EmbeddedPostgres(pgdata).stop()
