"""Single-use codes of restricted roles: keyed hashes in a table of their own.

Whoever holds a restricted role's link could otherwise answer k − 1 times with k − 1
Telegram accounts and read the one real member's answers off the result (issue 17,
finding 6). So the store itself refuses to start a restricted role's response without
a code (`Claimer`), whatever adapter asks, and a code completes one response only.

What is stored, and what is not:

* `codes` holds `keys.code_hash(code key, code)` (the key is derived from the master
  key and never stored), the code's organisation and role, and whether it is used. No
  response id, no session key, no time; rows are keyed by the hash, so their order on
  disk says nothing about when they were issued or used.
* A draft holds the hash of the code it was started with, encrypted with the rest of
  its state, and the running process holds it in memory, so nobody else can start with
  that code (`Claimer`); erasing the draft (/delete, a close) frees it.
* A code is marked used only when its response is released together with k − 1
  others of its organisation and role (`release.release`): a code turning used names
  a batch, never one completion. A group still below k at the close is released
  without marking its codes (they name nobody then). A completion is refused if its
  code was used already, so two people racing with one code never both complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import cipher, keys
from ..errors import CodeRefusedError
from .base import Database, select_in
from .rows import CodeToken

NEEDED = "a restricted role's response needs a single-use code"
REFUSED = "the code is unknown, used, in use, or not for this organisation and role"
USED = "the code of this response was used already"


class Codes:
    """Issuing codes and checking one, outside the write batches."""

    def __init__(self, base: Database) -> None:
        self._base = base
        self._key = keys.code_key(base.master_key)

    def token(self, code: str) -> CodeToken:
        """The keyed hash of a normalised code (see `trustscan.codes.normalise`)."""
        return CodeToken(keys.code_hash(self._key, code))

    async def add(self, org: str, role: str, tokens: Sequence[CodeToken]) -> None:
        """Store fresh codes of (org, role); a hash that exists already is an error."""
        async with self._base.transaction() as db:
            await db.executemany(
                "INSERT INTO codes (hash, org, role) VALUES (?, ?, ?)",
                [(token.digest, org, role) for token in tokens],
            )

    async def usable(self, token: CodeToken, org: str, role: str) -> bool:
        """Whether a response of (org, role) could start with this code now."""
        rows = await self._base.read(
            "SELECT used = 0 AND org = ? AND role = ? AND NOT EXISTS (SELECT 1 FROM "
            "responses WHERE code = codes.hash AND complete = 0) FROM codes WHERE hash = ?",
            (org, role, token.digest),
        )
        return bool(rows and rows[0][0])


class Claimer:
    """Checks the codes of responses about to start in one batch (writer thread).

    A restricted role needs a code; a code must be known for the response's
    organisation and role, unused, and not held by a response in progress — nor by an
    earlier claim of the same batch, so of two people racing with one code only the
    first starts.
    """

    def __init__(
        self, db: cipher.Connection, digests: Sequence[bytes], held: Iterable[bytes] = ()
    ) -> None:
        self._restricted = {
            role for (role,) in db.execute("SELECT id FROM roles WHERE restricted = 1")
        }
        wanted = list(set(digests))
        self._known = {
            digest: (org, role, bool(used))
            for digest, org, role, used in select_in(
                db, "SELECT hash, org, role, used FROM codes WHERE hash IN", wanted
            )
        }
        self._held = set(held) | {
            digest
            for (digest,) in select_in(
                db, "SELECT code FROM responses WHERE complete = 0 AND code IN", wanted
            )
        }

    def claim(self, org: str, role: str | None, code: bytes | None) -> CodeRefusedError | None:
        """None if a response of (org, role) may start with `code` (then it holds it)."""
        if code is None:
            return CodeRefusedError(NEEDED) if role in self._restricted else None
        if self._known.get(code) != (org, role, False) or code in self._held:
            return CodeRefusedError(REFUSED)
        self._held.add(code)
        return None


def used(db: cipher.Connection, digests: Iterable[bytes]) -> set[bytes]:
    """Which of these code hashes are used already (writer thread)."""
    return {
        digest
        for (digest,) in select_in(
            db, "SELECT hash FROM codes WHERE used = 1 AND hash IN", list(set(digests))
        )
    }
