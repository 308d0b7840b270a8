"""Scoring writes: people (teams, reps), ingestion, scoring config, recompute."""

from __future__ import annotations
