"""The partnership's clock, made once from the configuration and passed to everyone.

The store, `Operations`, the scheduler and the bot take this one object, so "today" is
the same local day everywhere (DESIGN §2, "One clock"). See `surveys.clock`.
"""

from __future__ import annotations

from surveys.clock import Clock, ZoneClock

from .config import Config

__all__ = ["Clock", "ZoneClock", "partnership_clock"]


def partnership_clock(config: Config) -> Clock:
    """The machine's time in the partnership's time zone (`[partnership] timezone`)."""
    return ZoneClock(config.timezone)
