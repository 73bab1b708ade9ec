"""Times are stored in UTC and shown to people in UK time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def uk_time(moment: datetime) -> str:
    """A stored UTC timestamp as UK local time, such as ``3 Nov 2026 14:02``."""
    local = moment.replace(tzinfo=UTC).astimezone(UK)
    return f"{local.day} {local:%b %Y %H:%M}"
