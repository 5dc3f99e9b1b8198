"""The database files as an attacker reads them (issue 8, findings 1–5 and 9).

Each test takes one attacker of DESIGN §4: a thief with a copy of the files, a key
holder who decrypts every page and WAL frame himself and reads cell offsets, someone
holding a backup taken mid-wave, a program holding a read transaction. SQL is used only
to learn what the attacker is trying to link, never to judge whether the link holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from surveys import flow, keys
from surveys.engine import Done, State
from surveys.errors import MasterKeyError, UnlinkPendingError
from surveys.store import RoleRow, Store, schema
from tests.anonymity import (
    PAGE,
    SALT,
    db_bytes,
    decrypted,
    keyed,
    located,
)
from tests.support.clock import CLOCK
from tests.surveys.test_store import KEY, ORGS, USER, questionnaire

FIXTURE = Path(__file__).parent / "data" / "plaintext-v1.db"
PEOPLE = 19  # allocations 5..95 in steps of 5 tell the people apart


async def take_part(
    store: Store, wave: int, user: int, clan: int, comment: str, complete: bool = True
) -> bytes:
    """Answer the mini survey with a distinctive allocation and comment; the first id."""
    q = questionnaire("north")
    session = await store.begin(wave, user, "north", "staff", "nl")
    state = flow.state_of(q, session)
    script = {"q1": 3, "p1": 3, "a1": (clan, 100 - clan), "t1": comment}
    while not isinstance(step := q.step(state), Done):
        change = q.answer(state, step.index, script[step.question.id])
        await flow.persist(store, q, session, state, change)
        state = change.state
    if complete:
        await flow.finish(store, q, await store.find_session(wave, user), state)
    assert session.response is not None
    return session.response


async def nineteen_people(store: Store, wave: int) -> list[str]:
    """Nineteen people finish one after another; their comments, in completion order."""
    comments = [f"comment number {i:02d} of a person" for i in range(PEOPLE)]
    for i, comment in enumerate(comments):
        await take_part(store, wave, USER + i, 5 * (i + 1), comment)
    return comments


def physical_rank(images: list[bytes], needles: list[bytes]) -> list[int]:
    """Each needle's rank in the order SQLite wrote it: later cells sit lower in a page.

    This is the attack of finding 1: in a page filled by appending, the cell content
    area grows downwards, so (page, −offset) sorts cells by the time they were written.
    """
    places = []
    for needle in needles:
        found = located(images, needle)
        assert len(found) == 1, f"{needle!r} found {len(found)} times"
        page, offset = found[0]
        places.append((page, -offset))
    order = sorted(range(len(needles)), key=lambda i: places[i])
    rank = [0] * len(needles)
    for position, index in enumerate(order):
        rank[index] = position
    return rank


def linked(rank: list[int]) -> int:
    """How many people 'the k-th written is the k-th to finish, give or take one' links.

    Give or take one, because freed cells are reused: a row rewritten at completion
    may trade places with its neighbour. For a random layout of 19 rows more than 10
    such links happen with probability 3e-5; an insertion-ordered layout gives 19.
    """
    return sum(1 for person, r in enumerate(rank) if abs(r - person) <= 1)


async def response_rows(path: Path) -> list[bytes]:
    """Each person's response row as it sits in the page, ordered like the people.

    The key holder learns which response is whose from its answers (the allocation
    identifies the person in this test); the row is id ‖ wave ‖ org in the record body.
    """
    with keyed(path, KEY) as db:
        rows = db.execute(
            "SELECT r.id, r.wave, a.value FROM responses r JOIN answers a ON a.response = r.id "
            "WHERE a.question = 'a1' AND a.part = 'clan'"
        ).fetchall()
    # SQLite stores the integers 0 and 1 in the record header alone (serial types 8, 9)
    by_person = {
        value // 5 - 1: rid + (bytes([wave]) if wave > 1 else b"") + b"north"
        for rid, wave, value in rows
    }
    return [by_person[i] for i in range(PEOPLE)]


# -- finding 9: microdata at rest ----------------------------------------------------------


async def test_a_copy_without_the_key_shows_no_schema_org_role_or_answer(tmp_path):
    """Without the key the files hold no SQLite header, schema, organisation, role or text."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await take_part(store, wave.id, USER, 40, "a very telling comment")
        await take_part(store, wave.id, USER + 1, 60, "another comment", complete=False)
        data = db_bytes(tmp_path / "t.db")
        for secret in (b"SQLite format 3", b"CREATE TABLE", b"north", b"staff", b"telling"):
            assert secret not in data
        # the same bytes are there for the key holder: the test reads real pages
        plain = decrypted(tmp_path / "t.db", KEY).everything
        for secret in (b"CREATE TABLE", b"north", b"staff", b"telling"):
            assert secret in plain
    finally:
        await store.close()


