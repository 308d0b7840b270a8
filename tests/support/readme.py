"""The code blocks of the README and the docs, as the tests that hold them to the product read them."""

from __future__ import annotations

import re

from config.embedded import BASE_DIR

README = BASE_DIR / "README.md"
# A fenced block: its info string (```python walkthrough: the language, then a name), its body.
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section(heading: str) -> str:
    """The text under the ``## `` heading ``heading``, up to the next ``## `` heading."""
    text = README.read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def code_blocks(heading: str, language: str | None = None) -> list[str]:
    """The fenced blocks of that section (those in ``language`` only, if given)."""
    return [
        body
        for info, body in FENCE.findall(section(heading))
        if language is None or info.split(" ")[0] == language
    ]


def fenced(text: str, info: str) -> list[str]:
    """The bodies of the blocks of ``text`` whose info string is exactly ``info``, in order."""
    return [body for found, body in FENCE.findall(text) if found == info]
