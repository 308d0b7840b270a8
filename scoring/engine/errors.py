"""The error of the pure cores: a problem at a path in a JSON document."""

from __future__ import annotations


class PathError(ValueError):
    """``path`` is dotted (``pillars.engage.signals.4.target``); the API maps it to ``attr``."""

    def __init__(self, path: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.code = code
