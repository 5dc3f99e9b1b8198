"""The group-commit writer: one task that drains the queue of starts, answers, completions.

Answer writes from many respondents are grouped into one transaction (`batch.apply`):
each caller still returns only after its answer is durably committed
(`synchronous=FULL`), but concurrent answers share one fsync. A completion is confirmed
only after its comments are shuffled into place and the WAL no longer holds the erased
session link (`Unlinker`).

A batch that finds the database locked by someone else (another process, a backup
tool) for longer than SQLite's busy timeout is tried again, for up to `LOCKED_PATIENCE`
seconds: the answers wait, nobody is told "something went wrong" for a lock that goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from ..errors import StoreError
from . import batch, schema
from .base import Database
from .batch import Group, Op
from .unlinking import Unlinker

log = logging.getLogger(__name__)
MAX_BATCH = 512
LOCKED_PATIENCE = 120.0  # seconds a batch keeps trying a database someone else locked
LOCKED_PAUSE = 0.05  # between attempts (each already waits the busy timeout)


class Writer:
    def __init__(self, base: Database, unlinker: Unlinker, committed: Callable[[Op], None]) -> None:
        self._base = base
        self._unlinker = unlinker
        self._committed = committed  # brings the session cache in step with a committed op
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
        groups: set[Group] = set()
        async with self._base.write_lock:
            failures = await self._apply(ops, groups)
        # Answers are durable at COMMIT: acknowledge them now. A completion is only
        # acknowledged once its comments are shuffled into place and the WAL no
        # longer holds the erased session link.
        completed = [op for op in ops if op.kind == "complete" and id(op) not in failures]
        waiting = {id(op) for op in completed}
        self._resolve([op for op in ops if id(op) not in waiting], failures)
        if groups:
            async with self._base.write_lock:
                await self._base.hot.run(batch.shuffle_comments, groups)
        if completed:
            self._unlinker.enqueue(completed)
            await self._unlinker.attempt()

    async def _apply(self, ops: list[Op], groups: set[Group]) -> Mapping[int, StoreError]:
        """`batch.apply`, again while someone else holds the database locked; the refusals."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._base.hot.run(batch.apply, ops, groups, self._base.today())
            except Exception as exc:  # every waiter must hear of the failure
                waited = loop.time() - started
                if schema.is_busy(exc) and not self._stopping and waited < LOCKED_PATIENCE:
                    if attempts == 1:
                        log.warning("the database is locked by someone else; answers wait")
                    for op in ops:
                        op.created = False  # rolled back: nothing of it was made
                    groups.clear()
                    await asyncio.sleep(LOCKED_PAUSE)
                    continue
                error = exc if isinstance(exc, StoreError) else StoreError(f"failed: {exc}")
                return {id(op): error for op in ops}

    def _resolve(self, ops: list[Op], failures: Mapping[int, StoreError]) -> None:
        for op in ops:
            assert op.future is not None
            if op.future.done():
                continue
            if id(op) in failures:
                op.future.set_exception(failures[id(op)])
            else:
                if op.kind != "begin":
                    self._committed(op)
                op.future.set_result(None)
