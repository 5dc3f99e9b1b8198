"""The store keeps the anonymity model of DESIGN §4 and loses no acknowledged answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest

from surveys import flow, keys
from surveys.engine import Done, Partner, Questionnaire, Respondent, State
from surveys.errors import MasterKeyError, StaleStepError, StoreError, WaveClosedError
from surveys.keys import session_key
from surveys.loader import parse_survey
from surveys.store import RoleRow, Store
from tests.anonymity import db_bytes, decrypted, id_forms, keyed
from tests.support.clock import CLOCK, ZONE, FrozenClock

KEY = bytes(range(32))
USER = 5_123_456_789  # distinctive, larger than 32 bits like real Telegram ids
ORGS = ("north", "south", "east")
PARTNERS = tuple(Partner(o, o.title()) for o in ORGS)

SURVEY = parse_survey(
    """
id = "mini"
languages = ["nl", "en"]
title = { nl = "Mini", en = "Mini" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4", "5"] }
dont_know = true

[[questions]]
id = "q1"
type = "likert"
scale = "agree5"
text = { nl = "Vraag 1", en = "Question 1" }

[[questions]]
id = "p1"
type = "likert"
scale = "agree5"
per_partner = true
text = { nl = "Vertrouw je {partner}?", en = "Do you trust {partner}?" }

[[questions]]
id = "a1"
type = "allocate"
total = 100
options = [
  { value = "clan", label = { nl = "Familie", en = "Clan" } },
  { value = "market", label = { nl = "Markt", en = "Market" } },
]
text = { nl = "Verdeel", en = "Divide" }

[[questions]]
id = "t1"
type = "text"
max_length = 200
text = { nl = "Opmerking?", en = "Comment?" }
""",
    "mini.toml",
)
COMMENT = "Unique comment text 7f3a"
SCRIPT = {"q1": 4, "p1": 2, "a1": (70, 30), "t1": COMMENT}


def near(data: bytes, a: bytes, b: bytes, distance: int = 256) -> bool:
    """Whether `b` occurs within `distance` bytes of an occurrence of `a` (same record)."""
    start = data.find(a)
    while start != -1:
        if b in data[max(0, start - distance) : start + len(a) + distance]:
            return True
        start = data.find(a, start + 1)
    return False


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    yield s
    await s.close()


def questionnaire(org: str = "north") -> Questionnaire:
    return Questionnaire(SURVEY, Respondent(org, "staff", "nl", PARTNERS))


async def answer_all(
    store: Store, wave: int, user: int, org: str = "north", complete: bool = True
) -> None:
    """Take the survey like an adapter does: load, act, persist, until done."""
    q = questionnaire(org)
    session = await store.begin(wave, user, org, "staff", "nl")
    state = flow.state_of(q, session)
    while not isinstance(step := q.step(state), Done):
        change = q.answer(state, step.index, SCRIPT[step.question.id])
        await flow.persist(store, q, session, state, change)
        state = change.state
    if complete:
        session = await store.find_session(wave, user)
        await flow.finish(store, q, session, flow.state_of(q, session))


async def test_completed_respondent_id_is_nowhere_in_the_database(store, tmp_path):
    """After completion the Telegram id appears in no form in the database, WAL or shm."""
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER)
    data = db_bytes(tmp_path / "t.db") + decrypted(tmp_path / "t.db", KEY).everything
    for form in id_forms(USER):
        assert form not in data


async def test_an_unfinished_response_is_unreadable_with_the_master_key(store, tmp_path):
    """A draft is keyed and encrypted under the session secret, which the files never hold.

    With the master key every page of the file and the WAL decrypts, yet neither the
    comment typed midway nor anything derived from the Telegram id is found there.
    """
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER, complete=False)
    session = await store.find_session(wave.id, USER)
    plain = decrypted(tmp_path / "t.db", KEY).everything
    assert COMMENT.encode() not in plain and session.key in plain
    assert session.secret not in plain and keys.draft_cipher(session.secret) not in plain
    with keyed(tmp_path / "t.db", KEY) as db:
        (salt,) = db.execute("SELECT salt FROM waves").fetchone()
        rows = db.execute("SELECT key, org FROM drafts").fetchall()
        assert db.execute("SELECT count(*) FROM responses").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
    assert rows == [(session.key, "north")]  # only what the counts need is in the clear
    wave_secret = keys.wave_secret(KEY, salt)
    for derived in (keys.session_key(wave_secret, USER), keys.seal_key(wave_secret, USER)):
        assert derived not in plain  # nothing of it is found from a Telegram id


async def test_a_completion_waits_unlinked_and_k_are_released_together(store, tmp_path):
    """A finished response waits in `pending` with nothing of its author; when its group
    reaches k, all k appear at once with the markers of exactly those k people."""
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER)
    with keyed(tmp_path / "t.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM drafts").fetchone() == (0,)
        assert db.execute("SELECT wave, org, role FROM pending").fetchall() == [
            (wave.id, "north", "staff")
        ]
        assert db.execute("SELECT count(*) FROM finished").fetchone() == (0,)  # no marker
        assert db.execute("SELECT count(*) FROM responses").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM comments").fetchone() == (0,)
    assert await store.has_completed(wave.id, USER)  # this process knows, the file does not
    assert await store.completed_responses([wave.id]) == []
    for other in range(1, store.min_group_size - 1):
        await answer_all(store, wave.id, USER + other)
    await answer_all(store, wave.id, USER + 100, org="south")  # another group: no help
    with keyed(tmp_path / "t.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM responses").fetchone() == (0,)
    await answer_all(store, wave.id, USER + store.min_group_size - 1)  # the k-th
    with keyed(tmp_path / "t.db", KEY) as db:
        (salt,) = db.execute("SELECT salt FROM waves").fetchone()
        released = db.execute("SELECT org FROM responses WHERE complete = 1").fetchall()
        markers = {m for (m,) in db.execute("SELECT marker FROM finished")}
        assert db.execute("SELECT org FROM pending").fetchall() == [("south",)]
        comment_cols = [r[1] for r in db.execute("PRAGMA table_info(comments)")]
        assert "response" not in comment_cols
        assert db.execute("SELECT count(*) FROM comments").fetchone() == (store.min_group_size,)
    assert released == [("north",)] * store.min_group_size
    secret = keys.wave_secret(KEY, salt)
    north = [USER + i for i in range(store.min_group_size)]
    assert markers == {keys.completion_marker(secret, u) for u in north}
    assert len(await store.completed_responses([wave.id])) == store.min_group_size


async def test_closing_a_wave_destroys_salt_and_sessions(store, tmp_path):
    """The close releases what waits naming nobody, and erases salt, markers and drafts."""
    wave = await store.open_wave("mini", 1, ORGS)
    for other in range(store.min_group_size):
        await answer_all(store, wave.id, USER + 10 + other, org="east")  # released: markers
    await answer_all(store, wave.id, USER)  # waits
    await answer_all(store, wave.id, USER + 1, complete=False)
    with keyed(tmp_path / "t.db", KEY) as db:
        (salt,) = db.execute("SELECT salt FROM waves WHERE id = ?", (wave.id,)).fetchone()
        markers = [m for (m,) in db.execute("SELECT marker FROM finished")]
        assert len(markers) == store.min_group_size
    await store.close_wave(wave.id)
    data = decrypted(tmp_path / "t.db", KEY).everything
    assert salt not in data
    for marker in markers:
        assert marker not in data
    with keyed(tmp_path / "t.db", KEY) as db:
        for table in ("sessions", "drafts", "draft_items", "pending", "finished"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        # the unfinished response is gone; the finished ones are all released, unlinked
        assert db.execute("SELECT org, complete FROM responses ORDER BY org").fetchall() == [
            *[("east", 1)] * store.min_group_size,
            ("north", 1),
        ]
    with pytest.raises(WaveClosedError):
        await store.find_session(wave.id, USER)


async def test_database_alone_links_no_answer_in_progress(store, tmp_path):
    """Without the master key, nothing in the file connects a user id to their session.

    Even an attacker who could decrypt the pages without the master key (a leaked
    database key) finds only the salt and HMAC keys, which need the master key.
    """
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER, complete=False)
    data = db_bytes(tmp_path / "t.db") + decrypted(tmp_path / "t.db", KEY).everything
    assert KEY not in data and KEY.hex().encode() not in data
    with keyed(tmp_path / "t.db", KEY) as db:
        (salt,) = db.execute("SELECT salt FROM waves").fetchone()
        stored = {r[0] for r in db.execute("SELECT key FROM drafts")}
    # an attacker with the file guesses the derivation without the key: no match
    for guess in (salt, hashlib.sha256(salt).digest(), b""):
        assert session_key(guess, USER) not in stored
        assert hmac.new(salt, str(USER).encode(), hashlib.sha256).digest() not in stored
    for form in id_forms(USER):
        assert form not in data


async def test_second_start_in_the_same_wave_resumes(store):
    """Starting again in the same wave returns the same response, with its answers."""
    wave = await store.open_wave("mini", 1, ORGS)
    first = await store.begin(wave.id, USER, "north", "staff", "nl")
    q = questionnaire()
    change = q.answer(State(), 0, 5)
    await flow.persist(store, q, first, State(), change)
    again = await store.begin(wave.id, USER, "south", "manager", "en")
    assert again.response == first.response
    assert again.org == "north" and again.cursor == 1
    assert flow.state_of(q, again).answers == {"q1": 5}
    counts = {c.org: c.in_progress for c in await store.response_counts(wave.id)}
    assert counts == {"east": 0, "north": 1, "south": 0}


async def test_a_completed_person_cannot_start_again(store):
    """A second start after completion reports 'completed' and creates no response."""
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER)
    again = await store.begin(wave.id, USER, "north", "staff", "nl")
    assert again.completed and again.response is None
    assert [c.completed for c in await store.response_counts(wave.id)] == [0, 1, 0]
    assert await store.has_completed(wave.id, USER)
    assert not await store.has_completed(wave.id, USER + 1)


async def test_resume_after_reopening_the_database(tmp_path):
    """Answers and position survive closing and reopening the database."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    wave = await store.open_wave("mini", 1, ORGS)
    session = await store.begin(wave.id, USER, "north", "staff", "nl")
    q = questionnaire()
    state = State()
    for value in (3, 4):
        change = q.answer(state, state.cursor, value)
        await flow.persist(store, q, session, state, change)
        state = change.state
    await store.close()
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        # the database alone cannot say whose draft it is: the person's next press can
        assert await store.find_session(wave.id, USER) is None
        await store.recall(USER + 1, keys.new_session_secret())  # a made-up secret: nothing
        assert await store.find_session(wave.id, USER + 1) is None
        await store.recall(USER, session.secret)
        session = await store.find_session(wave.id, USER)
        resumed = flow.state_of(q, session)
        assert resumed == state
        assert q.step(resumed).text == "Vertrouw je East?"
    finally:
        await store.close()


async def test_outdated_and_duplicate_steps_store_nothing(store):
    """A step for an old position (double tap, old message) raises and changes nothing."""
    wave = await store.open_wave("mini", 1, ORGS)
    session = await store.begin(wave.id, USER, "north", "staff", "nl")
    q = questionnaire()
    change = q.answer(State(), 0, 2)
    other = q.answer(State(), 0, 5)
    results = await asyncio.gather(
        flow.persist(store, q, session, State(), change),
        flow.persist(store, q, session, State(), other),
        return_exceptions=True,
    )
    assert results[0] is None and isinstance(results[1], StaleStepError)
    stored = flow.state_of(q, await store.find_session(wave.id, USER))
    assert stored.answers == {"q1": 2} and stored.cursor == 1


async def test_two_hundred_concurrent_respondents_lose_nothing(store, tmp_path):
    """200 respondents answering at once: every answer and completion is stored exactly once."""
    wave = await store.open_wave("mini", 1, ORGS)
    users = [USER + i for i in range(200)]
    await asyncio.gather(*(answer_all(store, wave.id, u, ORGS[i % 3]) for i, u in enumerate(users)))
    await store.close_wave(wave.id)  # what still waits for k is released at the close
    with keyed(tmp_path / "t.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM responses WHERE complete = 1").fetchone() == (200,)
        # q1 + two partners + two allocate parts per response
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (200 * 5,)
        assert db.execute("SELECT count(*) FROM comments").fetchone() == (200,)
        assert db.execute("SELECT sum(value) FROM answers WHERE question = 'a1'").fetchone() == (
            200 * 100,
        )
    counts = {c.org: c.completed for c in await store.response_counts(wave.id)}
    assert counts == {"north": 67, "south": 67, "east": 66}


async def test_responses_carry_no_timestamps_and_random_order(store, tmp_path):
    """Answer-holding tables are WITHOUT ROWID, keyed by random ids, with no time column."""
    with keyed(tmp_path / "t.db", KEY) as db:
        for table in (
            "responses",
            "answers",
            "comments",
            "drafts",
            "draft_items",
            "pending",
            "finished",
        ):
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            assert "WITHOUT ROWID" in sql[0]
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            assert not columns & {"created_at", "at", "time", "timestamp", "updated_at", "day"}
            assert not columns & {"user_id", "chat_id", "username", "name"}


async def test_delete_erases_an_answer_in_progress(store, tmp_path):
    """/delete removes the unfinished response, its answers and its session."""
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER, complete=False)
    session = await store.find_session(wave.id, USER)
    assert await store.delete_in_progress(session)
    assert await store.find_session(wave.id, USER) is None
    with keyed(tmp_path / "t.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM drafts").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM draft_items").fetchone() == (0,)
    assert session.key not in decrypted(tmp_path / "t.db", KEY).everything


