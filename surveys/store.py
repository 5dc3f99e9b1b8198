"""The one module that owns SQL: schema, migrations, and every query.

The tables follow the anonymity model of DESIGN §4:

* The files are SQLCipher-encrypted under a key derived from the master key, and 0600
  (`cipher`); a plaintext database of an older trustscan is encrypted on first open.
* `sessions` are keyed by HMAC(wave secret, Telegram user id); the wave secret needs
  the master key (outside the database) and the wave's salt (inside, destroyed on
  close). A session points at its response only while the response is in progress.
  What the chat needs to resume (language, last typed message) is sealed under a key
  that needs the Telegram id, so nothing beside a session joins with `contacts`.
* `responses`, `answers` and `comments` are `WITHOUT ROWID` tables keyed by random
  ids, with no timestamps. On completion a response gets a fresh id (no earlier copy
  can follow its session link to the final answers) and its free text moves to
  `comments`, whose rows of that organisation are then rewritten in random order, so
  no comment sits on disk beside or in step with its response.
* Closing a wave (and the nightly `rebuild`) rewrites the whole file, so neither cell
  offsets nor page order keep the order in which responses were started or finished.
* An erased link counts as gone only once the WAL is truncated; a reader holding the
  WAL delays only the confirmation of the people whose link waits (`UnlinkPendingError`
  after `unlink_timeout`), retried in the background until it succeeds.
* `contacts` (chat ids of people who asked for reminders) are never joined to answers.

Answer writes from many respondents are grouped into one transaction (group commit):
each caller still returns only after its answer is durably committed
(`synchronous=FULL`), but concurrent answers share one fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from . import cipher, keys
from .errors import (
    MasterKeyError,
    StaleStepError,
    StoreError,
    UnknownWaveError,
    UnlinkPendingError,
    WaveClosedError,
)

AnswerRow = tuple[str, str, str, int | None, str | None]  # question, target, part, value, text
ItemRows = tuple[str, int | None, str | None]  # part, value, text
MAX_BATCH = 512
SESSION_CACHE = 4096  # sessions kept in memory (LRU); the database stays the truth
TOKEN_BYTES = 16  # 128 bits; 22 URL-safe characters, well inside the 64-char deep link limit
UNLINK_TIMEOUT = 30.0  # seconds a completion waits for the WAL to be truncated
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
)
SCHEMA_VERSION = len(MIGRATIONS)
PRAGMAS = (
    f"busy_timeout = {BUSY_TIMEOUT_MS}",
    "temp_store = MEMORY",  # sorts and VACUUM never spill plaintext into temporary files
    "journal_mode = WAL",
    "synchronous = FULL",  # an acknowledged answer survives a power cut, not only a crash
    "secure_delete = ON",  # erased links are overwritten, not left in free pages
    "foreign_keys = ON",
)


def _connect_sync(path: Path, db_key: bytes) -> cipher.Connection:
    db = cipher.connect(path, db_key)
    for pragma in PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    return db


def _select_in(db: cipher.Connection, sql: str, values: list[Any]) -> list[tuple[Any, ...]]:
    """Run `sql IN (…)` over `values` in chunks below SQLite's parameter limit."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows.extend(db.execute(f"{sql} ({','.join('?' * len(chunk))})", chunk).fetchall())
    return rows


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class Wave:
    id: int
    survey: str
    name: str
    status: str
    opens_on: str | None
    closes_on: str | None
    opened_at: str | None
    closed_at: str | None
    orgs: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class Invitation:
    token: str
    org: str
    role: str | None
    wave: int | None


@dataclass(frozen=True, slots=True)
class Session:
    """A respondent's place in a wave, found by recomputing their HMAC key."""

    key: bytes
    wave: int
    status: str  # "in_progress" | "completed"
    response: bytes | None = None
    org: str | None = None
    role: str | None = None
    lang: str | None = None
    cursor: int = 0
    rows: tuple[AnswerRow, ...] = ()
    last_message: int | None = None  # the last typed answer's chat message (sealed on disk)
    seal: bytes = field(default=b"", repr=False, compare=False)  # never stored

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def answers_by_item(self) -> dict[tuple[str, str], list[ItemRows]]:
        items: dict[tuple[str, str], list[ItemRows]] = {}
        for question, target, part, value, text in self.rows:
            items.setdefault((question, target), []).append((part, value, text))
        return items


@dataclass(frozen=True, slots=True)
class Contact:
    chat_id: int
    org: str | None
    lang: str
    blocked: bool


@dataclass(frozen=True, slots=True)
class OrgCount:
    org: str
    completed: int
    in_progress: int


@dataclass(frozen=True, slots=True)
class GroupCount:
    """Completed responses of one (wave, organisation, role)."""

    wave: int
    org: str
    role: str | None
    completed: int


@dataclass(slots=True)
class _Op:
    """A queued write (a start, an answer step or a completion), resolved after commit."""

    kind: str  # "begin" | "step" | "complete"
    response: bytes
    expected_cursor: int
    new_cursor: int = 0
    put: Mapping[tuple[str, str], Sequence[ItemRows]] = field(default_factory=dict)
    drop: Sequence[tuple[str, str]] = ()
    session_key: bytes = b""
    comment_items: Sequence[tuple[str, str]] = ()
    begin: tuple[int, str, str | None] | None = None  # wave, org, role
    message_id: int | None = None  # a typed answer's chat message: a redelivery is refused
    last_message: int | None = None  # the session's last typed message before this op
    sealed: bytes | None = None  # the session's new sealed state, written with the op
    created: bool = False
    future: asyncio.Future[None] | None = None


