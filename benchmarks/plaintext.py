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

from surveys import cipher


def _plain_connect(path: Path | str, db_key: bytes) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)


@contextlib.contextmanager
def plaintext() -> Iterator[None]:
    """Within the block, every store connection opens the file without encryption."""
    with mock.patch.object(cipher, "connect", _plain_connect):
        yield
