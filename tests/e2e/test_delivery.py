"""Every tap answered at any load: the send path through the real bot and the fake Bot API.

The fake answers slowly when told (`delay`), keeps Telegram's flood limits (`limits`) and
refuses to answer a press older than its deadline, as Telegram does.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import time
from typing import Any

import pytest

from bot import jobs
from bot.outbox import Outbox
from bot.timing import Budget
from tests.anonymity import keyed
from trustscan.config import Config

from .conftest import (
    KEY,
    USER_ID,
    FakeClock,
    complete_by_buttons,
    link_token,
    open_wave,
    paced,
    running,
    start_survey,
    store_of,
)
from .fake_telegram import FakeTelegram, FakeUser, FloodLimits

_taps = itertools.count(900_000)


async def tap(user: FakeUser, data: str, message: dict[str, Any] | None = None) -> str:
    """Push a press on `message` (the newest by default) without waiting; its query id."""
    query_id = str(next(_taps))
    await user.server.push(
        {
            "callback_query": {
                "id": query_id,
                "from": user.user,
                "chat_instance": str(user.id),
                "message": message or user.last,
                "data": data,
            }
        }
    )
    return query_id


async def settled(app: Any, server: FakeTelegram, limit: float = 30) -> None:
    """Wait until the bot is idle: every update pushed was fetched and handled, nothing
    waits in its outbox and no call of it is being answered, three checks in a row.

    The state is polled every 50 ms (a handler may leave work for a task it started);
    no fixed pause stands in for the event.
    """
    outbox = app.bot.rate_limiter
    assert isinstance(outbox, Outbox)
    deadline = time.monotonic() + limit
    calm = 0
    while time.monotonic() < deadline:
        idle = (
            server.delivered >= server.pushed
            and app.update_queue.empty()
            and app.update_processor.current_concurrent_updates == 0
            and outbox.pending() == 0
            and server.answering == 0
        )
        calm = calm + 1 if idle else 0
        if calm >= 3:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the bot was still busy after {limit} s")


def position(message: dict[str, Any]) -> int:
    """The question position a message's buttons belong to (-1: no question buttons)."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    for row in rows:
        for button in row:
            parts = button.get("callback_data", "").partition("|")[0].split(":")
            if len(parts) >= 3 and len(parts[0]) == 1 and parts[2].isdigit():
                return int(parts[2])
    return -1


async def at_a_button_question(app: Any, user: FakeUser, *, opened: bool = False) -> None:
    """Start the e2e survey and go on to its first single-choice question."""
    if not opened:
        await open_wave(app, "e2e")
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    while not any(d.startswith("a:") for _, d in user.buttons()):
        await user.press(user.button(lambda _, d: d.startswith("n:")))


async def test_quick_taps_under_latency_never_show_an_older_state(
    e2e_app: Any, server: FakeTelegram
) -> None:
    """Allocate +: edits reach the message in order; the newest state is the last shown."""
    user = FakeUser(server, USER_ID)
    await open_wave(e2e_app, "e2e")
    await start_survey(user, await link_token(e2e_app, "dijkhoven", "staff"))
    await complete_by_buttons(user, random.Random(3), until="Verdeel 100")
    message_id = user.last["message_id"]
    server.delay = 0.2  # a redraw takes longer than the thumb
    for _ in range(6):  # tap as soon as the press is acknowledged, not when redrawn
        query = await tap(user, user.button(lambda _, d: d.startswith("l:") and d.endswith(":0+")))
        await server.wait_for(lambda q=query: q in server.callback_answers)
    await settled(e2e_app, server)
    shown = [
        int(m.group(1))
        for c in server.calls_of("editMessageText")
        if c.params.get("message_id") == message_id
        and (m := re.search(r"1\. [^:]+: <b>(\d+)</b>", c.params["text"]))
    ]
    assert shown, "the taps were shown"
    assert shown == sorted(shown), f"an older state came after a newer one: {shown}"
    final = re.search(r"1\. [^:]+: <b>(\d+)</b>", user.last["text"])
    assert final is not None and int(final.group(1)) == max(shown) > 0


