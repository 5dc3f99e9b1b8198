"""The schema, its migrations, the PRAGMAs every connection runs, and opening a file.

A database is encrypted (`cipher`) and 0600 before the first statement; the PRAGMAs
below are part of the anonymity model, not tuning (see each comment).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

import aiosqlite

from .. import cipher, keys
from ..errors import MasterKeyError, StoreError

BUSY_TIMEOUT_MS = 10000

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE organisations (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, headcount INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE roles (
        id TEXT PRIMARY KEY, label_nl TEXT NOT NULL, label_en TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE surveys (id TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE waves (
        id INTEGER PRIMARY KEY,
        survey TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('scheduled', 'open', 'closed')),
        opens_on TEXT,
        closes_on TEXT,
        opened_at TEXT,
        closed_at TEXT,
        salt BLOB
    );
    CREATE TABLE wave_organisations (
        wave INTEGER NOT NULL, org TEXT NOT NULL, PRIMARY KEY (wave, org)
    ) WITHOUT ROWID;
    CREATE TABLE invitations (
        token TEXT PRIMARY KEY, org TEXT NOT NULL, role TEXT, wave INTEGER, created_at TEXT
    ) WITHOUT ROWID;
    CREATE TABLE sessions (
        key BLOB PRIMARY KEY,
        wave INTEGER NOT NULL,
        response BLOB,
        lang TEXT,
        completed INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX sessions_wave ON sessions (wave);
    CREATE TABLE responses (
        id BLOB PRIMARY KEY,
        wave INTEGER NOT NULL,
        org TEXT NOT NULL,
        role TEXT,
        cursor INTEGER NOT NULL DEFAULT 0,
        last_message INTEGER,
        complete INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX responses_wave ON responses (wave, complete);
    CREATE TABLE answers (
        response BLOB NOT NULL,
        question TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        part TEXT NOT NULL DEFAULT '',
        value INTEGER,
        text TEXT,
        PRIMARY KEY (response, question, target, part)
    ) WITHOUT ROWID;
    CREATE TABLE comments (
        id BLOB PRIMARY KEY,
        wave INTEGER NOT NULL,
        org TEXT NOT NULL,
        question TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE daily_counts (
        wave INTEGER NOT NULL,
        org TEXT NOT NULL,
        day TEXT NOT NULL,
        started INTEGER NOT NULL DEFAULT 0,
        completed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (wave, org, day)
    ) WITHOUT ROWID;
    CREATE TABLE contacts (
        chat_id INTEGER PRIMARY KEY,
        org TEXT,
        lang TEXT NOT NULL DEFAULT 'nl',
        blocked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE notifications_sent (
        wave INTEGER NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (wave, kind)
    ) WITHOUT ROWID;
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: nothing beside a session or response that joins with contacts (issue 8)
    """
    ALTER TABLE sessions ADD COLUMN sealed BLOB;
    ALTER TABLE sessions DROP COLUMN lang;
    ALTER TABLE responses DROP COLUMN last_message;
    """,
    # 3: role labels for whatever languages the catalogue has, not fixed nl/en columns
    """
    CREATE TABLE roles_by_language (id TEXT PRIMARY KEY, labels TEXT NOT NULL) WITHOUT ROWID;
    INSERT INTO roles_by_language
        SELECT id, json_object('en', label_en, 'nl', label_nl) FROM roles;
    DROP TABLE roles;
    ALTER TABLE roles_by_language RENAME TO roles;
    """,
    # 4: a group link leads to one survey for its whole life (issue 11): bind each link
    # to its wave's survey, or to the survey its organisation is answering now; waves
    # opened before announcements went out from wherever a wave opens count as announced
    """
    ALTER TABLE invitations ADD COLUMN survey TEXT;
    UPDATE invitations SET survey = (SELECT survey FROM waves WHERE waves.id = invitations.wave)
        WHERE wave IS NOT NULL;
    UPDATE invitations SET survey = (
        SELECT w.survey FROM waves w JOIN wave_organisations wo ON wo.wave = w.id
        WHERE w.status = 'open' AND wo.org = invitations.org ORDER BY w.id DESC LIMIT 1
    ) WHERE wave IS NULL;
    INSERT OR IGNORE INTO notifications_sent SELECT id, 'opened' FROM waves
        WHERE status != 'scheduled';
    """,
    # 5: single-use codes for restricted roles (issue 17). `codes` holds keyed hashes,
    # keyed by the hash itself (random order, no time), and nothing that names a
    # response or a session; a response in progress holds the hash of the code it was
    # started with (so nobody else starts with it, and its completion uses it up); the
    # completed response's row is new and holds none
    """
    ALTER TABLE roles ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE responses ADD COLUMN code BLOB;
    CREATE INDEX responses_code ON responses (code) WHERE code IS NOT NULL;
    CREATE TABLE codes (
        hash BLOB PRIMARY KEY,
        org TEXT NOT NULL,
        role TEXT NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    """,
    # 6: a notification round is done only when every contact of it was handled, marked
    # per contact as it goes (issue 16: a crash halfway loses nothing, repeats nothing);
    # the welcome with the consent button survives a restart (sealed, like a session)
    """
    ALTER TABLE notifications_sent ADD COLUMN done INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE notices_sent (
        wave INTEGER NOT NULL, kind TEXT NOT NULL, chat_id INTEGER NOT NULL,
        PRIMARY KEY (wave, kind, chat_id)
    ) WITHOUT ROWID;
    CREATE TABLE consent_screens (
        key BLOB PRIMARY KEY, wave INTEGER NOT NULL, sealed BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX consent_screens_wave ON consent_screens (wave);
    """,
    # 7: the host's attack (issue 17). An unfinished response is a draft keyed and
    # encrypted under a session secret the database never holds; a finished one waits
    # in `pending`, unlinked, until k of its (wave, organisation, role) are released
    # together into `responses`, with their completion markers in `finished`. Consent
    # screens are keyed by that secret too. Completed sessions of earlier versions
    # become markers; their unfinished ones stay until their owner comes back
    """
    CREATE TABLE drafts (
        key BLOB PRIMARY KEY, wave INTEGER NOT NULL, org TEXT NOT NULL, sealed BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX drafts_wave ON drafts (wave, org);
    CREATE TABLE draft_items (
        draft BLOB NOT NULL, item BLOB NOT NULL, sealed BLOB NOT NULL,
        PRIMARY KEY (draft, item)
    ) WITHOUT ROWID;
    CREATE TABLE pending (
        id BLOB PRIMARY KEY, wave INTEGER NOT NULL, org TEXT NOT NULL, role TEXT,
        content TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX pending_group ON pending (wave, org, role);
    CREATE TABLE finished (
        wave INTEGER NOT NULL, marker BLOB NOT NULL, PRIMARY KEY (wave, marker)
    ) WITHOUT ROWID;
    INSERT INTO finished SELECT wave, key FROM sessions WHERE completed = 1;
    DELETE FROM sessions WHERE completed = 1;
    DELETE FROM consent_screens;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
PRAGMAS = (
    "temp_store = MEMORY",  # sorts and VACUUM never spill plaintext into temporary files
    "journal_mode = WAL",
    "synchronous = FULL",  # an acknowledged answer survives a power cut, not only a crash
    "secure_delete = ON",  # erased links are overwritten, not left in free pages
    "foreign_keys = ON",
)


def pragmas() -> tuple[str, ...]:
    """`PRAGMAS` and the busy timeout, read when a connection opens (tests shorten it)."""
    return (f"busy_timeout = {BUSY_TIMEOUT_MS}", *PRAGMAS)


def is_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite giving up on a lock another connection or process holds."""
    message = str(error).lower()
    return isinstance(error, cipher.OperationalError) and ("locked" in message or "busy" in message)


def connect_sync(path: Path, db_key: bytes) -> cipher.Connection:
    """A plain DB-API connection (writer thread, backups), configured like the others."""
    db = cipher.connect(path, db_key)
    for pragma in pragmas():
        db.execute(f"PRAGMA {pragma}")
    return db


async def connect(path: Path, db_key: bytes) -> aiosqlite.Connection:
    """An aiosqlite connection to the encrypted file, configured with `pragmas()`."""
    # aiosqlite only calls the connector and uses the DB-API connection it returns
    connector = cast("Callable[[], sqlite3.Connection]", partial(cipher.connect, path, db_key))
    db = await aiosqlite.Connection(connector, iter_chunk_size=64)
    try:
        for pragma in pragmas():
            await db.execute(f"PRAGMA {pragma}")
    except BaseException:
        await db.close()
        raise
    return db


def prepare_file(path: Path, db_key: bytes) -> None:
    """Make the file private; encrypt a plaintext database of an older trustscan in place;
    refuse a key that does not open it (`MasterKeyError`).

    The key is tried on a plain connection here, before any aiosqlite connection: one
    whose opening fails leaves its thread to report to an event loop that may be closed
    by then, a traceback after the one sentence.
    """
    cipher.private_file(path)
    if cipher.is_plaintext(path):
        cipher.encrypt_plaintext(path, db_key)
        cipher.private_file(path)
    cipher.connect(path, db_key).close()


async def migrate(db: aiosqlite.Connection) -> bool:
    """Bring the schema up to date; True if anything changed."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        rows = list(await db.execute_fetchall("SELECT version FROM schema_version"))
        current = rows[0][0] if rows else 0
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database has schema version {current}, newer than this "
                f"trustscan ({SCHEMA_VERSION}); upgrade trustscan"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    await db.execute(statement)
        if not rows:
            await db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        else:
            await db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    return current != SCHEMA_VERSION


async def check_key(db: aiosqlite.Connection, master_key: bytes) -> None:
    """Refuse a master key other than the one the database was created with."""
    check = keys.key_check(master_key)
    rows = list(await db.execute_fetchall("SELECT value FROM meta WHERE name = 'key_check'"))
    if not rows:
        await db.execute("INSERT INTO meta VALUES ('key_check', ?)", (check,))
    elif rows[0][0] != check:
        raise MasterKeyError(
            "the master key does not belong to this database (was the key "
            "file replaced or TRUSTSCAN_KEY changed?)"
        )
