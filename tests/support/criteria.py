"""Badge criteria at the size bounds (docs/gamification.md#criteria), for the tests that
validate them and those that evaluate many of them at once."""

from __future__ import annotations

from typing import Any

from gamification.rules.criteria import MAX_CONDITIONS, MAX_WINDOWS
from scoring.engine import EVENT_TYPES

# post_published first: one post earns a maximal badge.
TYPES = ["post_published", *sorted(set(EVENT_TYPES) - {"post_published"})]


def maximal_criteria(badge: int = 0) -> dict[str, Any]:
    """``MAX_CONDITIONS`` conditions over ``MAX_WINDOWS`` windows of this badge's own (badge 0:
    1 to 8 days, badge 1: 9 to 16, …), each on another (type, window): as many sums as one badge
    can add to the query that evaluates every badge. Any of them holds: a post earns it."""
    first = 1 + MAX_WINDOWS * badge
    return {
        "any": [
            {
                "metric": f"events.{TYPES[i % len(TYPES)]}",
                "op": ">=",
                "value": 1,
                "window_days": first + i % MAX_WINDOWS,
            }
            for i in range(MAX_CONDITIONS)
        ]
    }
