"""The baseline for encryption at rest: the same store with SQLCipher swapped for sqlite3.

Only benchmarks use this, to print the cost of encryption next to the encrypted figures
in the same run. Production has no plaintext switch.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from surveys import cipher, keys


def _plain_connect(path: Path | str, db_key: bytes) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)


@contextlib.contextmanager
def plaintext() -> Iterator[None]:
    """Within the block, every store connection opens the file without encryption."""
    with (
        mock.patch.object(cipher, "connect", _plain_connect),
        mock.patch.object(cipher, "is_plaintext", lambda path: False),  # no migration
    ):
        yield


def plaintext_copy(encrypted: Path, master_key: bytes) -> Path:
    """A plaintext copy of an encrypted database (`<name>-plain.db`), for the baseline."""
    target = encrypted.with_name(encrypted.stem + "-plain.db")
    target.unlink(missing_ok=True)
    db = cipher.connect(encrypted, keys.database_key(master_key))
    try:
        db.execute(f"ATTACH DATABASE '{target}' AS plain KEY ''")
        db.execute("SELECT sqlcipher_export('plain')")
        db.execute("DETACH DATABASE plain")
    finally:
        db.close()
    return target
