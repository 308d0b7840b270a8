"""The embedded PostgreSQL used when ``DATABASE_URL`` is not set.

``make run`` and ``make test`` must work on a machine that has nothing but
Python and a C compiler, so by default we start a private PostgreSQL server
from the ``pgserver`` wheel, with its data under ``.data/pg`` (kept between
runs). ``pgserver.get_server(..., cleanup_mode=None)`` reuses a server that is
already running on that data directory, so every process (web, worker, beat,
``manage.py``) may call :func:`database_url` and they all share one server.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Where local state lives (embedded database, file broker, beat schedule)."""
    path = Path(os.environ.get("SSI_DATA_DIR", BASE_DIR / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def embedded_database_url() -> str:
    """Start (or reuse) the embedded server and return its connection URI."""
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data_dir() / "pg", cleanup_mode=None)
    return str(server.get_uri())


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    return url or embedded_database_url()
