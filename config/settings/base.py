"""Settings shared by every environment.

Everything is configured here from environment variables through one
``env`` object; ``local``, ``test`` and ``production`` only change defaults.
Every variable is listed, with its default, in README.md ("Configuration").
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import environ
from celery.schedules import crontab

from config.embedded import data_dir

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# --- Core -------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-development-key-do-not-use")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Hosts are resolved to tenants by TenantRoutingMiddleware against the Domain
# table, so Django's own host check is relaxed; unknown hosts get a JSON 404.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])

SSI_BASE_DOMAIN = env.str("SSI_BASE_DOMAIN", default="localhost").lower()
# The bare base domain is the platform host; these are accepted as platform
# hosts too (a load balancer's health checks call an IP, say).
SSI_PLATFORM_HOSTS = [
    SSI_BASE_DOMAIN,
    *[h.lower() for h in env.list("SSI_PLATFORM_HOSTS", default=["127.0.0.1"])],
]

# --- Applications (django-tenants splits them by schema) --------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "provisioning",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally, no CDN
]
# contenttypes stays public-only: nothing tenant-side uses it, and its rows
# would otherwise break the "template holds no data" invariant of cloning.
TENANT_APPS = [
    "access",
    "api",
    "scoring",
    "gamification",
    "console",
]
INSTALLED_APPS = list(dict.fromkeys(SHARED_APPS + [a for a in TENANT_APPS if a not in SHARED_APPS]))

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# The migrated schema that new tenants are cloned from (see tenants/schema_clone.py).
SSI_TEMPLATE_SCHEMA = "tenant_template"
# One `SET search_path` per connection and schema switch instead of one before every query
# (a read is a few statements, so this saves a round trip on each). Safe only where
# django-tenants forgets the path it set whenever PostgreSQL discards it: on ROLLBACK and also
# on ROLLBACK TO SAVEPOINT (docs/traps.md#a-stale-search_path-after-a-rollback).
# tenants.apps refuses to start on a django-tenants without that fix, and
# tests/tenants/test_search_path.py proves the savepoint case.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Right after Django's: every answer below (static files, routing's 404/503, errors) gets
    # CSP, X-Frame-Options and Cache-Control; then the request id the audit log records.
    "api.middleware.SecurityHeadersMiddleware",
    "api.middleware.RequestContextMiddleware",
    # Static files (Swagger UI assets) are answered before tenant routing: no database query.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before routing: a request over its address's limit costs no query.
    "api.anonymous_limit.AnonymousRateLimitMiddleware",
    "api.tenant_routing.TenantRoutingMiddleware",
    # A suspended tenant's console: one 403 page for every path under /console/, before any view.
    "console.suspended.SuspendedTenantMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The console's forms. DRF's views are exempt (APIView.as_view), and bearer tokens are
    # not ambient credentials, so the API is untouched.
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "console.context.console",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"


# --- Database ----------------------------------------------------------------
def database_config(url: str) -> dict[str, object]:
    """Parse a PostgreSQL URL, including the Unix-socket form pgserver returns
    (``postgresql://postgres:@/postgres?host=/path/to/socket/dir``)."""
    config: dict[str, object] = environ.Env.db_url_config(url)
    query = parse_qs(urlsplit(url).query)
    options = dict(config.get("OPTIONS", {}))  # type: ignore[call-overload]
    if "host" in query:
        config["HOST"] = query["host"][0]
        options.pop("host", None)
    # A database host that vanished makes connects hang, not fail: bound them, so a request
    # answers 503 within seconds instead of waiting for gunicorn to kill its worker.
    options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    config["OPTIONS"] = options
    # django-tenants' backend with a health check that needs no round trip (its docstring).
    config["ENGINE"] = "tenants.postgresql_backend"
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


def _database_url() -> str:
    # Imported lazily: production never starts the embedded server.
    from config.processes import database_url

    return database_url()


DATABASES = {"default": database_config(_database_url())}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (keys carry the schema: django-tenants issue 1052) ---------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        },
        # Counts that belong to no tenant (api.anonymous_limit): keys without a schema.
        "limits": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        },
        "limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits"},
    }

