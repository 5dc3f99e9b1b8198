"""What every part of the store shares: the connections, the write lock, the clock.

Three connections to one file: an aiosqlite writer for the rare administrative writes,
an aiosqlite reader, and the hot connection, a plain DB-API connection on its own
thread for starts, answers and completions (a whole batch costs one thread hop there;
aiosqlite costs one per statement). All writes take `write_lock`, so the two writing
connections never wait on each other inside SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from .. import cipher
from ..clock import Clock, stamp

T = TypeVar("T")
IN_CHUNK = 500  # below SQLite's limit on bound parameters


def select_in(db: cipher.Connection, sql: str, values: list[Any]) -> list[tuple[Any, ...]]:
    """Run `sql IN (…)` over `values` in chunks below SQLite's parameter limit."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        rows.extend(db.execute(f"{sql} ({','.join('?' * len(chunk))})", chunk).fetchall())
    return rows


class Hot:
    """The hot connection and the one thread that may touch it."""

    def __init__(self) -> None:
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="trustscan-writer")
        self.db: cipher.Connection

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(hot connection, *args)` on the writer thread."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, fn, self.db, *args)

    async def open(self, connect: Callable[[], cipher.Connection]) -> None:
        self.db = await asyncio.get_running_loop().run_in_executor(self.thread, connect)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.thread, self.db.close)
        self.thread.shutdown()


class Database:
    """The shared handle: path and keys, the aiosqlite connections, the write lock, the clock.

    The store never reads the machine's date: daily counts, wave status and timestamps
    come from the partnership's clock, the same one the bot and the CLI decide by.
    """

    def __init__(
        self,
        path: Path,
        master_key: bytes,
        db_key: bytes,
        db: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        clock: Clock,
    ) -> None:
        self.path = path
        self.clock = clock
        self.master_key = master_key
        self.db_key = db_key
        self.db = db
        self.reader = reader
        self.write_lock = asyncio.Lock()
        self.hot = Hot()

    def now(self) -> str:
        """A timestamp as stored: UTC to the second (audit entries, openings, closings)."""
        return stamp(self.clock)

    def today(self) -> str:
        """The partnership's local date, ISO: the unit of daily counts and wave dates."""
        return self.clock.today().isoformat()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self.write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self.reader.execute_fetchall(sql, params))
