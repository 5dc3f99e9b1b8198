"""The database files at rest: SQLCipher connections, private file modes, plaintext upgrade.

Every page of the database, its WAL and every backup is encrypted (AES-256, with an
HMAC per page) under a key derived from the master key, so a copy of the files without
that key shows no schema, no organisation, no role and no answer. The store opens every
connection through `connect`; nothing else in trustscan knows SQLCipher is there.

The files are created 0600 before SQLite touches them: SQLite gives the `-wal` and
`-shm` files the mode of the database file, so the whole set stays private whatever
the process umask is.

Exceptions: `MasterKeyError` when the key does not open the file (the file is left
untouched), `StoreError` when a plaintext database cannot be upgraded.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import sqlcipher3

from .errors import MasterKeyError, StoreError

log = logging.getLogger(__name__)

PLAINTEXT_HEADER = b"SQLite format 3\x00"
FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")

# SQLCipher's own error; aliased so the store can catch it without importing sqlcipher3.
DatabaseError = sqlcipher3.DatabaseError
Error = sqlcipher3.Error
OperationalError = sqlcipher3.OperationalError
Connection = sqlcipher3.Connection


def key_pragma(db_key: bytes) -> str:
    """The raw-key literal SQLCipher takes: no passphrase stretching, the key is random."""
    return f"\"x'{db_key.hex()}'\""


def private_file(path: Path) -> None:
    """Create `path` (empty) with mode 0600, or tighten an existing file and its side files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for file in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(file, FILE_MODE)


def is_plaintext(path: Path) -> bool:
    """Whether `path` is an unencrypted SQLite database (an empty file is not)."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(PLAINTEXT_HEADER)) == PLAINTEXT_HEADER
    except FileNotFoundError:
        return False


def connect(path: Path | str, db_key: bytes) -> sqlcipher3.Connection:
    """An autocommit connection that has proved it can decrypt the file.

    A wrong key raises `MasterKeyError` before anything is written: SQLCipher only reads
    page 1 to check its HMAC, so the file is left exactly as it was.
    """
    db = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our message, not a log
        db.execute(f"PRAGMA key = {key_pragma(db_key)}")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        db.close()
        raise MasterKeyError(
            f"{path}: this master key does not open the database (was the key file "
            "replaced or TRUSTSCAN_KEY changed?); the file was left untouched"
        ) from exc
    except BaseException:
        db.close()
        raise
    return db


def export(source: sqlcipher3.Connection, target: Path, db_key: bytes) -> None:
    """Copy every table of `source` into a new encrypted file `target` (0600).

    `sqlcipher_export` writes each table in primary-key order into fresh pages, so the
    copy carries neither free pages nor the order in which rows were first written.
    """
    if target.exists():
        raise StoreError(f"{target} already exists; choose a new file name")
    private_file(target)
    source.execute(f"ATTACH DATABASE ? AS export KEY {key_pragma(db_key)}", (str(target),))
    try:
        source.execute("SELECT sqlcipher_export('export')").fetchall()
    finally:
        source.execute("DETACH DATABASE export")


def shred(path: Path) -> None:
    """Overwrite a file with zeros, then remove it (best effort on copy-on-write disks)."""
    with contextlib.suppress(FileNotFoundError):
        size = path.stat().st_size
        with path.open("r+b") as fh:
            fh.write(bytes(size))
            fh.flush()
            os.fsync(fh.fileno())
        path.unlink()


def encrypt_plaintext(path: Path, db_key: bytes) -> None:
    """Upgrade an unencrypted database (trustscan before encryption) in place.

    The plaintext is exported into an encrypted file beside it, which is checked row by
    row count before it replaces the original; the plaintext file and its WAL are then
    overwritten and removed. A crash in between leaves either the untouched plaintext
    (the next start upgrades again) or the finished encrypted file.
    """
    staging = path.with_name(path.name + ".encrypting")
    for suffix in ("", *SIDE_FILES):
        shred(Path(f"{staging}{suffix}"))
    plain = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = [
            r[0]
            for r in plain.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: plain.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        export(plain, staging, db_key)
    except sqlcipher3.Error as exc:
        raise StoreError(f"{path}: cannot encrypt the existing database: {exc}") from exc
    finally:
        plain.close()
    check = connect(staging, db_key)
    try:
        for table, count in counts.items():
            if check.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] != count:
                raise StoreError(f"{path}: the encrypted copy of table {table} is incomplete")
    finally:
        check.close()
    for suffix in SIDE_FILES:  # plaintext remnants; SQLite must not pair them with the copy
        shred(Path(f"{path}{suffix}"))
    plaintext = path.with_name(path.name + ".plaintext")
    os.replace(path, plaintext)
    os.replace(staging, path)
    _sync_dir(path.parent)
    shred(plaintext)
    log.info("encrypted the existing database %s; the plaintext copy was erased", path)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
