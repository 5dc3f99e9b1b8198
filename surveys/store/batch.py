"""What one group-commit batch does in SQL (runs on the writer thread, hot connection).

Starts, answer steps and completions of many respondents are checked and applied in
one transaction, so they share one fsync.

An unfinished response is a *draft*: a row keyed by `keys.draft_key(secret)` whose
state (role, position, language, last typed message, code) and answers are encrypted
under `keys.draft_cipher(secret)`. The secret travels with each op from the person's
chat and the bot's memory; the database never holds it, so the master key opens no
draft. Only the draft's wave and organisation are in the clear (for the counts a
facilitator sees).

A completion decrypts the draft, writes the finished response to `pending` (see
`release`) and erases the draft; when its (wave, organisation, role) then has k
responses waiting, they are released in the same transaction.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import cipher, keys
from ..errors import CodeRefusedError, StaleStepError, StoreError, WaveClosedError
from . import codes, release
from .base import select_in
from .release import Content, Finisher, Group
from .rows import AnswerRow, ItemRow

Item = tuple[str, str]  # question, target


class Start(NamedTuple):
    """Where a new response belongs, and the hash of the code it starts with (if any)."""

    wave: int
    org: str
    role: str | None
    code: bytes | None = None


@dataclass(frozen=True, slots=True)
class DraftState:
    """What a draft keeps beside its answers, encrypted with them."""

    role: str | None
    cursor: int
    lang: str | None
    last_message: int | None
    code: bytes | None

    def lock(self, key: bytes) -> bytes:
        payload = json.dumps(
            [self.role, self.cursor, self.lang, self.last_message, (self.code or b"").hex()],
            separators=(",", ":"),
        )
        return keys.lock(key, payload.encode("utf-8"))

    @classmethod
    def unlock(cls, key: bytes, blob: bytes) -> DraftState | None:
        payload = keys.unlock(key, blob)
        if payload is None:
            return None
        role, cursor, lang, last, code = json.loads(payload)
        return cls(role, cursor, lang, last, bytes.fromhex(code) or None)


def lock_item(key: bytes, question: str, target: str, rows: Sequence[ItemRow]) -> bytes:
    payload = json.dumps([question, target, [list(row) for row in rows]], separators=(",", ":"))
    return keys.lock(key, payload.encode("utf-8"))


def unlock_item(key: bytes, blob: bytes) -> list[AnswerRow]:
    payload = keys.unlock(key, blob)
    if payload is None:
        return []
    question, target, rows = json.loads(payload)
    return [AnswerRow(question, target, part, value, text) for part, value, text in rows]


@dataclass(slots=True)
class Op:
    """A queued write (a start, an answer step or a completion), resolved after commit."""

    kind: str  # "begin" | "step" | "complete"
    response: bytes  # the draft's key
    expected_cursor: int
    new_cursor: int = 0
    put: Mapping[Item, Sequence[ItemRow]] = field(default_factory=dict)
    drop: Sequence[Item] = ()
    cipher: bytes = field(default=b"", repr=False)  # the draft's AES key: memory only
    comment_items: Sequence[Item] = ()
    start: Start | None = None
    lang: str | None = None  # a start's language
    message_id: int | None = None  # a typed answer's chat message: a redelivery is refused
    finisher: Finisher | None = None  # a completion's author, for its release
    created: bool = False
    group: Group | None = None  # a completion's: where it waits for its release
    future: asyncio.Future[None] | None = None


@dataclass(frozen=True)
class Releases:
    """What the event loop tells a batch about releases: k, and who waits where."""

    k: int
    waiting: Mapping[Group, Sequence[Finisher]]
    held_codes: frozenset[bytes]  # codes held by drafts or waiting completions (memory)

    @property
    def waiting_codes(self) -> set[bytes]:
        """Codes of completions waiting for their release: used, though not yet marked."""
        return {f.code for group in self.waiting.values() for f in group if f.code}


@dataclass(slots=True)
class Outcome:
    failures: dict[int, StoreError] = field(default_factory=dict)
    released: list[Group] = field(default_factory=list)


@dataclass(slots=True)
class _Draft:
    wave: int
    org: str
    state: DraftState


@dataclass(slots=True)
class _Writes:
    """The net effect of a batch's accepted steps, per draft and item."""

    items: dict[tuple[bytes, str, str], Sequence[ItemRow] | None] = field(default_factory=dict)
    states: dict[bytes, DraftState] = field(default_factory=dict)
    ciphers: dict[bytes, bytes] = field(default_factory=dict)
    completions: list[Op] = field(default_factory=list)
    used_codes: set[bytes] = field(default_factory=set)  # used before or in this batch


