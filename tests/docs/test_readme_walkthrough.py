"""The README's walk-through, run as a reader runs it: its ``sh`` blocks, command by command, in
bash with the real curl, against ``make run`` (``config.devstack``, on a database of its own).

Every command's answer is compared with the ``# -> STATUS {json}`` line under it: the same
status and, for the JSON shown, the same values. In the JSON shown, ``…`` (or ``...``) stands
for anything: ``"…"`` any value, ``"ssik_…"`` a string that starts with ``ssik_``, ``{...}`` and
``[...]`` any object or list, and a last member ``...`` more keys or items than those shown
(without it, an object has exactly the keys shown). A placeholder assignment (``K=ssik_…``)
gets the value the walk-through's answers gave: the banner's platform key, the new tenant's
admin key, the recompute's job id. The port is the devstack's instead of 8000.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.devstack import Devstack, devstack_database
from tests.support.readme import code_blocks

pytestmark = pytest.mark.worker  # starts make run's processes

SECTIONS = ("A walk-through with curl",)
ANY = "\u2026any"
MORE = "\u2026more"
ASSIGNMENT = re.compile(r"^([A-Z]+)=(\S*…\S*)\s*(?:#.*)?$")
ANNOTATION = re.compile(r"^# -> (\d{3})\s*(.*)$")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
COMMAND_TIMEOUT_SECONDS = 60


@dataclass
class Step:
    command: str
    status: int | None = None
    body: str = ""
    lines: list[str] = field(default_factory=list)


@dataclass
class Assignment:
    name: str


def steps(block: str) -> Iterator[Step | Assignment]:
    """The commands of a ``sh`` block, each with the annotation under it, and the placeholder
    assignments, in order. Comments are skipped; ``\\`` continues a command."""
    lines = block.splitlines()
    current: Step | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if match := ANNOTATION.match(line):
            assert current is not None, f"an annotation with no command above it: {line}"
            body = [match.group(2)]
            while i < len(lines) and lines[i].startswith("#  "):
                body.append(lines[i][1:].strip())
                i += 1
            current.status, current.body = int(match.group(1)), " ".join(body).strip()
            continue
        if line.startswith("#"):
            continue
        if current is not None:
            yield current
            current = None
        if match := ASSIGNMENT.match(line):
            yield Assignment(match.group(1))
            continue
        command = [line]
        # A command goes on after a backslash, and inside a quoted string (a JSON body).
        while (command[-1].endswith("\\") or "\n".join(command).count("'") % 2) and i < len(lines):
            command.append(lines[i])
            i += 1
        current = Step("\n".join(command), lines=command)
    if current is not None:
        yield current


def pattern(text: str) -> Any:
    """The JSON an annotation shows, its ``…`` made markers that ``mismatches`` understands."""
    parts = []
    last = 0
    for match in STRING.finditer(text):
        parts.append(_placeholders(text[last : match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(_placeholders(text[last:]))
    return json.loads("".join(parts))


def _placeholders(code: str) -> str:
    code = code.replace("…", "...")
    code = re.sub(r"\{\s*\.\.\.\s*\}|\[\s*\.\.\.\s*\]", f'"{ANY}"', code)
    code = re.sub(r",\s*\.\.\.\s*\}", f', "{MORE}": 0}}', code)
    return re.sub(r",\s*\.\.\.\s*\]", f', "{MORE}"]', code)


def mismatches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Where ``actual`` differs from the ``expected`` pattern (empty: it matches)."""
    if expected == ANY:
        return []
    if isinstance(expected, str) and "..." in expected.replace("…", "..."):
        head, *_, tail = expected.replace("…", "...").split("...")
        ok = isinstance(actual, str) and actual.startswith(head) and actual.endswith(tail)
        return [] if ok else [f"{where}: {actual!r} is not {expected!r}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: {actual!r} is not an object"]
        shown = {k: v for k, v in expected.items() if k != MORE}
        problems = [f"{where}: no {k!r}" for k in shown if k not in actual]
        if MORE not in expected:
            problems += [f"{where}: {k!r} is not shown" for k in actual if k not in shown]
        for key in shown.keys() & actual.keys():
            problems += mismatches(shown[key], actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: {actual!r} is not a list"]
        items = [v for v in expected if v != MORE]
        if len(actual) < len(items) or (MORE not in expected and len(actual) != len(items)):
            return [f"{where}: {len(actual)} items, {len(items)} shown"]
        return [p for i, v in enumerate(items) for p in mismatches(v, actual[i], f"{where}[{i}]")]
    same = expected == actual and type(expected) is type(actual)
    return [] if same else [f"{where}: {actual!r}, shown {expected!r}"]


@pytest.fixture(scope="module")
def devstack(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    if shutil.which("curl") is None:
        pytest.skip("the walk-through needs curl")
    with devstack_database("readme") as url:
        stack = Devstack(database_url=url, data_dir=tmp_path_factory.mktemp("readme")).start()
        try:
            stack.wait_for_banner()
            yield stack
        finally:
            stack.stop()


def run(step: Step, env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    command = step.command.replace("localhost:8000", f"localhost:{port}")
    return subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
    )


def test_the_readme_walk_through_gets_the_answers_it_shows(devstack: Devstack, tmp_path: Path) -> None:
    platform_key, _ = devstack.keys()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    answers: list[Any] = []

    def placeholder(name: str) -> str:
        """What a reader puts in for ``name``: the banner's key, or the latest answer's."""
        if name == "P":
            return platform_key
        found = {"K": lambda a: a["admin_key"], "JOB": lambda a: a["job"]["id"]}[name]
        for answer in reversed(answers):
            try:
                return str(found(answer))
            except (KeyError, TypeError):
                continue
        raise AssertionError(f"no answer so far gives {name}")

    ran = 0
    for block in (b for heading in SECTIONS for b in code_blocks(heading, "sh")):
        for step in steps(block):
            if isinstance(step, Assignment):
                env[step.name] = placeholder(step.name)
                continue
            done = run(step, env, devstack.port)
            assert done.returncode == 0, f"{step.command}\n{done.stdout}{done.stderr}"
            ran += 1
            if step.status is None:
                continue
            body, _, status = done.stdout.rstrip("\n").rpartition("\n")
            if not _:  # no body: the status alone
                body, status = "", done.stdout.strip()
            assert int(status) == step.status, f"{step.command}\n-> {status} {body}"
            answer = json.loads(body) if body else None
            answers.append(answer)
            if step.body:
                problems = mismatches(pattern(step.body), answer)
                assert not problems, f"{step.command}\n-> {body}\n" + "\n".join(problems)
    assert ran >= 15, "the walk-through's blocks were not found"


@pytest.mark.parametrize(
    ("shown", "actual", "ok"),
    [
        ('{"a": 1, ...}', {"a": 1, "b": 2}, True),
        ('{"a": 1}', {"a": 1, "b": 2}, False),
        ('{"a": "ssik_…", "b": {...}}', {"a": "ssik_x", "b": {"c": 1}}, True),
        ('{"a": "ssik_…"}', {"a": "ssip_x"}, False),
        ('{"a": [1, ...]}', {"a": [1, 2]}, True),
        ('{"a": [1]}', {"a": [1, 2]}, False),
        ('{"a": 1.0}', {"a": 1}, False),
        ('{"d": "Not … zone"}', {"d": "Not an IANA time zone"}, True),
    ],
)
def test_annotations_are_read_as_the_readme_says(shown: str, actual: Any, ok: bool) -> None:
    assert (not mismatches(pattern(shown), actual)) is ok
