"""A tenant's settings: defaults, reading and validated updates.

Stored in ``Tenant.settings`` (public schema) as overrides of the defaults
below; ``timezone`` is a column of its own. ``xp_per_type`` and
``level_thresholds`` are gamification's (docs/gamification.md#changing-xp-and-thresholds),
``daily_caps`` and ``fair_play_factor`` too (docs/gamification.md#daily-caps-fair-play);
``challenges_enabled``, ``challenge_accept_hours`` and ``challenge_xp`` the challenges'
(docs/contests.md#head-to-head-challenges); ``embed_origins`` the console's
(docs/console.md#a-reps-own-page-and-embedding); ``industry`` and ``benchmark`` the industry
benchmark's (docs/scoring.md#industry-benchmark).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings

from core.errors import ValidationFailed
from tenants.models import Tenant
from tenants.validation import validate_timezone

DEFAULT_LEVEL_THRESHOLDS = [0, 100, 300, 600, 1000, 1500, 2500, 4000, 6000, 10000]

DEFAULTS: dict[str, Any] = {
    "auto_create_reps": True,
    "recompute_hour": 2,
    "streak_mode": "weekdays",
    "leaderboard_names": "full",
    "xp_per_type": {},
    "level_thresholds": DEFAULT_LEVEL_THRESHOLDS,
    "embed_origins": [],
    "daily_caps": {},
    "fair_play_factor": 3,
    "challenges_enabled": True,
    "challenge_accept_hours": 48,
    "challenge_xp": 50,
    "industry": None,
    "benchmark": False,
}
# The industries a tenant may name (``industry``); its benchmark is among tenants of the same one.
INDUSTRIES = (
    "accounting",
    "advertising-marketing",
    "automotive",
    "banking-finance",
    "construction",
    "consulting",
    "education",
    "energy",
    "government",
    "healthcare",
    "hospitality",
    "insurance",
    "legal",
    "logistics",
    "manufacturing",
    "media",
    "nonprofit",
    "pharma-biotech",
    "real-estate",
    "retail",
    "software-it",
    "staffing-recruiting",
    "telecommunications",
    "other",
)
MAX_XP = 100_000
# A daily cap per event type: 1 to MAX_DAILY_CAP events a rep's local day earns XP for.
MAX_DAILY_CAP = 1_000_000
# fair_play_factor: greater than 1, at most MAX_FAIR_PLAY_FACTOR.
MAX_FAIR_PLAY_FACTOR = 1000
MAX_LEVELS = 100
# Head-to-head challenges (docs/contests.md#head-to-head-challenges): hours the opponent has to
# answer (1 to MAX_CHALLENGE_ACCEPT_HOURS) and the XP the winner gets (0 to MAX_XP).
MAX_CHALLENGE_ACCEPT_HOURS = 24 * 31
# The origins (scheme, host, port) whose pages may frame a rep's own console page.
MAX_EMBED_ORIGINS = 20
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*$")

# Set by the platform only (PATCH /api/v1/platform/tenants/{slug}), never by the tenant's own
# admins: a tenant must not lift its own limit. Absent: SSI_RATE_LIMIT_PER_MINUTE applies.
RATE_LIMIT = "rate_limit_per_minute"
MAX_RATE_LIMIT = 1_000_000
PLATFORM_ONLY = frozenset({RATE_LIMIT})


def rate_limit_override(tenant: Tenant) -> int | None:
    """The tenant's own requests-per-minute limit, or None for the platform default."""
    value = (tenant.settings or {}).get(RATE_LIMIT)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rate_limit_per_minute(tenant: Tenant | None) -> int:
    """Requests a minute each key of this tenant may make (0: no limit)."""
    override = rate_limit_override(tenant) if tenant is not None else None
    return int(django_settings.SSI_RATE_LIMIT_PER_MINUTE) if override is None else override


def rate_limit_validate(value: Any) -> int | None:
    """A platform's value for ``rate_limit_per_minute``: 0..1,000,000 (0 = no limit), or null."""
    return None if value is None else _int(value, RATE_LIMIT, 0, MAX_RATE_LIMIT)


def benchmark_industry(tenant: Tenant) -> str | None:
    """The industry whose benchmark the tenant takes part in: None unless it opted in
    (``benchmark``) and named one (``industry``)."""
    stored = tenant.settings or {}
    industry = stored.get("industry")
    return industry if stored.get("benchmark") is True and industry in INDUSTRIES else None


def industry_validate(value: Any, attr: str = "industry") -> str | None:
    """One of ``INDUSTRIES``, or None (no industry)."""
    return None if value is None else _choice(value, attr, INDUSTRIES)


def benchmark_validate(value: Any, attr: str = "benchmark") -> bool:
    return _bool(value, attr)


def settings_get(tenant: Tenant) -> dict[str, Any]:
    """Every setting, the tenant's value or the default."""
    stored = tenant.settings or {}
    out: dict[str, Any] = {"timezone": tenant.timezone}
    for name, default in DEFAULTS.items():
        value = stored.get(name, default)
        out[name] = (
            dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
        )
    return out


