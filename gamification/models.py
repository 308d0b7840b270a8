"""XP, levels, streaks, badges, goals and webhooks: see gamification.md (next issue)."""

from __future__ import annotations
