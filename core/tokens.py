"""Secret tokens: generation, hashing, constant-time verification.

A token is ``<kind>_<random>``; its first 12 characters are its public
``prefix`` (stored, unique, used to find the row) and only its SHA-256 is
stored. The random part carries 256 bits, so a fast hash is the right tool
(a slow password hash would only slow the hot path down; there is nothing
to brute-force). Comparison uses ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX_LEN = 12

PLATFORM = "ssip"
TENANT_KEY = "ssik"
REP_TOKEN = "ssir"
# A console member's one-time links (invitation, password reset) and session cookie.
MEMBER_INVITE = "ssii"
PASSWORD_RESET = "ssiw"
CONSOLE_SESSION = "ssis"
# A rep's session on their own console page (``/console/me``), from a rep token.
REP_SESSION = "ssie"


@dataclass(frozen=True)
class NewToken:
    token: str
    prefix: str
    hash: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: str) -> NewToken:
    token = f"{kind}_{secrets.token_urlsafe(32)}"
    return NewToken(token=token, prefix=token[:PREFIX_LEN], hash=hash_token(token))


def token_kind(token: str) -> str:
    return token.split("_", 1)[0]


def token_prefix(token: str) -> str:
    return token[:PREFIX_LEN]


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)
