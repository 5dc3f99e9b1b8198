"""Which failed requests to Telegram are worth sending again, and when.

Three kinds are: flood control (429, after its `retry_after`), Telegram's own server
errors (5xx), and the connection failing or timing out before an answer (an outage, a
network hiccup), after a backoff that doubles up to a limit. Everything else is final.
A 400 in particular ("message is not modified", "query is too old") must never be
re-sent: re-sending an edit later overwrites whatever newer state the person is looking
at by then. A timed-out request may have gone through: sent again, an edit is at worst
"not modified" and a message at worst arrives twice, which beats never.
"""

from __future__ import annotations

from telegram.error import NetworkError, RetryAfter, TimedOut

from .timing import Timing

FLOOD_SLACK = 0.1  # seconds on top of Telegram's retry_after


def retry_delay(error: Exception, attempt: int, timing: Timing | None = None) -> float | None:
    """Seconds to wait before attempt number `attempt + 1`, or None: do not retry.

    `NetworkError` itself (not one of its subclasses BadRequest, Forbidden, InvalidToken,
    Conflict) is what python-telegram-bot raises for 5xx answers and for connections
    that fail; `TimedOut` for time-outs. The other subclasses are final answers.
    """
    timing = timing or Timing()
    if isinstance(error, RetryAfter):
        after = error.retry_after  # an int, or a timedelta where PTB_TIMEDELTA is set
        seconds = after if isinstance(after, int) else after.total_seconds()
        return (float(seconds) + FLOOD_SLACK) * timing.flood_second
    if type(error) is NetworkError or isinstance(error, TimedOut):
        return float(min(timing.retry_most, timing.retry_first * 2 ** min(attempt, 30)))
    return None
