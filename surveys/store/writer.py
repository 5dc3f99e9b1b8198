"""The group-commit writer: one task that drains the queue of starts, answers, completions.

Answer writes from many respondents are grouped into one transaction (`batch.apply`):
each caller still returns only after its answer is durably committed
(`synchronous=FULL`), but concurrent answers share one fsync. A completion is confirmed
only after its comments are shuffled into place and the WAL no longer holds the erased
session link (`Unlinker`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from ..errors import StoreError
from . import batch
from .base import Database
from .batch import Group, Op
from .unlinking import Unlinker

MAX_BATCH = 512


class Writer:
    def __init__(self, base: Database, unlinker: Unlinker, committed: Callable[[Op], None]) -> None:
        self._base = base
        self._unlinker = unlinker
        self._committed = committed  # brings the session cache in step with a committed op
        self._queue: asyncio.Queue[Op | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None

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
            try:
                failures = await self._base.hot.run(batch.apply, ops, groups, self._base.today())
            except Exception as exc:  # every waiter must hear of the failure
                error = exc if isinstance(exc, StoreError) else StoreError(f"failed: {exc}")
                failures = {id(op): error for op in ops}
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
