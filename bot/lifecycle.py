"""Running the Application until SIGTERM or SIGINT, and stopping in seconds, losing nothing.

python-telegram-bot's `run_polling` stops by waiting for whatever runs: a broadcast of
1,600 announcements takes a minute at Telegram's pace, and docker kills the process
after 10 seconds, halfway through the round. Here the bot drives the Application the
way `run_polling` does (initialize, post_init, start; on a signal: stop, shutdown,
post_shutdown), for long polling and for the webhook alike, and on a signal first:

- stops taking updates (polling ends, the webhook server closes);
- tells the jobs to send no further notification (`Services.stopping`) and the outbox
  to drop the broadcasts still waiting (`Outbox.close`): those are not marked as sent
  in their round, so the next start sends them (see `bot.jobs`);
- gives the replies still waiting `Timing.stop_grace` seconds to go out; what is left
  then is not sent. Nothing of it is lost: every answer is stored before it is shown,
  so the person's next press (an earlier question's button shows the current question,
  see `respondent.outdated`) or /start (`respondent.resume`) shows where they are.

The updates already fetched are still handled before the Application stops. One thing
can make a stop longer: a database another process keeps locked, where an answer being
stored waits out SQLite's busy timeout once more (it is not retried after the signal).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any, Protocol

from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from .context import Services
from .outbox import Outbox
from .timing import Timing

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class Intake(Protocol):
    """Where updates come from: started after the Application is set up, stopped first."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Polling:
    """Long polling through the Application's updater."""

    def __init__(self, app: AnyApplication) -> None:
        self.app = app

    async def start(self) -> None:
        assert self.app.updater is not None, "the builder makes an updater"
        await self.app.updater.start_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=-1)

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()


def run(app: AnyApplication, intake: Intake, loop: asyncio.AbstractEventLoop) -> None:
    """Serve in `loop` until SIGINT, SIGTERM or SIGABRT; then close the loop."""
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(serve(app, intake, stop))
    finally:
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop, *last: Coroutine[Any, Any, Any]) -> None:
    """Run `last`, cancel what is left, wait for executor threads, then close `loop`.

    As `asyncio.run` ends a loop: a thread still finishing (a database connection's)
    would otherwise report to a closed loop, with a traceback after the one sentence
    of a refused start.
    """
    try:
        for coroutine in last:
            loop.run_until_complete(coroutine)
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


async def serve(app: AnyApplication, intake: Intake, stop: asyncio.Event) -> None:
    """Run the Application with `intake` until `stop` is set, then wind it down."""
    await initialize(app)
    try:
        if app.post_init:
            await app.post_init(app)
        try:
            await intake.start()
            await app.start()
            await stop.wait()
        finally:
            await wind_down(app, intake)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def initialize(app: AnyApplication) -> None:
    """`app.initialize()`, again while Telegram cannot be reached (a refused token is final).

    The pause between attempts doubles from `Timing.start_first` up to `Timing.start_most`.
    """
    services: Services | None = app.bot_data.get("services")
    timing = services.timing if services is not None else Timing()
    delay = timing.start_first
    while True:
        try:
            await app.initialize()
            return
        except InvalidToken:
            raise
        except NetworkError as exc:
            log.warning("Telegram cannot be reached (%s); trying again in %.0f s", exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, timing.start_most)


async def wind_down(app: AnyApplication, intake: Intake) -> None:
    """Stop quickly: no new updates, no new broadcasts, replies a short grace (see above)."""
    services: Services | None = app.bot_data.get("services")
    grace = services.timing.stop_grace if services is not None else 0.0
    if services is not None:
        services.stopping = True
        if services.store is not None:  # a database locked by someone else is not waited out
            await services.store.give_up_on_locks()
    outbox = app.bot.rate_limiter
    if isinstance(outbox, Outbox):
        outbox.close(grace)
    await intake.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
