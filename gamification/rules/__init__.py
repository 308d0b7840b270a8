"""Gamification rules: pure Python (no Django). gamification.md, exactly."""

from __future__ import annotations
