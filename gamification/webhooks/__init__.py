"""Webhooks: subscriptions, the fan-out of outbox events into deliveries, signed POSTs with retries.

``services`` holds the writes, ``delivery`` the signing and the HTTP POST,
``urls_guard`` the check of where a webhook may point, ``tasks`` the Celery
entry points. docs/webhooks.md is the client-facing description.
"""
