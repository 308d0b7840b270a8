#!/usr/bin/env python3
"""Every file the repository refers to is in the repository, and every anchor names a heading.

The repository stands alone: a comment, docstring, test or page that cites a
file must cite one that is here, and a link to a section of a Markdown page
must name a heading that page has. This script reads every tracked (or new,
not ignored) text file and checks two kinds of reference:

* Markdown links in ``.md`` files, ``[text](path)`` and ``[text](path#anchor)``,
  outside code: the path is relative to the page, a bare ``#anchor`` is one
  of the page's own headings.
* Paths in any text, code and fenced examples included: a name with a known
  extension (``.md``, ``.py``, ``.toml``, ``.yaml``, ...) with or without
  directories, and an optional ``#anchor``. One with a directory must exist
  relative to the repository root or to the file citing it, and so must a
  bare document name (``.md``, ``.rst``): code cites a page by its path from
  the root, a page cites its neighbour by name. A ``.html`` path may also be
  a Django template's name, found under any ``templates/`` folder.

A path that git ignores (``bench/results.json``, ``.venv/``) is something the
tools write, and counts as present. Anchors follow GitHub's rules: the
heading's text in lower case, punctuation other than ``-`` and ``_``
dropped, spaces as hyphens, ``-1``, ``-2``... for repeats. URLs are not
checked. A line carrying the marker ``refcheck: ignore`` is skipped, and so is
a file with ``refcheck: skip-file`` in its first five lines (test data that
names missing files on purpose).

Usage: ``python .ci/check_references.py [--root DIR]``. Exit status 1 lists
``file:line: reference: problem`` for each broken reference; standard library only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

EXTENSIONS = ("md", "py", "toml", "yaml", "yml", "json", "txt", "sh", "cfg", "ini", "rst", "html", "sql")
# A bare name (no directory) is checked when it names a document, which is a citation;
# ``results.json`` in code is usually a file the code writes, not one it cites.
DOCUMENTS = (".md", ".rst")
# Files that hold patterns, not references.
PATTERN_FILES = {".gitignore", ".dockerignore"}
IGNORE_MARKER = "refcheck: ignore"
SKIP_FILE_MARKER = "refcheck: skip-file"
GIT = shutil.which("git") or "git"

_EXT = "|".join(EXTENSIONS)
# Not the tail of a longer path, a URL or ``$VAR/x``; segments may start with a dot (``.ci/``,
# ``../``). Not followed by more of a name, a path or a call (``response.json()``).
PATH_RE = re.compile(
    rf"(?<![\w./~$@-])((?:\.{{0,2}}[\w-][\w.-]*/|\.\.?/)*\.?[\w-][\w.-]*\.(?:{_EXT}))(#[\w-]+)?(?!\.?[\w/(-])"
)
URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
LINK_RE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE_RE = re.compile(r"(`+)(.+?)\1")
HEADING_RE = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HTML_ID_RE = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reference: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reference}: {self.reason}"


@dataclass
class Repo:
    """The files a reference may name, and the headings of its Markdown pages (read on demand)."""

    root: Path
    files: set[str]
    dirs: set[str]
    basenames: set[str]
    ignored: set[str]
    _anchors: dict[str, set[str]]

    @classmethod
    def load(cls, root: Path, files: Iterable[str]) -> Repo:
        present = {f for f in files if (root / f).is_file()}
        dirs = {str(p) for f in present for p in PurePosixPath(f).parents if str(p) != "."}
        return cls(root, present, dirs, {PurePosixPath(f).name for f in present}, set(), {})

    def exists(self, rel: str) -> bool:
        rel = rel.rstrip("/")
        return rel in ("", ".") or rel in self.files or rel in self.dirs or rel in self.ignored

    def anchors(self, rel: str) -> set[str]:
        if rel not in self._anchors:
            self._anchors[rel] = heading_anchors((self.root / rel).read_text(encoding="utf-8"))
        return self._anchors[rel]


def slugify(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text, lower case, punctuation dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def heading_anchors(markdown: str) -> set[str]:
    """Every anchor a page offers: its headings' slugs (repeats numbered) and explicit HTML ids."""
    seen: Counter[str] = Counter()
    anchors: set[str] = set()
    for _, line, in_code in markdown_lines(markdown):
        if in_code:
            continue
        anchors.update(HTML_ID_RE.findall(line))
        match = HEADING_RE.match(line)
        if match:
            slug = slugify(match.group(2))
            anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
            seen[slug] += 1
    return anchors


def markdown_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """(line number, line, inside a fenced code block); the fence lines count as code."""
    fence = ""
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE_RE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            yield number, line, True
        elif match:
            fence = match.group(1)
            yield number, line, True
        else:
            yield number, line, False


