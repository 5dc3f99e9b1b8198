"""Nothing misplaced, nothing unanswered: the real bot against the fake Bot API under faults.

A typed line sent twice, a database locked past Telegram's deadline, a Telegram outage,
a restart on the consent screen, a stop while a reply is on its way. Where the real
fault lasts long (a 20 s lock, a minute's outage) the bot's waits and the fake's
deadline are scaled down together (`Timing`, `query_timeout`), so the same paths run in
about a second.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import pytest

from bot import lifecycle
from bot.app import build_application
from bot.timing import Timing
from surveys import keys
from surveys.i18n import t
from surveys.store import schema
from tests.anonymity import keyed
from trustscan.config import Config

from .conftest import BRISK, KEY, USER_ID, FakeClock, link_token, open_wave, running, store_of
from .fake_telegram import FakeTelegram, FakeUser
from .test_allocate_taps import answers_of, at_first_allocate, points_on
from .test_delivery import at_a_button_question, position, settled, tap


async def test_a_typed_line_sent_twice_answers_only_its_own_question(
    app: Any, server: FakeTelegram
) -> None:
    """ "40 30 20 10" sent twice in quick succession at a 100-point question: the first
    answers it; the second, typed for the same question, is not stored as the answer to
    the next one but refused with a word, and the next question waits below, blank."""
    user = FakeUser(server, USER_ID)
    await at_first_allocate(app, user)
    word = t("bot.typed_for_earlier", "nl")
    await user.send_lines("40 30 20 10", "40 30 20 10")
    await server.wait_for(lambda: word in user.last.get("text", ""))
    answers = await answers_of(app, user)
    assert answers["now_characteristics"] == (40, 30, 20, 10)
    assert "now_leadership" not in answers, "the second line was stored for the next question"
    assert points_on(user.last) == [0, 0, 0, 0]  # the next question, as yet unanswered
    await user.send("10 20 30 40")  # typed now, for the question on screen: taken
    assert (await answers_of(app, user))["now_leadership"] == (10, 20, 30, 40)


async def test_presses_during_a_long_database_lock_are_answered_in_time_and_lead_on(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process locks the database past Telegram's deadline (20 s against 15 s; here
    1.2 s against 0.6 s, and SQLite's busy timeout 0.1 s) while five people tap. Every
    press is answered in time with "one moment", stored once the lock goes, and followed
    by the next question: no spinning button, no "something went wrong"."""
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 100)
    server.query_timeout = 0.6
    async with running(e2e_config, clock, replace(BRISK, patience=0.2)) as app:
        await open_wave(app, "e2e")
        users = [FakeUser(server, USER_ID + i) for i in range(5)]
        for user in users:
            await at_a_button_question(app, user, opened=True)
        before = {user.id: position(user.last) for user in users}
        other = keyed(store_of(app).path, bytes.fromhex(KEY))  # another process, say
        other.execute("BEGIN IMMEDIATE")  # holds the database's write lock
        try:
            queries = [await tap(u, u.button(lambda _, d: d.startswith("a:"))) for u in users]
            await server.wait_for(lambda: all(q in server.callback_answers for q in queries))
            await asyncio.sleep(1.2)  # the lock lasts past the deadline of every press
        finally:
            other.execute("ROLLBACK")
            other.close()
        for user in users:
            await server.wait_for(lambda u=user: position(u.last) > before[u.id])
    busy = t("bot.busy", "nl")
    assert [server.callback_answers[q].get("text") for q in queries] == [busy] * 5
    assert server.late_answers == 0
    assert not any(t("bot.error", "nl") in m.get("text", "") for u in users for m in u.inbox())


def dropped_edits(server: FakeTelegram, user: FakeUser) -> int:
    return sum(
        1
        for call in server.dropped
        if call.method == "editMessageText" and call.params.get("chat_id") == user.id
    )


