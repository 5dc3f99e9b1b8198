"""The 100-point questions through the real bot: few taps, typed points, no lost taps."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from surveys import flow
from surveys.i18n import t

from .conftest import USER_ID, link_token, open_wave, questionnaire
from .culture_person import CountingUser, culture_answers, old_widget_taps, take_culture_scan
from .fake_telegram import FakeTelegram, FakeUser
from .test_delivery import settled
from .test_respondent_flow import stored_answers

TAP_TARGET = 80  # issue 11: the whole culture scan in at most 80 taps (it took 219)


async def begin_culture(app: Any, user: FakeUser) -> None:
    """/start with the organisation's link, consent (and the role if asked)."""
    await user.send(f"/start {await link_token(app, 'veenstede')}")
    await user.press(user.button(lambda _, d: d.startswith("c:")))
    if any(d.startswith("r:") for _, d in user.buttons()):
        await user.press(user.button(lambda _, d: d.endswith(":staff")))


def thanked(user: FakeUser) -> bool:
    """The newest message is the thank-you (it carries the opt-in button)."""
    return t("bot.notify_button", "nl") in [label for label, _ in user.buttons()]


async def answers_of(app: Any, user: FakeUser) -> dict[str, Any]:
    """The answers in progress of the user's open culture wave."""
    store = app.bot_data["services"].store
    wave = (await store.waves(status="open"))[-1]
    session = await store.find_session(wave.id, user.id)
    q = questionnaire(app, "culture", "veenstede", "staff", "nl")
    return dict(flow.state_of(q, session).answers)


def points_on(message: dict[str, Any]) -> list[int]:
    """The points per option as a message shows them ("2. …: <b>30</b>")."""
    return [int(p) for p in re.findall(r"^(?:▸ )?\d+\. .*: <b>(\d+)</b>$", message["text"], re.M)]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_culture_scan_by_the_widget_takes_at_most_80_taps(app, server, seed) -> None:
    """Every tap of a whole culture scan, consent to thank-you, counted; the points stored."""
    wave = await open_wave(app, "culture")
    user = CountingUser(server, USER_ID + seed)
    q = questionnaire(app, "culture", "veenstede", "staff", "nl")
    allocate = [i.question for i in q.items if i.question.type == "allocate"]
    given = culture_answers(random.Random(seed), allocate)
    await begin_culture(app, user)
    await take_culture_scan(user, q, given)
    assert thanked(user)
    stored = await stored_answers(app, wave.id)
    for question in allocate:
        options = [o.value for o in question.options]
        assert stored[(question.id, "")] == dict(zip(options, given[question.id], strict=True))
    before = sum(old_widget_taps(question, given[question.id]) for question in allocate)
    assert user.taps <= TAP_TARGET, (user.taps, before)
    assert before > 2 * user.taps  # the old +/− widget needed more than twice as many
    assert user.typed == 0


async def test_the_culture_scan_by_typed_points(app, server) -> None:
    """Typing "40 30 20" (the last implied) answers each question; three taps remain."""
    wave = await open_wave(app, "culture")
    user = CountingUser(server, USER_ID)
    q = questionnaire(app, "culture", "veenstede", "staff", "nl")
    allocate = [i.question for i in q.items if i.question.type == "allocate"]
    given = culture_answers(random.Random(7), allocate)
    await begin_culture(app, user)
    await take_culture_scan(user, q, given, typed=True)
    assert thanked(user)
    stored = await stored_answers(app, wave.id)
    for question in allocate:
        options = [o.value for o in question.options]
        assert stored[(question.id, "")] == dict(zip(options, given[question.id], strict=True))
    assert (user.taps, user.typed) == (3, 12)  # consent, role, the first statement's Next


async def at_first_allocate(app: Any, user: FakeUser) -> dict[str, Any]:
    await open_wave(app, "culture")
    await begin_culture(app, user)
    await user.press(user.button(lambda _, d: d.startswith("n:")))  # the method statement
    assert any(d.startswith("l:") for _, d in user.buttons())
    return user.last


async def test_typed_points_in_every_accepted_shape_and_clear_refusals(app, server) -> None:
    """Commas and the implied rest are read; a wrong sum names the sum and the total."""
    user = FakeUser(server, USER_ID)
    await at_first_allocate(app, user)
    await user.send("50 40 30")  # overspent before the last option
    assert t("hints.allocate_total", "nl", total=100, got=120) in user.last["text"]
    assert points_on(user.last) == [0, 0, 0, 0]  # the question again, nothing stored
    await user.send("40 30")  # two open: not unambiguous
    assert t("hints.allocate_shape", "nl", count=4) in user.last["text"]
    await user.send("40 30 20 20")
    assert t("hints.allocate_total", "nl", total=100, got=110) in user.last["text"]
    await user.send("40,30,20,10")
    assert "Wat typeert uw organisatie nu" not in user.last["text"]  # on to leadership
    await user.send("25 25 25")  # 25 for the last one
    answers = await answers_of(app, user)
    assert answers["now_characteristics"] == (40, 30, 20, 10)
    assert answers["now_leadership"] == (25, 25, 25, 25)