async def test_a_wrong_master_key_is_refused(tmp_path):
    """Opening a database with another key fails loudly instead of orphaning sessions."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    await store.close()
    with pytest.raises(MasterKeyError):
        await Store.open(tmp_path / "t.db", bytes(32), clock=CLOCK)


async def test_a_newer_schema_is_refused(tmp_path):
    """A database written by a newer trustscan is not silently downgraded."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    await store.close()
    with keyed(tmp_path / "t.db", KEY) as db:
        db.execute("UPDATE schema_version SET version = 99")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with pytest.raises(StoreError, match="newer"):
        await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)


async def test_nobody_starts_in_a_closed_wave(store):
    """begin() in a closed wave raises WaveClosedError."""
    wave = await store.open_wave("mini", 1, ORGS)
    await store.close_wave(wave.id)
    with pytest.raises(WaveClosedError):
        await store.begin(wave.id, USER, "north", "staff", "nl")


async def test_daily_counts_are_aggregated_per_organisation(store):
    """Progress over time is kept per organisation and day, never per response."""
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER)
    await answer_all(store, wave.id, USER + 1, complete=False)
    [(_day, org, started, completed)] = await store.daily_counts(wave.id)
    assert (org, started, completed) == ("north", 2, 1)


async def test_the_store_counts_local_days_of_the_partnerships_clock(tmp_path):
    """Half an hour after midnight in Amsterdam (still yesterday in UTC) it is the new day
    for the store as for the bot: a wave dated today opens, and today's counts grow."""
    clock = FrozenClock(dt.datetime(2026, 12, 3, 0, 30, tzinfo=ZONE))
    async with await Store.open(tmp_path / "t.db", KEY, clock=clock) as store:
        wave = await store.open_wave("mini", 1, ORGS, opens_on="2026-12-03")
        assert wave.status == "open"
        later = await store.open_wave("mini", 1, ORGS, opens_on="2026-12-04")
        assert later.status == "scheduled"
        with pytest.raises(StoreError, match="closing date"):
            await store.open_wave("mini", 1, ORGS, closes_on="2026-12-03")
        await answer_all(store, wave.id, USER)
        clock.set("2026-12-04", hour=0)
        await answer_all(store, wave.id, USER + 1)
        counts = await store.daily_counts(wave.id)
        assert [(c.day, c.started, c.completed) for c in counts] == [
            ("2026-12-03", 1, 1),
            ("2026-12-04", 1, 1),
        ]
        [opened] = [w for w in await store.waves() if w.id == wave.id]
        assert opened.opened_at == "2026-12-02T23:30:00+00:00"  # stamps are kept in UTC


