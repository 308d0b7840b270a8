from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    """API keys, rep tokens and the audit log: who may call, and what they changed."""

    name = "access"
    verbose_name = "Access"
