"""Starting and stopping the product's processes: gunicorn, the Celery worker, Celery beat and
the embedded PostgreSQL.

``make run`` (``config.devstack``), ``make bench`` (``bench.stack``) and the tests that need a
real server or worker (``tests.support.server``, ``tests.support.worker``) all start them here, so the command
lines, the readiness checks and the way they are stopped are written once. What differs from
one caller to the next (address, worker count, pool, options, log file, process group) is an
argument.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from types import ModuleType
from typing import IO, Self

from config.embedded import BASE_DIR, data_dir

logger = logging.getLogger(__name__)

# gunicorn's settings module, for every gunicorn we start (docker/entrypoint.sh names it too).
GUNICORN_CONFIG = "python:config.gunicorn_conf"
STOP_TIMEOUT_SECONDS = 20.0
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.2
BROKER_FOLDERS = ("queue", "processed", "control")


class ProcessError(RuntimeError):
    """A process exited while it should be running, or was not ready in time."""


class Process:
    """One subprocess, run from the repository's root with its own environment.

    ``log``: the file its stdout and stderr go to (None: ours, as ``make run`` shows them).
    ``own_session``: it leads a new process group, so that ``stop`` can SIGKILL its children
    too and a Ctrl-C in our terminal does not reach it behind our back.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: dict[str, str],
        log: Path | None = None,
        own_session: bool = False,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = env
        self.log = log
        self.own_session = own_session
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def start(self) -> Self:
        if self.log is not None:
            self._log_file = open(self.log, "wb")  # noqa: SIM115 (closed by stop())
        self._popen = subprocess.Popen(
            self.command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT if self._log_file else None,
            start_new_session=self.own_session,
        )
        return self

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        if self._popen is None:
            raise ProcessError(f"{self.name} was never started")
        return self._popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def check_alive(self) -> None:
        """Raise ``ProcessError`` (with the tail of its log) if it has exited."""
        if self.popen.poll() is not None:
            raise ProcessError(f"{self.name} exited (code {self.returncode}); log:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        """The end of its log ("" when it writes to our stdout)."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-chars:]

    def wait_until(
        self,
        ready: Callable[[], bool],
        *,
        what: str,
        timeout: float = READY_TIMEOUT_SECONDS,
        watch: Iterable[Process] = (),
    ) -> None:
        """Poll ``ready`` until it is true; ``ProcessError`` as soon as this process (or one in
        ``watch``) exits, or after ``timeout`` seconds (``what`` says what did not happen)."""
        deadline = time.monotonic() + timeout
        watched = [self, *watch]
        while time.monotonic() < deadline:
            for process in watched:
                process.check_alive()
            if ready():
                return
            time.sleep(POLL_SECONDS)
        raise ProcessError(f"{what} in {timeout:.0f}s; log:\n{self.tail()}")

    def wait_for_log(
        self,
        text: str,
        *,
        what: str,
        timeout: float = READY_TIMEOUT_SECONDS,
        watch: Iterable[Process] = (),
    ) -> None:
        """Until ``text`` appears near the end of its log (a worker's " ready.", say)."""
        self.wait_until(lambda: text in self.tail(20000), what=what, timeout=timeout, watch=watch)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        stop_all([self], timeout=timeout)

    def kill(self) -> None:
        """SIGKILL, to its whole process group when it leads one, and reap it."""
        if self.own_session:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        else:
            self.popen.kill()
        self.popen.wait()

    def close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class WebServer(Process):
    """gunicorn, with the URL of its health check (on 127.0.0.1, whatever address it binds)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        bind: str,
        env: dict[str, str],
        log: Path | None = None,
        own_session: bool = False,
    ) -> None:
        super().__init__("gunicorn", command, env=env, log=log, own_session=own_session)
        self.bind = bind
        self.health_url = f"http://127.0.0.1:{bind.rsplit(':', 1)[-1]}/healthz"

    def wait_healthy(
        self,
        *,
        host: str | None = None,
        timeout: float = READY_TIMEOUT_SECONDS,
        watch: Iterable[Process] = (),
    ) -> None:
        """Until ``/healthz`` answers 200 (``host``: the ``Host`` header to send, if not the URL's)."""
        self.wait_until(
            lambda: http_ok(self.health_url, host=host),
            what=f"gunicorn did not answer {self.health_url}",
            timeout=timeout,
            watch=watch,
        )


# --- The product's commands ---------------------------------------------------------------------------


def gunicorn(
    *,
    bind: str,
    workers: int | str,
    env: dict[str, str],
    options: Sequence[str] = (),
    log: Path | None = None,
    own_session: bool = False,
) -> WebServer:
    """The API: ``gunicorn config.wsgi:application`` with our settings (``config.gunicorn_conf``:
    our sync worker, with JSON error pages and no Server header; logs without secrets), as
    production runs it."""
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--config", GUNICORN_CONFIG,
               "--bind", bind, "--workers", str(workers), *options]  # fmt: skip
    return WebServer(command, bind=bind, env=env, log=log, own_session=own_session)


def celery_worker(
    *,
    concurrency: int | str,
    env: dict[str, str],
    pool: str | None = None,
    options: Sequence[str] = (),
    log: Path | None = None,
    own_session: bool = False,
    loglevel: str = "INFO",
    quiet: bool = False,
) -> Process:
    """``celery -A config worker`` (Celery's default pool unless ``pool`` says otherwise).
    ``quiet``: without Celery's start-up banner (the list of settings and tasks)."""
    pool_args = ["--pool", pool] if pool else []
    command = [sys.executable, "-m", "celery", "-A", "config", *(["--quiet"] if quiet else []), "worker",
               "--loglevel", loglevel, *pool_args, "--concurrency", str(concurrency), *options]  # fmt: skip
    return Process("worker", command, env=env, log=log, own_session=own_session)


def celery_beat(
    *,
    schedule: Path,
    env: dict[str, str],
    log: Path | None = None,
    own_session: bool = False,
    loglevel: str = "INFO",
    quiet: bool = False,
) -> Process:
    """``celery -A config beat``, its schedule state in ``schedule`` (``quiet``: no banner)."""
    command = [sys.executable, "-m", "celery", "-A", "config", *(["--quiet"] if quiet else []), "beat",
               "--loglevel", loglevel, "--schedule", str(schedule)]  # fmt: skip
    return Process("beat", command, env=env, log=log, own_session=own_session)


def broker_folders(root: Path) -> Path:
    """Create the filesystem broker's folders under ``root`` (the layout the settings give every
    process whose ``SSI_DATA_DIR`` it is) and return the broker's folder."""
    broker = root / "broker"
    for folder in BROKER_FOLDERS:
        (broker / folder).mkdir(parents=True, exist_ok=True)
    return broker


# --- Helpers ------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Our servers are on loopback: never through a proxy the environment may name.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_ok(url: str, *, host: str | None = None, timeout: float = 2.0) -> bool:
    """Whether a GET of ``url`` answers 200 (False on any network error)."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})  # noqa: S310 (our URLs)
    try:
        with _direct.open(request, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):
        return False


def stop_all(processes: Iterable[Process], *, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM to every one still running, then up to ``timeout`` seconds (shared) for them to
    exit cleanly; SIGKILL to those that did not. Their logs are closed."""
    processes = list(processes)
    running = [p for p in processes if p.running()]
    for process in running:
        process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    for process in processes:
        process.close_log()


def interrupt_on(*signums: signal.Signals) -> None:
    """Raise ``KeyboardInterrupt`` on these signals, as Python does on SIGINT, so that one
    ``except KeyboardInterrupt`` stops the children whichever way we were asked to stop.
    (A shell that starts us in the background leaves SIGINT ignored: name it to get it back.)"""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for signum in signums:
        signal.signal(signum, interrupt)


# --- The embedded PostgreSQL --------------------------------------------------------------------------


class EmbeddedPostgres:
    """The ``pgserver`` PostgreSQL under ``<SSI_DATA_DIR>/pg``, used when ``DATABASE_URL`` is
    not set. Every process shares one server (``pgserver.get_server`` reuses a running one);
    whoever started it stops it (``started_here``)."""

    def __init__(self, pgdata: Path | None = None) -> None:
        self.pgdata = pgdata or data_dir() / "pg"
        self.started_here = False

    def running(self) -> bool:
        """Whether a server runs on this data directory (its postmaster.pid names a live process)."""
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            os.kill(int(pid_file.read_text().splitlines()[0]), 0)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            return False
        return True

    def start(self) -> str:
        """Start the server (or reuse the running one) and return its connection URI."""
        uri, self.started_here = self._ensure_running()
        return uri

    def url(self) -> str:
        """Its connection URI; starts it if it is not running (without claiming to have)."""
        return self._ensure_running()[0]

    def _ensure_running(self) -> tuple[str, bool]:
        """(its URI, whether this call started it). A server this call starts gets its
        ``shared_buffers`` sized (``_size``). Processes starting at once (pytest's workers, two
        ``make`` commands) take turns on a lock file: none connects to a server that another is
        about to restart, and only one of them started it."""
        import fcntl

        pgserver = _import_pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        with open(self.pgdata.parent / f".{self.pgdata.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            was_running = self.running()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pgserver.get_server(self.pgdata, cleanup_mode=None)
            uri = str(server.get_uri())
            if not was_running:
                self._size(uri)
        return uri, not was_running

    def _size(self, uri: str) -> None:
        """``shared_buffers`` to ``shared_buffers_mib`` of this machine's memory, with ``ALTER
        SYSTEM`` and a restart, when the server has another value (its first start, or the
        memory changed). Best effort: a server that cannot take it runs as it was, with a
        warning; one that does not restart with it is started again without it."""
        import psycopg

        wanted = shared_buffers_mib(memory_bytes())
        try:
            if shared_buffers_bytes(uri) == wanted * MIB:
                return
            with psycopg.connect(uri, autocommit=True) as conn:
                conn.execute(f"ALTER SYSTEM SET shared_buffers = '{int(wanted)}MB'")
        except psycopg.Error as exc:
            logger.warning("the embedded PostgreSQL keeps its shared_buffers: %s", exc)
            return
        try:
            self._pg_ctl("restart")
        except subprocess.CalledProcessError:
            logger.warning(
                "the embedded PostgreSQL did not start with shared_buffers = %d MB (see %s); "
                "starting it with its previous value",
                wanted,
                self.pgdata / "log",
            )
            self._forget_shared_buffers()
            self._pg_ctl("restart")  # a stopped server: pg_ctl starts it with its last options

    def _forget_shared_buffers(self) -> None:
        """Drop ``shared_buffers`` from ``postgresql.auto.conf`` (the server is stopped)."""
        auto = self.pgdata / "postgresql.auto.conf"
        lines = auto.read_text().splitlines(keepends=True)
        auto.write_text("".join(line for line in lines if not line.lstrip().startswith("shared_buffers")))

    def _pg_ctl(self, action: str) -> None:
        """``pg_ctl <action>``, waiting, as pgserver's own user, its log where pgserver keeps it
        (``restart`` reuses the server's options but not its log file)."""
        _import_pgserver()
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "-l", str(self.pgdata / "log"), action], pgdata=self.pgdata, user=user)

    def stop(self) -> bool:
        """``pg_ctl stop -m fast``; False when it was already stopped."""
        try:
            self._pg_ctl("stop")
        except subprocess.CalledProcessError:
            return False
        return True


