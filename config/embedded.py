"""Where local state lives, and the database URL when ``DATABASE_URL`` is not set.

``make run`` and ``make test`` must work on a machine that has nothing but
Python and a C compiler, so by default every process (web, worker, beat,
``manage.py``) uses a private PostgreSQL server from the ``pgserver`` wheel,
with its data under ``.data/pg`` (kept between runs): the first to ask starts
it, the others share it (``config.processes.EmbeddedPostgres``).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Where local state lives (embedded database, file broker, beat schedule)."""
    path = Path(os.environ.get("SSI_DATA_DIR", BASE_DIR / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    # Imported here: production (DATABASE_URL set) never loads the embedded server's code.
    from config.processes import EmbeddedPostgres

    return EmbeddedPostgres().url()
