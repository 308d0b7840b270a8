"""The tenant's scoring config: immutable numbered versions."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from access.actor import Actor
from access.audit import audit_record
from core.errors import ValidationFailed
from scoring.engine import DEFAULT_CONFIG, Config, ConfigError, parse_config
from scoring.models import ScoringConfig

# Parsed configs by their content: whatever the tenant or version, the same
# JSON parses to the same Config, so entries can never go stale.
_parsed: dict[str, Config] = {}
_parsed_lock = threading.Lock()


@dataclass(frozen=True)
class VersionedConfig:
    version: int
    config: Config


def _parse_cached(version: int, data: Any) -> Config:
    """A stored version, parsed once per process (under the bounds it was saved with)."""
    key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    config = _parsed.get(key)
    if config is None:
        config = parse_config(data, stored=True)
        with _parsed_lock:
            _parsed[key] = config
    return config


def scoring_config_seed() -> VersionedConfig:
    """Version 1, the default config (run when a tenant is created)."""
    row, _ = ScoringConfig.objects.get_or_create(
        version=1, defaults={"config": DEFAULT_CONFIG, "created_by": "default"}
    )
    return VersionedConfig(row.version, _parse_cached(row.version, row.config))


def scoring_config_current() -> VersionedConfig:
    row = ScoringConfig.objects.order_by("-version").values_list("version", "config").first()
    if row is None:
        return scoring_config_seed()
    return VersionedConfig(row[0], _parse_cached(row[0], row[1]))


def scoring_config_version(version: int) -> VersionedConfig:
    data = ScoringConfig.objects.filter(version=version).values_list("config", flat=True).first()
    if data is None:
        return scoring_config_current()
    return VersionedConfig(version, _parse_cached(version, data))


def config_parse_or_400(data: Any, *, attr_prefix: str = "") -> Config:
    """Parse a config from the API; a ConfigError becomes a 400 naming the field."""
    try:
        return parse_config(data)
    except ConfigError as exc:
        attr = f"{attr_prefix}{exc.path}" if exc.path else attr_prefix.rstrip(".") or None
        raise ValidationFailed(exc.message, code=exc.code, attr=attr) from exc


def scoring_config_save(*, data: Any, actor: Actor, created_by: str = "") -> VersionedConfig:
    """Validate and save a new version. Invalid: a 400 naming the field, nothing saved."""
    config = config_parse_or_400(data)
    stored = config.to_dict()
    for _ in range(3):
        try:
            with transaction.atomic():
                previous = ScoringConfig.objects.order_by("-version").values_list("version", "config").first()
                latest = previous[0] if previous else 0
                row = ScoringConfig.objects.create(version=latest + 1, config=stored, created_by=created_by)
                audit_record(
                    actor=actor,
                    action="update",
                    target_type="scoring_config",
                    target_id=row.version,
                    before={"version": previous[0], **previous[1]} if previous else None,
                    after={"version": row.version, **stored},
                )
            return VersionedConfig(row.version, _parse_cached(row.version, stored))
        except IntegrityError:  # another admin saved at the same moment: take the next number
            continue
    raise ValidationFailed("The config changed concurrently; try again.", code="conflict")
