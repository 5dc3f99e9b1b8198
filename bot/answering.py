"""Every button press gets an answer: a toast in time, or the same words in the chat.

Telegram wants a press answered within about 15 seconds; after that the button spins
until it gives up and the answer is refused ("query is too old"). A press can wait that
long when the database is locked or a thousand people tap at once. So:

- `patient` answers a press still being handled after `Timing.patience` with a toast
  ("one moment, your tap has arrived"): the spinning stops and the person knows.
- `answer` answers a press exactly once; when the replies queued ahead of this one would
  keep the person waiting past `Timing.queued`, with the same "one moment" toast. When
  the toast can no longer be given (the deadline has passed, or "one moment" already
  used the answer), it returns False and the handler says its words in the chat
  instead, with the current question below them (see `respondent.refuse`), so nobody is
  left looking at a stale button.

The handler itself always goes on to show the next question, answered in time or not.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import BadRequest, TelegramError

from surveys.i18n import t

from .context import TrustscanContext
from .language import user_lang
from .outbox import TOO_OLD, Outbox

log = logging.getLogger(__name__)
ANSWER = "press_answer"  # the context attribute holding the update's `PressAnswer`

Handler = Callable[[Update, TrustscanContext], Coroutine[Any, Any, None]]


class PressAnswer:
    """The one answer a press may get; `given` once it is used up."""

    def __init__(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None, "only presses are answered"
        self.query = query
        self.given = False

    async def __call__(self, text: str | None = None, *, alert: bool = False) -> bool:
        """Answer with `text` (a toast, or an alert); False if it could not be shown.

        Without `text` there is nothing to show, so it is True even when too late.
        """
        if self.given:
            return text is None
        self.given = True
        try:
            shown = await self.query.answer(text, show_alert=alert or None) is not False
        except BadRequest as exc:  # too old, where no outbox turned it into False
            if not any(s in str(exc).lower() for s in TOO_OLD):
                raise
            shown = False
        return shown or text is None

    async def notice_after(self, seconds: float, text: str) -> None:
        """If the press is still unanswered after `seconds`, answer it with `text`."""
        await asyncio.sleep(seconds)
        if not self.given:
            try:
                await self(text)
            except TelegramError as exc:  # the press itself still goes on
                log.warning("could not tell a waiting person to wait: %s", exc)


def press_answer(update: Update, context: TrustscanContext) -> PressAnswer:
    """The press's `PressAnswer`, made on first use (one per update)."""
    found = context.__dict__.get(ANSWER)
    if not isinstance(found, PressAnswer):
        found = PressAnswer(update)
        context.__dict__[ANSWER] = found
    return found


async def answer(
    update: Update, context: TrustscanContext, text: str | None = None, *, alert: bool = False
) -> bool:
    """Answer the press once: True if `text` (if any) was shown as a toast.

    Without words of its own, a press whose next screen will wait behind many replies
    (a thousand people tapping at once share Telegram's 30 messages a second) gets the
    "one moment" toast, so a long wait is never a silent one.
    """
    if text is None and queued_long(context):
        return await press_answer(update, context)(t("bot.busy", user_lang(update, context)))
    return await press_answer(update, context)(text, alert=alert)


def queued_long(context: TrustscanContext) -> bool:
    """Whether a reply queued now would wait longer than `Timing.queued`."""
    outbox = context.bot.rate_limiter
    return isinstance(outbox, Outbox) and outbox.expected_wait() >= context.services.timing.queued


def patient(handler: Handler) -> Handler:
    """Answer the press with a "one moment" toast when `handler` takes long.

    The clock starts when the update arrives, before the chat's turn is taken, so a
    press queued behind a slow one is covered too.
    """

    @functools.wraps(handler)
    async def wrapped(update: Update, context: TrustscanContext) -> None:
        pending = press_answer(update, context)
        busy = t("bot.busy", user_lang(update, context))
        waiting = asyncio.create_task(
            pending.notice_after(context.services.timing.patience, busy), name="press-patience"
        )
        try:
            await handler(update, context)
        finally:
            waiting.cancel()

    return wrapped
