"""The admin pages: webhooks, API keys and members (admins only)."""

from __future__ import annotations

from console.pages.admin import keys, members, webhooks

urls = [*webhooks.urls, *keys.urls, *members.urls]
