"""Text a client sent that we cannot store or send back as it is.

JSON lets a string hold a lone surrogate (``"\\ud800"``: half of a UTF-16 pair, no character
of its own). Python decodes it into a ``str`` that has no UTF-8 form, so it fails where the
text is encoded: psycopg sending it to PostgreSQL, or the renderer writing an answer that
repeats it. PostgreSQL cannot store U+0000 either.
"""

from __future__ import annotations

import re

# A UTF-16 surrogate code point: never part of a str decoded from UTF-8, only from a \u escape.
SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a code point UTF-8 cannot encode (ASCII text is answered at once)."""
    return not text.isascii() and SURROGATE.search(text) is not None


def shown(text: str) -> str:
    """``text`` safe to repeat in an answer or a log: NUL and lone surrogates as ``\\uXXXX``."""
    if text.isascii():
        return text.replace("\x00", "\\u0000")
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
