"""Webhook tasks (filled by the webhooks work)."""

from __future__ import annotations

from config.celery import app


@app.task
def dispatch_outbox() -> None:
    """Fan pending outbox events out into deliveries (to be implemented)."""