async def test_a_wrong_key_is_refused_and_the_file_left_untouched(tmp_path):
    """Another master key gets a clear MasterKeyError; not one byte of the files changes."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    wave = await store.open_wave("mini", 1, ORGS)
    await take_part(store, wave.id, USER, 40, "kept")
    await store.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    with pytest.raises(MasterKeyError, match=r"does not open the database.*untouched"):
        await Store.open(tmp_path / "t.db", bytes(32), clock=CLOCK)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert after == before


# -- migration from the plaintext store of earlier versions --------------------------------


async def test_a_plaintext_database_is_encrypted_on_first_open(tmp_path):
    """A database made by the plaintext trustscan is encrypted in place, nothing lost.

    The fixture was written by the store as it was before encryption: a closed wave of
    six and an open wave with three completed responses and one in progress (user 14).
    """
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as old:
        counts = {
            t: old.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("waves", "responses", "answers", "comments", "sessions")
        }
        comments = sorted(r[0] for r in old.execute("SELECT text FROM comments"))
    old.close()
    store = await Store.open(path, KEY, clock=CLOCK)
    try:
        assert not path.read_bytes().startswith(b"SQLite format 3")
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "old.db"]
        assert all(not n.endswith((".plaintext", ".encrypting")) for n in leftovers), leftovers
        for file in tmp_path.iterdir():
            assert b"SQLite format 3" not in file.read_bytes(), file.name
            assert b"comment of" not in file.read_bytes(), file.name
        with keyed(path, KEY) as db:
            version = db.execute("SELECT version FROM schema_version").fetchone()
            assert version == (schema.SCHEMA_VERSION,)
            now = {
                t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("waves", "responses", "answers", "comments", "sessions")
            }
            assert sorted(r[0] for r in db.execute("SELECT text FROM comments")) == comments
            columns = {r[1] for r in db.execute("PRAGMA table_info(sessions)")}
            assert "lang" not in columns
        assert now == counts
        # the person who was midway resumes with their answers
        session = await store.find_session(2, 14)
        assert session is not None and not session.completed
        assert flow.state_of(questionnaire(session.org or ""), session).cursor > 0
        assert len(await store.completed_responses([1])) == 6
        # the fixed nl/en label columns became labels in every language (schema 3)
        assert await store.roles() == [RoleRow("staff", {"nl": "Medewerker", "en": "Staff"})]
    finally:
        await store.close()


# -- finding 5: file modes ------------------------------------------------------------------


async def test_database_wal_shm_and_backups_are_private_whatever_the_umask(tmp_path):
    """With a permissive umask every file the store writes is still 0600."""
    old = os.umask(0o002)
    try:
        store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
        try:
            wave = await store.open_wave("mini", 1, ORGS)
            await take_part(store, wave.id, USER, 40, "kept", complete=False)
            await store.backup(tmp_path / "backups" / "copy.db")
            files = [p for p in tmp_path.rglob("*") if p.is_file()]
            assert {p.name for p in files} >= {"t.db", "t.db-wal", "t.db-shm", "copy.db"}
            for file in files:
                assert file.stat().st_mode & 0o777 == 0o600, file.name
        finally:
            await store.close()
    finally:
        os.umask(old)


async def test_an_existing_world_readable_database_is_made_private(tmp_path):
    """A file left 0644 by an older version is tightened to 0600 when opened."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    await store.close()
    os.chmod(tmp_path / "t.db", 0o644)
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    await store.close()
    assert (tmp_path / "t.db").stat().st_mode & 0o777 == 0o600


# -- finding 1: no order on disk --------------------------------------------------------------


async def test_comments_are_not_on_disk_in_completion_order_while_open(tmp_path):
    """Pairing the k-th comment with the k-th finisher fails while the wave is still open.

    Before the fix the comments' cell offsets followed completion order (19 of 19).
    With the group's comments rewritten shuffled, the guess links about three people
    by chance (see `linked`).
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        comments = await nineteen_people(store, wave.id)
        images = decrypted(tmp_path / "t.db", KEY).pages
        assert linked(physical_rank(images, [c.encode() for c in comments])) <= 10
    finally:
        await store.close()


async def test_after_closing_no_cell_offset_or_page_keeps_the_completion_order(tmp_path):
    """After close, responses and comments sit in random-key order, with no free pages."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        comments = await nineteen_people(store, wave.id)
        # while open the responses still sit in completion order (what a daily rebuild
        # and the close remove); the test would be empty if this were not so
        open_rank = physical_rank(
            decrypted(tmp_path / "t.db", KEY).pages, await response_rows(tmp_path / "t.db")
        )
        assert linked(open_rank) == PEOPLE
        await store.close_wave(wave.id)
        files = decrypted(tmp_path / "t.db", KEY)
        assert files.frames == []  # the WAL is empty
        rows = await response_rows(tmp_path / "t.db")
        assert linked(physical_rank(files.pages, rows)) <= 10
        assert linked(physical_rank(files.pages, [c.encode() for c in comments])) <= 10
        header = files.pages[0]
        assert int.from_bytes(header[36 - SALT : 40 - SALT], "big") == 0  # no free pages
        assert len(files.pages) * PAGE == (tmp_path / "t.db").stat().st_size
    finally:
        await store.close()


