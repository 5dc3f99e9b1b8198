"""The group-commit writer: one task that drains the queue of starts, answers, completions.

Answer writes from many respondents are grouped into one transaction (`batch.apply`):
each caller still returns only after its answer is durably committed
(`synchronous=FULL`), but concurrent answers share one fsync. A completion is
confirmed once it waits, durably and unlinked, for its release (`release`); the
process's memory of who waits is brought in step by `Hooks` before anyone hears back.

A batch that finds the database locked by someone else (another process, a backup
tool) for longer than SQLite's busy timeout is tried again, for up to `LOCKED_PATIENCE`
seconds: the answers wait, nobody is told "something went wrong" for a lock that goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from ..errors import StoreError
from . import batch, schema
from .base import Database
from .batch import Op, Outcome, Releases
from .release import Group

log = logging.getLogger(__name__)
MAX_BATCH = 512
LOCKED_PATIENCE = 120.0  # seconds a batch keeps trying a database someone else locked
LOCKED_PAUSE = 0.05  # between attempts (each already waits the busy timeout)


class Hooks(Protocol):
    """What the writer asks of the sessions around a batch (see `sessions.Sessions`)."""

    def releases(self) -> Releases: ...

    def committed(self, op: Op) -> None: ...

    async def after_batch(self, ops: Sequence[Op], released: Sequence[Group]) -> None: ...


class Writer:
    def __init__(self, base: Database) -> None:
        self._base = base
        self.hooks: Hooks | None = None  # set by the store before `start`
        self._queue: asyncio.Queue[Op | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is not None:
            self._stopping = True  # a locked database is not waited for any more
            await self._queue.put(None)
            await self._task
            self._task = None
            self._stopping = False

    def give_up_on_locks(self) -> None:
        """Stop waiting for a database someone else locked (the bot is stopping): the
        attempt under way is the last, so a stop takes at most SQLite's busy timeout."""
        self._stopping = True

    async def submit(self, op: Op) -> None:
        """Queue `op` and return once it is committed (or raise why it was refused)."""
        if self._task is None or self._task.done():
            raise StoreError("the store is closed")
        op.future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(op)
        await op.future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            ops = [first]
            stop = False
            while len(ops) < MAX_BATCH and not self._queue.empty():
                op = self._queue.get_nowait()
                if op is None:
                    stop = True
                    break
                ops.append(op)
            await self._commit(ops)
            if stop:
                return

    async def _commit(self, ops: list[Op]) -> None:
        assert self.hooks is not None
        async with self._base.write_lock:
            outcome = await self._apply(ops)
        for op in ops:
            if id(op) not in outcome.failures and op.kind != "begin":
                self.hooks.committed(op)
        accepted = [op for op in ops if id(op) not in outcome.failures]
        await self.hooks.after_batch(accepted, outcome.released)
        self._resolve(ops, outcome.failures)

    async def _apply(self, ops: list[Op]) -> Outcome:
        """`batch.apply`, again while someone else holds the database locked."""
        assert self.hooks is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._base.hot.run(
                    batch.apply, ops, self._base.today(), self.hooks.releases()
                )
            except Exception as exc:  # every waiter must hear of the failure
                waited = loop.time() - started
                if schema.is_busy(exc) and not self._stopping and waited < LOCKED_PATIENCE:
                    if attempts == 1:
                        log.warning("the database is locked by someone else; answers wait")
                    for op in ops:
                        op.created = False  # rolled back: nothing of it was made
                        op.group = None
                    await asyncio.sleep(LOCKED_PAUSE)
                    continue
                error = exc if isinstance(exc, StoreError) else StoreError(f"failed: {exc}")
                return Outcome(failures={id(op): error for op in ops})

    def _resolve(self, ops: list[Op], failures: dict[int, StoreError]) -> None:
        for op in ops:
            assert op.future is not None
            if op.future.done():
                continue
            if id(op) in failures:
                op.future.set_exception(failures[id(op)])
            else:
                op.future.set_result(None)
