"""The one module that owns SQL: schema, migrations, and every query.

The tables follow the anonymity model of DESIGN §4:

* `sessions` are keyed by HMAC(wave secret, Telegram user id); the wave secret needs
  the master key (outside the database) and the wave's salt (inside, destroyed on
  close). A session points at its response only while the response is in progress.
* `responses`, `answers` and `comments` are `WITHOUT ROWID` tables keyed by random
  ids, with no timestamps; free text is moved to `comments`, unlinked, on completion.
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
import secrets
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from . import keys
from .errors import MasterKeyError, StaleStepError, StoreError, UnknownWaveError, WaveClosedError

AnswerRow = tuple[str, str, str, int | None, str | None]  # question, target, part, value, text
ItemRows = tuple[str, int | None, str | None]  # part, value, text
MAX_BATCH = 512
SESSION_CACHE = 4096  # sessions kept in memory (LRU); the database stays the truth
TOKEN_BYTES = 16  # 128 bits; 22 URL-safe characters, well inside the 64-char deep link limit

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
)
SCHEMA_VERSION = len(MIGRATIONS)
PRAGMAS = (
    "busy_timeout = 10000",
    "journal_mode = WAL",
    "synchronous = FULL",  # an acknowledged answer survives a power cut, not only a crash
    "secure_delete = ON",  # erased links are overwritten, not left in free pages
    "foreign_keys = ON",
)


def _connect_sync(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    return db


def _select_in(db: sqlite3.Connection, sql: str, values: list[Any]) -> list[tuple[Any, ...]]:
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
    begin: tuple[int, str, str | None, str] | None = None  # wave, org, role, lang
    message_id: int | None = None  # a typed answer's chat message: a redelivery is refused
    created: bool = False
    future: asyncio.Future[None] | None = None


class Store:
    """Async access to one trustscan database. Open with `await Store.open(path, key)`."""

    def __init__(
        self, path: Path, master_key: bytes, db: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._key = master_key
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
        # The hot path (starts, answers, completions) gets its own thread and plain sqlite3
        # connection so a whole batch costs one thread hop; aiosqlite costs one per statement.
        self._hot_thread = ThreadPoolExecutor(1, thread_name_prefix="trustscan-writer")
        self._hot: sqlite3.Connection

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | Path, master_key: bytes) -> Store:
        """Open (creating and migrating as needed) and check the master key matches."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await cls._configure(db)
            await cls._migrate(db)
            await cls._check_key(db, master_key)
            reader = await aiosqlite.connect(path, isolation_level=None)
            await cls._configure(reader)
        except BaseException:
            await db.close()
            raise
        store = cls(path, master_key, db, reader)
        store._hot = await asyncio.get_running_loop().run_in_executor(
            store._hot_thread, _connect_sync, path
        )
        store._writer_task = asyncio.get_running_loop().create_task(store._writer())
        return store

    @staticmethod
    async def _configure(db: aiosqlite.Connection) -> None:
        for pragma in PRAGMAS:
            await db.execute(f"PRAGMA {pragma}")

    @staticmethod
    async def _migrate(db: aiosqlite.Connection) -> None:
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
            await asyncio.get_running_loop().run_in_executor(self._hot_thread, self._hot.close)
            self._hot_thread.shutdown()
        await self._reader.close()
        with contextlib.suppress(sqlite3.Error):
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

    async def _checkpoint(self) -> None:
        """Fold the WAL into the database and truncate it, so no erased link survives there."""
        await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
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
        """Close: destroy the salt, delete sessions and unfinished responses, clean the WAL."""
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
        async with self._write_lock:
            await self._checkpoint()
        self._secrets.pop(wave_id, None)
        for key in [k for k, v in self._sessions.items() if v.wave == wave_id]:
            self._forget(key)
        return await self.wave(wave_id)

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
        key = await self.session_key(wave_id, user_id)
        cached = self._sessions.get(key)
        if cached is not None:
            self._sessions.move_to_end(key)
            return cached
        session = await self._load_session(key, wave_id)
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
        self._sessions[key] = dataclasses.replace(session, cursor=op.new_cursor, rows=tuple(rows))

    async def _load_session(self, key: bytes, wave_id: int) -> Session | None:
        rows = await self._read(
            "SELECT s.completed, s.response, s.lang, r.org, r.role, r.cursor FROM sessions s "
            "LEFT JOIN responses r ON r.id = s.response WHERE s.key = ?",
            (key,),
        )
        if not rows:
            return None
        completed, response, lang, org, role, cursor = rows[0]
        if completed:
            return Session(key, wave_id, "completed")
        answers = await self._read(
            "SELECT question, target, part, value, text FROM answers WHERE response = ?",
            (response,),
        )
        return Session(
            key,
            wave_id,
            "in_progress",
            response,
            org,
            role,
            lang,
            cursor,
            tuple(tuple(a) for a in answers),
        )  # type: ignore[misc]

    async def begin(
        self, wave_id: int, user_id: int, org: str, role: str | None, lang: str
    ) -> Session:
        """Start a response, or return the existing session (resume / already completed)."""
        key = await self.session_key(wave_id, user_id)
        existing = await self._load_session(key, wave_id)
        if existing is not None:
            return existing
        op = _Op(
            "begin", secrets.token_bytes(16), 0, session_key=key, begin=(wave_id, org, role, lang)
        )
        await self._submit(op)
        if op.created:
            return self._remember(
                Session(key, wave_id, "in_progress", op.response, org, role, lang, 0, ())
            )
        session = await self._load_session(key, wave_id)  # started concurrently elsewhere
        assert session is not None
        return session

    async def set_language(self, session: Session, lang: str) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE sessions SET lang = ? WHERE key = ? AND completed = 0", (lang, session.key)
            )
        cached = self._sessions.get(session.key)
        if cached is not None and not cached.completed:
            self._sessions[session.key] = dataclasses.replace(cached, lang=lang)

    async def save_step(
        self,
        response: bytes,
        expected_cursor: int,
        new_cursor: int,
        put: Mapping[tuple[str, str], Sequence[ItemRows]] | None = None,
        drop: Sequence[tuple[str, str]] = (),
        message_id: int | None = None,
    ) -> None:
        """Durably record one step; raise `StaleStepError` if the cursor moved meanwhile.

        `put` replaces the rows of each (question, target) item; `drop` deletes items.
        """
        await self._submit(
            _Op(
                "step",
                response,
                expected_cursor,
                new_cursor,
                put or {},
                drop,
                message_id=message_id,
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
        async with self._write_lock:
            await self._checkpoint()
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
            async with self._write_lock:
                try:
                    failures = await loop.run_in_executor(self._hot_thread, self._apply, batch)
                except Exception as exc:  # every waiter must hear of the failure
                    error = exc if isinstance(exc, StoreError) else StoreError(f"failed: {exc}")
                    failures = {id(op): error for op in batch}
                # Answers are durable at COMMIT: acknowledge them now. A completion is only
                # acknowledged once the WAL no longer holds the erased session link.
                completed = [op for op in batch if op.kind == "complete" and id(op) not in failures]
                self._resolve([op for op in batch if op not in completed], failures)
                if completed:
                    try:
                        await loop.run_in_executor(self._hot_thread, self._truncate_wal)
                    except sqlite3.Error as exc:
                        failures = {
                            id(op): StoreError(f"checkpoint failed: {exc}") for op in completed
                        }
                    self._resolve(completed, failures)
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

    def _truncate_wal(self) -> None:
        self._hot.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _apply(self, batch: list[_Op]) -> dict[int, StoreError]:
        """Apply queued ops in one transaction (runs on the writer thread).

        Ops whose cursor check fails are refused; the others commit together with one
        fsync. The writer then truncates the WAL if any completion was among them.
        """
        db = self._hot
        begins = [op for op in batch if op.kind == "begin"]
        batch = [op for op in batch if op.kind != "begin"]
        db.execute("BEGIN IMMEDIATE")
        try:
            failures = self._begin_all(begins) if begins else {}
            current: dict[bytes, tuple[int, int, int, str, int | None]] = {
                r[0]: (r[1], r[2], r[3], r[4], r[5])
                for r in _select_in(
                    db,
                    "SELECT id, cursor, complete, wave, org, last_message FROM responses "
                    "WHERE id IN",
                    list({op.response for op in batch}),
                )
            }
            items: dict[tuple[bytes, str, str], Sequence[ItemRows] | None] = {}
            cursors: dict[bytes, int] = {}
            messages: dict[bytes, int | None] = {}
            completions: list[_Op] = []
            completed: set[bytes] = set()
            for op in batch:
                state = current.get(op.response)
                cursor = cursors.get(op.response, state[0] if state else -1)
                if state is None or state[1] or op.response in completed:
                    failures[id(op)] = StaleStepError("the response is complete or gone")
                    continue
                if cursor != op.expected_cursor:
                    failures[id(op)] = StaleStepError(
                        f"position {op.expected_cursor} is outdated (now {cursor})"
                    )
                    continue
                last = messages.get(op.response, state[4])
                if op.message_id is not None and last is not None and op.message_id <= last:
                    failures[id(op)] = StaleStepError("this message was already taken")
                    continue
                for item in op.drop:
                    items[(op.response, *item)] = None
                if op.kind == "step":
                    for item, rows in op.put.items():
                        items[(op.response, *item)] = rows
                    cursors[op.response] = op.new_cursor
                    messages[op.response] = op.message_id if op.message_id is not None else last
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
                    "UPDATE responses SET cursor = ?, last_message = ? WHERE id = ?",
                    [(c, messages[r], r) for r, c in cursors.items()],
                )
            if completions:
                self._complete_all(completions, current)
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
        new: list[tuple[bytes, bytes, int, str, str | None, str]] = []
        for op in ops:
            assert op.begin is not None
            wave, org, role, lang = op.begin
            if wave not in open_waves:
                failures[id(op)] = WaveClosedError(f"wave {wave} is not open")
            elif op.session_key not in taken:
                taken.add(op.session_key)
                op.created = True
                new.append((op.response, op.session_key, wave, org, role, lang))
        if new:
            today = _today()
            db.executemany(
                "INSERT INTO responses (id, wave, org, role) VALUES (?, ?, ?, ?)",
                [(r, w, o, role) for r, _, w, o, role, _ in new],
            )
            db.executemany(
                "INSERT INTO sessions (key, wave, response, lang) VALUES (?, ?, ?, ?)",
                [(k, w, r, lang) for r, k, w, _, _, lang in new],
            )
            db.executemany(
                "INSERT INTO daily_counts (wave, org, day, started) VALUES (?, ?, ?, 1) "
                "ON CONFLICT DO UPDATE SET started = started + 1",
                [(w, o, today) for _, _, w, o, _, _ in new],
            )
        return failures

    def _complete_all(
        self, ops: list[_Op], current: Mapping[bytes, tuple[int, int, int, str, int | None]]
    ) -> None:
        db = self._hot
        comments = [(op.response, q, t) for op in ops for q, t in op.comment_items]
        if comments:
            db.executemany(
                "INSERT INTO comments SELECT randomblob(16), r.wave, r.org, a.question, "
                "a.target, a.text FROM answers a JOIN responses r ON r.id = a.response "
                "WHERE a.response = ? AND a.question = ? AND a.target = ? AND a.text IS NOT NULL",
                comments,
            )
            db.executemany(
                "DELETE FROM answers WHERE response = ? AND question = ? AND target = ?", comments
            )
        db.executemany(
            "UPDATE responses SET complete = 1, cursor = 0, last_message = NULL WHERE id = ?",
            [(op.response,) for op in ops],
        )
        db.executemany(
            "UPDATE sessions SET response = NULL, lang = NULL, completed = 1 WHERE key = ?",
            [(op.session_key,) for op in ops],
        )
        today = _today()
        db.executemany(
            "INSERT INTO daily_counts (wave, org, day, completed) VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO UPDATE SET completed = completed + 1",
            [(current[op.response][2], current[op.response][3], today) for op in ops],
        )

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
        """A consistent copy of the live database through SQLite's online backup API."""
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target} already exists; choose a new file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(target, check_same_thread=False)
        try:
            await self._reader.backup(dest)
        finally:
            dest.close()