async def test_the_nightly_rebuild_erases_the_order_of_an_open_wave(tmp_path):
    """`rebuild()` while the wave is open leaves responses in random-key order."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await nineteen_people(store, wave.id)
        await store.rebuild()
        files = decrypted(tmp_path / "t.db", KEY)
        assert linked(physical_rank(files.pages, await response_rows(tmp_path / "t.db"))) <= 10
        assert (await store.find_session(wave.id, USER)).completed  # nothing else changed
    finally:
        await store.close()


# -- finding 2: completion re-keys; backups hold no links -----------------------------------


async def test_a_snapshot_taken_midway_cannot_follow_its_link_to_the_final_answers(tmp_path):
    """A copy of the files taken mid-survey names a response id that no longer exists.

    The key holder with the snapshot computes the person's session key, reads the
    response it points at, and looks for that id in the live files after completion:
    not in any page, not in any WAL frame.
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        first_id = await take_part(store, wave.id, USER, 40, "midway", complete=False)
        snapshot = tmp_path / "snapshot"
        snapshot.mkdir()
        for file in tmp_path.glob("t.db*"):
            shutil.copy(file, snapshot / file.name)
        with keyed(snapshot / "t.db", KEY) as db:
            (salt,) = db.execute("SELECT salt FROM waves").fetchone()
            key = keys.session_key(keys.wave_secret(KEY, salt), USER)
            [(pointer,)] = db.execute("SELECT response FROM sessions WHERE key = ?", (key,))
        assert pointer == first_id  # the snapshot does link the person midway
        session = await store.find_session(wave.id, USER)
        q = questionnaire("north")
        await flow.finish(store, q, session, flow.state_of(q, session))
        assert first_id not in decrypted(tmp_path / "t.db", KEY).everything
        assert first_id not in db_bytes(tmp_path / "t.db")
        with keyed(tmp_path / "t.db", KEY) as db:
            assert db.execute("SELECT complete FROM responses").fetchall() == [(1,)]
            assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 5
    finally:
        await store.close()


async def test_a_backup_of_an_open_wave_holds_no_session_link(tmp_path):
    """A backup taken midway, with the master key, links nobody to any answer.

    It keeps completed responses and the keys of those who finished (so nobody
    answers twice after a restore), but no unfinished response and no pointer.
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await take_part(store, wave.id, USER, 40, "finished")
        midway = await take_part(store, wave.id, USER + 1, 60, "midway", complete=False)
        await store.backup(tmp_path / "backup.db")
        with keyed(tmp_path / "backup.db", KEY) as db:
            (salt,) = db.execute("SELECT salt FROM waves").fetchone()
            secret = keys.wave_secret(KEY, salt)
            rows = db.execute("SELECT key, response, sealed, completed FROM sessions").fetchall()
            assert rows == [(keys.session_key(secret, USER), None, None, 1)]
            assert db.execute("SELECT complete FROM responses").fetchall() == [(1,)]
        plain = decrypted(tmp_path / "backup.db", KEY).everything
        assert midway not in plain and b"midway" not in plain
        assert b"finished" in plain  # the completed comment is kept
        assert b"north" not in (tmp_path / "backup.db").read_bytes()  # encrypted too
    finally:
        await store.close()


# -- finding 3: nothing beside a session joins with contacts ---------------------------------


async def test_sessions_and_responses_hold_no_language_or_message_id(tmp_path):
    """The language and last typed message live only sealed, readable with the Telegram id.

    Before the fix `sessions.lang` (joined with `contacts.lang` and `responses.org`)
    picked out the only English speaker of an organisation.
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await store.begin(wave.id, USER, "north", "staff", "en")
        await store.begin(wave.id, USER + 1, "north", "staff", "nl")
        with keyed(tmp_path / "t.db", KEY) as db:
            assert {r[1] for r in db.execute("PRAGMA table_info(sessions)")} == {
                "key",
                "wave",
                "response",
                "sealed",
                "completed",
            }
            assert {r[1] for r in db.execute("PRAGMA table_info(responses)")} == {
                "id",
                "wave",
                "org",
                "role",
                "cursor",
                "complete",
                "code",  # a restricted role's code hash, only while in progress
            }
            sealed = [r[0] for r in db.execute("SELECT sealed FROM sessions")]
        assert len({len(s) for s in sealed}) == 1  # same size whatever the language
        await store.close()
        store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
        assert (await store.find_session(wave.id, USER)).lang == "en"
        assert (await store.find_session(wave.id, USER + 1)).lang == "nl"
    finally:
        await store.close()