def resolve(base: str, target: str) -> str | None:
    """``target`` relative to the directory ``base``, as a repository path; None when it leaves the root."""
    parts = [] if target.startswith("/") else [p for p in base.split("/") if p not in ("", ".")]
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def check_target(repo: Repo, rel: str | None, anchor: str) -> str | None:
    """What is wrong with a reference to ``rel#anchor``, or None."""
    if rel is None:
        return "outside the repository"
    if not repo.exists(rel):
        return "no such file"
    if anchor and rel.endswith(".md") and rel in repo.files and anchor not in repo.anchors(rel):
        return f"no heading for #{anchor} in {rel}"
    return None


def check_path(repo: Repo, source: str, ref: str, anchor: str) -> str | None:
    """A path written in text: from the root or from the citing file's directory, or any file's name."""
    if "/" not in ref and not ref.endswith(DOCUMENTS):
        return None  # a file a program writes, or a dotted module path (``kombu.utils.json``)
    here = str(PurePosixPath(source).parent)
    candidates = [resolve("", ref), resolve(here, ref)]
    if ref.endswith(".html"):  # a Django template's name: found under any app's ``templates/``
        candidates += [f"{folder}/{ref}" for folder in sorted(repo.dirs) if folder.endswith("templates")]
    reasons = [check_target(repo, rel, anchor) for rel in candidates]
    if None in reasons:
        return None
    return next((r for r in reasons if r != "outside the repository"), reasons[0])


def check_link(repo: Repo, source: str, target: str) -> str | None:
    """A Markdown link's target, relative to the page."""
    path, _, anchor = target.partition("#")
    if not path:
        return None if anchor in repo.anchors(source) else f"no heading for #{anchor} on this page"
    return check_target(repo, resolve(str(PurePosixPath(source).parent), path), anchor)


def scan_file(repo: Repo, source: str) -> Iterator[tuple[int, str, str]]:
    """(line, reference, problem) for every broken reference in one file."""
    try:
        text = (repo.root / source).read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return
    if any(SKIP_FILE_MARKER in line for line in text.splitlines()[:5]):
        return
    is_markdown = source.endswith(".md")
    if is_markdown:
        lines = markdown_lines(text)
    else:
        lines = ((number, line, True) for number, line in enumerate(text.splitlines(), start=1))
    for number, line, in_code in lines:
        if IGNORE_MARKER in line:
            continue
        line = URL_RE.sub(" ", line)
        if is_markdown and not in_code:
            prose = INLINE_CODE_RE.sub(lambda m: " " * len(m.group(0)), line)
            for match in LINK_RE.finditer(prose):
                target = match.group(1)
                if not SCHEME_RE.match(target):
                    reason = check_link(repo, source, target)
                    if reason:
                        yield number, target, reason
                line = line[: match.start(1)] + " " * len(target) + line[match.end(1) :]
        for match in PATH_RE.finditer(line):
            ref, anchor = match.group(1), (match.group(2) or "")[1:]
            reason = check_path(repo, source, ref, anchor)
            if reason:
                yield number, match.group(0), reason


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(
        [GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return sorted({f for f in out.decode().split("\0") if f})


def ignored_paths(root: Path, paths: Iterable[str]) -> set[str]:
    """Which of these (possibly missing) paths git ignores: outputs of the tools, such as ``.venv/``."""
    given = "\0".join(sorted(set(paths)))
    if not given:
        return set()
    done = subprocess.run(
        [GIT, "check-ignore", "-z", "--no-index", "--stdin"],
        cwd=root, input=given.encode(), capture_output=True, check=False,
    )  # fmt: skip
    return {p for p in done.stdout.decode().split("\0") if p}


def candidate_paths(repo: Repo, sources: Iterable[str]) -> set[str]:
    """Every path any file cites that is not a file or directory here (for one ``git check-ignore``)."""
    missing: set[str] = set()
    for source in sources:
        try:
            text = (repo.root / source).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        here = str(PurePosixPath(source).parent)
        for match in PATH_RE.finditer(URL_RE.sub(" ", text)):
            ref = match.group(1)
            for rel in {resolve("", ref), resolve(here, ref)}:
                if rel and not repo.exists(rel):
                    missing.add(rel)
    return missing


def check(root: Path) -> list[Problem]:
    files = tracked_files(root)
    repo = Repo.load(root, files)
    sources = [f for f in sorted(repo.files) if PurePosixPath(f).name not in PATTERN_FILES]
    repo.ignored = ignored_paths(root, candidate_paths(repo, sources))
    return [Problem(source, *found) for source in sources for found in scan_file(repo, source)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    problems = check(args.root.resolve())
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_references: {len(problems)} broken reference(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
