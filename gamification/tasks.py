"""Celery tasks of gamification (autodiscovered through this module)."""

from __future__ import annotations

from gamification.webhooks import tasks as webhook_tasks  # noqa: F401  (registers the webhook tasks)