MIB = 1048576
SHARED_BUFFERS_MIN_MIB = 128  # PostgreSQL's default
SHARED_BUFFERS_MAX_MIB = 4096


def shared_buffers_mib(memory: int) -> int:
    """The embedded server's ``shared_buffers`` for a machine of ``memory`` bytes: a quarter of
    it (PostgreSQL's own advice for a server of 1 GiB or more), from 128 MiB to 4 GiB. The
    catalog must fit in it: each tenant schema adds about 0.55 MiB to ``pg_catalog``, so the
    default's 128 MiB holds about 200 tenants, and a first visit to a tenant whose catalog
    entries are not there reads them from the operating system's cache
    (docs/operations.md#postgresql-settings)."""
    quarter = memory // 4 // MIB
    return max(SHARED_BUFFERS_MIN_MIB, min(SHARED_BUFFERS_MAX_MIB, quarter))


# What a server's shared_buffers is, in bytes.
_SHARED_BUFFERS_SQL = (
    "SELECT setting::bigint * current_setting('block_size')::bigint "
    "FROM pg_settings WHERE name = 'shared_buffers'"
)


def shared_buffers_bytes(url: str) -> int:
    """The ``shared_buffers`` of the server at ``url``, in bytes."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(_SHARED_BUFFERS_SQL).fetchone()
    assert row is not None
    return int(row[0])


def memory_bytes() -> int:
    """This machine's physical memory, or its control group's limit when that is lower (a
    container's); 0 when the system does not say."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        physical = 0
    limits = [physical] if physical > 0 else []
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with suppress(OSError, ValueError):
            limits.append(int(Path(path).read_text().strip()))  # "max" (no limit) is no number
    return min(limits, default=0)


def database_url() -> str:
    """``DATABASE_URL``, or else the embedded server's URI (started if it is not running): by
    default every process (web, worker, beat, ``manage.py``) shares one private PostgreSQL from
    the ``pgserver`` wheel, its data under ``.data/pg``, kept between runs."""
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or EmbeddedPostgres().url()


def _import_pgserver() -> ModuleType:
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:  # production installs do not ship pgserver
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL (pgserver) is not installed. "
            "Set DATABASE_URL, or install the dev extras (`make install`)."
        ) from exc
    # pgserver logs every process exit at INFO; only its problems matter to us.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver
