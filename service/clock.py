"""The one place time comes from, so tests and the scheduler can move it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


class Clock:
    """Wall-clock time in UTC; 'today' is the date in WIB, where the users are."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return self.now().astimezone(WIB).date()


class FixedClock(Clock):
    """A clock that stands still until moved: for tests, demo data and simulations."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def move_to(self, at: datetime) -> None:
        self.at = at