# --- Celery -----------------------------------------------------------------
_broker_default = REDIS_URL or "filesystem://"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_broker_default)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Without socket timeouts a Redis broker that stops answering (connections accepted, no reply)
# hangs every publish, and the request making it, for ever.
CELERY_BROKER_SOCKET_TIMEOUT = env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=5.0)
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folder transport has no host, but kombu warns ("No hostname was supplied") on every
    # connection of a URL without one: name the host kombu would fall back to anyway.
    if CELERY_BROKER_URL.rstrip("/") == "filesystem:":
        CELERY_BROKER_URL = "filesystem://localhost//"
    _broker_dir = data_dir() / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # A folder has no push: workers poll it, and a worker process that finishes a task waits
        # for the next poll to get another. kombu's default of once a second would add up to a
        # second per hop of the ingest -> badge -> webhook chain, and to most of the nightly
        # of small tenants; listing a folder fifty times a second costs little.
        "polling_interval": 0.02,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(REDIS_BROKER_TRANSPORT_OPTIONS)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BEAT_SCHEDULE_FILENAME = str(data_dir() / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Finds tenants whose local recompute hour has passed and enqueues their missing days.
    "dispatch-nightly": {"task": "scoring.tasks.dispatch_nightly", "schedule": 15 * 60},
    # Recompute jobs whose message was lost (broker down) or whose worker died mid-run.
    "sweep-jobs": {"task": "scoring.tasks.sweep_jobs", "schedule": 5 * 60},
    "purge-idempotency-records": {"task": "scoring.tasks.purge_idempotency_records", "schedule": 60 * 60},
    "purge-preview-jobs": {"task": "scoring.tasks.purge_preview_jobs", "schedule": 60 * 60},
    # Badge evaluations an ingest queued but could not enqueue (broker down).
    "sweep-pending-evaluations": {"task": "gamification.tasks.sweep_pending_evaluations", "schedule": 60},
    "purge-rep-tokens": {"task": "gamification.tasks.purge_rep_tokens", "schedule": 60 * 60},
    # Contests: open the seasons due, start contests due, finalize those whose last local day is
    # over, announce new leaders (docs/contests.md).
    "dispatch-contests-tick": {"task": "gamification.tasks.dispatch_contests_tick", "schedule": 5 * 60},
    # Webhooks: outbox events and deliveries an enqueue lost (broker down, a worker died mid-try).
    "sweep-webhooks": {"task": "gamification.webhooks.tasks.sweep_outbox", "schedule": 60},
    # Suspended tenants whose grace period is over: their schemas are dropped (docs/operations.md).
    "purge-suspended-tenants": {"task": "provisioning.tasks.purge_suspended_tenants", "schedule": 60 * 60},
    "purge-exports": {"task": "provisioning.tasks.purge_exports", "schedule": 60 * 60},
}
# Days a suspended tenant is kept (restorable) before beat drops its schema.
SSI_TENANT_PURGE_DAYS = env.int("SSI_TENANT_PURGE_DAYS", default=30)
# Exports of a tenant's data (docs/api.md#exporting-a-tenants-data): where the archives are
# written, and how long a download link (and its archive) lasts.
SSI_EXPORT_DIR = env.str("SSI_EXPORT_DIR", default=str(data_dir() / "exports"))
SSI_EXPORT_LINK_HOURS = env.int("SSI_EXPORT_LINK_HOURS", default=24)
# Nightly recompute: days caught up at most (oldest first), and the spread of start times.
SSI_CATCHUP_DAYS = env.int("SSI_CATCHUP_DAYS", default=7)
SSI_DISPATCH_JITTER_SECONDS = env.int("SSI_DISPATCH_JITTER_SECONDS", default=300)
# Industry benchmark (docs/scoring.md#industry-benchmark): an industry is shown for a day only with
# at least this many companies and reps; beat computes yesterday's (UTC) at this hour (UTC).
SSI_BENCHMARK_MIN_COMPANIES = env.int("SSI_BENCHMARK_MIN_COMPANIES", default=5)
SSI_BENCHMARK_MIN_REPS = env.int("SSI_BENCHMARK_MIN_REPS", default=50)
SSI_BENCHMARK_HOUR_UTC = env.int("SSI_BENCHMARK_HOUR_UTC", default=12)
CELERY_BEAT_SCHEDULE["compute-benchmarks"] = {
    "task": "scoring.tasks.compute_benchmarks",
    "schedule": crontab(minute=0, hour=SSI_BENCHMARK_HOUR_UTC),  # beat's clock is UTC (TIME_ZONE)
}
# Webhooks: tries per delivery, first backoff (x3 per try, at most 30 min), timeout of a try,
# and whether URLs may point at private, loopback or link-local addresses (development only).
SSI_WEBHOOK_MAX_TRIES = env.int("SSI_WEBHOOK_MAX_TRIES", default=8)
SSI_WEBHOOK_BACKOFF_SECONDS = env.float("SSI_WEBHOOK_BACKOFF_SECONDS", default=10.0)
SSI_WEBHOOK_TIMEOUT_SECONDS = env.float("SSI_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
SSI_WEBHOOK_ALLOW_PRIVATE = env.bool("SSI_WEBHOOK_ALLOW_PRIVATE", default=False)
SSI_WEBHOOK_DNS_TIMEOUT_SECONDS = env.float("SSI_WEBHOOK_DNS_TIMEOUT_SECONDS", default=2.0)
# Paced events (a badge awarded over the past: many at once) go out at most this many per minute
# per tenant, one every 60/N seconds after those already waiting (docs/gamification.md).
SSI_WEBHOOK_PACED_PER_MINUTE = env.int("SSI_WEBHOOK_PACED_PER_MINUTE", default=60)
# Contests: at most one contest.lead_changed per contest in this many minutes (docs/contests.md).
SSI_CONTEST_LEAD_DEBOUNCE_MINUTES = env.int("SSI_CONTEST_LEAD_DEBOUNCE_MINUTES", default=15)
# Contests' live standings are stored and paged (docs/contests.md#how-fresh-live-standings-are):
# served as they are while younger than MAX_AGE; up to STALE, served while a worker measures them
# again; older (or none), the read measures them itself.
SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS = env.int("SSI_CONTEST_STANDINGS_MAX_AGE_SECONDS", default=60)
SSI_CONTEST_STANDINGS_STALE_SECONDS = env.int("SSI_CONTEST_STANDINGS_STALE_SECONDS", default=3600)
# A contest of at most this many reps is measured at every read (exact), not served from storage.
SSI_CONTEST_STANDINGS_LIVE_UP_TO = env.int("SSI_CONTEST_STANDINGS_LIVE_UP_TO", default=500)
# Fernet keys (comma-separated, the first seals) that seal webhook secrets at rest; empty: in clear.
SSI_SECRETS_KEY = env.str("SSI_SECRETS_KEY", default="")

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
# Filled by `collectstatic` in the Docker image (production settings); locally
# WhiteNoise serves straight from the apps' static folders.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default="") or None
# Without `collectstatic` (local runs, tests) WhiteNoise finds files where Django's finders do.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
# Front-end packages come from npm (package.json, pinned by package-lock.json; `make install`
# runs `npm ci`) and are served from node_modules under /static/vendor/<package>/: nothing
# third-party is committed, nothing is loaded from a CDN. The Docker image copies them in.
NODE_MODULES = Path(env.str("SSI_NODE_MODULES", default=str(BASE_DIR / "node_modules")))
STATICFILES_DIRS = [
    (f"vendor/{package}", NODE_MODULES / package / folder)
    for package, folder in (("uplot", "dist"),)
    if (NODE_MODULES / package / folder).is_dir()
]

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Security ---------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
X_FRAME_OPTIONS = "DENY"
# Largest request body the API reads (a full ingestion batch with metadata fits).
SSI_MAX_BODY_BYTES = env.int("SSI_MAX_BODY_BYTES", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = SSI_MAX_BODY_BYTES
# Requests per minute per key (platform key, API key or rep token); 0 turns the limit off.
SSI_RATE_LIMIT_PER_MINUTE = env.int("SSI_RATE_LIMIT_PER_MINUTE", default=6000)
SSI_ANON_RATE_LIMIT_PER_MINUTE = env.int("SSI_ANON_RATE_LIMIT_PER_MINUTE", default=120)
SSI_NUM_PROXIES = env.int("SSI_NUM_PROXIES", default=0)

# --- The console: sessions, CSRF, passwords, email ------------------------------
# The console's session cookie is host-only (no domain: a tenant's cookie never reaches another
# tenant's host), HttpOnly and SameSite=Lax; Secure in production.
SSI_CONSOLE_SESSION_COOKIE = "ssi_console"
# A rep's session on their own page (/console/me), opened by a rep token.
SSI_CONSOLE_REP_COOKIE = "ssi_console_rep"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "console.views.csrf_failure"
# Sign-in failures allowed per 15 minutes: per email, and per client address.
SSI_LOGIN_FAILURES_PER_EMAIL = env.int("SSI_LOGIN_FAILURES_PER_EMAIL", default=5)
SSI_LOGIN_FAILURES_PER_ADDRESS = env.int("SSI_LOGIN_FAILURES_PER_ADDRESS", default=20)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Invitations and password resets. Without EMAIL_HOST they are printed to the console (stderr).
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SSI Cloud <no-reply@ssi-cloud.example>")
# Where links made without a request (`create_tenant_account`, `make run`) point: scheme and
# port of the tenant hosts as browsers reach them (empty port: the scheme's default).
SSI_PUBLIC_SCHEME = env.str("SSI_PUBLIC_SCHEME", default="http")
SSI_PUBLIC_PORT = env.str("SSI_PUBLIC_PORT", default="8000")

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.DenyAll"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["api.v1.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle"],
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SSI Cloud API",
    "DESCRIPTION": (
        "Multi-tenant Social Selling Index API. Each company is a tenant, reached on its own host "
        "(`<slug>.<base domain>`) or on the platform host with the `X-Tenant` header. Authenticate with "
        "`Authorization: Bearer <key>`. Every error has the same JSON shape (`Error`)."
    ),
    "VERSION": "1.0.0",
    "CONTACT": {
        "name": "SSI Cloud API support",
        "email": env.str("SSI_SUPPORT_EMAIL", default="support@ssi-cloud.example"),
    },
    # One template for every host: a tenant's (`acme.localhost:8000`) or the platform host.
    "SERVERS": [
        {
            "url": "{scheme}://{host}",
            "description": "A tenant's host (`<slug>.<base domain>`), or the platform host with `X-Tenant`.",
            "variables": {
                "scheme": {"enum": ["https", "http"], "default": "http"},
                "host": {"default": "localhost:8000", "description": "Host name and port."},
            },
        }
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReadinessStatusEnum": ["ok", "unavailable"],
        "JobStatusEnum": ["queued", "running", "succeeded", "failed"],  # Job.Status, in Job and JobRef
        "RoleEnum": "access.models.Role",  # an API key's role
        "MemberRoleEnum": "access.models.MemberRole",
        "MemberStatusEnum": "access.models.Member.Status",
        "TenantStatusEnum": "tenants.models.TenantStatus",
        "WebhookFormatEnum": "gamification.models.WebhookSubscription.Format",
        "ContestKindEnum": ["leaderboard", "race", "teams"],
        "SignalKindEnum": ["count", "state", "ratio", "active_days"],  # a scoring signal's kind
        "ContestStatusEnum": ["scheduled", "running", "ended", "cancelled"],
        "ContestSeriesEveryEnum": ["week", "month"],
        # A badge's repeat as the inputs take it (create, replace, change, preview): one enum.
        "BadgeInputRepeatEnum": ["once", "daily", "weekly", "monthly"],
        "BadgeRepeatEnum": "gamification.models.Badge.Repeat",  # as answered (Badge, BadgeCreated)
        "IndustryEnum": "tenants.tenant_settings.INDUSTRIES",  # a tenant's industry (settings, platform)
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.strict_request_bodies",
        "api.schema.tenant_header",
        "api.schema.enum_names",
    ],
    "TAGS": [
        {"name": "platform", "description": "Tenant provisioning. Platform host and platform key only."},
        {"name": "api-keys", "description": "A tenant's API keys. Admin keys only."},
        {"name": "teams", "description": "Teams of reps."},
        {"name": "reps", "description": "Sales reps, keyed by the client's own `external_id`."},
        {"name": "activities", "description": "Ingesting events (batches of up to 1000) and the event log."},
        {"name": "scoring", "description": "The scoring model: config versions, preview, event types."},
        {"name": "settings", "description": "The tenant's settings. Admin keys only."},
        {"name": "scores", "description": "SSI snapshots, history, explanations; recompute jobs."},
        {"name": "badges", "description": "Badge definitions and awards."},
        {"name": "goals", "description": "Rep and team goals, with progress and status."},
        {"name": "contests", "description": "Time-boxed competitions between reps or teams, with prizes."},
        {
            "name": "challenges",
            "description": "Head-to-head challenges: a rep against another on a metric, for XP.",
        },
        {"name": "leaderboards", "description": "Ranked reps by metric and period."},
        {
            "name": "fair-play",
            "description": "Reps whose daily counts stand far above everyone's. Admin and read keys.",
        },
        {"name": "rep-tokens", "description": "Short-lived tokens that show one rep its own data."},
        {"name": "webhooks", "description": "Signed event deliveries to your endpoints. Admin keys only."},
        {
            "name": "exports",
            "description": "The tenant's data as an archive, with a download link. Admin keys only.",
        },
        {
            "name": "members",
            "description": "People who sign in to the console, and their invitations. Admin keys only.",
        },
        {"name": "audit", "description": "Who changed what, when: the tenant's audit log. Admin keys only."},
        {"name": "health", "description": "Liveness and readiness probes."},
    ],
}

# --- Logging: one line per record, never secrets (keys are not logged) ------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print each of its records a second
        # time, besides the root's: "Not Found: /x" twice for one 404. The root's is enough,
        # at the root's level (NOTSET: LOG_LEVEL).
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
    },
}
