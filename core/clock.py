"""Local days: a tenant's "today" is a date in its own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_today(tz_name: str) -> date:
    """Today's date in the IANA time zone ``tz_name``."""
    return datetime.now(ZoneInfo(tz_name)).date()


def local_yesterday(tz_name: str) -> date:
    """Yesterday's date in ``tz_name``: the day the nightly run scores."""
    return local_today(tz_name) - timedelta(days=1)