async def test_an_unreadable_update_is_skipped_and_the_next_served(
    e2e_app: Any, server: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll message without the fields a newer Bot API requires: logged once, skipped."""
    first, second = FakeUser(server, USER_ID), FakeUser(server, USER_ID + 1)
    caplog.set_level(logging.WARNING)
    await first.send("/help")
    poison = await server.push(
        {
            "message": {
                "message_id": 77,
                "date": int(time.time()),
                "chat": {"id": USER_ID + 2, "type": "private"},
                "poll": {"id": "secret-poll-content"},
            }
        }
    )
    await second.send("/help")
    assert second.inbox(), "the update after the unreadable one was answered"
    await server.wait_for(lambda: server.confirmed > poison)
    await asyncio.sleep(0.5)  # time for any loop of re-fetches to show
    fetches = len(server.calls_of("getUpdates"))
    skipped = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(skipped) == 1 and str(poison) in skipped[0].getMessage()
    assert "secret-poll-content" not in caplog.text
    assert fetches < 40, "no loop of re-fetches"


async def test_a_press_delayed_past_the_deadline_still_shows_the_next_question(
    e2e_app: Any, server: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """A held database lock delays the press past Telegram's deadline: the screen moves on.

    The deadline is shortened from Telegram's 15 s to half a second (the lock is held a
    second) so the test stays quick; the path is the same.
    """
    user = FakeUser(server, USER_ID)
    await at_a_button_question(e2e_app, user)
    before = position(user.last)
    server.query_timeout = 0.5
    other = keyed(store_of(e2e_app).path, bytes.fromhex(KEY))  # another process, say
    other.execute("BEGIN IMMEDIATE")  # holds the database's write lock
    try:
        query = await tap(user, user.button(lambda _, d: d.startswith("a:")))
        await asyncio.sleep(1.0)
    finally:
        other.execute("ROLLBACK")
        other.close()
    await server.wait_for(lambda: position(user.last) > before)
    assert server.late_answers == 1 and query not in server.callback_answers
    late = [r for r in caplog.records if "too late" in r.getMessage()]
    assert len(late) == 1 and late[0].exc_info is None
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("start_first", [False, True])
async def test_start_racing_a_tap_leaves_the_current_question_newest(
    e2e_app: Any, server: FakeTelegram, start_first: bool
) -> None:
    """/start and a press pushed together, five times over: the newest message is current."""
    user = FakeUser(server, USER_ID)
    await at_a_button_question(e2e_app, user)
    for _ in range(5):
        if not any(d.startswith("a:") for _, d in user.buttons()):
            break
        answer = user.button(lambda _, d: d.startswith("a:"))
        if start_first:
            await user.send("/start", wait=False)
        query = await tap(user, answer)
        if not start_first:
            await user.send("/start", wait=False)
        await server.wait_for(lambda q=query: q in server.callback_answers)
        await settled(e2e_app, server)
        newest = max(position(m) for m in user.inbox())
        assert position(user.last) == newest > int(answer.partition("|")[0].split(":")[2]), (
            user.last["text"]
        )


async def test_a_redelivered_start_then_a_tap_on_the_older_copy(
    e2e_app: Any, server: FakeTelegram
) -> None:
    """/start delivered twice shows the question twice; a tap on the upper copy moves on below."""
    user = FakeUser(server, USER_ID)
    await at_a_button_question(e2e_app, user)
    await user.send("/start", twice=True)
    await settled(e2e_app, server)
    copies = [m for m in user.inbox() if position(m) == position(user.last)]
    assert len(copies) >= 2
    answer = user.button(lambda _, d: d.startswith("a:"), copies[-2])
    await tap(user, answer, copies[-2])
    await settled(e2e_app, server)
    assert position(user.last) > int(answer.partition("|")[0].split(":")[2])


async def test_one_persons_flood_does_not_hold_up_another(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram
) -> None:
    """200 messages typed at a button question: another's /help is answered after at most
    a turn of the flood's replies, not after them all, and the flooder ends with the
    current question as the newest message (Telegram's pace, ten times as fast)."""
    async with running(e2e_config, clock, paced(server, 0.1)) as app:
        await flood_and_help(app, server)


async def flood_and_help(e2e_app: Any, server: FakeTelegram) -> None:
    server.limits = FloodLimits()
    flooder, other = FakeUser(server, USER_ID), FakeUser(server, USER_ID + 1)
    await at_a_button_question(e2e_app, flooder)
    current = position(flooder.last)
    for n in range(200):
        await flooder.send(f"hallo {n}", wait=False)
    pushed = len(server.calls)
    await other.send("/help")
    await settled(e2e_app, server)
    sends = [c for c in server.calls[pushed:] if c.method.startswith(("send", "edit"))]
    chats = [c.params.get("chat_id") for c in sends]
    answered = chats.index(other.id)
    # the other's reply waited for at most a turn of the flood's replies (the chat's burst),
    # and went while those were still going out (at the chat's one message a second)
    assert chats[:answered].count(flooder.id) <= 2
    assert chats[answered:].count(flooder.id) >= 1
    assert position(flooder.last) == current
    replies = [m for m in flooder.inbox() if "hallo" not in m.get("text", "")]
    assert len(replies) < 40, "the flood's replies were merged, not sent 400 times"
    assert server.flood_refusals == 0


def invited(server: FakeTelegram) -> int:
    """Announcements the contacts (chat ids from 8,000,000) have received so far."""
    return sum(len(log) for chat, log in list(server.chat_log.items()) if chat >= 8_000_000)


async def test_answers_go_before_an_announcement_to_2000_contacts(
    e2e_config: Config, clock: FakeClock, server: FakeTelegram
) -> None:
    """While 2,000 contacts are being invited, respondents' taps are answered promptly
    (at Telegram's own pace: at twice or four times it, a test process on a loaded
    machine fell behind the outbox, and a press's answer waited for a connection behind
    hundreds of sends until Telegram's deadline had passed)."""
    async with running(e2e_config, clock, paced(server, 1.0)) as app:
        await announce_and_answer(app, server)


async def announce_and_answer(e2e_app: Any, server: FakeTelegram) -> None:
    # Telegram's pace, counted where the requests arrive. A stalled test process can let
    # up to one outbox burst of requests, paced correctly when sent, arrive together: the
    # fake forgives that bunching, never a rate above Telegram's (it refills at 30/s).
    server.limits = FloodLimits(burst=FloodLimits.burst + Budget().burst)
    store = store_of(e2e_app)
    for n in range(2000):  # before the wave opens: the scheduler's tick must not beat us
        await store.set_contact(8_000_000 + n, "dijkhoven", "nl")
    wave = await open_wave(e2e_app, "e2e")
    respondents = [FakeUser(server, USER_ID + i) for i in range(3)]
    for user in respondents:
        await at_a_button_question(e2e_app, user, opened=True)
    announcement = asyncio.create_task(jobs.announce_new_wave(e2e_app, wave))
    await server.wait_for(lambda: len(server.chat_log) > 200, timeout=30)
    overtaken = []  # announcements sent between a press and the reply to it
    for user in respondents * 3:
        buttons = [d for _, d in user.buttons() if d[:2] in ("a:", "n:")]
        if not buttons:
            continue
        before = invited(server)
        await user.press(buttons[0])
        overtaken.append(invited(server) - before)
    total = invited(server)
    announcement.cancel()
    print("announcements sent while a press waited for its reply:", overtaken)
    # a reply waits for what is already on its way (the outbox's burst), never for the
    # round: 2,000 announcements at Telegram's pace would be over a minute
    assert overtaken and max(overtaken) <= Budget().burst, overtaken
    assert 200 < total < 2000, "the announcement was under way meanwhile"
    assert server.flood_refusals == 0
