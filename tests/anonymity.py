"""Shared checks for the anonymity tests: what the database files contain, byte for byte."""

from __future__ import annotations

from pathlib import Path


def db_bytes(path: Path) -> bytes:
    """The database file plus its WAL and shared-memory files, as one byte string."""
    return b"".join(
        Path(str(path) + suffix).read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(str(path) + suffix).exists()
    )


def id_forms(user_id: int) -> list[bytes]:
    """Every way a Telegram id could sit in a SQLite file: text, and big/little-endian ints."""
    forms = [str(user_id).encode()]
    for width in (6, 8):
        forms.append(user_id.to_bytes(width, "big"))
        forms.append(user_id.to_bytes(width, "little"))
    return forms


def assert_no_user_id(path: Path, user_id: int) -> None:
    """Fail if the database, its WAL or shm holds the id in any form."""
    data = db_bytes(path)
    for form in id_forms(user_id):
        assert form not in data, f"Telegram id found in the database as {form!r}"