def embed_origins(tenant: Tenant) -> list[str]:
    """The origins allowed to frame the tenant's ``/console/me`` (empty: nobody)."""
    value = (tenant.settings or {}).get("embed_origins", [])
    return [str(origin) for origin in value] if isinstance(value, list) else []


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _origin(value: Any, attr: str) -> str:
    """One origin, ``scheme://host[:port]`` (the host lower-cased): https, or http for localhost and
    ``*.localhost`` (browsers treat those as secure). No path, query, user or wildcard: it
    goes into a Content-Security-Policy header as it is."""
    problem = "Must be an origin such as https://app.example.com (scheme, host and an optional port)."
    if not isinstance(value, str):
        raise ValidationFailed(problem, code="invalid_type", attr=attr)
    text = value[:-1] if value.endswith("/") else value
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationFailed(problem, code="invalid_origin", attr=attr) from None
    host = (parts.hostname or "").lower()
    netloc = parts.netloc.lower()
    if (
        len(text) > 300
        or not text.startswith(("http://", "https://"))
        or not _HOST_RE.match(host)
        or netloc not in (host, f"{host}:{port}")
        or parts.path
        or parts.query
        or parts.fragment
        or "?" in text
        or "#" in text
        or port == 0
    ):
        raise ValidationFailed(problem, code="invalid_origin", attr=attr)
    scheme = parts.scheme
    if scheme == "http" and not _is_localhost(host):
        raise ValidationFailed(
            "Must use https (http only for localhost and *.localhost).", code="insecure_origin", attr=attr
        )
    return f"{scheme}://{netloc}"


def _origins(value: Any, attr: str) -> list[str]:
    if not isinstance(value, list):
        raise ValidationFailed("Must be a list of origins.", code="invalid_type", attr=attr)
    if len(value) > MAX_EMBED_ORIGINS:
        raise ValidationFailed(f"At most {MAX_EMBED_ORIGINS} origins.", code="too_many", attr=attr)
    origins: list[str] = []
    for i, item in enumerate(value):
        origin = _origin(item, f"{attr}.{i}")
        if origin not in origins:  # a repeat says nothing more
            origins.append(origin)
    return origins


def _bool(value: Any, attr: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed("Must be true or false.", code="invalid_type", attr=attr)
    return value


def _int(value: Any, attr: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("Must be a whole number.", code="invalid_type", attr=attr)
    if not low <= value <= high:
        raise ValidationFailed(f"Must be between {low} and {high}.", code="out_of_range", attr=attr)
    return value


def _number(value: Any, attr: str, above: float, high: float) -> int | float:
    """A number (whole or not) greater than ``above`` and at most ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationFailed("Must be a number.", code="invalid_type", attr=attr)
    if not above < value <= high:
        raise ValidationFailed(
            f"Must be greater than {above:g} and at most {high:g}.", code="out_of_range", attr=attr
        )
    return value


def _per_type(
    value: Any, attr: str, known_types: frozenset[str], low: int, high: int, what: str
) -> dict[str, int]:
    """An object of event type (one the tenant knows) -> a whole number from ``low`` to ``high``."""
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"Must be an object of event type -> {what}.", code="invalid_type", attr=attr)
    out: dict[str, int] = {}
    for type_name, amount in value.items():
        item = f"{attr}.{type_name}"
        if type_name not in known_types:
            raise ValidationFailed(f"Unknown event type {type_name!r}.", code="unknown_event_type", attr=item)
        out[type_name] = _int(amount, item, low, high)
    return out


def _choice(value: Any, attr: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationFailed(f"Must be one of {', '.join(choices)}.", code="invalid_choice", attr=attr)
    return str(value)


def validate_settings(changes: Mapping[str, Any], *, known_types: frozenset[str]) -> dict[str, Any]:
    """Validate a partial update; unknown names and bad values name the field."""
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "timezone":
            clean[name] = validate_timezone(value)
        elif name == "auto_create_reps":
            clean[name] = _bool(value, name)
        elif name == "recompute_hour":
            clean[name] = _int(value, name, 0, 23)
        elif name == "streak_mode":
            clean[name] = _choice(value, name, ("weekdays", "daily"))
        elif name == "leaderboard_names":
            clean[name] = _choice(value, name, ("full", "anonymous"))
        elif name == "xp_per_type":
            clean[name] = _per_type(value, name, known_types, 0, MAX_XP, "XP")
        elif name == "daily_caps":
            clean[name] = _per_type(value, name, known_types, 1, MAX_DAILY_CAP, "daily cap")
        elif name == "fair_play_factor":
            clean[name] = _number(value, name, 1, MAX_FAIR_PLAY_FACTOR)
        elif name == "challenges_enabled":
            clean[name] = _bool(value, name)
        elif name == "challenge_accept_hours":
            clean[name] = _int(value, name, 1, MAX_CHALLENGE_ACCEPT_HOURS)
        elif name == "challenge_xp":
            clean[name] = _int(value, name, 0, MAX_XP)
        elif name == "industry":
            clean[name] = industry_validate(value, name)
        elif name == "benchmark":
            clean[name] = _bool(value, name)
        elif name == "level_thresholds":
            if not isinstance(value, list) or not value:
                raise ValidationFailed(
                    "Must be a non-empty list of XP amounts.", code="invalid_type", attr=name
                )
            if len(value) > MAX_LEVELS:
                raise ValidationFailed(f"At most {MAX_LEVELS} levels.", code="too_many", attr=name)
            levels = [_int(v, f"{name}.{i}", 0, 10**9) for i, v in enumerate(value)]
            if levels[0] != 0:
                raise ValidationFailed(
                    "The first threshold must be 0 (level 1).", code="invalid", attr=f"{name}.0"
                )
            for i in range(1, len(levels)):
                if levels[i] <= levels[i - 1]:
                    raise ValidationFailed("Thresholds must increase.", code="invalid", attr=f"{name}.{i}")
            clean[name] = levels
        elif name == "embed_origins":
            clean[name] = _origins(value, name)
        elif name in PLATFORM_ONLY:
            raise ValidationFailed(
                "Only the platform operator can change this setting.", code="read_only", attr=name
            )
        else:
            raise ValidationFailed("Unknown setting.", code="unknown_field", attr=str(name))
    return clean
