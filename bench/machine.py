"""The machine a run measured, printed at the start and with the results."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cpus,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
    }


def database_settings(url: str) -> dict[str, Any]:
    """The server's PostgreSQL version and ``shared_buffers`` (MiB): what the many-tenant figures
    depend on most (docs/operations.md#postgresql-settings)."""
    import psycopg

    from config.processes import MIB, shared_buffers_bytes

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('server_version')").fetchone()
    assert row is not None
    return {"postgres": str(row[0]).split()[0], "shared_buffers_mib": shared_buffers_bytes(url) // MIB}


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"