async def test_a_telegram_outage_delays_replies_and_loses_none(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram drops every connection while six people tap (a minute's outage, scaled
    down): each person's next question fails far more often than any fixed number of
    retries would allow, yet arrives once Telegram is back, without a /start."""
    caplog.set_level(logging.WARNING)
    timing = replace(BRISK, retry_first=0.02, retry_most=0.1, query_deadline=0.3)
    async with running(e2e_config, clock, timing) as app:
        await open_wave(app, "e2e")
        users = [FakeUser(server, USER_ID + i) for i in range(6)]
        for user in users:
            await at_a_button_question(app, user, opened=True)
        before = {user.id: position(user.last) for user in users}
        server.down = True
        for user in users:
            await tap(user, user.button(lambda _, d: d.startswith("a:")))
        # the outage lasts until every waiting reply has failed six times (the bot used
        # to give up after three and drop it)
        await server.wait_for(lambda: all(dropped_edits(server, u) >= 6 for u in users))
        server.down = False
        for user in users:
            await server.wait_for(lambda u=user: position(u.last) > before[u.id])
            assert not any(m.get("text") == "/start" for m in user.inbox())
    assert caplog.text.count("did not take a message") == 1, "one line per outage"
    assert "takes messages again" in caplog.text and "Traceback" not in caplog.text


async def test_a_restart_on_the_consent_screen_leads_on_from_the_newest_message(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram
) -> None:
    """The welcome is shown, the bot restarts. A typed line gets the hint to tap the
    button (not "you are not taking part"); a tap on the welcome above the hint brings the
    role question below it, and on from there. Someone who only taps after the restart
    sees the welcome turn into the role question in place."""
    typist, tapper = FakeUser(server, USER_ID), FakeUser(server, USER_ID + 1)
    async with running(e2e_config, clock) as app:
        await open_wave(app, "e2e")
        token = await link_token(app, "dijkhoven")  # no role: the role question follows
        await typist.send(f"/start {token}")
        await tapper.send(f"/start {token}")
    welcome, other_welcome = typist.last, tapper.last
    welcome_text = welcome["text"]
    async with running(e2e_config, clock):  # the restarted bot
        await typist.send("Hoe doe ik mee?")
        # whose welcome it is lives in the chat's button only: the line hears to tap
        hint = t("bot.not_in_survey", "nl")
        assert typist.last["text"] == hint
        await typist.press(typist.button(lambda _, d: d.startswith("c:"), welcome), welcome)
        assert any(d.startswith("r:") for _, d in typist.buttons()), "the role question is newest"
        assert typist.inbox()[-2]["text"] == hint
        assert server.messages[(typist.id, welcome["message_id"])]["text"] == welcome_text
        await typist.press(typist.button(lambda _, d: d.endswith(":staff")))
        assert position(typist.last) >= 0, "the first question is the newest message"
        count = len(tapper.inbox())
        await tapper.press(tapper.button(lambda _, d: d.startswith("c:")), other_welcome)
        assert (
            len(tapper.inbox()) == count
            and tapper.last["message_id"] == other_welcome["message_id"]
        )
        assert any(d.startswith("r:") for _, d in tapper.buttons())


async def test_a_reply_cut_off_by_a_stop_is_shown_at_the_next_press(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram
) -> None:
    """The bot is stopped while the next question is on its way (Telegram holds it). The
    stop waits only its short grace; the answer is stored; after the next start a tap on
    the old screen, answered or not, shows the question the person is at."""
    user = FakeUser(server, USER_ID)
    app = build_application(e2e_config, clock=clock, timing=replace(BRISK, stop_grace=0.2))
    stop = asyncio.Event()
    serving = asyncio.create_task(lifecycle.serve(app, lifecycle.Polling(app), stop))
    await server.wait_for(lambda: server.calls_of("getUpdates"))
    wave = await open_wave(app, "e2e")
    await at_a_button_question(app, user, opened=True)
    screen, answered = user.last, position(user.last)
    button = user.button(lambda _, d: d.startswith("a:"))
    server.hold = lambda method, params: method == "editMessageText"
    await tap(user, button)
    await server.wait_for(lambda: server.held)  # the next question is on its way
    stop.set()
    await asyncio.wait_for(serving, 10)  # the grace is over: the held reply is given up
    server.release()
    assert position(user.last) == answered, "the person still sees the answered question"
    async with running(e2e_config, clock) as again:
        secret = keys.parse_secret(button.partition("|")[2])
        assert secret is not None
        await store_of(again).recall(user.id, secret)  # as the press below does first
        session = await store_of(again).find_session(wave.id, user.id)
        assert session is not None and session.cursor > answered, "the answer was stored"
        toast = await user.press(button, screen)
        assert toast.get("text") == t("bot.outdated", "nl")
        # the current question comes as the newest message
        await server.wait_for(lambda: position(user.last) > answered)
        assert server.messages[(user.id, screen["message_id"])]["text"] == screen["text"]


async def test_a_press_queued_behind_many_replies_is_told_to_wait(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram
) -> None:
    """Forty people tap at once: Telegram's 30 messages a second make the later ones wait
    for their next question. A press that comes while many replies wait ahead (here more
    than 0.2 s of them) is answered at once with "one moment"; one that finds nothing
    queued is answered silently; every person still gets the next question.

    Getting the forty to a question is not the test: a brisk bot takes them there. The
    taps go to a restarted one with Telegram at half its pace (and "many" at twice the
    wait: the same six replies ahead), so the replies queue even when a loaded machine
    handles the presses slowly."""
    users = [FakeUser(server, USER_ID + i) for i in range(40)]
    async with running(e2e_config, clock) as app:
        await open_wave(app, "e2e")
        for user in users:
            await at_a_button_question(app, user, opened=True)
        await settled(app, server)
    timing = Timing(patience=30.0, queued=0.4).paced(2.0)
    async with running(e2e_config, clock, timing) as app:
        calm = await tap(users[0], users[0].button(lambda _, d: d.startswith("a:")))
        await server.wait_for(lambda: calm in server.callback_answers)
        await settled(app, server)
        crowd, last = users[1:-1], users[-1]
        before = {user.id: position(user.last) for user in users[1:]}
        presses = [
            {
                "callback_query": {
                    "id": f"crowd-{user.id}",
                    "from": user.user,
                    "chat_instance": str(user.id),
                    "message": user.last,
                    "data": user.button(lambda _, d: d.startswith("a:")),
                }
            }
            for user in crowd
        ]
        await server.push_all(presses)
        queries = [p["callback_query"]["id"] for p in presses]
        await server.wait_for(lambda: all(q in server.callback_answers for q in queries))
        late = await tap(last, last.button(lambda _, d: d.startswith("a:")))
        await server.wait_for(lambda: late in server.callback_answers)
        for user in users[1:]:
            await server.wait_for(lambda u=user: position(u.last) > before[u.id])
    assert server.callback_answers[calm].get("text") is None  # nothing queued: no words
    assert server.callback_answers[late].get("text") == t("bot.busy", "nl")
