"""The README's code blocks, as the tests that hold the README to the product read them."""

from __future__ import annotations

import re

from config.embedded import BASE_DIR

README = BASE_DIR / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(heading: str) -> str:
    """The text under the ``## `` heading ``heading``, up to the next ``## `` heading."""
    text = README.read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def code_blocks(heading: str, language: str | None = None) -> list[str]:
    """The fenced blocks of that section (those in ``language`` only, if given)."""
    return [body for lang, body in FENCE.findall(section(heading)) if language is None or lang == language]