def apply(db: cipher.Connection, batch: list[Op], day: str, releases: Releases) -> Outcome:
    """Apply queued ops in one transaction; the refused ones are in `failures` by `id(op)`.

    `day` is the partnership's local date (the store's clock), the day the daily counts
    of these starts and completions fall on. Groups that reached k are released in the
    same transaction (`Outcome.released`).
    """
    outcome = Outcome()
    begins = [op for op in batch if op.kind == "begin"]
    steps = [op for op in batch if op.kind != "begin"]
    db.execute("BEGIN IMMEDIATE")
    try:
        if begins:
            outcome.failures.update(_begin_all(db, begins, day, releases.held_codes))
        drafts = _load(db, steps)
        writes = _Writes(states={key: d.state for key, d in drafts.items()})
        held = [d.state.code for d in drafts.values() if d.state.code is not None]
        if held:  # a completion whose code is used already is refused (`_accept`)
            writes.used_codes = codes.used(db, held) | releases.waiting_codes
        for op in steps:
            error = _accept(op, drafts.get(op.response), writes)
            if error is not None:
                outcome.failures[id(op)] = error
        _write(db, writes, drafts)
        if writes.completions:
            touched = _complete_all(db, writes.completions, drafts, day)
            for group in sorted(touched, key=repr):
                if release.waiting(db, group) >= releases.k:
                    mine = [op.finisher for op in writes.completions if op.group == group]
                    finishers = [*releases.waiting.get(group, ()), *(f for f in mine if f)]
                    release.release(db, group, finishers)
                    outcome.released.append(group)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return outcome


def _load(db: cipher.Connection, ops: list[Op]) -> dict[bytes, _Draft]:
    """The drafts these ops touch, decrypted with the key each op brought."""
    ciphers = {op.response: op.cipher for op in ops}
    drafts: dict[bytes, _Draft] = {}
    for key, wave, org, sealed in select_in(
        db, "SELECT key, wave, org, sealed FROM drafts WHERE key IN", list(ciphers)
    ):
        state = DraftState.unlock(ciphers[key], sealed)
        if state is not None:
            drafts[key] = _Draft(wave, org, state)
    return drafts


def _accept(op: Op, draft: _Draft | None, writes: _Writes) -> StoreError | None:
    """Check `op` against its draft as the batch left it so far; record its writes."""
    state = writes.states.get(op.response)
    if draft is None or state is None:
        return StaleStepError("the response is complete or gone")
    if state.cursor != op.expected_cursor:
        return StaleStepError(f"position {op.expected_cursor} is outdated (now {state.cursor})")
    last = state.last_message
    if op.message_id is not None and last is not None and op.message_id <= last:
        return StaleStepError("this message was already taken")
    if op.kind == "complete" and state.code is not None:
        if state.code in writes.used_codes:  # a code completes one response, ever
            return CodeRefusedError(codes.USED)
        writes.used_codes.add(state.code)
    writes.ciphers[op.response] = op.cipher
    for question, target in op.drop:
        writes.items[(op.response, question, target)] = None
    if op.kind == "step":
        for (question, target), rows in op.put.items():
            writes.items[(op.response, question, target)] = rows
        message = op.message_id if op.message_id is not None else state.last_message
        writes.states[op.response] = DraftState(
            state.role, op.new_cursor, state.lang, message, state.code
        )
    else:
        writes.completions.append(op)
        writes.states.pop(op.response)  # nothing more for it in this batch
        op.group = (draft.wave, draft.org, state.role)
    return None


