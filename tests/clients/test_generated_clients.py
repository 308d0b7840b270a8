"""Generated clients (docs/clients.md): generated from the served document, built, and run.

Each test does what the page tells an integrator: it fetches
``/api/v1/schema/?format=json`` from a live gunicorn, generates a client with
the generator's default settings (openapi-python-client; openapi-typescript
with openapi-fetch), and runs the page's own walk-through (extracted from
docs/clients.md, so the page cannot drift) against the server and a real Celery
worker that runs the recompute job. The walk-throughs must first type-check:
``tsc --strict`` (with ``type_checks.mts``: what the types must refuse) and
``mypy --strict``. The tools are pinned in pyproject.toml and
package-lock.json and installed by ``make install``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.readme import fenced
from tests.support.server import gunicorn_server
from tests.support.tenants import TenantKeys
from tests.support.worker import celery_worker

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs/clients.md"
BIN = Path(sys.executable).parent  # the venv's tools: openapi-python-client, and the ruff it formats with
NODE_BIN = ROOT / "node_modules" / ".bin"

pytestmark = pytest.mark.worker


def walkthrough(language: str, name: str = "walkthrough") -> str:
    """The code of docs/clients.md's blocks marked ``<language> <name>``, in order."""
    blocks = fenced(DOC.read_text(), f"{language} {name}")
    assert blocks, f"docs/clients.md has no {language} {name} block"
    return "\n".join(blocks)


@dataclass
class Live:
    base_url: str  # the platform host: the tenant is named with X-Tenant
    keys: TenantKeys

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SSI_BASE_URL": self.base_url,
            "SSI_TENANT": self.keys.slug,
            "SSI_KEY": self.keys.admin,
        }

    def schema(self, path: Path) -> Path:
        with urllib.request.urlopen(f"{self.base_url}/api/v1/schema/?format=json", timeout=30) as answer:
            path.write_bytes(answer.read())
        json.loads(path.read_text())  # JSON, not an error page
        return path


@pytest.fixture
def live(committed_tenant: TenantKeys, tmp_path: Path) -> Iterator[Live]:
    with gunicorn_server(tmp_path) as server, celery_worker(tmp_path):
        yield Live(base_url=f"http://127.0.0.1:{server.port}", keys=committed_tenant)


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output[-6000:]}"
    return output


def expect_walkthrough_output(output: str) -> None:
    """What both walk-throughs print, checked against the values the steps must give."""
    assert "accepted 3, rejected 1" in output, output
    assert re.search(r"event \S+-4: unknown_type \(type\): ", output), output
    # post_published (10 XP) + profile_updated (5 XP) under the default XP table.
    assert "Jane Doe: 15 XP, level 1, streak" in output, output
    assert re.search(r"SSI \d+(\.\d+)? on \d{4}-\d\d-\d\d: rank [12] of 2", output), output
    assert re.search(r"#1 (Jane Doe|Omar Haddad): ", output) and "#2 " in output, output
    assert re.search(r"goal Ten posts: \d+%, active", output), output
    assert "another rep's card: 403" in output, output


def test_the_page_names_the_versions_the_tests_pin() -> None:
    page = DOC.read_text()
    node = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    for name in ("openapi-fetch", "openapi-typescript", "typescript", "@types/node"):
        assert f"{name}@{node[name]}" in page, name
    pin = re.search(r'"openapi-python-client==([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin and f"openapi-python-client=={pin.group(1)}" in page


def test_the_python_client_generates_and_runs_the_walkthrough(live: Live, tmp_path: Path) -> None:
    schema = live.schema(tmp_path / "ssi-openapi.json")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    generated = run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            "ssi-client",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert "Warning" not in generated and "Unable" not in generated, generated  # every operation, every model
    script = tmp_path / "walkthrough.py"
    script.write_text(walkthrough("python"))
    # The generated package is typed (py.typed): the walk-through checks under mypy --strict.
    run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--config-file", os.devnull, str(script)],
        cwd=tmp_path,
        env={**env, "MYPYPATH": str(tmp_path / "ssi-client")},
    )
    output = run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**live.env(), "PYTHONPATH": str(tmp_path / "ssi-client")},
    )
    expect_walkthrough_output(output)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_typescript_client_compiles_strictly_and_runs_the_walkthrough(live: Live, tmp_path: Path) -> None:
    # Under the repository, so that Node and tsc find node_modules/ by walking up.
    work = ROOT / ".data" / "test-clients" / tmp_path.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        schema = live.schema(work / "ssi-openapi.json")
        run([str(NODE_BIN / "openapi-typescript"), str(schema), "-o", "ssi-api.d.ts"], cwd=work)
        (work / "walkthrough.mts").write_text(walkthrough("ts"))
        tsconfig = json.loads(walkthrough("json", "tsconfig"))
        assert tsconfig["compilerOptions"]["strict"] is True
        # The page's walk-through, and what the types must refuse (``@ts-expect-error`` lines).
        shutil.copy(Path(__file__).parent / "type_checks.mts", work / "type_checks.mts")
        tsconfig["files"] = [*tsconfig["files"], "type_checks.mts"]
        (work / "tsconfig.json").write_text(json.dumps(tsconfig))
        run([str(NODE_BIN / "tsc"), "-p", "."], cwd=work)
        source = (work / "walkthrough.mts").read_text()
        assert not re.search(r"\bas (any|unknown)\b|<any>|@ts-(ignore|expect-error|nocheck)", source)
        output = run(["node", "walkthrough.mjs"], cwd=work, env=live.env())
        expect_walkthrough_output(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
