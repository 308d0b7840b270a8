"""Moving models between apps keeps their data.

A database is built and filled by the code of the commit before the layered layout (tenants,
keys, a rep token, events, scores, badge awards, an audit entry), then migrated by today's
``setup_db``: every key and token must still authenticate, every row be readable through its
new model, and a new tenant still be cloned from the template. docs/operations.md
("Upgrading a database") describes the same check by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support" / "upgrade"
# The last commit before ApiKey, AuditEntry and RepToken moved to the access app.
BEFORE_LAYERS = "65f71a01f913c1b670cc0b1ebcf9284098277e89"


def _commit_tree(into: Path) -> Path | None:
    """The files of BEFORE_LAYERS, extracted into ``into``; None without that commit (a shallow clone)."""
    have = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{BEFORE_LAYERS}^{{commit}}"], capture_output=True
    )
    if have.returncode != 0:
        return None
    archive = into / "tree.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--output", str(archive), BEFORE_LAYERS], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    user, password, host = db["USER"], db.get("PASSWORD") or "", db.get("HOST") or "127.0.0.1"
    if str(host).startswith("/"):
        return f"postgresql://{user}:{password}@/{name}?host={host}"
    return f"postgresql://{user}:{password}@{host}:{db.get('PORT') or 5432}/{name}"


def _admin(sql: str) -> None:
    db = settings.DATABASES["default"]
    names = {"dbname": "NAME", "user": "USER", "password": "PASSWORD", "host": "HOST", "port": "PORT"}
    params = {key: str(db[name]) for key, name in names.items() if db.get(name)}
    with psycopg.connect(make_conninfo(**params), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards."""
    name = f"ssi_upgrade_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _url(name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: list[str], *, cwd: Path, env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout.strip().splitlines()[-1]


def test_a_database_filled_before_the_layers_keeps_every_key_and_row(scratch_database: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        old_tree = _commit_tree(Path(scratch))
        if old_tree is None:
            pytest.skip(f"this clone lacks commit {BEFORE_LAYERS[:7]} (a shallow clone)")
        env = {
            **os.environ,
            "DATABASE_URL": scratch_database,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "OLD_TREE": str(old_tree),
            "SSI_DATA_DIR": str(Path(scratch) / "data"),
        }
        before = json.loads(_run([str(SUPPORT / "fill_before_layers.py")], cwd=old_tree, env=env))
        _run(["manage.py", "setup_db", "-v", "0"], cwd=ROOT, env=env)
        after = json.loads(
            _run([str(SUPPORT / "check_after_layers.py")], cwd=ROOT, env=env, stdin=json.dumps(before))
        )

    assert min(before["counts"].values()) > 0, before["counts"]  # the fill wrote every kind of row
    assert after["counts"] == before["counts"]
    assert after["rows"] == {name: before["counts"][name] for name in after["rows"]}
    assert after["audit_actor_kinds"] == ["system"]
    assert after["status"] == {
        "platform_key": 200,
        "admin_key": 200,
        "integration_key": 200,
        "rep_token": 200,
        "new_tenant_admin_key": 200,
    }
