"""Which failed requests to Telegram are worth sending again, and when.

Only two kinds are: flood control (429, after its `retry_after`) and Telegram's own
server errors (5xx, or the connection failing before an answer), after a short backoff.
Everything else is final. A 400 in particular ("message is not modified", "query is too
old") must never be re-sent: re-sending an edit later overwrites whatever newer state
the person is looking at by then. Time-outs are not retried either: the request may
have gone through.
"""

from __future__ import annotations

from telegram.error import NetworkError, RetryAfter

SERVER_ERROR_RETRIES = 3
BACKOFF_SECONDS = 0.5
FLOOD_RETRIES = 5


def retry_delay(error: Exception, attempt: int) -> float | None:
    """Seconds to wait before attempt number `attempt + 1`, or None: do not retry.

    `NetworkError` itself (not one of its subclasses BadRequest, Forbidden, InvalidToken,
    Conflict, TimedOut) is what python-telegram-bot raises for 5xx answers and for
    connections that fail; its subclasses are the final answers.
    """
    if isinstance(error, RetryAfter):
        if attempt >= FLOOD_RETRIES:
            return None
        after = error.retry_after  # an int, or a timedelta where PTB_TIMEDELTA is set
        seconds = after if isinstance(after, int) else after.total_seconds()
        return float(seconds) + 0.1
    if type(error) is NetworkError and attempt < SERVER_ERROR_RETRIES:
        return float(BACKOFF_SECONDS * 2**attempt)
    return None
