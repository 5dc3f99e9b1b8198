"""The one clock: every calendar decision asks it, nothing else reads the machine's date.

Wave status, closing dates, reminders, the nightly rebuild, daily counts and the date on
a report's cover are whole *local* days of the partnership: a wave that closes on the
31st closes at midnight in Amsterdam, not at midnight UTC an hour later. So the store,
the facilitator's use cases, the scheduler and the bot all take one `Clock`, made once
from the configuration (`trustscan.clock.partnership_clock`); tests hand in a frozen or
movable one and so pass on any day.

This module is the only place in the product that reads the machine's time of day
(`tests/test_layers.py` says so).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Amsterdam"


class Clock(Protocol):
    """What every calendar decision reads: an aware `now` and the local `today`."""

    @property
    def tz(self) -> dt.tzinfo:
        """The partnership's time zone."""
        ...

    def now(self) -> dt.datetime:
        """The current moment, aware, in the partnership's time zone."""
        ...

    def today(self) -> dt.date:
        """The partnership's local date."""
        ...


class ZoneClock:
    """The machine's time, read in one time zone (the partnership's)."""

    def __init__(self, timezone: str = DEFAULT_TIMEZONE) -> None:
        self._tz = ZoneInfo(timezone)

    @property
    def tz(self) -> dt.tzinfo:
        return self._tz

    def now(self) -> dt.datetime:
        return dt.datetime.now(self._tz)

    def today(self) -> dt.date:
        return self.now().date()


def stamp(clock: Clock) -> str:
    """The clock's moment as the store keeps it: UTC, to the second, ISO 8601."""
    return clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
