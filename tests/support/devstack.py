"""``make run`` for tests: ``python -m config.devstack`` (what the Makefile runs) as a subprocess.

It runs on a database of its own on the test database's server (``devstack_database``: never the
suite's, which it would migrate and seed), a free port and a private data folder (filesystem
broker, beat schedule), with the local settings a developer gets. ``Devstack`` reads its output
as it comes, line by line with the time each arrived, to find the banner and what follows it.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection

from config.embedded import BASE_DIR
from config.processes import free_port
from tests.support.worker import database_url_on_test_server, test_database_url

BANNER_RULE = re.compile(r"^\+-+\+$")
PLATFORM_KEY = re.compile(r"ssip_[A-Za-z0-9_-]+")
ADMIN_KEY = re.compile(r"ssik_[A-Za-z0-9_-]+")
INVITE_TOKEN = re.compile(r"ssii_[A-Za-z0-9_-]+")
# Variables of the developer's environment that would change what `make run` does.
NOT_INHERITED = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "LOG_LEVEL", "SSI_BIND",
                 "SSI_BASE_DOMAIN", "PYTHONWARNINGS", "DJANGO_DEBUG")  # fmt: skip


@contextmanager
def devstack_database(name: str) -> Iterator[str]:
    """A new, empty database ``<test database>_<name>`` on the test database's server, dropped
    afterwards (and first, if a run that was killed left it); yields its URL."""
    admin_url = test_database_url()
    database = f"{connection.settings_dict['NAME']}_{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield database_url_on_test_server(database)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass(frozen=True)
class Line:
    at: float  # time.monotonic() when it was read
    text: str


class Devstack:
    """``python -m config.devstack`` on ``database_url`` and a free port, its data in ``data_dir``."""

    def __init__(self, *, database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        self.env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": database_url,
            "SSI_DATA_DIR": str(data_dir),
            "SSI_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "1",
            "CELERY_CONCURRENCY": "1",
            **(extra_env or {}),
        }
        self.lines: list[Line] = []
        self._popen: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    # --- Running it ---------------------------------------------------------------------------

    def start(self) -> Devstack:
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "config.devstack"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a Ctrl-C in pytest's terminal is not one sent to it
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for text in self.popen.stdout:
            self.lines.append(Line(time.monotonic(), text.rstrip("\n")))

    @property
    def popen(self) -> subprocess.Popen[str]:
        assert self._popen is not None, "not started"
        return self._popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def children(self) -> dict[str, int]:
        """Its child processes by what they run: ``gunicorn``, ``worker``, ``beat``."""
        found: dict[str, int] = {}
        with suppress(FileNotFoundError):
            for pid in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split():
                with suppress(FileNotFoundError):
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    for name in ("gunicorn", "worker", "beat"):
                        if name.encode() in argv:
                            found[name] = int(pid)
        return found

    def interrupt(self) -> None:
        """What Ctrl-C in its terminal sends it."""
        self.popen.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 90) -> int:
        """Its exit status, once it has exited and its output has been read to the end."""
        code = self.popen.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=10)
        return code

    def stop(self) -> None:
        """After a test, whatever happened in it: SIGTERM (it stops its children), SIGKILL to
        it and them if that takes too long."""
        if self._popen is None or self.popen.poll() is not None:
            return
        children = list(self.children().values())
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.wait(timeout=60)
        except subprocess.TimeoutExpired:
            for pid in [self.pid, *children]:
                with suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            self.popen.wait()

    # --- Reading its output -------------------------------------------------------------------

    @property
    def output(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def banner_end(self) -> int | None:
        """The index of the banner's closing rule in ``lines`` (None before the whole banner)."""
        rules = [i for i, line in enumerate(self.lines) if BANNER_RULE.match(line.text)]
        return rules[1] if len(rules) >= 2 else None

    def wait_for_banner(self, timeout: float = 180) -> list[str]:
        """Until the framed banner has been printed; its lines, frame included."""
        deadline = time.monotonic() + timeout
        while (end := self.banner_end()) is None:
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no banner (exit status {self.popen.poll()}); output:\n{self.output}")
            time.sleep(0.2)
        start = max(i for i, line in enumerate(self.lines[:end]) if BANNER_RULE.match(line.text))
        return [line.text for line in self.lines[start : end + 1]]

    def keys(self) -> tuple[str, str]:
        """The platform key and the demo admin key the banner shows."""
        banner = "\n".join(self.wait_for_banner())
        platform, admin = PLATFORM_KEY.search(banner), ADMIN_KEY.search(banner)
        assert platform and admin, banner
        return platform.group(), admin.group()


class TerminalRun:
    """``make run`` in a pseudo-terminal of its own, as a developer starts it.

    There, Ctrl-C is the terminal's: a SIGINT to the terminal's foreground process
    group, which holds make as well as ``config.devstack`` unless the devstack takes
    the terminal for itself. ``ctrl_c`` types it; ``wait`` is make's own exit status.
    """

    def __init__(self, devstack: Devstack) -> None:
        self.env = devstack.env
        self.output = ""
        self._pid, self._fd = 0, -1

    def start(self) -> TerminalRun:
        pid, fd = pty.fork()
        if pid == 0:  # the child: exec at once (the test process has threads)
            os.chdir(BASE_DIR)
            os.execvpe("make", ["make", "--no-print-directory", "run"], self.env)
        self._pid, self._fd = pid, fd
        return self

    def read_until(self, text: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline or not self._read(1.0):
                raise AssertionError(f"{text!r} not printed; output:\n{self.output}")

    def _read(self, timeout: float) -> bool:
        """Read what is there; False once the terminal is closed (everything has exited)."""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self._fd, 65536)
        except OSError:  # EIO: no process has the terminal open any more
            return False
        self.output += chunk.decode(errors="replace")
        return bool(chunk)

    def ctrl_c(self) -> None:
        os.write(self._fd, b"\x03")

    def wait(self, timeout: float = 90) -> int:
        """make's exit status (-2: killed by SIGINT), once its output is read to the end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(self._pid, os.WNOHANG)
            if done:
                while self._read(0.5):
                    pass
                return os.waitstatus_to_exitcode(status)
            self._read(0.5)
        raise AssertionError(f"make run still running; output:\n{self.output}")

    def stop(self) -> None:
        """After a test, whatever happened in it: make and its recipe get SIGTERM if still there."""
        with suppress(ChildProcessError):  # already waited for
            if not os.waitpid(self._pid, os.WNOHANG)[0]:
                with suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGTERM)
                os.waitpid(self._pid, 0)
        with suppress(OSError):
            os.close(self._fd)
