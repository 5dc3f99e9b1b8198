"""What one group-commit batch does in SQL (runs on the writer thread, hot connection).

Starts, answer steps and completions of many respondents are checked and applied in
one transaction, so they share one fsync. A completion unlinks its response: a fresh
response id (no earlier copy can follow its session link to the final answers) and its
free text moved to `comments`, which `shuffle_comments` then rewrites in random order.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .. import cipher
from ..errors import CodeRefusedError, StaleStepError, StoreError, WaveClosedError
from . import codes
from .base import select_in
from .rows import ItemRow

Item = tuple[str, str]  # question, target
Group = tuple[int, str]  # wave, org


class Start(NamedTuple):
    """Where a new response belongs, and the hash of the code it starts with (if any)."""

    wave: int
    org: str
    role: str | None
    code: bytes | None = None


@dataclass(slots=True)
class Op:
    """A queued write (a start, an answer step or a completion), resolved after commit."""

    kind: str  # "begin" | "step" | "complete"
    response: bytes
    expected_cursor: int
    new_cursor: int = 0
    put: Mapping[Item, Sequence[ItemRow]] = field(default_factory=dict)
    drop: Sequence[Item] = ()
    session_key: bytes = b""
    comment_items: Sequence[Item] = ()
    start: Start | None = None
    message_id: int | None = None  # a typed answer's chat message: a redelivery is refused
    last_message: int | None = None  # the session's last typed message before this op
    sealed: bytes | None = None  # the session's new sealed state, written with the op
    created: bool = False
    future: asyncio.Future[None] | None = None


class ResponseState(NamedTuple):
    """What the writer checks of a response before applying a step to it."""

    id: bytes
    cursor: int
    complete: bool
    wave: int
    org: str
    code: bytes | None  # the hash of the code it was started with (restricted roles)


@dataclass(slots=True)
class _Writes:
    """The net effect of a batch's accepted steps, per response and item."""

    items: dict[tuple[bytes, str, str], Sequence[ItemRow] | None] = field(default_factory=dict)
    cursors: dict[bytes, int] = field(default_factory=dict)
    messages: dict[bytes, int | None] = field(default_factory=dict)
    sealed: dict[bytes, bytes] = field(default_factory=dict)
    completions: list[Op] = field(default_factory=list)
    completed: set[bytes] = field(default_factory=set)
    used_codes: set[bytes] = field(default_factory=set)  # used before or in this batch


def apply(
    db: cipher.Connection, batch: list[Op], groups: set[Group], day: str
) -> dict[int, StoreError]:
    """Apply queued ops in one transaction; the refused ones are returned by `id(op)`.

    `day` is the partnership's local date (the store's clock), the day the daily counts
    of these starts and completions fall on.

    Ops whose cursor check fails are refused; the others commit together with one
    fsync. `groups` receives the (wave, org) groups that got new comments: the writer
    shuffles those next, then truncates the WAL, before any completion is confirmed.
    """
    begins = [op for op in batch if op.kind == "begin"]
    steps = [op for op in batch if op.kind != "begin"]
    db.execute("BEGIN IMMEDIATE")
    try:
        failures = _begin_all(db, begins, day) if begins else {}
        current = {
            state.id: state
            for state in map(
                ResponseState._make,
                select_in(
                    db,
                    "SELECT id, cursor, complete, wave, org, code FROM responses WHERE id IN",
                    list({op.response for op in steps}),
                ),
            )
        }
        writes = _Writes()
        held = [
            state.code
            for op in steps
            if op.kind == "complete"
            and (state := current.get(op.response)) is not None
            and state.code is not None
        ]
        if held:  # a completion whose code is used already is refused (`_accept`)
            writes.used_codes = codes.used(db, held)
        for op in steps:
            error = _accept(op, current.get(op.response), writes)
            if error is not None:
                failures[id(op)] = error
        _write(db, writes)
        if writes.completions:
            groups.update(_complete_all(db, writes.completions, current, day))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return failures


def _accept(op: Op, state: ResponseState | None, writes: _Writes) -> StoreError | None:
    """Check `op` against its response as the batch left it so far; record its writes."""
    cursor = writes.cursors.get(op.response, state.cursor if state else -1)
    if state is None or state.complete or op.response in writes.completed:
        return StaleStepError("the response is complete or gone")
    if cursor != op.expected_cursor:
        return StaleStepError(f"position {op.expected_cursor} is outdated (now {cursor})")
    last = writes.messages.get(op.response, op.last_message)
    if op.message_id is not None and last is not None and op.message_id <= last:
        return StaleStepError("this message was already taken")
    for question, target in op.drop:
        writes.items[(op.response, question, target)] = None
    if op.kind == "step":
        for (question, target), rows in op.put.items():
            writes.items[(op.response, question, target)] = rows
        writes.cursors[op.response] = op.new_cursor
        if op.message_id is not None:
            writes.messages[op.response] = op.message_id
            if op.sealed is not None:
                writes.sealed[op.session_key] = op.sealed
    else:
        if state.code is not None:
            if state.code in writes.used_codes:  # a code completes one response, ever
                return CodeRefusedError(codes.USED)
            writes.used_codes.add(state.code)
        writes.completions.append(op)
        writes.completed.add(op.response)
    return None


