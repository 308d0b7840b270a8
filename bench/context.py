"""What every phase of a run shares: its scale, the stack, the keys of the ``bench-*`` tenants,
and the rows and errors it reports."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.results import Row
from bench.scales import Scale
from bench.stack import Stack
from config.embedded import BASE_DIR

if TYPE_CHECKING:
    from tenants.models import Tenant

PREFIX = "bench-"
BIG = "bench-big"
INGEST = "bench-ingest"
BADGE = "bench-badge"
PLATFORM_KEY_NAME = "bench"


def say(message: str) -> None:
    print(message, flush=True)


def first_line(exc: BaseException) -> str:
    """A short form for the error summary (the whole of it was printed when it happened)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


@dataclass
class Context:
    scale: Scale
    env: dict[str, str]
    stack: Stack
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # slug -> admin key
    platform_key: str = ""

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``manage.py`` with the stack's environment; RuntimeError with its output if it fails."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-3000:]
            raise RuntimeError(f"manage.py {' '.join(args)} exited {result.returncode}:\n{output}")
        return result

    def host(self, slug: str) -> str:
        from django.conf import settings

        return f"{slug}.{settings.SSI_BASE_DOMAIN}"

    def wait_worker_idle(self, *, slug: str | None = None, timeout: float = 300) -> float:
        """Until the broker queue is empty (and ``slug`` has no pending evaluation) for a second.
        Returns the seconds until it went quiet."""
        from tenants.models import Tenant

        started = time.monotonic()
        tenant = Tenant.objects.get(slug=slug) if slug else None
        quiet_since: float | None = None
        while time.monotonic() - started < timeout:
            self.stack.check_alive()
            if self._worker_busy(tenant):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                return quiet_since - started
            time.sleep(0.2)
        raise RuntimeError(f"the worker was still busy after {timeout:.0f}s")

    def _worker_busy(self, tenant: Tenant | None) -> bool:
        from django_tenants.utils import tenant_context

        from gamification.models import PendingEvaluation

        if self.stack.queued_messages() > 0:
            return True
        if tenant is None:
            return False
        with tenant_context(tenant):
            return PendingEvaluation.objects.exists()
