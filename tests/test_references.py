"""``.ci/check_references.py``: every file the repository cites exists, every anchor names a heading.

The checker runs as ``make lint`` runs it, on this repository and on small git
repositories built in a temporary directory with references broken on purpose.
This file is their test data, so the checker skips it (refcheck: skip-file).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "check_references.py"


def load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_references", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def run_checker(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True, check=False
    )


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    return tmp_path


OTHER_PAGE = "# Other\n\n## A section\n\nText.\n\n## A section\n\nThe same title again.\n"
GUIDE_PAGE = "\n".join(
    [
        "# Guide",
        "",
        "## Setup, step by step",
        "",
        "See [other](other.md), [a section](other.md#a-section), [its twin](other.md#a-section-1),",
        "[this page](#setup-step-by-step) and [the root](../README.md).",
        "[A broken link](missing.md) and [a broken anchor](other.md#no-such-section).",
        "[Nowhere on this page](#nowhere).",
        "",
        "```sh",
        "cat docs/other.md bench/results.json",
        "# a comment in a shell example, not a heading",
        "```",
        "",
    ]
)
CODE = "\n".join(
    [
        '"""The rules: docs/guide.md#setup-step-by-step; the output: bench/results.json."""',
        "",
        "# Cited by bare name: the-model.md.",
        "# Outside the repository: ../elsewhere/notes.md.",
        "# A heading that is not there: docs/guide.md#no-such-heading.",
        "# A file this code writes, a call and a module: out.json, response.json(), kombu.utils.json",
        "",
    ]
)


def test_the_repository_has_no_broken_reference() -> None:
    done = run_checker(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_it_flags_a_broken_link_and_a_broken_anchor_in_a_page(tmp_path: Path) -> None:
    files = {"README.md": "# Root\n", "docs/other.md": OTHER_PAGE, "docs/guide.md": GUIDE_PAGE}
    repo = make_repo(tmp_path, {**files, ".gitignore": "bench/results.json\n"})
    done = run_checker(repo)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "docs/guide.md:7: missing.md: no such file",
        "docs/guide.md:7: other.md#no-such-section: no heading for #no-such-section in docs/other.md",
        "docs/guide.md:8: #nowhere: no heading for #nowhere on this page",
    ]


def test_it_flags_files_cited_in_code_that_the_repository_does_not_have(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        {"docs/guide.md": "## Setup, step by step\n", "rules.py": CODE, ".gitignore": "bench/results.json\n"},
    )
    done = run_checker(repo)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "rules.py:3: the-model.md: no such file",
        "rules.py:4: ../elsewhere/notes.md: outside the repository",
        "rules.py:5: docs/guide.md#no-such-heading: no heading for #no-such-heading in docs/guide.md",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Audit log (admins)", "audit-log-admins"),
        ("`count`: how much, recent activity counting more", "count-how-much-recent-activity-counting-more"),
        ("A stale search_path after a rollback", "a-stale-search_path-after-a-rollback"),
        ("See [the guide](guide.md) first", "see-the-guide-first"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert load_checker().slugify(heading) == anchor


def test_a_repeated_heading_gets_a_numbered_anchor_and_code_blocks_give_none() -> None:
    anchors = load_checker().heading_anchors("# Top\n## Part\n## Part\n```sh\n# not a heading\n```\n")
    assert anchors == {"top", "part", "part-1"}


def test_a_template_name_is_found_under_an_apps_templates_folder(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path,
        {
            "shop/templates/shop/cart.html": "<p>cart</p>\n",
            "shop/views.py": 'render(request, "shop/cart.html")\nrender(request, "shop/missing.html")\n',
        },
    )
    done = run_checker(root)
    assert done.returncode == 1
    assert "shop/views.py:2: shop/missing.html: no such file" in done.stdout
    assert "cart.html" not in done.stdout