async def test_a_redelivered_typed_answer_is_refused_after_a_restart(tmp_path):
    """The sealed last message id still stops a re-sent chat message after a restart."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    wave = await store.open_wave("mini", 1, ORGS)
    q = questionnaire()
    session = await store.begin(wave.id, USER, "north", "staff", "nl")
    change = q.answer(State(), 0, 4)
    await flow.persist(store, q, session, State(), change, message_id=77)
    await store.close()
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        session = await store.find_session(wave.id, USER)
        assert session.last_message == 77
        state = flow.state_of(q, session)
        again = q.answer(state, state.cursor, 1)
        with pytest.raises(Exception, match="already taken"):
            await flow.persist(store, q, session, state, again, message_id=77)
    finally:
        await store.close()


# -- finding 4: "unlinked" is said only when it is true ---------------------------------------


def hold_the_wal(path: Path) -> sqlite3.Connection:
    """Another program with an open read transaction (a report, a database browser)."""
    reader = keyed(path, KEY)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM answers").fetchone()
    return reader


async def test_a_reader_holding_the_wal_delays_only_that_persons_confirmation(tmp_path):
    """The completion waits while a reader holds the WAL; others keep answering meanwhile.

    Before the fix the failed truncation was ignored and the person was told at once.
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await take_part(store, wave.id, USER, 40, "waiting", complete=False)
        session = await store.find_session(wave.id, USER)
        q = questionnaire()
        reader = hold_the_wal(tmp_path / "t.db")
        finishing = asyncio.create_task(flow.finish(store, q, session, flow.state_of(q, session)))
        await asyncio.sleep(0.3)
        assert not finishing.done()  # not told while the link may still be in the WAL
        other = await store.begin(wave.id, USER + 1, "south", "staff", "nl")
        change = q.answer(State(), 0, 2)
        await asyncio.wait_for(flow.persist(store, q, other, State(), change), 1.0)
        assert not finishing.done()
        reader.close()
        await asyncio.wait_for(finishing, 5.0)
        assert (tmp_path / "t.db-wal").stat().st_size == 0
        assert session.response not in decrypted(tmp_path / "t.db", KEY).everything
    finally:
        await store.close()


async def test_a_reader_that_never_lets_go_gets_an_honest_answer(tmp_path):
    """After the bound the person hears "pending", and the store truncates once it can."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    store.unlink_timeout = 0.3
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await take_part(store, wave.id, USER, 40, "waiting", complete=False)
        session = await store.find_session(wave.id, USER)
        q = questionnaire()
        reader = hold_the_wal(tmp_path / "t.db")
        with pytest.raises(UnlinkPendingError):
            await flow.finish(store, q, session, flow.state_of(q, session))
        assert (await store.find_session(wave.id, USER)).completed  # stored all the same
        reader.close()
        for _ in range(50):  # the background retry clears it without anyone asking
            if (tmp_path / "t.db-wal").stat().st_size == 0:
                break
            await asyncio.sleep(0.1)
        assert (tmp_path / "t.db-wal").stat().st_size == 0
        assert session.response not in decrypted(tmp_path / "t.db", KEY).everything
    finally:
        await store.close()


async def test_the_daily_rebuild_runs_once_a_day_and_only_while_a_wave_is_open(tmp_path):
    """The scheduler's nightly rebuild is restart-safe: once per day, never without need."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        assert not await store.rebuild_daily("2027-03-01")  # nothing open: nothing to hide
        wave = await store.open_wave("mini", 1, ORGS)
        assert await store.rebuild_daily("2027-03-01")
        assert not await store.rebuild_daily("2027-03-01")
        await store.close()
        store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
        assert not await store.rebuild_daily("2027-03-01")  # remembered across a restart
        assert await store.rebuild_daily("2027-03-02")
        await store.close_wave(wave.id)
        assert not await store.rebuild_daily("2027-03-03")
    finally:
        await store.close()