async def test_backup_is_a_consistent_copy(store, tmp_path):
    """backup() copies a live database, answers included (waiting ones and drafts too:
    a restore loses nothing acknowledged); it refuses to overwrite."""
    wave = await store.open_wave("mini", 1, ORGS)
    for other in range(store.min_group_size + 1):
        await answer_all(store, wave.id, USER + other)
    await answer_all(store, wave.id, USER + 99, complete=False)
    await store.backup(tmp_path / "copy.db")
    with keyed(tmp_path / "copy.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM responses WHERE complete = 1").fetchone() == (
            store.min_group_size,
        )
        assert db.execute("SELECT count(*) FROM pending").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM drafts").fetchone() == (1,)
    with pytest.raises(StoreError):
        await store.backup(tmp_path / "copy.db")


async def test_invitation_tokens_are_long_random_and_stable(store):
    """Group tokens have at least 96 bits, fit a deep link, and are reused per group."""
    a = await store.ensure_invitation("north")
    b = await store.ensure_invitation("north")
    c = await store.ensure_invitation("north", "manager")
    assert a == b and a.token != c.token
    assert len(a.token) >= 16 and len(a.token) <= 64
    assert set(a.token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert await store.invitation(a.token) == a


def test_the_facade_offers_every_method_callers_use():
    """Every `store.<name>(` called in bot/, trustscan/, analysis/ or benchmarks/ exists."""
    import inspect
    import re

    root = Path(__file__).resolve().parents[2]
    called = {
        name
        for folder in ("bot", "trustscan", "analysis", "benchmarks")
        for path in (root / folder).rglob("*.py")
        for name in re.findall(r"\b[sS]tore\.([a-z]\w*)\(", path.read_text(encoding="utf-8"))
    }
    assert {"open", "begin", "save_step", "complete", "close_wave", "backup"} <= called
    missing = sorted(n for n in called if not callable(getattr(Store, n, None)))
    assert missing == []
    # a classmethod; a keyed hash and a secret in memory, which touch no file
    pure = {"open", "code_token", "consent_secret"}
    assert all(inspect.iscoroutinefunction(getattr(Store, n)) or n in pure for n in called)


def test_the_row_types_are_importable_from_the_store():
    """Callers keep importing the row types from `surveys.store`."""
    import surveys.store as package

    for name in [
        "Wave",
        "Invitation",
        "Session",
        "Contact",
        "OrgCount",
        "GroupCount",
        "ItemRow",
        "AnswerRow",
        "OrganisationRow",
        "DailyCount",
        "AuditEntry",
        "Comment",
        "CompletedResponse",
        "AnswerColumns",
    ]:
        assert hasattr(package, name), name


async def test_reads_hand_out_typed_rows(store):
    """Counts, audit entries, comments, organisations and session rows have named fields."""
    labels = {"nl": "Staf", "en": "Staff", "de": "Mitarbeitende"}
    await store.sync_partnership([("north", "North", 12)], [RoleRow("staff", labels)])
    assert [o.headcount for o in await store.organisations()] == [12]
    assert await store.roles() == [RoleRow("staff", labels)]  # every language, not nl/en
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER, complete=False)
    session = await store.find_session(wave.id, USER)
    assert {(r.question, r.part) for r in session.rows} >= {("q1", ""), ("a1", "clan")}
    assert session.answers_by_item()[("q1", "")] == [(("", 4, None))]
    await flow.finish(store, questionnaire(), session, flow.state_of(questionnaire(), session))
    await store.close_wave(wave.id)  # released (alone in its group: at the close)
    [day] = await store.daily_counts(wave.id)
    assert (day.org, day.started, day.completed) == ("north", 1, 1)
    [comment] = await store.comments([wave.id])
    assert (comment.question, comment.text) == ("t1", COMMENT)
    await store.audit("test", "look", "here")
    [entry] = await store.audit_entries()
    assert (entry.actor, entry.action, entry.detail) == ("test", "look", "here")
    [who] = await store.completed_responses([wave.id])
    assert (who.wave, who.org, who.role) == (wave.id, "north", "staff") and who.answers > 0


