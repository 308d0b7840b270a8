"""Webhook secrets at rest: sealed with ``SSI_SECRETS_KEY`` (Fernet) when it is set.

A webhook secret signs deliveries (HMAC), so unlike a key it cannot be
hashed: the worker needs it back. With ``SSI_SECRETS_KEY`` set, it is stored
as ``fernet:<token>`` (AES-128-CBC + HMAC-SHA256, from ``cryptography``), so
a database dump or backup alone does not reveal it. Without the key it is
stored as given (local development), and such clear values keep working
once a key is set; ``manage.py seal_webhook_secrets`` seals them.

``SSI_SECRETS_KEY`` is a comma-separated list of Fernet keys
(``Fernet.generate_key()``): the first seals, every one opens, so a key is
rotated by putting the new one first, running ``seal_webhook_secrets``
(which re-seals with the first), then dropping the old one.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEALED_PREFIX = "fernet:"


class SecretUnavailable(Exception):
    """A sealed secret that the configured keys cannot open (key missing or wrong)."""


@cache
def _keys(setting: str) -> tuple[Fernet, ...]:
    try:
        return tuple(Fernet(part.strip().encode()) for part in setting.split(",") if part.strip())
    except ValueError as exc:  # never echo the key itself
        raise ImproperlyConfigured(
            "SSI_SECRETS_KEY must be comma-separated Fernet keys (32 url-safe base64-encoded bytes each)."
        ) from exc


def keys() -> tuple[Fernet, ...]:
    """The configured keys, first the one that seals; empty when secrets are stored in clear."""
    return _keys(str(getattr(settings, "SSI_SECRETS_KEY", "") or ""))


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def secret_seal(secret: str) -> str:
    """What to store for ``secret``: sealed with the first key, or the secret itself without a key."""
    configured = keys()
    if not configured:
        return secret
    return SEALED_PREFIX + configured[0].encrypt(secret.encode()).decode()


def secret_open(stored: str) -> str:
    """The secret behind a stored value (sealed or clear). Raises ``SecretUnavailable``."""
    if not is_sealed(stored):
        return stored
    configured = keys()
    if not configured:
        raise SecretUnavailable("The webhook secret is sealed, but SSI_SECRETS_KEY is not set.")
    try:
        return MultiFernet(list(configured)).decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
    except InvalidToken as exc:
        raise SecretUnavailable("The webhook secret cannot be opened with SSI_SECRETS_KEY.") from exc


def secret_reseal(stored: str) -> str | None:
    """``stored`` sealed with the first key, or None when there is nothing to do (already sealed
    with it, or no key configured). Raises ``SecretUnavailable`` if no configured key opens it."""
    configured = keys()
    if not configured:
        return None
    if not is_sealed(stored):
        return secret_seal(stored)
    token = stored.removeprefix(SEALED_PREFIX).encode()
    try:
        configured[0].decrypt(token)
        return None
    except InvalidToken:
        pass
    try:
        return SEALED_PREFIX + MultiFernet(list(configured)).rotate(token).decode()
    except InvalidToken as exc:
        raise SecretUnavailable("The webhook secret cannot be opened with SSI_SECRETS_KEY.") from exc
