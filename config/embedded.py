"""Where local state lives: the repository's root and the data folder (``SSI_DATA_DIR``).

``make run`` and ``make test`` must work on a machine that has nothing but
Python and a C compiler, so local state (the embedded PostgreSQL's data, the
filesystem broker, beat's schedule) lives under ``.data/`` unless
``SSI_DATA_DIR`` says otherwise. The embedded server itself is
``config.processes.EmbeddedPostgres``.
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