async def test_a_response_completed_without_any_answer_still_loads(store):
    """All questions skipped: the completed response counts and the read protocol holds."""
    wave = await store.open_wave("mini", 1, ORGS)
    await answer_all(store, wave.id, USER)  # one with answers beside it
    session = await store.begin(wave.id, USER + 1, "south", "staff", "nl")
    await store.complete(session, 0)
    await store.close_wave(wave.id)
    responses = await store.completed_responses([wave.id])
    assert sorted(r.org for r in responses) == ["north", "south"]
    columns = await store.answer_columns([wave.id])
    assert columns.responses == 2 and len(columns.value) == 5  # only the first one's answers


async def test_after_a_restart_only_a_waiting_completion_can_be_given_again(tmp_path):
    """The bound of docs/anonymity.md, "What it costs": who gave a response still waiting
    for its batch is known to the running store alone. After a restart those people (never
    more than k − 1 of a group) could answer once more; whoever was released with a batch
    cannot, and nobody can while the store runs."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    wave = await store.open_wave("mini", 1, ORGS)
    released = [USER + i for i in range(store.min_group_size)]
    for user in released:
        await answer_all(store, wave.id, user)
    await answer_all(store, wave.id, USER + 100, org="south")  # waits: alone in its group
    assert (await store.begin(wave.id, USER + 100, "south", "staff", "nl")).completed
    await store.close()
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        with keyed(tmp_path / "t.db", KEY) as db:  # a command opening the store releases nothing
            assert db.execute("SELECT org FROM pending").fetchall() == [("south",)]
        assert await store.release_left_waiting() == 1  # the bot's start: naming nobody
        with keyed(tmp_path / "t.db", KEY) as db:
            assert db.execute("SELECT count(*) FROM pending").fetchone() == (0,)
            assert db.execute("SELECT org FROM responses WHERE org = 'south'").fetchall() == [
                ("south",)
            ]
            assert db.execute("SELECT count(*) FROM finished").fetchone() == (store.min_group_size,)
        for user in released:
            assert (await store.begin(wave.id, user, "north", "staff", "nl")).completed
        again = await store.begin(wave.id, USER + 100, "south", "staff", "nl")
        assert not again.completed  # the bound: one more response is possible
        assert [(c.org, c.completed) for c in await store.completed_counts([wave.id])] == [
            ("north", store.min_group_size),
            ("south", 1),  # the first one is not lost
        ]
    finally:
        await store.close()
