"""Settings for `make test`: a real PostgreSQL (embedded unless DATABASE_URL)."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = "test-only-secret-key"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = env.str("LOG_LEVEL", default="WARNING")  # type: ignore[index]  # noqa: F405
# The tests' webhook receivers listen on 127.0.0.1; the SSRF tests turn this off again.
SSI_WEBHOOK_ALLOW_PRIVATE = env.bool("SSI_WEBHOOK_ALLOW_PRIVATE", default=True)
# Every test client comes from 127.0.0.1 and many check 401s and 403s on purpose; the tests of
# the per-address limit turn it on.
SSI_ANON_RATE_LIMIT_PER_MINUTE = env.int("SSI_ANON_RATE_LIMIT_PER_MINUTE", default=0)
# The per-key limit counts clock minutes across tests: the fuzz and probe modules alone make
# thousands of requests with acme's keys, which left the next module throttled. The tests of
# the limit set their own.
SSI_RATE_LIMIT_PER_MINUTE = env.int("SSI_RATE_LIMIT_PER_MINUTE", default=0)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Contests' standings measured at every read, as the tests of their values expect; the tests of
# the stored rows set their own ages.
SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS = env.int("SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS", default=0)
SSI_CONTEST_STANDINGS_STALE_SECONDS = env.int("SSI_CONTEST_STANDINGS_STALE_SECONDS", default=0)
