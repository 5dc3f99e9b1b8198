"""An erased link counts as gone only once the WAL is truncated; waiting for that.

A closed wave (its salt), /delete (a draft) and an earlier trustscan's session moved
into a draft each erase something that must be gone for good. Until the write-ahead
log is checkpointed and truncated, its old pages still hold it, so nobody is told
"done" before. A reader holding the WAL delays only the confirmation of whoever waits
for it (`UnlinkPendingError` after `timeout`); the store keeps retrying in the
background until it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from .. import cipher
from ..errors import StoreError, UnlinkPendingError
from . import schema
from .base import Database

UNLINK_TIMEOUT = 30.0  # seconds a completion waits for the WAL to be truncated


@dataclass(slots=True)
class _Waiter:
    """Someone waiting for the WAL to lose an erased link (a completion, a close, /delete)."""

    deadline: float
    future: asyncio.Future[None]


def truncate_wal(db: cipher.Connection) -> bool:
    """Checkpoint and truncate the WAL without waiting for readers (writer thread).

    With the busy timeout at 0 a reader holding the WAL makes this return False at
    once instead of stalling every respondent behind it; the caller retries.
    """
    db.execute("PRAGMA busy_timeout = 0")
    busy: int  # the checkpoint's row: busy flag, WAL frames, frames checkpointed
    log: int
    try:
        busy, log, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except cipher.Error:
        return False
    finally:
        db.execute(f"PRAGMA busy_timeout = {schema.BUSY_TIMEOUT_MS}")
    return busy == 0 and log == 0


class Unlinker:
    """The people waiting for a truncated WAL, and the background task that retries."""

    def __init__(self, base: Database) -> None:
        self._base = base
        self.timeout = UNLINK_TIMEOUT
        self._waiting: list[_Waiter] = []
        self._task: asyncio.Task[None] | None = None

    async def wait(self) -> None:
        """Wait until the WAL is truncated; `UnlinkPendingError` after `timeout`."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiter(time.monotonic() + self.timeout, future))
        await self.attempt()
        await future

    async def attempt(self) -> None:
        """One truncation attempt now; on failure a background task keeps retrying."""
        async with self._base.write_lock:
            done = await self._base.hot.run(truncate_wal)
        self._after_attempt(done)
        if self._waiting and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._retry())

    async def close(self) -> None:
        """Stop retrying; whoever still waits hears `UnlinkPendingError`, never a guess."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for waiter in self._waiting:
            self._settle(waiter, UnlinkPendingError("the store closed first"))
        self._waiting.clear()

    async def _retry(self) -> None:
        delay = 0.02
        while self._waiting:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            async with self._base.write_lock:
                done = await self._base.hot.run(truncate_wal)
            self._after_attempt(done)
        # Those who gave up waiting were told so; the WAL is truncated by now all the same.

    def _after_attempt(self, done: bool) -> None:
        now = time.monotonic()
        keep: list[_Waiter] = []
        for waiter in self._waiting:
            if done:
                self._settle(waiter, None)
            elif now >= waiter.deadline and not waiter.future.done():
                self._settle(
                    waiter,
                    UnlinkPendingError(
                        "another program is reading the database, so the erased link is "
                        "still in its write-ahead log; trustscan keeps clearing it"
                    ),
                )
                keep.append(_Waiter(float("inf"), waiter.future))  # retry on, tell nobody
            else:
                keep.append(waiter)
        self._waiting = keep

    def _settle(self, waiter: _Waiter, error: StoreError | None) -> None:
        if waiter.future.done():
            return
        if error is None:
            waiter.future.set_result(None)
        else:
            waiter.future.set_exception(error)
