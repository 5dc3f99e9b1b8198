"""A respondent's session: found by their HMAC key, cached, moved on by the writer.

`sessions` are keyed by HMAC(wave secret, Telegram user id) and point at their response
only while it is in progress. What the chat needs to resume (language, last typed
message) is sealed under a key that needs the Telegram id (`keys.seal`), so nothing
beside a session joins with `contacts`.

The cache is write-through: every write goes through this store, so a cached session
is kept exactly in step with the database and reads skip a thread round trip.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from .. import keys
from ..errors import StaleStepError
from .base import Database
from .batch import Item, Op, Start
from .rows import AnswerRow, CodeToken, ItemRow, Session
from .unlinking import Unlinker
from .waves import Waves
from .writer import Writer

SESSION_CACHE = 4096  # sessions kept in memory (LRU); the database stays the truth


def seal_state(seal: bytes, lang: str | None, last_message: int | None) -> bytes | None:
    """The sealed blob of what the chat needs to resume; None without a seal key."""
    if not seal:
        return None
    payload = f"{lang or ''}\x1f{'' if last_message is None else last_message}"
    return keys.seal(seal, payload.encode("ascii"))


def unseal_state(seal: bytes, blob: bytes | None) -> tuple[str | None, int | None]:
    """(language, last typed message) from `seal_state`'s blob; Nones if unreadable."""
    payload = keys.unseal(seal, blob) if seal else None
    if payload is None:
        return None, None
    lang, _, last = payload.decode("ascii").partition("\x1f")
    return lang or None, int(last) if last else None


