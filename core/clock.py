"""Local days: a tenant's "today" is a date in its own time zone; the days the API accepts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import ValidationFailed

# Days a client may name: far enough apart for any history, near enough that a scoring window,
# a week or a month around one stays within what dates can hold (year 1 minus 90 days is not a
# date: such arithmetic was a 500).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def local_today(tz_name: str) -> date:
    """Today's date in the IANA time zone ``tz_name``."""
    return datetime.now(ZoneInfo(tz_name)).date()


def local_yesterday(tz_name: str) -> date:
    """Yesterday's date in ``tz_name``: the day the nightly run scores."""
    return local_today(tz_name) - timedelta(days=1)


def parse_date(value: object, attr: str) -> date | None:
    """An optional YYYY-MM-DD between ``EARLIEST_DAY`` and ``LATEST_DAY`` (a date passes through
    the same check); anything else is a 400 naming ``attr``."""
    if value is None:
        return None
    day = value if isinstance(value, date) else _iso_day(value)
    if day is None:
        raise ValidationFailed("A date as YYYY-MM-DD.", code="invalid_date", attr=attr)
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationFailed(
            f"A date from {EARLIEST_DAY} to {LATEST_DAY}.", code="date_out_of_range", attr=attr
        )
    return day


def _iso_day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
