"""Rewriting the file (at every close and nightly) and making backups.

Closing a wave (and the nightly `rebuild`) rewrites the whole file, so neither cell
offsets nor page order keep the order in which responses were started or finished.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from .. import cipher
from ..errors import StoreError
from .base import Database
from .schema import connect_sync
from .unlinking import Unlinker


class Maintenance:
    def __init__(self, base: Database, unlinker: Unlinker) -> None:
        self._base = base
        self._unlinker = unlinker

    async def rebuild(self) -> None:
        """Rewrite the whole file (VACUUM) and truncate the WAL: no insertion order survives.

        Run at every close and nightly while a wave is open, so a copy taken with the key
        shows at most the day on which a response was written.
        """
        async with self._base.write_lock:
            await self._base.db.execute("VACUUM")
        await self._unlinker.wait()

    async def rebuild_daily(self, today: str) -> bool:
        """`rebuild` once per day while a wave is open; False if already done or nothing open.

        Restart-safe: the day of the last rebuild is kept in `meta`.
        """
        [(last, any_open)] = await self._base.read(
            "SELECT (SELECT value FROM meta WHERE name = 'rebuilt_on'), "
            "EXISTS (SELECT 1 FROM waves WHERE status = 'open')"
        )
        if not any_open or (last is not None and last >= today):
            return False
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO meta VALUES ('rebuilt_on', ?) ON CONFLICT (name) DO UPDATE "
                "SET value = excluded.value",
                (today,),
            )
        await self.rebuild()
        return True

    async def backup(self, target: str | Path) -> None:
        """An encrypted, consistent copy (0600) that shows no more than the live file.

        The copy is made from one read snapshot and written table by table in key order
        (`cipher.export`), then rebuilt. Drafts stay encrypted under secrets the file
        never holds, and finished responses still waiting for their release stay
        unlinked, so a restore loses nothing that was acknowledged. Only the readable
        unfinished responses of an earlier trustscan (keyed by a Telegram id) are left
        out: restoring means their owners start again.
        """
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target} already exists; choose a new file name")
        await asyncio.get_running_loop().run_in_executor(None, self._backup, target)

    def _backup(self, target: Path) -> None:
        source = connect_sync(self._base.path, self._base.db_key)
        try:
            cipher.export(source, target, self._base.db_key)
        finally:
            source.close()
        db = connect_sync(target, self._base.db_key)
        try:
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM answers WHERE response IN (SELECT id FROM responses "
                "WHERE complete = 0)"
            )
            db.execute("DELETE FROM responses WHERE complete = 0")
            db.execute("DELETE FROM sessions")
            db.execute("COMMIT")
            db.execute("VACUUM")
        finally:
            db.close()
        cipher.private_file(target)
