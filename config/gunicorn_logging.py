"""gunicorn's logs, without the secrets a request may carry.

gunicorn's default access line names the Basic-auth user (``curl -u "$KEY:"`` sends the whole
key as the user name, and gunicorn decodes it into the line), and writes the request line with
its query string (``?token=...``) and the referer (another URL, with its own query string).
Its error log quotes the request line of a request it could not parse, and the URI of one
that failed. ``RedactingLogger`` writes the same lines without them:

- every value an access line reads goes through ``redact``; the user is always ``-``; request
  headers and environment values named like a credential (``{authorization}i``,
  ``{cookie}i``...) are ``[redacted]``, whatever the format asks for (``--access-logformat``);
- every message of the error log goes through ``redact``.

``redact`` replaces the value of a query parameter whose name holds ``token``, ``key``,
``secret``, ``password``, ``auth``, ``signature`` or ``cookie``, and anything that looks like
one of our tokens (``ssip_``, ``ssik_``, ``ssir_``, the console's one-time links
``ssii_``, ``ssiw_``) or webhook secrets (``whsec_``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn import glogging

from core.tokens import MEMBER_INVITE, PASSWORD_RESET, PLATFORM, REP_TOKEN, TENANT_KEY

REDACTED = "[redacted]"
# gunicorn's default ("combined") layout, with "-" where it names the Basic-auth user.
ACCESS_LOG_FORMAT = '%(h)s %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

_SECRET_WORD = r"token|key|secret|passw(?:or)?d|auth|signature|cookie"
_SECRET_NAME = re.compile(_SECRET_WORD, re.IGNORECASE)
# A query parameter named like a secret, in a URL, a query string or a request line: its value.
_SECRET_PARAMETER = re.compile(
    rf"((?:^|[?&;])[^=&;?#\s\"']*(?:{_SECRET_WORD})[^=&;?#\s\"']*=)[^&;#\s\"']*", re.IGNORECASE
)
# One of our tokens or webhook secrets, wherever it is (its "_" may come percent-encoded).
_OUR_TOKEN = re.compile(
    rf"({PLATFORM}|{TENANT_KEY}|{REP_TOKEN}|{MEMBER_INVITE}|{PASSWORD_RESET}|whsec)(?:_|%5[fF])[A-Za-z0-9_%-]+"
)


def redact(text: str) -> str:
    """``text`` with the values of secret-named query parameters and our tokens replaced."""
    if "=" in text:
        text = _SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)
    return _OUR_TOKEN.sub(rf"\1_{REDACTED}", text)


class RedactedAtoms(glogging.SafeAtoms):
    """The values of an access line (gunicorn's "atoms"), each redacted as the line reads it."""

    def __getitem__(self, key: str) -> Any:
        if key == "u":  # the Basic-auth user: a key, with `curl -u "$KEY:"`
            return "-"
        value = super().__getitem__(key)
        if key.startswith("{") and _SECRET_NAME.search(key) and value != "-":
            return REDACTED
        return redact(value) if isinstance(value, str) else value


class RedactedMessages(logging.Filter):
    """Each record's message, redacted (formatted here: its arguments may hold the secret)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


class RedactingLogger(glogging.Logger):
    """gunicorn's logger, redacted (``--logger-class config.gunicorn_logging.RedactingLogger``)."""

    atoms_wrapper_class = RedactedAtoms

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        if not any(isinstance(f, RedactedMessages) for f in self.error_log.filters):
            self.error_log.addFilter(RedactedMessages())
