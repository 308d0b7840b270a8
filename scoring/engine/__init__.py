"""The SSI engine: pure Python, no Django. Frozen dataclasses in, frozen dataclasses out."""

from __future__ import annotations

from scoring.engine.aggregate import EMPTY, Event, Latest, RepAggregates, aggregate_events, local_day
from scoring.engine.catalog import DEFAULT_XP, EVENT_TYPES, PILLARS
from scoring.engine.config import DEFAULT, DEFAULT_CONFIG, Config, ConfigError, Pillar, Signal, parse_config
from scoring.engine.ranks import Rank, competition_ranks, round2
from scoring.engine.score import (
    Recommendation,
    RepScore,
    SignalResult,
    recommendations,
    score_rep,
    score_reps,
    score_totals,
    signal_value,
)

__all__ = [
    "DEFAULT",
    "DEFAULT_CONFIG",
    "DEFAULT_XP",
    "EMPTY",
    "EVENT_TYPES",
    "PILLARS",
    "Config",
    "ConfigError",
    "Event",
    "Latest",
    "Pillar",
    "Rank",
    "Recommendation",
    "RepAggregates",
    "RepScore",
    "Signal",
    "SignalResult",
    "aggregate_events",
    "competition_ranks",
    "local_day",
    "parse_config",
    "recommendations",
    "round2",
    "score_rep",
    "score_reps",
    "score_totals",
    "signal_value",
]
