"""Gamification rules: pure Python (no Django). The rules of docs/gamification.md, exactly."""

from __future__ import annotations
