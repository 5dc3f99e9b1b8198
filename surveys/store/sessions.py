"""A respondent's session: a draft found by a secret only they and the running bot hold.

Whoever runs the server holds the master key and can compute anything the database
derives from a Telegram id. So nothing of an unfinished response is found or read that
way: its draft is keyed and encrypted under a *session secret* made at the start
(`keys.new_session_secret`) that lives in two places only, the person's chat (every
button carries it, `bot.callbacks`) and this process's memory (`Memory`). After a
restart, the person's next button press brings it back (`find_session(..., secret=)`).

Whether someone has finished is kept the same way until their completion is released
together with k − 1 others (`release`): until then only `Memory` knows it; from then on
a completion marker in `finished` does, computable from the Telegram id as before.

The session cache is write-through: every write goes through this store, so a cached
session is kept exactly in step with the database and reads skip a thread round trip.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .. import keys
from ..errors import StaleStepError, WaveClosedError
from .base import Database
from .batch import DraftState, Item, Op, Releases, Start, lock_item, unlock_item
from .release import Finisher, Group
from .rows import AnswerRow, CodeToken, ItemRow, Session
from .unlinking import Unlinker
from .waves import Waves
from .writer import Writer

SESSION_CACHE = 4096  # sessions kept in memory (LRU); the database stays the truth


def unseal_state(seal: bytes, blob: bytes | None) -> tuple[str | None, int | None]:
    """(language, last typed message) of a session of an earlier trustscan (sealed under
    a key from the Telegram id); Nones if unreadable."""
    payload = keys.unseal(seal, blob) if seal else None
    if payload is None:
        return None, None
    lang, _, last = payload.decode("ascii").partition("\x1f")
    return lang or None, int(last) if last else None


@dataclass
class Memory:
    """What only this process knows, and loses on a restart (see docs/anonymity.md).

    `secrets`: whose draft is whose, (wave, Telegram id) → session secret.
    `waiting`: the completions of each (wave, organisation, role) not yet released.
    `held_codes`: the code each draft holds (draft key → (wave, code hash)).
    `held_contacts`: opt-ins of people whose completion still waits (written with it).
    `consents`: the secret of the welcome each person is looking at (the draft's to be).
    `recalled`: secrets a press brought back after a restart (looked up once each).
    """

    secrets: dict[tuple[int, int], bytes] = field(default_factory=dict)
    waiting: dict[Group, list[Finisher]] = field(default_factory=dict)
    held_codes: dict[bytes, tuple[int, bytes]] = field(default_factory=dict)
    held_contacts: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    consents: dict[tuple[int, int], bytes] = field(default_factory=dict)
    recalled: set[bytes] = field(default_factory=set)

    def waiting_user(self, user_id: int, wave_id: int | None = None) -> bool:
        return any(
            f.user == user_id and (wave_id is None or f.wave == wave_id)
            for finishers in self.waiting.values()
            for f in finishers
        )

    def codes_in_use(self) -> set[bytes]:
        """Codes held by drafts, or by completions waiting to mark them used."""
        waiting = {f.code for group in self.waiting.values() for f in group if f.code}
        return {code for _, code in self.held_codes.values()} | waiting

    def forget_wave(self, wave_id: int) -> None:
        self.secrets = {k: v for k, v in self.secrets.items() if k[0] != wave_id}
        self.consents = {k: v for k, v in self.consents.items() if k[0] != wave_id}
        gone = [g for g in self.waiting if g[0] == wave_id]
        for group in gone:
            for finisher in self.waiting.pop(group):
                if not self.waiting_user(finisher.user):
                    self.held_contacts.pop(finisher.user, None)  # its group never reached k
        self.held_codes = {k: v for k, v in self.held_codes.items() if v[0] != wave_id}


class SessionCache:
    """Sessions by draft key (LRU)."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()

    def get(self, key: bytes) -> Session | None:
        session = self._sessions.get(key)
        if session is not None:
            self._sessions.move_to_end(key)
        return session

    def remember(self, session: Session) -> Session:
        self._sessions[session.key] = session
        self._sessions.move_to_end(session.key)
        while len(self._sessions) > SESSION_CACHE:
            self._sessions.popitem(last=False)
        return session

    def forget(self, key: bytes) -> None:
        self._sessions.pop(key, None)

    def forget_wave(self, wave_id: int) -> None:
        for key in [k for k, v in self._sessions.items() if v.wave == wave_id]:
            self.forget(key)

    def set_language(self, key: bytes, lang: str) -> None:
        cached = self._sessions.get(key)
        if cached is not None:
            self._sessions[key] = dataclasses.replace(cached, lang=lang)

    def committed(self, op: Op) -> None:
        """Bring the cached session in step with what `op` just committed."""
        session = self._sessions.get(op.response)
        if session is None:
            return
        if op.kind == "complete":
            self.forget(op.response)
            return
        touched = set(op.put) | set(op.drop)
        rows = [row for row in session.rows if row.item not in touched]
        rows.extend(
            AnswerRow(question, target, *row)
            for (question, target), item in op.put.items()
            for row in item
        )
        last = op.message_id if op.message_id is not None else session.last_message
        self._sessions[op.response] = dataclasses.replace(
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
        memory: Memory,
    ) -> None:
        self._base = base
        self._waves = waves
        self.cache = cache
        self._writer = writer
        self._unlinker = unlinker
        self.memory = memory

    def releases(self, k: int) -> Releases:
        """What a write batch needs to know to release groups that reach k."""
        return Releases(
            k,
            {group: tuple(finishers) for group, finishers in self.memory.waiting.items()},
            frozenset(self.memory.codes_in_use()),
        )

    def after_batch(self, ops: Sequence[Op], released: Sequence[Group]) -> list[Finisher]:
        """Bring memory in step with a committed batch; the finishers just released."""
        gone = set(released)
        out: list[Finisher] = []
        for op in ops:
            if op.kind == "begin" and op.created and op.start and op.start.code is not None:
                # held before anyone hears back: the next batch must see it taken
                self.memory.held_codes[op.response] = (op.start.wave, op.start.code)
            if op.kind == "complete" and op.finisher is not None and op.group is not None:
                self.memory.secrets.pop((op.finisher.wave, op.finisher.user), None)
                self.memory.held_codes.pop(op.response, None)
                if op.group in gone:
                    out.append(op.finisher)
                else:
                    self.memory.waiting.setdefault(op.group, []).append(op.finisher)
        for group in gone:
            out.extend(self.memory.waiting.pop(group, []))
        return out

    async def find_session(
        self, wave_id: int, user_id: int, secret: bytes | None = None
    ) -> Session | None:
        """The respondent's session in an open wave, with their answers; None if not started.

        Found by the secret this process remembers for them, else by the `secret` their
        button press brought (after a restart), else it is "completed" if they are
        known to have finished. A draft of an earlier trustscan, found by their id, is
        moved under a fresh secret on the way (`_adopt`).
        """
        wave_secret = await self._waves.secret(wave_id)
        remembered = self.memory.secrets.get((wave_id, user_id))
        if remembered is not None:
            session = await self._draft(wave_id, user_id, remembered)
            if session is not None:
                return session
            self.memory.secrets.pop((wave_id, user_id), None)
        if await self._finished(wave_id, user_id, wave_secret):
            return Session(b"", wave_id, "completed", user=user_id)
        if secret is not None and secret != remembered:
            return await self._draft_held(wave_id, user_id, secret)
        return await self._adopt(wave_id, user_id, wave_secret)

    async def recall(self, user_id: int, secret: bytes) -> None:
        """A press brought `secret` back: if its draft is theirs to go on with, remember it.

        Not if this process already holds another draft of theirs in that wave (the
        newest wins), nor if they have finished there meanwhile.
        """
        rows = await self._base.read(
            "SELECT wave FROM drafts WHERE key = ?", (keys.draft_key(secret),)
        )
        if not rows:
            return
        wave_id = rows[0][0]
        if (wave_id, user_id) in self.memory.secrets:
            return
        try:
            wave_secret = await self._waves.secret(wave_id)
        except WaveClosedError:
            return
        if not await self._finished(wave_id, user_id, wave_secret):
            await self._draft_held(wave_id, user_id, secret)

    def _hold(self, session: Session, user_id: int) -> None:
        self.memory.secrets[(session.wave, user_id)] = session.secret
        if session.code is not None:
            self.memory.held_codes[session.key] = (session.wave, session.code)

    async def _draft(self, wave_id: int, user_id: int, secret: bytes) -> Session | None:
        key = keys.draft_key(secret)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        cipher_key = keys.draft_cipher(secret)
        rows = await self._base.read("SELECT wave, org, sealed FROM drafts WHERE key = ?", (key,))
        if not rows or rows[0][0] != wave_id:
            return None
        [(_, org, sealed)] = rows
        state = DraftState.unlock(cipher_key, sealed)
        if state is None:
            return None
        items = await self._base.read("SELECT sealed FROM draft_items WHERE draft = ?", (key,))
        answers = [row for (blob,) in items for row in unlock_item(cipher_key, blob)]
        return self.cache.remember(
            Session(
                key=key,
                wave=wave_id,
                status="in_progress",
                response=key,
                org=org,
                role=state.role,
                lang=state.lang,
                cursor=state.cursor,
                rows=tuple(answers),
                last_message=state.last_message,
                seal=cipher_key,
                secret=secret,
                user=user_id,
                code=state.code,
            )
        )

    async def _finished(self, wave_id: int, user_id: int, wave_secret: bytes) -> bool:
        if self.memory.waiting_user(user_id, wave_id):
            return True
        marker = keys.completion_marker(wave_secret, user_id)
        rows = await self._base.read(
            "SELECT 1 FROM finished WHERE wave = ? AND marker = ?", (wave_id, marker)
        )
        return bool(rows)

    async def _adopt(self, wave_id: int, user_id: int, wave_secret: bytes) -> Session | None:
        """Move an unfinished response of an earlier trustscan (keyed by the Telegram id,
        in the clear) into a draft under a fresh secret, and erase the old rows."""
        old = keys.session_key(wave_secret, user_id)
        rows = await self._base.read(
            "SELECT s.response, s.sealed, r.org, r.role, r.cursor, r.code FROM sessions s "
            "JOIN responses r ON r.id = s.response WHERE s.key = ? AND r.complete = 0",
            (old,),
        )
        if not rows:
            return None
        [(response, sealed, org, role, cursor, code)] = rows
        answers = [
            AnswerRow(*row)
            for row in await self._base.read(
                "SELECT question, target, part, value, text FROM answers WHERE response = ?",
                (response,),
            )
        ]
        lang, last = unseal_state(keys.seal_key(wave_secret, user_id), sealed)
        secret = keys.new_session_secret()
        key, cipher_key = keys.draft_key(secret), keys.draft_cipher(secret)
        by_item: dict[Item, list[ItemRow]] = {}
        for row in answers:
            by_item.setdefault(row.item, []).append(row.row)
        async with self._base.transaction() as db:
            await db.execute(
                "INSERT INTO drafts VALUES (?, ?, ?, ?)",
                (key, wave_id, org, DraftState(role, cursor, lang, last, code).lock(cipher_key)),
            )
            await db.executemany(
                "INSERT INTO draft_items VALUES (?, ?, ?)",
                [
                    (key, keys.draft_item(cipher_key, q, t), lock_item(cipher_key, q, t, rows))
                    for (q, t), rows in by_item.items()
                ],
            )
            await db.execute("DELETE FROM answers WHERE response = ?", (response,))
            await db.execute("DELETE FROM responses WHERE id = ?", (response,))
            await db.execute("DELETE FROM sessions WHERE key = ?", (old,))
        await self._unlinker.wait()
        return await self._draft_held(wave_id, user_id, secret)

    async def _draft_held(self, wave_id: int, user_id: int, secret: bytes) -> Session | None:
        session = await self._draft(wave_id, user_id, secret)
        if session is not None:
            self._hold(session, user_id)
        return session

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

        `lang` is kept only inside the draft, encrypted under the session secret. A
        restricted role's response starts only with a usable `code`, which its draft then
        holds (`CodeRefusedError` otherwise); an existing session resumes without one.
        """
        existing = await self.find_session(wave_id, user_id)
        if existing is not None:
            return existing
        # the welcome's secret, so the buttons already in the chat lead to this draft
        secret = self.memory.consents.get((wave_id, user_id)) or keys.new_session_secret()
        key, cipher_key = keys.draft_key(secret), keys.draft_cipher(secret)
        digest = code.digest if code is not None else None
        op = Op(
            "begin",
            key,
            0,
            cipher=cipher_key,
            start=Start(wave_id, org, role, digest),
            lang=lang,
        )
        await self._writer.submit(op)
        session = Session(
            key,
            wave_id,
            "in_progress",
            key,
            org,
            role,
            lang,
            seal=cipher_key,
            secret=secret,
            user=user_id,
            code=digest,
        )
        self._hold(session, user_id)
        return self.cache.remember(session)

    async def set_language(self, session: Session, lang: str) -> None:
        """Remember the language the person chose for this session (inside the draft)."""
        if session.completed:
            return
        async with self._base.transaction() as db:
            rows = list(
                await db.execute_fetchall("SELECT sealed FROM drafts WHERE key = ?", (session.key,))
            )
            state = DraftState.unlock(session.seal, rows[0][0]) if rows else None
            if state is not None:
                state = dataclasses.replace(state, lang=lang)
                await db.execute(
                    "UPDATE drafts SET sealed = ? WHERE key = ?",
                    (state.lock(session.seal), session.key),
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
        A typed answer's `message_id` is remembered (in the draft) so a redelivery is
        refused.
        """
        if session.response is None or session.completed:
            raise StaleStepError("the response is complete or gone")
        await self._writer.submit(
            Op(
                "step",
                session.response,
                expected_cursor,
                new_cursor,
                put or {},
                drop,
                cipher=session.seal,
                message_id=message_id,
            )
        )

    async def complete(
        self,
        session: Session,
        expected_cursor: int,
        comment_items: Sequence[Item] = (),
        drop: Sequence[Item] = (),
    ) -> None:
        """Finish a response: it waits, unlinked, to be released with k − 1 others."""
        if session.response is None or session.completed:
            raise StaleStepError("the response is already complete")
        if session.user is None:
            raise StaleStepError("a session without its person cannot complete")
        try:
            wave_secret = await self._waves.secret(session.wave)
        except WaveClosedError as exc:
            raise StaleStepError("the wave closed") from exc
        finisher = Finisher(
            session.wave,
            keys.completion_marker(wave_secret, session.user),
            session.code,
            session.user,
        )
        await self._writer.submit(
            Op(
                "complete",
                session.response,
                expected_cursor,
                drop=drop,
                cipher=session.seal,
                comment_items=comment_items,
                finisher=finisher,
            )
        )

    async def delete_in_progress(self, session: Session) -> bool:
        """Erase an unfinished response (/delete); False if none."""
        if session.response is None or session.completed:
            return False
        async with self._base.transaction() as db:
            await db.execute("DELETE FROM draft_items WHERE draft = ?", (session.key,))
            cursor = await db.execute("DELETE FROM drafts WHERE key = ?", (session.key,))
            deleted = cursor.rowcount == 1
        self.cache.forget(session.key)
        self.memory.held_codes.pop(session.key, None)
        if session.user is not None:
            self.memory.secrets.pop((session.wave, session.user), None)
        await self._unlinker.wait()
        return deleted

    async def has_completed(self, wave_id: int, user_id: int) -> bool:
        return await self._finished(wave_id, user_id, await self._waves.secret(wave_id))
