"""The partnership (organisations, roles), waves and their secrets, and wave counts.

A wave's secret (`keys.wave_secret`) needs the master key and the wave's salt; closing
a wave destroys the salt, so no completion marker of that wave can be recomputed
afterwards, and releases whatever still waits naming nobody (`release.release_wave`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .. import cipher, keys
from ..errors import StoreError, UnknownWaveError, WaveClosedError
from . import release
from .base import Database
from .rows import DailyCount, GroupCount, OrganisationRow, OrgCount, RoleRow, Wave


class Waves:
    def __init__(self, base: Database) -> None:
        self._base = base
        self._secrets: dict[int, bytes] = {}

    async def sync_partnership(
        self, orgs: Iterable[tuple[str, str, int | None]], roles: Iterable[RoleRow]
    ) -> None:
        """Make organisations and roles match the config (existing waves keep their ids)."""
        async with self._base.transaction() as db:
            await db.executemany(
                "INSERT INTO organisations VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, headcount = excluded.headcount",
                list(orgs),
            )
            await db.executemany(
                "INSERT INTO roles (id, labels, restricted) VALUES (?, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET labels = excluded.labels, restricted = excluded.restricted",
                [(r.id, json.dumps(dict(r.labels), sort_keys=True), r.restricted) for r in roles],
            )

    async def roles(self) -> list[RoleRow]:
        rows = await self._base.read("SELECT id, labels, restricted FROM roles ORDER BY id")
        return [RoleRow(r[0], json.loads(r[1]), bool(r[2])) for r in rows]

    async def organisations(self) -> list[OrganisationRow]:
        rows = await self._base.read("SELECT id, name, headcount FROM organisations ORDER BY id")
        return [OrganisationRow(*r) for r in rows]

    async def open_wave(
        self,
        survey: str,
        survey_version: int,
        orgs: Sequence[str],
        *,
        name: str | None = None,
        closes_on: str | None = None,
        opens_on: str | None = None,
    ) -> Wave:
        """Create a wave; it opens now unless `opens_on` lies in the future (then scheduled)."""
        if not orgs:
            raise StoreError("a wave needs at least one organisation")
        scheduled = opens_on is not None and opens_on > self._base.today()
        if closes_on is not None and closes_on <= (opens_on or self._base.today()):
            raise StoreError(f"the closing date {closes_on} must lie after the opening date")
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO surveys VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET "
                "version = excluded.version",
                (survey, survey_version),
            )
            async with db.execute("SELECT count(*) FROM waves WHERE survey = ?", (survey,)) as c:
                row = await c.fetchone()
            assert row is not None  # count(*) always gives a row
            (count,) = row
            cursor = await db.execute(
                "INSERT INTO waves (survey, name, status, opens_on, closes_on, opened_at, salt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    survey,
                    name or f"{survey} {count + 1}",
                    "scheduled" if scheduled else "open",
                    opens_on,
                    closes_on,
                    None if scheduled else self._base.now(),
                    None if scheduled else keys.new_salt(),
                ),
            )
            wave_id = cursor.lastrowid
            assert wave_id is not None
            await db.executemany(
                "INSERT INTO wave_organisations VALUES (?, ?)", [(wave_id, org) for org in orgs]
            )
        return await self.wave(wave_id)

    async def start_scheduled_wave(self, wave_id: int) -> Wave:
        async with self._base.transaction() as db:
            cursor = await db.execute(
                "UPDATE waves SET status = 'open', opened_at = ?, salt = ? "
                "WHERE id = ? AND status = 'scheduled'",
                (self._base.now(), keys.new_salt(), wave_id),
            )
            if cursor.rowcount != 1:
                raise UnknownWaveError(f"wave {wave_id} is not a scheduled wave")
        return await self.wave(wave_id)

    async def rename_wave(self, wave_id: int, name: str) -> None:
        async with self._base.transaction() as db:
            cursor = await db.execute("UPDATE waves SET name = ? WHERE id = ?", (name, wave_id))
            if cursor.rowcount != 1:
                raise UnknownWaveError(f"there is no wave {wave_id}")

    async def set_closing_date(self, wave_id: int, closes_on: str) -> None:
        """Move a wave's closing date; a closed wave is never reopened by a later date."""
        async with self._base.transaction() as db:
            cursor = await db.execute(
                "UPDATE waves SET closes_on = ? WHERE id = ? AND status != 'closed'",
                (closes_on, wave_id),
            )
            if cursor.rowcount != 1:
                await self.wave(wave_id)  # UnknownWaveError if there is none
                raise WaveClosedError(f"wave {wave_id} is already closed")

    async def close_wave(self, wave_id: int, held: Iterable[bytes] = ()) -> None:
        """Release what waits (naming nobody), destroy the salt, delete the drafts.

        The caller (`Store.close_wave`) then forgets what memory held and rebuilds the file.
        """
        wave = await self.wave(wave_id)
        if wave.status == "closed":
            raise WaveClosedError(f"wave {wave_id} is already closed")
        async with self._base.write_lock:
            await self._base.hot.run(_close, wave_id, self._base.now(), tuple(held))
        self._secrets.pop(wave_id, None)

    async def wave(self, wave_id: int) -> Wave:
        waves = await self._select("WHERE id = ?", (wave_id,))
        if not waves:
            raise UnknownWaveError(f"there is no wave {wave_id}")
        return waves[0]

    async def waves(self, status: str | None = None, survey: str | None = None) -> list[Wave]:
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        if survey:
            clauses.append("survey = ?")
            params.append(survey)
        return await self._select(("WHERE " + " AND ".join(clauses)) if clauses else "", params)

    async def _select(self, where: str, params: Sequence[Any]) -> list[Wave]:
        rows = await self._base.read(
            "SELECT id, survey, name, status, opens_on, closes_on, opened_at, closed_at, "
            "(SELECT group_concat(org, ' ') FROM (SELECT org FROM wave_organisations "
            "WHERE wave = waves.id ORDER BY org)) FROM waves " + where + " ORDER BY id",
            params,
        )
        return [
            Wave(
                i, survey, name, status, opens, closes, opened, closed, tuple((orgs or "").split())
            )
            for i, survey, name, status, opens, closes, opened, closed, orgs in rows
        ]

    async def secret(self, wave_id: int) -> bytes:
        """The open wave's secret (cached); `WaveClosedError` once the salt is gone."""
        secret = self._secrets.get(wave_id)
        if secret is None:
            rows = await self._base.read("SELECT status, salt FROM waves WHERE id = ?", (wave_id,))
            if not rows:
                raise UnknownWaveError(f"there is no wave {wave_id}")
            [(status, salt)] = rows
            if status != "open" or salt is None:
                raise WaveClosedError(f"wave {wave_id} is not open")
            secret = self._secrets[wave_id] = keys.wave_secret(self._base.master_key, salt)
        return secret

    async def response_counts(self, wave_id: int) -> list[OrgCount]:
        """Completed and in-progress responses per organisation of the wave."""
        rows = await self._base.read(
            "SELECT wo.org, "
            "(SELECT count(*) FROM responses r WHERE r.wave = wo.wave AND r.org = wo.org "
            "AND r.complete = 1) + (SELECT count(*) FROM pending p WHERE p.wave = wo.wave "
            "AND p.org = wo.org), "
            "(SELECT count(*) FROM drafts d WHERE d.wave = wo.wave AND d.org = wo.org) + "
            "(SELECT count(*) FROM responses r WHERE r.wave = wo.wave AND r.org = wo.org "
            "AND r.complete = 0) "
            "FROM wave_organisations wo WHERE wo.wave = ? ORDER BY wo.org",
            (wave_id,),
        )
        return [OrgCount(*r) for r in rows]

    async def completed_counts(self, wave_ids: Sequence[int]) -> list[GroupCount]:
        """Completed responses per (wave, org, role), released or waiting for their
        release; counts, so show them with care."""
        if not wave_ids:
            return []
        marks = ",".join("?" * len(wave_ids))
        rows = await self._base.read(
            "SELECT wave, org, role, count(*) FROM (SELECT wave, org, role FROM responses "
            f"WHERE complete = 1 AND wave IN ({marks}) UNION ALL SELECT wave, org, role "
            f"FROM pending WHERE wave IN ({marks})) GROUP BY wave, org, role "
            "ORDER BY wave, org, role",
            [*wave_ids, *wave_ids],
        )
        return [GroupCount(*r) for r in rows]

    async def daily_counts(self, wave_id: int) -> list[DailyCount]:
        rows = await self._base.read(
            "SELECT day, org, started, completed FROM daily_counts WHERE wave = ? "
            "ORDER BY day, org",
            (wave_id,),
        )
        return [DailyCount(*r) for r in rows]


def _close(db: cipher.Connection, wave_id: int, now: str, held: tuple[bytes, ...]) -> None:
    """One transaction (writer thread): release what waits, erase every draft and mark."""
    db.execute("BEGIN IMMEDIATE")
    try:
        release.release_wave(db, wave_id, held)
        db.execute(
            "DELETE FROM draft_items WHERE draft IN (SELECT key FROM drafts WHERE wave = ?)",
            (wave_id,),
        )
        db.execute("DELETE FROM drafts WHERE wave = ?", (wave_id,))
        db.execute(
            "DELETE FROM answers WHERE response IN (SELECT id FROM responses "
            "WHERE wave = ? AND complete = 0)",
            (wave_id,),
        )
        db.execute("DELETE FROM responses WHERE wave = ? AND complete = 0", (wave_id,))
        db.execute("DELETE FROM sessions WHERE wave = ?", (wave_id,))
        db.execute("DELETE FROM consent_screens WHERE wave = ?", (wave_id,))
        db.execute("DELETE FROM notices_sent WHERE wave = ?", (wave_id,))
        db.execute(
            "UPDATE waves SET status = 'closed', closed_at = ?, salt = NULL WHERE id = ?",
            (now, wave_id),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
