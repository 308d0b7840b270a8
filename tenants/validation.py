"""Validation of tenant identity fields, shared by the API and the CLI."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from core.errors import ValidationFailed

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]\Z")  # \Z: "$" would let "acme\n" through
# Names that would collide with the platform's own hosts or schemas.
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "api",
        "admin",
        "platform",
        "static",
        "docs",
        "template",
        "tenant-template",
        "information-schema",
    }
)


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_slug(slug: object) -> str:
    if not isinstance(slug, str) or not SLUG_RE.match(slug) or "--" in slug:
        raise ValidationFailed(
            "Use 2 to 40 characters: lowercase letters, digits and single hyphens, "
            "starting with a letter and ending with a letter or digit.",
            code="invalid_slug",
            attr="slug",
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        raise ValidationFailed(f"The slug {slug!r} is reserved.", code="reserved_slug", attr="slug")
    return slug


def validate_timezone(tz: object, *, attr: str = "timezone") -> str:
    if not isinstance(tz, str) or tz not in _timezones():
        raise ValidationFailed(
            "Not an IANA time zone name (for example 'Europe/Berlin' or 'UTC').",
            code="invalid_timezone",
            attr=attr,
        )
    return tz


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed("A name is required.", code="required", attr="name")
    if len(name) > 200:
        raise ValidationFailed("At most 200 characters.", code="max_length", attr="name")
    return name.strip()


def schema_name_for(slug: str) -> str:
    """PostgreSQL schema of a tenant: the slug with hyphens as underscores."""
    return slug.replace("-", "_")