@dataclass(frozen=True, slots=True)
class _ResponseState:
    """What the writer checks of a response before applying a step to it."""

    cursor: int
    complete: bool
    wave: int
    org: str


@dataclass(slots=True)
class _Unlink:
    """Someone waiting for the WAL to lose an erased link (a completion, a close, /delete)."""

    deadline: float
    future: asyncio.Future[None]
    op: _Op | None = None


def _sealed_state(seal: bytes, lang: str | None, last_message: int | None) -> bytes | None:
    if not seal:
        return None
    payload = f"{lang or ''}\x1f{'' if last_message is None else last_message}"
    return keys.seal(seal, payload.encode("ascii"))


def _unsealed_state(seal: bytes, blob: bytes | None) -> tuple[str | None, int | None]:
    payload = keys.unseal(seal, blob) if seal else None
    if payload is None:
        return None, None
    lang, _, last = payload.decode("ascii").partition("\x1f")
    return lang or None, int(last) if last else None


class Store:
    """Async access to one trustscan database. Open with `await Store.open(path, key)`."""

    def __init__(
        self, path: Path, master_key: bytes, db: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._key = master_key
        self._db_key = keys.database_key(master_key)
        self.unlink_timeout = UNLINK_TIMEOUT
        self._unlinking: list[_Unlink] = []
        self._unlink_task: asyncio.Task[None] | None = None
        self._db = db
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._queue: asyncio.Queue[_Op | None] = asyncio.Queue()
        self._secrets: dict[int, bytes] = {}
        # Write-through cache: every write goes through this store, so a cached session is
        # kept exactly in step with the database and reads skip a thread round trip.
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()
        self._by_response: dict[bytes, bytes] = {}
        self._writer_task: asyncio.Task[None] | None = None
        # The hot path (starts, answers, completions) gets its own thread and plain DB-API
        # connection so a whole batch costs one thread hop; aiosqlite costs one per statement.
        self._hot_thread = ThreadPoolExecutor(1, thread_name_prefix="trustscan-writer")
        self._hot: cipher.Connection

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | Path, master_key: bytes) -> Store:
        """Open (creating, encrypting and migrating as needed); refuse a wrong master key.

        A plaintext database made by trustscan before encryption is encrypted in place
        first (its plaintext file is overwritten and removed).
        """
        path = Path(path)
        db_key = keys.database_key(master_key)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, cls._prepare_file, path, db_key)
        db = await cls._connect(path, db_key)
        try:
            await cls._configure(db)
            migrated = await cls._migrate(db)
            await cls._check_key(db, master_key)
            if migrated:  # the migration rewrote rows; leave no old cell image behind
                await db.execute("VACUUM")
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a crash's leftover WAL
            reader = await cls._connect(path, db_key)
            await cls._configure(reader)
        except BaseException:
            await db.close()
            raise
        store = cls(path, master_key, db, reader)
        store._hot = await loop.run_in_executor(store._hot_thread, _connect_sync, path, db_key)
        store._writer_task = loop.create_task(store._writer())
        return store

    @staticmethod
    def _prepare_file(path: Path, db_key: bytes) -> None:
        cipher.private_file(path)
        if cipher.is_plaintext(path):
            cipher.encrypt_plaintext(path, db_key)
            cipher.private_file(path)

    @staticmethod
    async def _connect(path: Path, db_key: bytes) -> aiosqlite.Connection:
        return await aiosqlite.Connection(
            functools.partial(cipher.connect, path, db_key), iter_chunk_size=64
        )

    @staticmethod
    async def _configure(db: aiosqlite.Connection) -> None:
        for pragma in PRAGMAS:
            await db.execute(f"PRAGMA {pragma}")

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> bool:
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

    @staticmethod
    async def _check_key(db: aiosqlite.Connection, master_key: bytes) -> None:
        check = keys.key_check(master_key)
        rows = list(await db.execute_fetchall("SELECT value FROM meta WHERE name = 'key_check'"))
        if not rows:
            await db.execute("INSERT INTO meta VALUES ('key_check', ?)", (check,))
        elif rows[0][0] != check:
            raise MasterKeyError(
                "the master key does not belong to this database (was the key "
                "file replaced or TRUSTSCAN_KEY changed?)"
            )

    async def close(self) -> None:
        if self._writer_task is not None:
            await self._queue.put(None)
            await self._writer_task
            self._writer_task = None
            if self._unlink_task is not None:
                self._unlink_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._unlink_task
            for waiter in self._unlinking:  # nobody may be told "unlinked" on a guess
                self._settle(waiter, UnlinkPendingError("the store closed first"))
            self._unlinking.clear()
            await asyncio.get_running_loop().run_in_executor(self._hot_thread, self._hot.close)
            self._hot_thread.shutdown()
        await self._reader.close()
        with contextlib.suppress(cipher.Error):
            await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> Any:
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._reader.execute_fetchall(sql, params))

    # -- partnership -------------------------------------------------------------------

    async def sync_partnership(
        self, orgs: Iterable[tuple[str, str, int | None]], roles: Iterable[tuple[str, str, str]]
    ) -> None:
        """Make organisations and roles match the config (existing waves keep their ids)."""
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO organisations VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, headcount = excluded.headcount",
                list(orgs),
            )
            await db.executemany(
                "INSERT INTO roles VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "label_nl = excluded.label_nl, label_en = excluded.label_en",
                list(roles),
            )

    async def organisations(self) -> list[tuple[str, str, int | None]]:
        return [
            tuple(r)
            for r in await self._read(  # type: ignore[misc]
                "SELECT id, name, headcount FROM organisations ORDER BY id"
            )
        ]

    # -- waves -------------------------------------------------------------------------

    async def open_wave(
        self,
        survey: str,
        survey_version: int,
        orgs: Sequence[str],
        *,
        name: str | None = None,
        closes_on: str | None = None,
        opens_on: str | None = None,
    ) -> Wave:
        """Create a wave; it opens now unless `opens_on` lies in the future (then scheduled)."""
        if not orgs:
            raise StoreError("a wave needs at least one organisation")
        scheduled = opens_on is not None and opens_on > _today()
        if closes_on is not None and closes_on <= (opens_on or _today()):
            raise StoreError(f"the closing date {closes_on} must lie after the opening date")
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO surveys VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET "
                "version = excluded.version",
                (survey, survey_version),
            )
            count = (
                await (
                    await db.execute("SELECT count(*) FROM waves WHERE survey = ?", (survey,))
                ).fetchone()
            )[0]
            cursor = await db.execute(
                "INSERT INTO waves (survey, name, status, opens_on, closes_on, opened_at, salt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    survey,
                    name or f"{survey} {count + 1}",
                    "scheduled" if scheduled else "open",
                    opens_on,
                    closes_on,
                    None if scheduled else _now(),
                    None if scheduled else keys.new_salt(),
                ),
            )
            wave_id = cursor.lastrowid
            await db.executemany(
                "INSERT INTO wave_organisations VALUES (?, ?)", [(wave_id, org) for org in orgs]
            )
        return await self.wave(wave_id)  # type: ignore[arg-type]

    async def start_scheduled_wave(self, wave_id: int) -> Wave:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE waves SET status = 'open', opened_at = ?, salt = ? "
                "WHERE id = ? AND status = 'scheduled'",
                (_now(), keys.new_salt(), wave_id),
            )
            if cursor.rowcount != 1:
                raise UnknownWaveError(f"wave {wave_id} is not a scheduled wave")
        return await self.wave(wave_id)

    async def close_wave(self, wave_id: int) -> Wave:
        """Close: destroy the salt, delete sessions and unfinished responses, rebuild the file.

        The rebuild rewrites every table in key order, so no cell offset or page keeps the
        order in which this wave's responses were started or finished. Raises
        `UnlinkPendingError` (the wave *is* closed) if a reader keeps the WAL from being
        truncated within `unlink_timeout`; the store keeps trying in the background.
        """
        wave = await self.wave(wave_id)
        if wave.status == "closed":
            raise WaveClosedError(f"wave {wave_id} is already closed")
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM answers WHERE response IN (SELECT id FROM responses "
                "WHERE wave = ? AND complete = 0)",
                (wave_id,),
            )
            await db.execute("DELETE FROM responses WHERE wave = ? AND complete = 0", (wave_id,))
            await db.execute("DELETE FROM sessions WHERE wave = ?", (wave_id,))
            await db.execute(
                "UPDATE waves SET status = 'closed', closed_at = ?, salt = NULL WHERE id = ?",
                (_now(), wave_id),
            )
        self._secrets.pop(wave_id, None)
        for key in [k for k, v in self._sessions.items() if v.wave == wave_id]:
            self._forget(key)
        await self.rebuild()
        return await self.wave(wave_id)

    async def rebuild(self) -> None:
        """Rewrite the whole file (VACUUM) and truncate the WAL: no insertion order survives.

        Run at every close and nightly while a wave is open, so a copy taken with the key
        shows at most the day on which a response was written.
        """
        async with self._write_lock:
            await self._db.execute("VACUUM")
        await self._wait_unlinked()

    async def rebuild_daily(self, today: str) -> bool:
        """`rebuild` once per day while a wave is open; False if already done or nothing open.

        Restart-safe: the day of the last rebuild is kept in `meta`.
        """
        rows = await self._read(
            "SELECT (SELECT value FROM meta WHERE name = 'rebuilt_on'), "
            "EXISTS (SELECT 1 FROM waves WHERE status = 'open')"
        )
        last, any_open = rows[0]
        if not any_open or (last is not None and last >= today):
            return False
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO meta VALUES ('rebuilt_on', ?) ON CONFLICT (name) DO UPDATE "
                "SET value = excluded.value",
                (today,),
            )
        await self.rebuild()
        return True

    async def wave(self, wave_id: int) -> Wave:
        waves = await self._waves("WHERE id = ?", (wave_id,))
        if not waves:
            raise UnknownWaveError(f"there is no wave {wave_id}")
        return waves[0]

    async def waves(self, status: str | None = None, survey: str | None = None) -> list[Wave]:
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        if survey:
            clauses.append("survey = ?")
            params.append(survey)
        return await self._waves(("WHERE " + " AND ".join(clauses)) if clauses else "", params)

    async def _waves(self, where: str, params: Sequence[Any]) -> list[Wave]:
        rows = await self._read(
            "SELECT id, survey, name, status, opens_on, closes_on, opened_at, closed_at, "
            "(SELECT group_concat(org, ' ') FROM (SELECT org FROM wave_organisations "
            "WHERE wave = waves.id ORDER BY org)) FROM waves " + where + " ORDER BY id",
            params,
        )
        return [Wave(*r[:8], orgs=tuple((r[8] or "").split())) for r in rows]

    async def _wave_secret(self, wave_id: int) -> bytes:
        secret = self._secrets.get(wave_id)
        if secret is None:
            rows = await self._read("SELECT status, salt FROM waves WHERE id = ?", (wave_id,))
            if not rows:
                raise UnknownWaveError(f"there is no wave {wave_id}")
            status, salt = rows[0]
            if status != "open" or salt is None:
                raise WaveClosedError(f"wave {wave_id} is not open")
            secret = self._secrets[wave_id] = keys.wave_secret(self._key, salt)
        return secret

    async def response_counts(self, wave_id: int) -> list[OrgCount]:
        """Completed and in-progress responses per organisation of the wave."""
        rows = await self._read(
            "SELECT wo.org, coalesce(sum(r.complete = 1), 0), coalesce(sum(r.complete = 0), 0) "
            "FROM wave_organisations wo LEFT JOIN responses r ON r.wave = wo.wave "
            "AND r.org = wo.org WHERE wo.wave = ? GROUP BY wo.org ORDER BY wo.org",
            (wave_id,),
        )
        return [OrgCount(*r) for r in rows]

    async def completed_counts(self, wave_ids: Sequence[int]) -> list[GroupCount]:
        """Completed responses per (wave, org, role); counts, so show them with care."""
        if not wave_ids:
            return []
        marks = ",".join("?" * len(wave_ids))
        rows = await self._read(
            "SELECT wave, org, role, count(*) FROM responses WHERE complete = 1 "
            f"AND wave IN ({marks}) GROUP BY wave, org, role ORDER BY wave, org, role",
            list(wave_ids),
        )
        return [GroupCount(*r) for r in rows]

    async def daily_counts(self, wave_id: int) -> list[tuple[str, str, int, int]]:
        return [
            tuple(r)
            for r in await self._read(  # type: ignore[misc]
                "SELECT day, org, started, completed FROM daily_counts WHERE wave = ? "
                "ORDER BY day, org",
                (wave_id,),
            )
        ]

    # -- invitations -------------------------------------------------------------------

    async def invitation(self, token: str) -> Invitation | None:
        rows = await self._read(
            "SELECT token, org, role, wave FROM invitations WHERE token = ?", (token,)
        )
        return Invitation(*rows[0]) if rows else None

    async def invitations(self) -> list[Invitation]:
        rows = await self._read(
            "SELECT token, org, role, wave FROM invitations "
            "ORDER BY org, coalesce(role, ''), coalesce(wave, 0)"
        )
        return [Invitation(*r) for r in rows]

    async def ensure_invitation(
        self, org: str, role: str | None = None, wave: int | None = None
    ) -> Invitation:
        """The group link for (org, role, wave), created the first time it is asked for."""
        async with self._transaction() as db:
            row = await (
                await db.execute(
                    "SELECT token FROM invitations WHERE org = ? AND role IS ? AND wave IS ?",
                    (org, role, wave),
                )
            ).fetchone()
            if row:
                return Invitation(row[0], org, role, wave)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            await db.execute(
                "INSERT INTO invitations VALUES (?, ?, ?, ?, ?)", (token, org, role, wave, _now())
            )
        return Invitation(token, org, role, wave)

    # -- sessions and answers ----------------------------------------------------------

    async def session_key(self, wave_id: int, user_id: int) -> bytes:
        return keys.session_key(await self._wave_secret(wave_id), user_id)

    async def find_session(self, wave_id: int, user_id: int) -> Session | None:
        """The respondent's session in an open wave, with their answers; None if not started."""
        secret = await self._wave_secret(wave_id)
        key = keys.session_key(secret, user_id)
        cached = self._sessions.get(key)
        if cached is not None:
            self._sessions.move_to_end(key)
            return cached
        session = await self._load_session(key, wave_id, keys.seal_key(secret, user_id))
        return self._remember(session) if session is not None else None

    def _remember(self, session: Session) -> Session:
        self._forget(session.key)
        self._sessions[session.key] = session
        if session.response is not None:
            self._by_response[session.response] = session.key
        while len(self._sessions) > SESSION_CACHE:
            _, old = self._sessions.popitem(last=False)
            if old.response is not None:
                self._by_response.pop(old.response, None)
        return session

    def _forget(self, key: bytes) -> None:
        old = self._sessions.pop(key, None)
        if old is not None and old.response is not None:
            self._by_response.pop(old.response, None)

    def _after_commit(self, op: _Op) -> None:
        """Bring the cached session in step with what `op` just committed."""
        key = op.session_key or self._by_response.get(op.response)
        session = self._sessions.get(key) if key else None
        if session is None or key is None:
            return
        if op.kind == "complete":
            self._remember(Session(key, session.wave, "completed"))
            return
        touched = set(op.put) | set(op.drop)
        rows = [r for r in session.rows if (r[0], r[1]) not in touched]
        rows.extend((q, t, *row) for (q, t), item in op.put.items() for row in item)
        last = op.message_id if op.message_id is not None else session.last_message
        self._sessions[key] = dataclasses.replace(
            session, cursor=op.new_cursor, rows=tuple(rows), last_message=last
        )

    async def _load_session(self, key: bytes, wave_id: int, seal: bytes) -> Session | None:
        rows = await self._read(
            "SELECT s.completed, s.response, s.sealed, r.org, r.role, r.cursor FROM sessions s "
            "LEFT JOIN responses r ON r.id = s.response WHERE s.key = ?",
            (key,),
        )
        if not rows:
            return None
        completed, response, sealed, org, role, cursor = rows[0]
        if completed:
            return Session(key, wave_id, "completed")
        answers = await self._read(
            "SELECT question, target, part, value, text FROM answers WHERE response = ?",
            (response,),
        )
        lang, last_message = _unsealed_state(seal, sealed)
        return Session(
            key=key,
            wave=wave_id,
            status="in_progress",
            response=response,
            org=org,
            role=role,
            lang=lang,
            cursor=cursor,
            rows=tuple((a[0], a[1], a[2], a[3], a[4]) for a in answers),
            last_message=last_message,
            seal=seal,
        )

    async def begin(
        self, wave_id: int, user_id: int, org: str, role: str | None, lang: str
    ) -> Session:
        """Start a response, or return the existing session (resume / already completed).

        `lang` is kept only sealed under the person's own key (see `keys.seal`).
        """
        secret = await self._wave_secret(wave_id)
        key, seal = keys.session_key(secret, user_id), keys.seal_key(secret, user_id)
        existing = await self._load_session(key, wave_id, seal)
        if existing is not None:
            return existing
        op = _Op(
            "begin",
            secrets.token_bytes(16),
            0,
            session_key=key,
            begin=(wave_id, org, role),
            sealed=_sealed_state(seal, lang, None),
        )
        await self._submit(op)
        if op.created:
            return self._remember(
                Session(key, wave_id, "in_progress", op.response, org, role, lang, seal=seal)
            )
        session = await self._load_session(key, wave_id, seal)  # started concurrently elsewhere
        assert session is not None
        return session

    async def set_language(self, session: Session, lang: str) -> None:
        """Remember the language the person chose for this session (sealed)."""
        current = self._sessions.get(session.key) or session
        sealed = _sealed_state(session.seal, lang, current.last_message)
        async with self._transaction() as db:
            await db.execute(
                "UPDATE sessions SET sealed = ? WHERE key = ? AND completed = 0",
                (sealed, session.key),
            )
        cached = self._sessions.get(session.key)
        if cached is not None and not cached.completed:
            self._sessions[session.key] = dataclasses.replace(cached, lang=lang)

    async def save_step(
        self,
        session: Session,
        expected_cursor: int,
        new_cursor: int,
        put: Mapping[tuple[str, str], Sequence[ItemRows]] | None = None,
        drop: Sequence[tuple[str, str]] = (),
        message_id: int | None = None,
    ) -> None:
        """Durably record one step; raise `StaleStepError` if the cursor moved meanwhile.

        `put` replaces the rows of each (question, target) item; `drop` deletes items.
        A typed answer's `message_id` is remembered (sealed) so a redelivery is refused.
        """
        if session.response is None:
            raise StaleStepError("the response is complete or gone")
        await self._submit(
            _Op(
                "step",
                session.response,
                expected_cursor,
                new_cursor,
                put or {},
                drop,
                session_key=session.key,
                message_id=message_id,
                last_message=session.last_message,
                sealed=(
                    _sealed_state(session.seal, session.lang, message_id)
                    if message_id is not None
                    else None
                ),
            )
        )

    async def complete(
        self,
        session: Session,
        expected_cursor: int,
        comment_items: Sequence[tuple[str, str]] = (),
        drop: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Finish a response: unlink it from its session and its free text from it."""
        if session.response is None:
            raise StaleStepError("the response is already complete")
        await self._submit(
            _Op(
                "complete",
                session.response,
                expected_cursor,
                drop=drop,
                session_key=session.key,
                comment_items=comment_items,
            )
        )

    async def delete_in_progress(self, session: Session) -> bool:
        """Erase an unfinished response and its session (/delete); False if none."""
        if session.response is None:
            return False
        async with self._transaction() as db:
            await db.execute("DELETE FROM answers WHERE response = ?", (session.response,))
            cursor = await db.execute(
                "DELETE FROM responses WHERE id = ? AND complete = 0", (session.response,)
            )
            await db.execute("DELETE FROM sessions WHERE key = ? AND completed = 0", (session.key,))
            deleted = cursor.rowcount == 1
        self._forget(session.key)
        await self._wait_unlinked()
        return deleted

    async def has_completed(self, wave_id: int, user_id: int) -> bool:
        session = await self.find_session(wave_id, user_id)
        return session is not None and session.completed

    # -- group commit ------------------------------------------------------------------

    async def _submit(self, op: _Op) -> None:
        if self._writer_task is None or self._writer_task.done():
            raise StoreError("the store is closed")
        op.future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(op)
        await op.future

    async def _writer(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH and not self._queue.empty():
                op = self._queue.get_nowait()
                if op is None:
                    stop = True
                    break
                batch.append(op)
            loop = asyncio.get_running_loop()
            groups: set[tuple[int, str]] = set()
            async with self._write_lock:
                try:
                    failures = await loop.run_in_executor(
                        self._hot_thread, self._apply, batch, groups
                    )
                except Exception as exc:  # every waiter must hear of the failure
                    error = exc if isinstance(exc, StoreError) else StoreError(f"failed: {exc}")
                    failures = {id(op): error for op in batch}
            # Answers are durable at COMMIT: acknowledge them now. A completion is only
            # acknowledged once its comments are shuffled into place and the WAL no
            # longer holds the erased session link.
            completed = [op for op in batch if op.kind == "complete" and id(op) not in failures]
            self._resolve([op for op in batch if op not in completed], failures)
            if groups:
                async with self._write_lock:
                    await loop.run_in_executor(self._hot_thread, self._shuffle_comments, groups)
            if completed:
                deadline = time.monotonic() + self.unlink_timeout
                for op in completed:
                    assert op.future is not None
                    self._unlinking.append(_Unlink(deadline, op.future, op))
                await self._try_unlink()
            if stop:
                return

    def _resolve(self, ops: list[_Op], failures: Mapping[int, StoreError]) -> None:
        for op in ops:
            assert op.future is not None
            if op.future.done():
                continue
            if id(op) in failures:
                op.future.set_exception(failures[id(op)])
            else:
                if op.kind != "begin":
                    self._after_commit(op)
                op.future.set_result(None)

    # -- unlinking: the WAL must lose an erased link before anyone is told -------------

    async def _wait_unlinked(self) -> None:
        """Wait until the WAL is truncated; `UnlinkPendingError` after `unlink_timeout`."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unlinking.append(_Unlink(time.monotonic() + self.unlink_timeout, future))
        await self._try_unlink()
        await future

    async def _try_unlink(self) -> None:
        """One truncation attempt now; on failure a background task keeps retrying."""
        loop = asyncio.get_running_loop()
        async with self._write_lock:
            done = await loop.run_in_executor(self._hot_thread, self._truncate_wal)
        self._after_unlink_attempt(done)
        if self._unlinking and (self._unlink_task is None or self._unlink_task.done()):
            self._unlink_task = loop.create_task(self._retry_unlink())

    async def _retry_unlink(self) -> None:
        delay = 0.02
        loop = asyncio.get_running_loop()
        while self._unlinking:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            async with self._write_lock:
                done = await loop.run_in_executor(self._hot_thread, self._truncate_wal)
            self._after_unlink_attempt(done)
        # Those who gave up waiting were told so; the WAL is truncated by now all the same.

    def _after_unlink_attempt(self, done: bool) -> None:
        now = time.monotonic()
        keep: list[_Unlink] = []
        for waiter in self._unlinking:
            if done:
                self._settle(waiter, None)
            elif now >= waiter.deadline and not waiter.future.done():
                self._settle(
                    waiter,
                    UnlinkPendingError(
                        "another program is reading the database, so the erased link is "
                        "still in its write-ahead log; trustscan keeps clearing it"
                    ),
                )
                keep.append(_Unlink(float("inf"), waiter.future))  # retry on, tell nobody
            else:
                keep.append(waiter)
        self._unlinking = keep

    def _settle(self, waiter: _Unlink, error: StoreError | None) -> None:
        if waiter.future.done():
            return
        if waiter.op is not None:
            self._after_commit(waiter.op)  # committed either way: the cache must know
        if error is None:
            waiter.future.set_result(None)
        else:
            waiter.future.set_exception(error)

    def _truncate_wal(self) -> bool:
        """Checkpoint and truncate the WAL without waiting for readers (writer thread).

        With the busy timeout at 0 a reader holding the WAL makes this return False at
        once instead of stalling every respondent behind it; the caller retries.
        """
        db = self._hot
        db.execute("PRAGMA busy_timeout = 0")
        try:
            busy, log, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except cipher.Error:
            return False
        finally:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return busy == 0 and log == 0

    def _apply(self, batch: list[_Op], groups: set[tuple[int, str]]) -> dict[int, StoreError]:
        """Apply queued ops in one transaction (runs on the writer thread).

        Ops whose cursor check fails are refused; the others commit together with one
        fsync. `groups` receives the (wave, org) groups that got new comments: the writer
        shuffles those next, then truncates the WAL, before any completion is confirmed.
        """
        db = self._hot
        begins = [op for op in batch if op.kind == "begin"]
        batch = [op for op in batch if op.kind != "begin"]
        db.execute("BEGIN IMMEDIATE")
        try:
            failures = self._begin_all(begins) if begins else {}
            current = {
                r[0]: _ResponseState(cursor=r[1], complete=bool(r[2]), wave=r[3], org=r[4])
                for r in _select_in(
                    db,
                    "SELECT id, cursor, complete, wave, org FROM responses WHERE id IN",
                    list({op.response for op in batch}),
                )
            }
            items: dict[tuple[bytes, str, str], Sequence[ItemRows] | None] = {}
            cursors: dict[bytes, int] = {}
            messages: dict[bytes, int | None] = {}
            sealed: dict[bytes, bytes] = {}
            completions: list[_Op] = []
            completed: set[bytes] = set()
            for op in batch:
                state = current.get(op.response)
                cursor = cursors.get(op.response, state.cursor if state else -1)
                if state is None or state.complete or op.response in completed:
                    failures[id(op)] = StaleStepError("the response is complete or gone")
                    continue
                if cursor != op.expected_cursor:
                    failures[id(op)] = StaleStepError(
                        f"position {op.expected_cursor} is outdated (now {cursor})"
                    )
                    continue
                last = messages.get(op.response, op.last_message)
                if op.message_id is not None and last is not None and op.message_id <= last:
                    failures[id(op)] = StaleStepError("this message was already taken")
                    continue
                for item in op.drop:
                    items[(op.response, *item)] = None
                if op.kind == "step":
                    for item, rows in op.put.items():
                        items[(op.response, *item)] = rows
                    cursors[op.response] = op.new_cursor
                    if op.message_id is not None:
                        messages[op.response] = op.message_id
                        if op.sealed is not None:
                            sealed[op.session_key] = op.sealed
                else:
                    completions.append(op)
                    completed.add(op.response)
            # A single-row answer replaces its row in place; only multi-part answers (multi,
            # allocate) and dropped items need their old rows deleted first.
            clear = [k for k, rows in items.items() if not rows or len(rows) > 1 or rows[0][0]]
            if clear:
                db.executemany(
                    "DELETE FROM answers WHERE response = ? AND question = ? AND target = ?",
                    clear,
                )
            if items:
                db.executemany(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (r, q, t, part, value, text)
                        for (r, q, t), rows in items.items()
                        if rows
                        for part, value, text in rows
                    ],
                )
            if cursors:
                db.executemany(
                    "UPDATE responses SET cursor = ? WHERE id = ?",
                    [(c, r) for r, c in cursors.items()],
                )
            if sealed:
                db.executemany(
                    "UPDATE sessions SET sealed = ? WHERE key = ?",
                    [(blob, key) for key, blob in sealed.items()],
                )
            if completions:
                groups.update(self._complete_all(completions, current))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return failures

    def _begin_all(self, ops: list[_Op]) -> dict[int, StoreError]:
        """Create responses and sessions for new respondents of open waves."""
        db = self._hot
        waves = list({op.begin[0] for op in ops if op.begin})
        open_waves = {
            r[0]
            for r in _select_in(db, "SELECT id FROM waves WHERE status = 'open' AND id IN", waves)
        }
        taken = {
            r[0]
            for r in _select_in(
                db, "SELECT key FROM sessions WHERE key IN", list({op.session_key for op in ops})
            )
        }
        failures: dict[int, StoreError] = {}
        new: list[_Op] = []
        for op in ops:
            assert op.begin is not None
            if op.begin[0] not in open_waves:
                failures[id(op)] = WaveClosedError(f"wave {op.begin[0]} is not open")
            elif op.session_key not in taken:
                taken.add(op.session_key)
                op.created = True
                new.append(op)
        if new:
            today = _today()
            db.executemany(
                "INSERT INTO responses (id, wave, org, role) VALUES (?, ?, ?, ?)",
                [(op.response, *op.begin) for op in new if op.begin],
            )
            db.executemany(
                "INSERT INTO sessions (key, wave, response, sealed) VALUES (?, ?, ?, ?)",
                [(op.session_key, op.begin[0], op.response, op.sealed) for op in new if op.begin],
            )
            db.executemany(
                "INSERT INTO daily_counts (wave, org, day, started) VALUES (?, ?, ?, 1) "
                "ON CONFLICT DO UPDATE SET started = started + 1",
                [(op.begin[0], op.begin[1], today) for op in new if op.begin],
            )
        return failures

    def _complete_all(
        self, ops: list[_Op], current: Mapping[bytes, _ResponseState]
    ) -> set[tuple[int, str]]:
        """Unlink finished responses: fresh ids, free text moved to `comments`.

        Returns the (wave, org) groups that got comments, to be shuffled next.
        """
        db = self._hot
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
        db.executemany(
            "UPDATE sessions SET response = NULL, sealed = NULL, completed = 1 WHERE key = ?",
            [(op.session_key,) for op in ops],
        )
        today = _today()
        db.executemany(
            "INSERT INTO daily_counts (wave, org, day, completed) VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO UPDATE SET completed = completed + 1",
            [(current[op.response].wave, current[op.response].org, today) for op in ops],
        )
        return {
            (current[op.response].wave, current[op.response].org) for op in ops if op.comment_items
        }

    def _shuffle_comments(self, groups: set[tuple[int, str]]) -> None:
        """Rewrite the comments of each (wave, org) in random order with fresh random ids.

        SQLite places each new cell below the last one written, so a comment appended at
        completion sits on disk in step with the response finished in the same
        transaction. Rewriting the group's comments under fresh random ids, inserted in
        the order of those ids, leaves every comment's position random. Its own
        transaction, so the answers of the batch are acknowledged without waiting for it;
        the completions are confirmed only after it (and after the WAL truncation).
        """
        db = self._hot
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

    # -- contacts ----------------------------------------------------------------------

    async def set_contact(self, chat_id: int, org: str | None, lang: str) -> None:
        """Opt a chat in for reminders and new-wave invitations."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO contacts (chat_id, org, lang) VALUES (?, ?, ?) ON CONFLICT "
                "(chat_id) DO UPDATE SET org = coalesce(excluded.org, org), lang = excluded.lang,"
                " blocked = 0",
                (chat_id, org, lang),
            )

    async def remove_contact(self, chat_id: int) -> None:
        async with self._transaction() as db:
            await db.execute("DELETE FROM contacts WHERE chat_id = ?", (chat_id,))

    async def mark_blocked(self, chat_id: int) -> None:
        async with self._transaction() as db:
            await db.execute("UPDATE contacts SET blocked = 1 WHERE chat_id = ?", (chat_id,))

    async def contacts(self, org: str | None = None) -> list[Contact]:
        rows = await self._read(
            "SELECT chat_id, org, lang, blocked FROM contacts"
            + (" WHERE org = ?" if org else "")
            + " ORDER BY chat_id",
            (org,) if org else (),
        )
        return [Contact(r[0], r[1], r[2], bool(r[3])) for r in rows]

    async def mark_notified(self, wave_id: int, kind: str) -> bool:
        """Record that a notification round ran; False if it had already (restart-safe)."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO notifications_sent VALUES (?, ?)", (wave_id, kind)
            )
            return cursor.rowcount == 1

    # -- audit -------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, detail: str = "") -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                (_now(), actor, action, detail),
            )

    async def audit_entries(self, limit: int = 100) -> list[tuple[str, str, str, str]]:
        return [
            tuple(r)
            for r in await self._read(  # type: ignore[misc]
                "SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            )
        ]

    # -- analysis reads ----------------------------------------------------------------

    async def packed_answers(self, wave_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """Completed responses, one row each, with their answers packed by SQLite.

        Row: `(wave, org, role, keys, values, choices)`. `keys` joins one
        `question US target` per answer with RS (`target` is the option for allocate and
        multi parts), `values` the matching numbers with commas (`nan` for none), and
        `choices` the few `question US target US option` of choice answers. Packing in
        SQL keeps the fetch at one Python row per response instead of one per answer
        (millions at scale); ids, targets and options never contain control characters.
        The aggregates of one group see its rows in the same order, so the n-th key and
        the n-th value belong together (the loader checks the counts agree).
        Rows come in the order of the random response ids; the ids never leave SQLite.
        """
        if not wave_ids:
            return []
        marks = ",".join("?" * len(wave_ids))
        return list(
            await self._reader.execute_fetchall(
                "SELECT r.wave, r.org, r.role, "
                "group_concat(a.question || char(31) || "
                "CASE a.part WHEN '' THEN a.target ELSE a.part END, char(30)), "
                "group_concat(ifnull(a.value, 'nan'), ','), "
                "group_concat(CASE WHEN a.text IS NOT NULL THEN "
                "a.question || char(31) || a.target || char(31) || a.text END, char(30)) "
                "FROM responses r LEFT JOIN answers a ON a.response = r.id "
                # '+' keeps SQLite on the primary key: rows arrive grouped, no sort needed
                f"WHERE r.complete = 1 AND +r.wave IN ({marks}) GROUP BY r.id",
                list(wave_ids),
            )
        )

    async def comments(self, wave_ids: Sequence[int]) -> list[tuple[int, str, str, str, str]]:
        marks = ",".join("?" * len(wave_ids))
        return [
            tuple(r)
            for r in await self._read(  # type: ignore[misc]
                f"SELECT wave, org, question, target, text FROM comments WHERE wave IN ({marks})",
                list(wave_ids),
            )
        ]

    # -- maintenance -------------------------------------------------------------------

    async def backup(self, target: str | Path) -> None:
        """An encrypted, consistent copy (0600) that holds no link to an answer in progress.

        The copy is made from one read snapshot and written table by table in key order
        (`cipher.export`), then stripped of unfinished responses and of every session's
        pointer and sealed state, and rebuilt: restoring it means people who were midway
        start again, and nobody holding it with the master key can follow a session to
        an answer. Completed sessions stay so nobody answers twice after a restore.
        """
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target} already exists; choose a new file name")
        await asyncio.get_running_loop().run_in_executor(None, self._backup, target)

    def _backup(self, target: Path) -> None:
        source = _connect_sync(self.path, self._db_key)
        try:
            cipher.export(source, target, self._db_key)
        finally:
            source.close()
        db = _connect_sync(target, self._db_key)
        try:
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM answers WHERE response IN (SELECT id FROM responses "
                "WHERE complete = 0)"
            )
            db.execute("DELETE FROM responses WHERE complete = 0")
            db.execute("DELETE FROM sessions WHERE completed = 0")
            db.execute("UPDATE sessions SET response = NULL, sealed = NULL")
            db.execute("COMMIT")
            db.execute("VACUUM")
        finally:
            db.close()
        cipher.private_file(target)