def _write(db: cipher.Connection, writes: _Writes) -> None:
    # A single-row answer replaces its row in place; only multi-part answers (multi,
    # allocate) and dropped items need their old rows deleted first.
    clear = [key for key, rows in writes.items.items() if not rows or len(rows) > 1 or rows[0].part]
    if clear:
        db.executemany(
            "DELETE FROM answers WHERE response = ? AND question = ? AND target = ?", clear
        )
    if writes.items:
        db.executemany(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
            [
                (response, question, target, part, value, text)
                for (response, question, target), rows in writes.items.items()
                if rows
                for part, value, text in rows
            ],
        )
    if writes.cursors:
        db.executemany(
            "UPDATE responses SET cursor = ? WHERE id = ?",
            [(cursor, response) for response, cursor in writes.cursors.items()],
        )
    if writes.sealed:
        db.executemany(
            "UPDATE sessions SET sealed = ? WHERE key = ?",
            [(blob, key) for key, blob in writes.sealed.items()],
        )


def _begin_all(db: cipher.Connection, ops: list[Op], day: str) -> dict[int, StoreError]:
    """Create responses and sessions for new respondents of open waves.

    A restricted role's response starts only with a usable code (`codes.Claimer`); the
    code's hash goes into the new response, binding the code to it until it completes.
    """
    starts = [(op, op.start) for op in ops if op.start is not None]
    waves = list({start.wave for _, start in starts})
    open_waves = {
        wave
        for (wave,) in select_in(db, "SELECT id FROM waves WHERE status = 'open' AND id IN", waves)
    }
    taken = {
        key
        for (key,) in select_in(
            db, "SELECT key FROM sessions WHERE key IN", list({op.session_key for op in ops})
        )
    }
    failures: dict[int, StoreError] = {}
    new: list[tuple[Op, Start]] = []
    claimer = codes.Claimer(db, [start.code for _, start in starts if start.code is not None])
    for op, start in starts:
        if start.wave not in open_waves:
            failures[id(op)] = WaveClosedError(f"wave {start.wave} is not open")
        elif op.session_key in taken:
            continue  # started before: resumed as it is, its code (if any) untouched
        elif (refused := claimer.claim(start.org, start.role, start.code)) is not None:
            failures[id(op)] = refused
        else:
            taken.add(op.session_key)
            op.created = True
            new.append((op, start))
    if new:
        db.executemany(
            "INSERT INTO responses (id, wave, org, role, code) VALUES (?, ?, ?, ?, ?)",
            [(op.response, *start) for op, start in new],
        )
        db.executemany(
            "INSERT INTO sessions (key, wave, response, sealed) VALUES (?, ?, ?, ?)",
            [(op.session_key, start.wave, op.response, op.sealed) for op, start in new],
        )
        db.executemany(
            "INSERT INTO daily_counts (wave, org, day, started) VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO UPDATE SET started = started + 1",
            [(start.wave, start.org, day) for _, start in new],
        )
    return failures


def _complete_all(
    db: cipher.Connection, ops: list[Op], current: Mapping[bytes, ResponseState], day: str
) -> set[Group]:
    """Unlink finished responses: fresh ids, free text moved to `comments`.

    Returns the (wave, org) groups that got comments, to be shuffled next.
    """
    items = [(op.response, q, t) for op in ops for q, t in op.comment_items]
    if items:
        db.executemany(
            "INSERT INTO comments SELECT randomblob(16), r.wave, r.org, a.question, "
            "a.target, a.text FROM answers a JOIN responses r ON r.id = a.response "
            "WHERE a.response = ? AND a.question = ? AND a.target = ? "
            "AND a.text IS NOT NULL",
            items,
        )
        db.executemany(
            "DELETE FROM answers WHERE response = ? AND question = ? AND target = ?", items
        )
    # A fresh id: a backup, snapshot or WAL remnant that links a session to the old id
    # cannot follow it to the finished answers.
    fresh = [(secrets.token_bytes(16), op.response) for op in ops]
    db.executemany("UPDATE answers SET response = ? WHERE response = ?", fresh)
    db.executemany(
        "INSERT INTO responses (id, wave, org, role, cursor, complete) "
        "SELECT ?, wave, org, role, 0, 1 FROM responses WHERE id = ?",
        fresh,
    )
    db.executemany("DELETE FROM responses WHERE id = ?", [(old,) for _, old in fresh])
    codes.consume(db, [state.code for op in ops if (state := current[op.response]).code])
    db.executemany(
        "UPDATE sessions SET response = NULL, sealed = NULL, completed = 1 WHERE key = ?",
        [(op.session_key,) for op in ops],
    )
    finished = [current[op.response] for op in ops]
    db.executemany(
        "INSERT INTO daily_counts (wave, org, day, completed) VALUES (?, ?, ?, 1) "
        "ON CONFLICT DO UPDATE SET completed = completed + 1",
        [(state.wave, state.org, day) for state in finished],
    )
    return {
        (state.wave, state.org) for op, state in zip(ops, finished, strict=True) if op.comment_items
    }


def shuffle_comments(db: cipher.Connection, groups: Iterable[Group]) -> None:
    """Rewrite the comments of each (wave, org) in random order with fresh random ids.

    SQLite places each new cell below the last one written, so a comment appended at
    completion sits on disk in step with the response finished in the same
    transaction. Rewriting the group's comments under fresh random ids, inserted in
    the order of those ids, leaves every comment's position random. Its own
    transaction, so the answers of the batch are acknowledged without waiting for it;
    the completions are confirmed only after it (and after the WAL truncation).
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        for wave, org in sorted(groups):
            rows = db.execute(
                "SELECT question, target, text FROM comments WHERE wave = ? AND org = ?",
                (wave, org),
            ).fetchall()
            ids = secrets.token_bytes(16 * len(rows))
            fresh = sorted(
                (ids[16 * i : 16 * i + 16], wave, org, question, target, text)
                for i, (question, target, text) in enumerate(rows)
            )
            db.execute("DELETE FROM comments WHERE wave = ? AND org = ?", (wave, org))
            db.executemany("INSERT INTO comments VALUES (?, ?, ?, ?, ?, ?)", fresh)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
