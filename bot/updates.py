"""Fetching updates so that one the library cannot read never stops the bot.

python-telegram-bot parses a whole `getUpdates` batch at once. When one update does not
parse (say a poll message without fields a newer Bot API made required, as an older
self-hosted Bot API server sends), the batch fails, the offset never advances, and the
same batch is fetched again hundreds of times a second while nobody gets an answer.
`ReadableUpdates` wraps the getUpdates connection: each update is checked on its own,
and one that does not parse is replaced by its bare `update_id`, so the offset moves
past it and no handler sees it. It is logged once, by id and error type, never with
its content (it may carry a person's message); an id that is not a number is named
only by its kind and size.

The webhook path (see `bot.webhook`) reads each posted update with `parse_update`, which
skips an unreadable one the same way and with the same log line.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)


class ReadableUpdates(BaseRequest):
    """A `BaseRequest` around another that makes every fetched update readable."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code != 200 or not url.endswith("/getUpdates"):
            return code, payload
        return code, readable(payload)


def readable(payload: bytes) -> bytes:
    """The getUpdates answer with every unreadable update reduced to its id."""
    try:
        body = json.loads(payload)
        updates = body["result"]
    except (ValueError, KeyError, TypeError):
        return payload  # not a batch: the library reports it as it would anyway
    if not isinstance(updates, list):
        return payload
    changed = False
    for i, raw in enumerate(updates):
        problem = unreadable(raw)
        if problem is not None:
            update_id = id_of(raw)
            log_skipped(update_id, problem)
            updates[i] = {"update_id": update_id}
            changed = True
    return json.dumps(body).encode() if changed else payload


def unreadable(raw: Any) -> str | None:
    """Why the library cannot read `raw` (the exception's type), or None when it can."""
    try:
        Update.de_json(raw, None)
    except Exception as exc:  # any parse failure; the type names it without the content
        return type(exc).__name__
    return None


def parse_update(raw: Any, bot: Bot) -> Update | None:
    """The update the library reads from `raw`, or None (logged once) when it cannot.

    For the webhook: a posted update is one update, so an unreadable one is simply not
    handed on, and the post is still answered so Telegram does not deliver it again.
    """
    update_id = id_of(raw)
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        log_skipped(update_id, "its update_id is not a number")  # not from Telegram
        return None
    try:
        return Update.de_json(raw, bot)
    except Exception as exc:  # any parse failure; the type names it without the content
        log_skipped(update_id, type(exc).__name__)
        return None


def id_of(raw: Any) -> Any:
    """The update's `update_id` as it came (log it only through `loggable_id`)."""
    return raw.get("update_id") if isinstance(raw, dict) else None


def loggable_id(update_id: Any) -> str:
    """How a log line names an update: its number, or only the kind and size of what
    stands in its place (a forged post may put a megabyte, or a message, there)."""
    if isinstance(update_id, int) and not isinstance(update_id, bool):
        return str(update_id)
    if update_id is None:
        return "without an id"
    size = f", {len(update_id)} characters" if isinstance(update_id, str) else ""
    return f"with an id that is not a number ({type(update_id).__name__}{size})"


def log_skipped(update_id: Any, problem: str) -> None:
    log.warning("skipped update %s: it cannot be read (%s)", loggable_id(update_id), problem)
