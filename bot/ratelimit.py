"""Telegram's limits and hiccups, handled in one place.

`AIORateLimiter` keeps the bot within Telegram's flood limits and retries 429 answers
after their `retry_after`. Telegram also answers 5xx now and then; those requests are
retried here with a short backoff, so a hiccup never costs a respondent their next
question. Time-outs are not retried (the request may have gone through).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.ext import AIORateLimiter

SERVER_ERROR_RETRIES = 3
BACKOFF_SECONDS = 0.5


class PatientRateLimiter(AIORateLimiter):
    """AIORateLimiter that also retries Telegram's server errors (5xx)."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        for attempt in range(SERVER_ERROR_RETRIES + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except TimedOut:
                raise
            except NetworkError:
                if attempt == SERVER_ERROR_RETRIES:
                    raise
                await asyncio.sleep(BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")