async def test_amounts_rest_and_done_answer_in_five_taps(app, server) -> None:
    """40, 30, 20, Rest, Done: the amounts fill the options in turn."""
    user = CountingUser(server, USER_ID)
    message = await at_first_allocate(app, user)
    start = user.taps
    for amount in ("40", "30", "20"):
        await user.press(user.button(lambda _, d, a=amount: d.endswith(f":*{a}")))
    assert points_on(user.last) == [40, 30, 20, 0]
    assert "▸ 4. " in user.last["text"]  # the mark moved on to the last option
    assert (t("allocate.rest", "nl", points=10)) in [label for label, _ in user.buttons()]
    await user.press(user.button(lambda _, d: d.endswith(":*r")))
    await user.press(user.button(lambda _, d: d.startswith("L:")))
    assert user.taps - start == 5
    assert user.last["message_id"] == message["message_id"]  # edited in place
    assert "Hoe geven leidinggevenden" in user.last["text"]


async def test_preferred_offers_the_earlier_answer_to_start_from(app, server) -> None:
    """At "preferred", one tap copies the "now" answer; −10/+10 nudge it; Done stores it."""
    user = FakeUser(server, USER_ID)
    await at_first_allocate(app, user)
    for _ in range(6):
        assert not any(d.endswith(":~") for _, d in user.buttons())  # nothing earlier yet
        await user.send("40 30 20 10")
    copy = t("allocate.copy", "nl", points="40 · 30 · 20 · 10")
    assert copy in [label for label, _ in user.buttons()]
    await user.press(user.button(lambda label, _: label == copy))
    assert points_on(user.last) == [40, 30, 20, 10]
    await user.press(user.button(lambda _, d: d.endswith(":0--")))
    await user.press(user.button(lambda _, d: d.endswith(":2++")))
    assert points_on(user.last) == [30, 30, 30, 10]
    await user.press(user.button(lambda _, d: d.startswith("L:")))
    assert (await answers_of(app, user))["pref_characteristics"] == (30, 30, 30, 10)


# -- quick taps under latency ---------------------------------------------------------------

LATENCY = 0.2  # seconds the slow server takes for every call the bot makes (taps take none)


def slow(server: FakeTelegram) -> None:
    """From now on every bot call takes LATENCY seconds: the person is at the question
    (getting there is not the test)."""
    server.delay = LATENCY


async def tap_at_once(server: FakeTelegram, user: FakeUser, data: str, message: Any) -> str:
    """A press pushed without waiting for anything: a thumb faster than the network."""
    callback_id = f"quick{next(FakeUser._callback_ids)}"
    query = {"id": callback_id, "from": user.user, "chat_instance": "1"}
    await server.push({"callback_query": {**query, "message": message, "data": data}})
    return callback_id


async def settle(
    app: Any, server: FakeTelegram, ids: list[str], message: dict[str, Any], since: int
) -> list[int]:
    """Wait until every press is answered and the bot is idle (the edits have stopped);
    option 1's points as redrawn.

    `since`: the number of bot calls before the taps (earlier edits do not count).
    """
    await server.wait_for(lambda: all(i in server.callback_answers for i in ids), timeout=30)
    await settled(app, server)
    edits = [
        c.params["text"]
        for c in server.calls[since:]
        if c.method == "editMessageText" and c.params["message_id"] == message["message_id"]
    ]
    return [points_on({"text": text})[0] for text in edits]


async def test_four_quick_plus_ten_taps_under_latency_end_at_40(app, server) -> None:
    """Four +10 taps on one keyboard, faster than the redraws: 40, never backwards."""
    user = FakeUser(server, USER_ID)
    message = await at_first_allocate(app, user)
    slow(server)
    plus_ten = user.button(lambda _, d: d.endswith(":0++"), message)
    since = len(server.calls)
    ids = [await tap_at_once(server, user, plus_ten, message) for _ in range(4)]
    shown = await settle(app, server, ids, message, since)
    assert points_on(server.messages[(USER_ID, message["message_id"])]) == [40, 0, 0, 0]
    assert shown == sorted(shown) and shown[-1] == 40  # never back from a newer value
    assert not any(server.callback_answers[i].get("text") for i in ids)  # no "outdated"


async def test_a_whole_answer_tapped_ahead_of_the_screen_is_stored(app, server) -> None:
    """40, 30, 20, Rest on a keyboard that has not caught up, then Done: 40/30/20/10."""
    user = FakeUser(server, USER_ID)
    message = await at_first_allocate(app, user)
    slow(server)
    ids, since = [], len(server.calls)
    for amount in ("40", "30", "20", "r"):
        data = user.button(lambda _, d, a=amount: d.endswith(f":*{a}"), message)
        ids.append(await tap_at_once(server, user, data, message))
    await settle(app, server, ids, message, since)
    shown = server.messages[(USER_ID, message["message_id"])]
    assert points_on(shown) == [40, 30, 20, 10]
    await user.press(user.button(lambda _, d: d.startswith("L:"), shown))
    assert "Hoe geven leidinggevenden" in user.last["text"]
