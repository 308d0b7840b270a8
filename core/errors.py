"""The one base class of domain errors.

Services raise these; ``api.errors`` maps them to the documented error shape
(``{"type", "errors": [{"code", "detail", "attr"}]}``) with ``status``.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, attr: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.attr = attr
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    """Bad input: 400, naming the field in ``attr``."""


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    """Allowed to call, not allowed this: 403 (a rep acting on what is not its own)."""

    status = 403
    code = "forbidden"
