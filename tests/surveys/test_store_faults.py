"""The store under faults: a database locked by someone else, rounds cut short, restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from surveys import flow, keys
from surveys.errors import WaveClosedError
from surveys.store import Store, schema
from tests.anonymity import assert_no_user_id, keyed
from tests.support.clock import CLOCK
from tests.surveys.test_store import KEY, USER, questionnaire


async def test_an_answer_waits_out_a_lock_longer_than_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock six busy timeouts long: the answer is stored
    once it lets go, not refused with "something went wrong"."""
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    async with await Store.open(tmp_path / "t.db", KEY, clock=CLOCK) as store:
        wave = await store.open_wave("mini", 1, ["north"])
        session = await store.begin(wave.id, USER, "north", "staff", "nl")
        q = questionnaire()
        state = flow.state_of(q, session)
        change = q.answer(state, 0, 4)
        other = keyed(tmp_path / "t.db", KEY)
        other.execute("BEGIN IMMEDIATE")  # someone else's write lock
        saving = asyncio.create_task(flow.persist(store, q, session, state, change))
        await asyncio.sleep(0.3)
        assert not saving.done(), "the answer waits while the lock is held"
        other.execute("ROLLBACK")
        other.close()
        await saving
        stored = await store.find_session(wave.id, USER)
        assert stored is not None and flow.state_of(q, stored).answers == {"q1": 4}


async def test_the_consent_mark_is_sealed_per_person_and_goes_with_the_wave(
    tmp_path: Path,
) -> None:
    """Kept across a reopen under the person's session secret (which the welcome's button
    carries), for this person only, without their id or the message id in the file;
    beginning clears it, and closing the wave deletes every mark."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    wave = await store.open_wave("mini", 1, ["north"])
    secret = store.consent_secret(wave.id, USER)
    assert store.consent_secret(wave.id, USER) == secret  # one welcome, one secret
    await store.show_consent(wave.id, USER, 987_654)
    assert await store.consent_shown(wave.id, USER + 1) is None
    await store.close()
    reopened = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        assert await reopened.consent_shown(wave.id, USER) is None  # until a press brings it
        await reopened.recall(USER, secret)
        assert await reopened.consent_shown(wave.id, USER) == 987_654
        await reopened.show_consent(wave.id, USER, 987_700)  # a newer message of the screen
        assert await reopened.consent_shown(wave.id, USER) == 987_700
        with keyed(tmp_path / "t.db", KEY) as db:
            (key, sealed) = db.execute("SELECT key, sealed FROM consent_screens").fetchone()
            drafts = db.execute("SELECT count(*) FROM drafts").fetchone()
        assert b"987700" not in sealed and drafts == (0,)  # no draft before consent
        assert key == keys.consent_row(secret)  # found by the secret, not the Telegram id
        assert_no_user_id(tmp_path / "t.db", USER, KEY)
        session = await reopened.begin(wave.id, USER, "north", None, "nl")
        assert session.secret == secret  # the buttons already in the chat lead to the draft
        await reopened.clear_consent(wave.id, USER)
        assert await reopened.consent_shown(wave.id, USER) is None
        await reopened.show_consent(wave.id, USER + 1, 5)
        await reopened.close_wave(wave.id)
        with keyed(tmp_path / "t.db", KEY) as db:
            assert db.execute("SELECT count(*) FROM consent_screens").fetchone() == (0,)
        with pytest.raises(WaveClosedError):
            await reopened.consent_shown(wave.id, USER + 1)
    finally:
        await reopened.close()


async def test_a_round_is_due_until_finished_and_remembers_whom_it_reached(
    tmp_path: Path,
) -> None:
    """begin_round stays true across a reopen until finish_round; the marks say who was
    reached, and go when the round is done, or with the wave."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    wave = await store.open_wave("mini", 1, ["north"])
    assert await store.begin_round(wave.id, "opened")
    await store.mark_sent(wave.id, "opened", 8_000_001)
    await store.mark_sent(wave.id, "opened", 8_000_001)  # twice is once
    await store.mark_sent(wave.id, "opened", 8_000_002)
    await store.close()
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)  # a crash and a restart
    try:
        assert await store.begin_round(wave.id, "opened"), "unfinished: still due"
        assert await store.round_sent(wave.id, "opened") == {8_000_001, 8_000_002}
        assert await store.round_sent(wave.id, "reminder-3") == set()
        await store.finish_round(wave.id, "opened")
        assert not await store.begin_round(wave.id, "opened")
        assert await store.round_sent(wave.id, "opened") == set()
        assert not await store.mark_notified(wave.id, "opened")  # the old question agrees
        assert await store.begin_round(wave.id, "reminder-1")
        await store.mark_sent(wave.id, "reminder-1", 8_000_003)  # then the wave closes
        await store.close_wave(wave.id)
        with keyed(tmp_path / "t.db", KEY) as db:
            assert db.execute("SELECT count(*) FROM notices_sent").fetchone() == (0,)
    finally:
        await store.close()
