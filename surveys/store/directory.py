"""Who may be reached and how: invitation links, contacts, notification rounds, audit log.

None of these tables is ever joined to sessions, responses or answers: `contacts` holds
chat ids of people who asked for reminders, and nothing beside an answer names one.

A notification round (an announcement, a reminder) is marked per contact as each
message goes out (`notices_sent`), so a crash or a stop halfway leaves the rest due and
sends nobody a second copy. A reminder's marks name contacts who had not finished the
wave, which the master key tells while the wave is open anyway; they are deleted when
the round is done, and with the wave when it closes.
"""

from __future__ import annotations

import secrets

from .base import Database
from .rows import AuditEntry, Contact, Invitation

TOKEN_BYTES = 16  # 128 bits; 22 URL-safe characters, well inside the 64-char deep link limit


class Directory:
    def __init__(self, base: Database) -> None:
        self._base = base

    async def invitation(self, token: str) -> Invitation | None:
        rows = await self._base.read(
            "SELECT token, org, role, wave, survey FROM invitations WHERE token = ?", (token,)
        )
        return Invitation(*rows[0]) if rows else None

    async def invitations(self) -> list[Invitation]:
        rows = await self._base.read(
            "SELECT token, org, role, wave, survey FROM invitations "
            "ORDER BY org, coalesce(role, ''), coalesce(wave, 0), coalesce(survey, '')"
        )
        return [Invitation(*r) for r in rows]

    async def ensure_invitation(
        self,
        org: str,
        role: str | None = None,
        wave: int | None = None,
        survey: str | None = None,
    ) -> Invitation:
        """The group link for (org, role, wave, survey), created the first time it is asked for.

        A link bound to a survey leads to that survey's open wave whatever else opens
        (one printed on a poster must not switch questionnaire); `survey=None` gives a
        link that is bound on its first use (`bind_invitation`).
        """
        async with self._base.transaction() as db:
            async with db.execute(
                "SELECT token FROM invitations WHERE org = ? AND role IS ? AND wave IS ? "
                "AND survey IS ?",
                (org, role, wave, survey),
            ) as cursor:
                row = await cursor.fetchone()
            if row:
                (token,) = row
                return Invitation(token, org, role, wave, survey)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            await db.execute(
                "INSERT INTO invitations (token, org, role, wave, created_at, survey) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token, org, role, wave, self._base.now(), survey),
            )
        return Invitation(token, org, role, wave, survey)

    async def bind_invitation(self, token: str, survey: str) -> None:
        """Bind a link not yet bound to a survey to `survey`, for good (first use wins)."""
        async with self._base.transaction() as db:
            await db.execute(
                "UPDATE invitations SET survey = ? WHERE token = ? AND survey IS NULL",
                (survey, token),
            )

    async def set_contact(self, chat_id: int, org: str | None, lang: str) -> None:
        """Opt a chat in for reminders and new-wave invitations."""
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO contacts (chat_id, org, lang) VALUES (?, ?, ?) ON CONFLICT "
                "(chat_id) DO UPDATE SET org = coalesce(excluded.org, org), lang = excluded.lang,"
                " blocked = 0",
                (chat_id, org, lang),
            )

    async def remove_contact(self, chat_id: int) -> None:
        async with self._base.transaction() as db:
            await db.execute("DELETE FROM contacts WHERE chat_id = ?", (chat_id,))

    async def mark_blocked(self, chat_id: int) -> None:
        async with self._base.transaction() as db:
            await db.execute("UPDATE contacts SET blocked = 1 WHERE chat_id = ?", (chat_id,))

    async def contacts(self, org: str | None = None) -> list[Contact]:
        rows = await self._base.read(
            "SELECT chat_id, org, lang, blocked FROM contacts"
            + (" WHERE org = ?" if org else "")
            + " ORDER BY chat_id",
            (org,) if org else (),
        )
        return [Contact(chat_id, org, lang, bool(blocked)) for chat_id, org, lang, blocked in rows]

    async def mark_notified(self, wave_id: int, kind: str) -> bool:
        """Record that a notification round ran; False if it had already (restart-safe)."""
        async with self._base.transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO notifications_sent (wave, kind) VALUES (?, ?)",
                (wave_id, kind),
            )
            return cursor.rowcount == 1

    async def begin_round(self, wave_id: int, kind: str) -> bool:
        """Start a notification round, or find it unfinished: True while it has work left."""
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO notifications_sent (wave, kind, done) VALUES (?, ?, 0)",
                (wave_id, kind),
            )
        rows = await self._base.read(
            "SELECT done FROM notifications_sent WHERE wave = ? AND kind = ?", (wave_id, kind)
        )
        return not rows[0][0]

    async def round_sent(self, wave_id: int, kind: str) -> set[int]:
        """The chats an unfinished round has already reached."""
        rows = await self._base.read(
            "SELECT chat_id FROM notices_sent WHERE wave = ? AND kind = ?", (wave_id, kind)
        )
        return {chat_id for (chat_id,) in rows}

    async def mark_sent(self, wave_id: int, kind: str, chat_id: int) -> None:
        """One message of a round went out (durable before the next is counted on)."""
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO notices_sent VALUES (?, ?, ?)", (wave_id, kind, chat_id)
            )

    async def finish_round(self, wave_id: int, kind: str) -> None:
        """Every contact of the round was handled: done, and its marks go."""
        async with self._base.transaction() as db:
            await db.execute(
                "UPDATE notifications_sent SET done = 1 WHERE wave = ? AND kind = ?",
                (wave_id, kind),
            )
            await db.execute(
                "DELETE FROM notices_sent WHERE wave = ? AND kind = ?", (wave_id, kind)
            )

    async def audit(self, actor: str, action: str, detail: str = "") -> None:
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                (self._base.now(), actor, action, detail),
            )

    async def audit_entries(self, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
        rows = await self._base.read(
            "SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(*r) for r in rows]
