"""A typed message racing a tap: the newest message still shows the current question.

At a button question a typed message is answered with a hint and the question sent
again. Were it not taken in the chat's turn, it could read the state before a tap
pushed at the same moment stores its answer, and send the question just answered
below the tap's next question.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import USER_ID
from .fake_telegram import FakeTelegram, FakeUser
from .test_delivery import at_a_button_question, position, settled, tap


def answered(server: FakeTelegram, query: str) -> Callable[[], bool]:
    return lambda: query in server.callback_answers


@pytest.mark.parametrize("typed_first", [False, True])
async def test_a_typed_message_racing_a_tap_leaves_the_current_question_newest(
    e2e_app: Any, server: FakeTelegram, typed_first: bool
) -> None:
    """A typed line and a press pushed together, five times over: the newest is current."""
    user = FakeUser(server, USER_ID)
    await at_a_button_question(e2e_app, user)
    raced = 0
    for _ in range(5):
        if not any(d.startswith("a:") for _, d in user.buttons()):
            break
        answer = user.button(lambda _, d: d.startswith("a:"))
        if typed_first:
            await user.send("ik typ liever", wait=False)
        query = await tap(user, answer)
        if not typed_first:
            await user.send("ik typ liever", wait=False)
        await server.wait_for(answered(server, query))
        await settled(e2e_app, server)
        raced += 1
        newest = max(position(m) for m in user.inbox())
        assert position(user.last) == newest > int(answer.split(":")[2]), user.last["text"]
    assert raced >= 2, "the survey had button questions to race on"
