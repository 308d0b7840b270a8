"""Local development (`make run`): the base settings, debug on by default."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# `make run`: a developer's webhook receiver usually listens on localhost.
SSI_WEBHOOK_ALLOW_PRIVATE = env.bool("SSI_WEBHOOK_ALLOW_PRIVATE", default=True)
