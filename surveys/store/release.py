"""Releasing finished responses in shuffled batches of at least k (writer thread).

Whoever holds the master key and a copy of the database after every completion sees
each finished response the moment it is written, and can compute from anyone's
Telegram id whether that person is marked finished. If the mark and the response
appeared together, two copies would name the author. So they never do:

* a finished response first waits in `pending`, unlinked: no session, no marker, no
  code, no contact beside it; whose it is lives only in the running bot's memory
  (`Finisher`), and nothing in the database changed for the person when it appeared
  (their draft was keyed by a secret the database never held);
* once a (wave, organisation, role) has at least k responses waiting, all of them are
  released in one transaction: fresh random ids, rows written in the order of those
  ids, their free text shuffled among the organisation's comments, and the completion
  markers and used codes of the people who gave them written beside, in the order of
  their own values. A copy after that shows k responses and k people appear together;
* at the close, whatever still waits is released *without* markers or used codes (the
  markers are deleted with the wave's salt): a group that never reached k names
  nobody.

What this costs, and is said (docs/anonymity.md): after a crash, the people whose
completion waited are no longer known to have finished, so they could answer once
more (their code, too, stays unused); and a group below k reaches the report only at
the close, as its hidden cell.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import cipher

Group = tuple[int, str, str | None]  # wave, organisation, role: the unit of release


@dataclass(frozen=True, slots=True)
class Finisher:
    """A completion waiting for its release, as only this process knows it."""

    wave: int
    marker: bytes  # `keys.completion_marker`: written at the release
    code: bytes | None  # the hash of the single-use code it used up, if any
    user: int  # the Telegram id (never stored): for "already done" and held contacts


@dataclass(frozen=True, slots=True)
class Content:
    """A finished response as it waits: its answer rows and its free text apart."""

    answers: tuple[tuple[str, str, str, int | None, str | None], ...]
    comments: tuple[tuple[str, str, str], ...]

    def dumps(self) -> str:
        return json.dumps({"a": self.answers, "c": self.comments}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Content:
        data: dict[str, Any] = json.loads(text)
        return cls(
            tuple((q, t, p, v, x) for q, t, p, v, x in data["a"]),
            tuple((q, t, x) for q, t, x in data["c"]),
        )


def waiting(db: cipher.Connection, group: Group) -> int:
    wave, org, role = group
    [(count,)] = db.execute(
        "SELECT count(*) FROM pending WHERE wave = ? AND org = ? AND role IS ?", (wave, org, role)
    ).fetchall()
    return int(count)


def release(
    db: cipher.Connection, group: Group, finishers: Sequence[Finisher], *, mark: bool = True
) -> None:
    """Move every pending response of `group` into `responses` (inside the caller's
    transaction), with the markers and used codes of `finishers` when `mark`."""
    wave, org, role = group
    rows = db.execute(
        "SELECT content FROM pending WHERE wave = ? AND org = ? AND role IS ?", (wave, org, role)
    ).fetchall()
    contents = [Content.loads(text) for (text,) in rows]
    fresh = sorted(
        (secrets.token_bytes(16), content) for content in contents
    )  # the order of random ids: nothing of the order of completion
    db.executemany(
        "INSERT INTO responses (id, wave, org, role, cursor, complete) VALUES (?, ?, ?, ?, 0, 1)",
        [(rid, wave, org, role) for rid, _ in fresh],
    )
    db.executemany(
        "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?)",
        [(rid, *answer) for rid, content in fresh for answer in sorted(content.answers, key=_key)],
    )
    comments = [comment for _, content in fresh for comment in content.comments]
    if comments:
        db.executemany(
            "INSERT INTO comments VALUES (randomblob(16), ?, ?, ?, ?, ?)",
            [(wave, org, *comment) for comment in comments],
        )
        shuffle_comments(db, [(wave, org)])
    db.execute("DELETE FROM pending WHERE wave = ? AND org = ? AND role IS ?", (wave, org, role))
    if mark:
        db.executemany(
            "INSERT OR IGNORE INTO finished (wave, marker) VALUES (?, ?)",
            sorted((wave, f.marker) for f in finishers),
        )
        db.executemany(
            "UPDATE codes SET used = 1 WHERE hash = ?",
            sorted((f.code,) for f in finishers if f.code is not None),
        )


def _key(answer: tuple[str, str, str, int | None, str | None]) -> tuple[str, str, str]:
    return answer[0], answer[1], answer[2]


def release_wave(db: cipher.Connection, wave: int, held: Iterable[bytes] = ()) -> None:
    """At the close: release whatever still waits, naming nobody (caller's transaction).

    A group that never reached k had its codes used without a mark; marking just those
    would name who answered. So every code of its organisation and role is spent at
    once (the griffie hands out fresh ones for the next measurement), except codes
    another open wave's drafts hold right now (`held`).
    """
    groups = db.execute(
        "SELECT DISTINCT wave, org, role FROM pending WHERE wave = ?", (wave,)
    ).fetchall()
    keep = sorted(set(held))
    for group in groups:
        release(db, (group[0], group[1], group[2]), (), mark=False)
        db.execute(
            "UPDATE codes SET used = 1 WHERE org = ? AND role IS ? AND hash NOT IN "
            f"({','.join('?' * len(keep))})",
            (group[1], group[2], *keep),
        )
    db.execute("DELETE FROM finished WHERE wave = ?", (wave,))


def shuffle_comments(db: cipher.Connection, groups: Iterable[tuple[int, str]]) -> None:
    """Rewrite the comments of each (wave, org) in random order with fresh random ids.

    SQLite places each new cell below the last one written, so comments appended at a
    release would sit on disk in the order they were inserted. Rewriting the group's
    comments under fresh random ids, inserted in the order of those ids, leaves every
    comment's position random. Runs inside the caller's transaction.
    """
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


def release_orphans(db: cipher.Connection) -> int:
    """At the bot's start: release, naming nobody, what waits from before it began.

    Who gave those responses was known to the process that stopped (or crashed), not to
    this one: their markers and codes are lost (docs/anonymity.md, "What it costs").
    Releasing them now, without any marker, keeps the rule that markers appear only k
    at a time: the next batch of their group holds k people this process knows.
    Returns how many groups were released.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        groups = db.execute(
            "SELECT DISTINCT p.wave, p.org, p.role FROM pending p "
            "JOIN waves w ON w.id = p.wave WHERE w.status = 'open'"
        ).fetchall()
        for wave, org, role in groups:
            release(db, (wave, org, role), (), mark=False)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(groups)
