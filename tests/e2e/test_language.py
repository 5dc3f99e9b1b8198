"""/language mid-question, through the real bot over HTTP: the open question is redrawn.

The person is in the middle of the trust scan (written in Dutch, English and German),
switches language, and finds the same question, with its buttons, in the new language
as the newest message; answering it there goes on in that language.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from surveys import flow
from surveys.engine import QuestionStep
from surveys.i18n import LANGUAGES, LOCALES, t

from .conftest import USER_ID, link_token, open_wave, questionnaire, start_survey, store_of
from .fake_telegram import FakeTelegram, FakeUser


async def current_step(app: Any, wave: int, lang: str) -> QuestionStep:
    """The question the person is at, as the engine words it in `lang`."""
    session = await store_of(app).find_session(wave, USER_ID)
    assert session is not None and not session.completed
    q = questionnaire(app, "trust", "veenstede", "staff", lang)
    step = q.step(flow.state_of(q, session))
    assert isinstance(step, QuestionStep)
    return step


def forward(user: FakeUser) -> str:
    """The first button that answers (or passes) the question on screen."""
    return user.button(lambda _, d: d[:2] in ("a:", "n:"))


@pytest.mark.parametrize("first", LANGUAGES)
async def test_language_mid_question_redraws_it_in_every_language(
    app: Any, server: FakeTelegram, first: str
) -> None:
    """From `first`, switch through the other two and back; each time the question follows."""
    wave = await open_wave(app, "trust")
    user = FakeUser(server, USER_ID, language_code=first)
    await start_survey(user, await link_token(app, "veenstede"), "staff")
    await user.press(forward(user))
    await user.press(forward(user))
    previous = first
    for lang in [code for code in LANGUAGES if code != first] + [first]:
        before = await current_step(app, wave.id, lang)
        await user.send("/language")
        assert user.last["text"] == t("bot.language_prompt", previous)
        assert (LOCALES[lang].name, f"g:{lang}") in user.buttons()
        await user.press(f"g:{lang}")
        shown = user.last["text"]
        assert shown.startswith(t("bot.language_set", lang))
        assert html.escape(before.text) in shown
        assert t("bot.progress", lang, pos=before.position, total=before.total) in shown
        labels = [label for label, _ in user.buttons()]
        assert [c.label for c in before.choices] == labels[: len(before.choices)]
        await user.press(forward(user))  # the redrawn question takes the answer
        after = await current_step(app, wave.id, lang)
        assert after.index > before.index
        assert html.escape(after.text) in user.last["text"]
        previous = lang
    session = await store_of(app).find_session(wave.id, USER_ID)
    assert session is not None and session.lang == first
