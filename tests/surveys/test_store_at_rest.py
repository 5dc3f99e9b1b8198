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
    """Each released person's response row as it sits in the page, ordered like the people.

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
    return [by_person[i] for i in range(PEOPLE) if i in by_person]


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
                for t in ("waves", "responses", "answers", "comments")
            }
            # finished sessions became completion markers; the one midway stays till it returns
            now["sessions"] = sum(
                db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("sessions", "finished")
            )
            assert sorted(r[0] for r in db.execute("SELECT text FROM comments")) == comments
            columns = {r[1] for r in db.execute("PRAGMA table_info(sessions)")}
            assert "lang" not in columns
        assert now == counts
        # the person who was midway resumes with their answers, now in an encrypted draft
        session = await store.find_session(2, 14)
        assert session is not None and not session.completed
        assert flow.state_of(questionnaire(session.org or ""), session).cursor > 0
        with keyed(path, KEY) as db:
            assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM responses WHERE complete = 0").fetchone() == (
                0,
            )
            assert db.execute("SELECT count(*) FROM drafts").fetchone() == (1,)
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
        images = decrypted(tmp_path / "t.db", KEY).current
        released = [c.encode() for c in comments[:15]]  # three batches of five; four wait
        assert linked(physical_rank(images, released)) <= 8
    finally:
        await store.close()


async def test_after_closing_no_cell_offset_or_page_keeps_the_completion_order(tmp_path):
    """After close, responses and comments sit in random-key order, with no free pages."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        comments = await nineteen_people(store, wave.id)
        # while open, the four waiting for their batch sit in completion order, as the
        # attack reads it (harmless: nothing links them to anyone); the close must not
        # keep it, or the test would show nothing
        waiting = [c.encode() for c in comments[-4:]]
        assert physical_rank(decrypted(tmp_path / "t.db", KEY).current, waiting) == [0, 1, 2, 3]
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
    """A copy of the files taken mid-survey, with the master key and the Telegram id,
    finds nobody's draft and reads none of its answers; the finished response it could
    otherwise be matched with appears later with nothing of the draft.
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        draft = await take_part(store, wave.id, USER, 40, "midway", complete=False)
        snapshot = tmp_path / "snapshot"
        snapshot.mkdir()
        for file in tmp_path.glob("t.db*"):
            shutil.copy(file, snapshot / file.name)
        with keyed(snapshot / "t.db", KEY) as db:
            (salt,) = db.execute("SELECT salt FROM waves").fetchone()
            secret = keys.wave_secret(KEY, salt)
            assert db.execute("SELECT key FROM drafts").fetchall() == [(draft,)]
        midway = decrypted(snapshot / "t.db", KEY).everything
        for derived in (keys.session_key(secret, USER), keys.seal_key(secret, USER)):
            assert derived not in midway  # nothing found from the Telegram id
        assert b"midway" not in midway  # and nothing of the answers read
        session = await store.find_session(wave.id, USER)
        q = questionnaire("north")
        await flow.finish(store, q, session, flow.state_of(q, session))
        assert draft not in decrypted(tmp_path / "t.db", KEY).pages[0]
        with keyed(tmp_path / "t.db", KEY) as db:
            assert db.execute("SELECT count(*) FROM drafts").fetchone() == (0,)
            [(pending,)] = db.execute("SELECT content FROM pending").fetchall()
        assert "midway" in pending  # the finished answers: readable, and nobody's
    finally:
        await store.close()


async def test_a_backup_of_an_open_wave_holds_no_session_link(tmp_path):
    """A backup taken midway, with the master key, links nobody to any answer.

    It keeps drafts (unreadable without their secrets) and finished responses waiting
    for their batch (readable, unlinked), so a restore loses nothing acknowledged; no
    marker names anyone before a batch of k is released.
    """
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await take_part(store, wave.id, USER, 40, "finished")
        midway = await take_part(store, wave.id, USER + 1, 60, "midway", complete=False)
        await store.backup(tmp_path / "backup.db")
        with keyed(tmp_path / "backup.db", KEY) as db:
            assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
            assert db.execute("SELECT count(*) FROM finished").fetchone() == (0,)
            assert db.execute("SELECT key FROM drafts").fetchall() == [(midway,)]
            assert db.execute("SELECT count(*) FROM pending").fetchone() == (1,)
        plain = decrypted(tmp_path / "backup.db", KEY).everything
        assert b"midway" not in plain
        assert b"finished" in plain  # the finished comment is kept, waiting
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
        english = await store.begin(wave.id, USER, "north", "staff", "en")
        dutch = await store.begin(wave.id, USER + 1, "north", "staff", "nl")
        with keyed(tmp_path / "t.db", KEY) as db:
            assert {r[1] for r in db.execute("PRAGMA table_info(drafts)")} == {
                "key",
                "wave",
                "org",
                "sealed",  # role, position, language, last message, code: encrypted
            }
            sealed = [r[0] for r in db.execute("SELECT sealed FROM drafts")]
        assert len({len(s) for s in sealed}) == 1  # same size whatever the language
        await store.close()
        store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
        for session in (english, dutch):
            await store.recall(session.user, session.secret)
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
        await store.recall(USER, session.secret)  # the person's next press brings it back
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
    """/delete waits while a reader holds the WAL (the erased draft is still in it);
    others keep answering meanwhile. Before the fix the person was told at once."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        wave = await store.open_wave("mini", 1, ORGS)
        await take_part(store, wave.id, USER, 40, "waiting", complete=False)
        session = await store.find_session(wave.id, USER)
        q = questionnaire()
        reader = hold_the_wal(tmp_path / "t.db")
        deleting = asyncio.create_task(store.delete_in_progress(session))
        await asyncio.sleep(0.3)
        assert not deleting.done()  # not told while the draft may still be in the WAL
        other = await store.begin(wave.id, USER + 1, "south", "staff", "nl")
        change = q.answer(State(), 0, 2)
        await asyncio.wait_for(flow.persist(store, q, other, State(), change), 1.0)
        assert not deleting.done()
        reader.close()
        assert await asyncio.wait_for(deleting, 5.0)
        assert (tmp_path / "t.db-wal").stat().st_size == 0
        assert session.key not in decrypted(tmp_path / "t.db", KEY).everything
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
        reader = hold_the_wal(tmp_path / "t.db")
        with pytest.raises(UnlinkPendingError):
            await store.delete_in_progress(session)
        assert await store.find_session(wave.id, USER) is None  # erased all the same
        reader.close()
        for _ in range(50):  # the background retry clears it without anyone asking
            if (tmp_path / "t.db-wal").stat().st_size == 0:
                break
            await asyncio.sleep(0.1)
        assert (tmp_path / "t.db-wal").stat().st_size == 0
        assert session.key not in decrypted(tmp_path / "t.db", KEY).everything
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
