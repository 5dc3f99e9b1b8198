"""A clock the test sets: what every store, `Operations` and bot in the tests decide by.

Tests never depend on the machine's date: they hand this clock to `Store.open`,
`Operations` and `build_application`, and move it where the test needs another day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Amsterdam")
START = dt.datetime(2026, 12, 1, 12, 0, tzinfo=ZONE)


class FrozenClock:
    """Stands still at `current` (aware, in the partnership's zone) until a test moves it."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.current = now if now.tzinfo is not None else now.replace(tzinfo=ZONE)

    @property
    def tz(self) -> dt.tzinfo:
        return ZONE

    def now(self) -> dt.datetime:
        return self.current

    def today(self) -> dt.date:
        return self.current.date()

    def set(self, day: str, hour: int = 12) -> None:
        """Move to `day` (ISO date) at `hour` local time."""
        self.current = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), ZONE)


def frozen(now: dt.datetime = START) -> FrozenClock:
    return FrozenClock(now)


CLOCK = FrozenClock()  # the shared default; tests that move time make their own