class SessionCache:
    """Sessions by key (LRU), and which session holds each in-progress response."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()
        self._by_response: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> Session | None:
        session = self._sessions.get(key)
        if session is not None:
            self._sessions.move_to_end(key)
        return session

    def remember(self, session: Session) -> Session:
        self.forget(session.key)
        self._sessions[session.key] = session
        if session.response is not None:
            self._by_response[session.response] = session.key
        while len(self._sessions) > SESSION_CACHE:
            _, old = self._sessions.popitem(last=False)
            if old.response is not None:
                self._by_response.pop(old.response, None)
        return session

    def forget(self, key: bytes) -> None:
        old = self._sessions.pop(key, None)
        if old is not None and old.response is not None:
            self._by_response.pop(old.response, None)

    def forget_wave(self, wave_id: int) -> None:
        for key in [k for k, v in self._sessions.items() if v.wave == wave_id]:
            self.forget(key)

    def set_language(self, key: bytes, lang: str) -> None:
        cached = self._sessions.get(key)
        if cached is not None and not cached.completed:
            self._sessions[key] = dataclasses.replace(cached, lang=lang)

    def committed(self, op: Op) -> None:
        """Bring the cached session in step with what `op` just committed."""
        key = op.session_key or self._by_response.get(op.response)
        session = self._sessions.get(key) if key else None
        if session is None or key is None:
            return
        if op.kind == "complete":
            self.remember(Session(key, session.wave, "completed"))
            return
        touched = set(op.put) | set(op.drop)
        rows = [row for row in session.rows if row.item not in touched]
        rows.extend(
            AnswerRow(question, target, *row)
            for (question, target), item in op.put.items()
            for row in item
        )
        last = op.message_id if op.message_id is not None else session.last_message
        self._sessions[key] = dataclasses.replace(
            session, cursor=op.new_cursor, rows=tuple(rows), last_message=last
        )


class Sessions:
    """Starting, resuming, answering, completing and erasing a respondent's response."""

    def __init__(
        self,
        base: Database,
        waves: Waves,
        cache: SessionCache,
        writer: Writer,
        unlinker: Unlinker,
    ) -> None:
        self._base = base
        self._waves = waves
        self.cache = cache
        self._writer = writer
        self._unlinker = unlinker

    async def session_key(self, wave_id: int, user_id: int) -> bytes:
        return keys.session_key(await self._waves.secret(wave_id), user_id)

    async def find_session(self, wave_id: int, user_id: int) -> Session | None:
        """The respondent's session in an open wave, with their answers; None if not started."""
        secret = await self._waves.secret(wave_id)
        key = keys.session_key(secret, user_id)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        session = await self._load(key, wave_id, keys.seal_key(secret, user_id))
        return self.cache.remember(session) if session is not None else None

    async def _load(self, key: bytes, wave_id: int, seal: bytes) -> Session | None:
        rows = await self._base.read(
            "SELECT s.completed, s.response, s.sealed, r.org, r.role, r.cursor FROM sessions s "
            "LEFT JOIN responses r ON r.id = s.response WHERE s.key = ?",
            (key,),
        )
        if not rows:
            return None
        [(completed, response, sealed, org, role, cursor)] = rows
        if completed:
            return Session(key, wave_id, "completed")
        answers = await self._base.read(
            "SELECT question, target, part, value, text FROM answers WHERE response = ?",
            (response,),
        )
        lang, last_message = unseal_state(seal, sealed)
        return Session(
            key=key,
            wave=wave_id,
            status="in_progress",
            response=response,
            org=org,
            role=role,
            lang=lang,
            cursor=cursor,
            rows=tuple(map(AnswerRow._make, answers)),
            last_message=last_message,
            seal=seal,
        )

    async def begin(
        self,
        wave_id: int,
        user_id: int,
        org: str,
        role: str | None,
        lang: str,
        code: CodeToken | None = None,
    ) -> Session:
        """Start a response, or return the existing session (resume / already completed).

        `lang` is kept only sealed under the person's own key (see `keys.seal`). A
        restricted role's response starts only with a usable `code`, which it then holds
        (`CodeRefusedError` otherwise); an existing session resumes without one.
        """
        secret = await self._waves.secret(wave_id)
        key, seal = keys.session_key(secret, user_id), keys.seal_key(secret, user_id)
        existing = await self._load(key, wave_id, seal)
        if existing is not None:
            return existing
        op = Op(
            "begin",
            secrets.token_bytes(16),
            0,
            session_key=key,
            start=Start(wave_id, org, role, code.digest if code is not None else None),
            sealed=seal_state(seal, lang, None),
        )
        await self._writer.submit(op)
        if op.created:
            return self.cache.remember(
                Session(key, wave_id, "in_progress", op.response, org, role, lang, seal=seal)
            )
        session = await self._load(key, wave_id, seal)  # started concurrently elsewhere
        assert session is not None
        return session

    async def set_language(self, session: Session, lang: str) -> None:
        """Remember the language the person chose for this session (sealed)."""
        current = self.cache.get(session.key) or session
        sealed = seal_state(session.seal, lang, current.last_message)
        async with self._base.transaction() as db:
            await db.execute(
                "UPDATE sessions SET sealed = ? WHERE key = ? AND completed = 0",
                (sealed, session.key),
            )
        self.cache.set_language(session.key, lang)

    async def save_step(
        self,
        session: Session,
        expected_cursor: int,
        new_cursor: int,
        put: Mapping[Item, Sequence[ItemRow]] | None = None,
        drop: Sequence[Item] = (),
        message_id: int | None = None,
    ) -> None:
        """Durably record one step; raise `StaleStepError` if the cursor moved meanwhile.

        `put` replaces the rows of each (question, target) item; `drop` deletes items.
        A typed answer's `message_id` is remembered (sealed) so a redelivery is refused.
        """
        if session.response is None:
            raise StaleStepError("the response is complete or gone")
        await self._writer.submit(
            Op(
                "step",
                session.response,
                expected_cursor,
                new_cursor,
                put or {},
                drop,
                session_key=session.key,
                message_id=message_id,
                last_message=session.last_message,
                sealed=(
                    seal_state(session.seal, session.lang, message_id)
                    if message_id is not None
                    else None
                ),
            )
        )

    async def complete(
        self,
        session: Session,
        expected_cursor: int,
        comment_items: Sequence[Item] = (),
        drop: Sequence[Item] = (),
    ) -> None:
        """Finish a response: unlink it from its session and its free text from it."""
        if session.response is None:
            raise StaleStepError("the response is already complete")
        await self._writer.submit(
            Op(
                "complete",
                session.response,
                expected_cursor,
                drop=drop,
                session_key=session.key,
                comment_items=comment_items,
            )
        )

    async def delete_in_progress(self, session: Session) -> bool:
        """Erase an unfinished response and its session (/delete); False if none."""
        if session.response is None:
            return False
        async with self._base.transaction() as db:
            await db.execute("DELETE FROM answers WHERE response = ?", (session.response,))
            cursor = await db.execute(
                "DELETE FROM responses WHERE id = ? AND complete = 0", (session.response,)
            )
            await db.execute("DELETE FROM sessions WHERE key = ? AND completed = 0", (session.key,))
            deleted = cursor.rowcount == 1
        self.cache.forget(session.key)
        await self._unlinker.wait()
        return deleted

    async def has_completed(self, wave_id: int, user_id: int) -> bool:
        session = await self.find_session(wave_id, user_id)
        return session is not None and session.completed