def _write(db: cipher.Connection, writes: _Writes, drafts: Mapping[bytes, _Draft]) -> None:
    dropped = [
        (draft, keys.draft_item(writes.ciphers[draft], question, target))
        for (draft, question, target), rows in writes.items.items()
        if rows is None
    ]
    if dropped:
        db.executemany("DELETE FROM draft_items WHERE draft = ? AND item = ?", dropped)
    put = [
        (
            draft,
            keys.draft_item(writes.ciphers[draft], question, target),
            lock_item(writes.ciphers[draft], question, target, rows),
        )
        for (draft, question, target), rows in writes.items.items()
        if rows is not None
    ]
    if put:
        db.executemany("INSERT OR REPLACE INTO draft_items VALUES (?, ?, ?)", put)
    changed = [
        (state.lock(writes.ciphers[key]), key)
        for key, state in writes.states.items()
        if key in writes.ciphers and state != drafts[key].state
    ]
    if changed:
        db.executemany("UPDATE drafts SET sealed = ? WHERE key = ?", changed)


def _begin_all(
    db: cipher.Connection, ops: list[Op], day: str, held: frozenset[bytes]
) -> dict[int, StoreError]:
    """Create drafts for new respondents of open waves.

    A restricted role's response starts only with a usable code (`codes.Claimer`); the
    code's hash goes into the draft (encrypted), and this process holds it until the
    completion uses it up.
    """
    starts = [(op, op.start) for op in ops if op.start is not None]
    waves = list({start.wave for _, start in starts})
    open_waves = {
        wave
        for (wave,) in select_in(db, "SELECT id FROM waves WHERE status = 'open' AND id IN", waves)
    }
    failures: dict[int, StoreError] = {}
    new: list[tuple[Op, Start]] = []
    claimer = codes.Claimer(db, [start.code for _, start in starts if start.code is not None], held)
    for op, start in starts:
        if start.wave not in open_waves:
            failures[id(op)] = WaveClosedError(f"wave {start.wave} is not open")
        elif (refused := claimer.claim(start.org, start.role, start.code)) is not None:
            failures[id(op)] = refused
        else:
            op.created = True
            new.append((op, start))
    if new:
        db.executemany(
            "INSERT INTO drafts (key, wave, org, sealed) VALUES (?, ?, ?, ?)",
            [
                (
                    op.response,
                    start.wave,
                    start.org,
                    DraftState(start.role, 0, op.lang, None, start.code).lock(op.cipher),
                )
                for op, start in new
            ],
        )
        db.executemany(
            "INSERT INTO daily_counts (wave, org, day, started) VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO UPDATE SET started = started + 1",
            [(start.wave, start.org, day) for _, start in new],
        )
    return failures


def _complete_all(
    db: cipher.Connection, ops: list[Op], drafts: Mapping[bytes, _Draft], day: str
) -> set[Group]:
    """Turn finished drafts into pending responses and erase the drafts.

    The pending row has a fresh random id and nothing of the draft: no key, no state.
    Returns the groups that got one.
    """
    touched: set[Group] = set()
    pending = []
    for op in ops:
        assert op.group is not None
        rows = [
            row
            for (sealed,) in db.execute(
                "SELECT sealed FROM draft_items WHERE draft = ?", (op.response,)
            ).fetchall()
            for row in unlock_item(op.cipher, sealed)
        ]
        free = set(op.comment_items)
        content = Content(
            tuple(row for row in rows if row.item not in free),
            tuple(
                (row.question, row.target, row.text)
                for row in rows
                if row.item in free and row.text is not None
            ),
        )
        wave, org, role = op.group
        pending.append((secrets.token_bytes(16), wave, org, role, content.dumps()))
        touched.add(op.group)
    db.executemany("INSERT INTO pending VALUES (?, ?, ?, ?, ?)", pending)
    erased = [(op.response,) for op in ops]
    db.executemany("DELETE FROM draft_items WHERE draft = ?", erased)
    db.executemany("DELETE FROM drafts WHERE key = ?", erased)
    db.executemany(
        "INSERT INTO daily_counts (wave, org, day, completed) VALUES (?, ?, ?, 1) "
        "ON CONFLICT DO UPDATE SET completed = completed + 1",
        [(drafts[op.response].wave, drafts[op.response].org, day) for op in ops],
    )
    return touched
