"""Single-use codes in the chat (issue 17, finding 6), through `app.process_update`.

A restricted role's link asks for the code after consent; a wrong one gets a hint and
may be typed again; a right one starts the questionnaire and is bound to it; a second
account with the same code — one after the other or at the same moment — is refused;
a forged role press cannot skip the code; the typed code is never logged.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from surveys.i18n import t
from tests.bot import test_handlers
from tests.bot.test_handlers import (
    OTHER,
    RESPONDENT,
    Bot,
    edited,
    link,
    open_unit_wave,
    screen,
    toasts,
)
from trustscan import codes

bot = test_handlers.bot  # the fixture: the real Application over a fresh database

ASK = t("codes.ask", "nl", role="Bestuurder (wethouder, burgemeester)")
REFUSED = t("codes.refused", "nl")
ACCEPTED = t("codes.accepted", "nl")


async def issue(bot: Bot, count: int = 1, role: str = "administrator") -> list[str]:
    """Codes for Dijkhoven's administrators, as `trustscan codes` prints them."""
    return list((await codes.issue(bot.store, "dijkhoven", role, count)).codes)


async def at_the_code_prompt(bot: Bot, user: int) -> str:
    """/start with the administrators' link and consent: the bot asks for the code."""
    token = await link(bot, "administrator")
    await bot.send(user, f"/start {token}")
    calls = await bot.press(user, f"c:{token}")
    assert toasts(calls) == [(None, None)]
    assert (edited(calls).text, edited(calls).buttons) == (ASK, [])
    return token


def texts(calls: list) -> list[str]:
    return [c.text for c in calls if c.method == "sendMessage"]


async def test_a_restricted_link_asks_for_the_code_and_starts_nothing(bot: Bot) -> None:
    """After consent: the question for the code, no session, no count, no role buttons."""
    wave = await open_unit_wave(bot)
    await at_the_code_prompt(bot, RESPONDENT)
    assert await bot.store.find_session(wave.id, RESPONDENT) is None
    assert await bot.store.daily_counts(wave.id) == []
    # a forged press of the link's own role cannot skip the code either
    token = await link(bot, "administrator")
    calls = await bot.press(OTHER, f"r:{token}:administrator")
    assert edited(calls).text == ASK
    assert await bot.store.find_session(wave.id, OTHER) is None


async def test_a_wrong_code_gets_a_hint_and_the_right_one_starts(bot: Bot) -> None:
    """Garbage and a made-up code: the same short hint, try again; the real code (typed
    in lower case with spaces) starts the administrators' questionnaire."""
    wave = await open_unit_wave(bot)
    [code] = await issue(bot)
    await at_the_code_prompt(bot, RESPONDENT)
    for wrong in ("hallo", codes.formatted(codes.new_code()), code[:-1]):
        assert await bot.said(RESPONDENT, wrong) == REFUSED
        assert await bot.store.find_session(wave.id, RESPONDENT) is None
    calls = await bot.send(RESPONDENT, code.lower().replace("-", " "))
    session = await bot.store.find_session(wave.id, RESPONDENT)
    assert (session.org, session.role) == ("dijkhoven", "administrator")
    first = [c for c in calls if c.method == "sendMessage"]
    assert [c.text for c in first[:1]] == [ACCEPTED]
    assert (first[1].text, first[1].buttons) == await screen(bot, wave, RESPONDENT)
    assert "Alleen voor bestuurders." in first[1].text  # the administrators' first question
    # the code is bound: typed text now answers the questionnaire, not the code prompt
    assert texts(await bot.send(RESPONDENT, code))[0] == t("bot.use_buttons", "nl")


async def test_a_code_used_by_one_account_is_refused_to_another(bot: Bot) -> None:
    """Padding through the link: a second Telegram account with the same code gets the
    hint, before and after the first one completes; the holder resumes without it."""
    wave = await open_unit_wave(bot)
    [code] = await issue(bot)
    token = await at_the_code_prompt(bot, RESPONDENT)
    await bot.send(RESPONDENT, code)
    await at_the_code_prompt(bot, OTHER)
    assert await bot.said(OTHER, code) == REFUSED  # held by someone busy
    resumed = texts(await bot.send(RESPONDENT, f"/start {token}"))
    assert resumed[0] == t("bot.resume", "nl")
    session = await bot.store.find_session(wave.id, RESPONDENT)
    await bot.store.complete(session, session.cursor)
    assert await bot.said(OTHER, code) == REFUSED  # used
    assert await bot.store.find_session(wave.id, OTHER) is None
    assert await bot.store.completed_responses([wave.id]) == []  # waits for k − 1 others
    assert texts(await bot.send(RESPONDENT, f"/start {token}")) == [t("bot.already_done", "nl")]
    await bot.store.close_wave(wave.id)
    assert [(r.org, r.role) for r in await bot.store.completed_responses([wave.id])] == [
        ("dijkhoven", "administrator")
    ]


async def test_two_accounts_typing_one_code_at_once_only_one_starts(bot: Bot) -> None:
    """Both at the prompt, both type the code at the same moment: one starts, one is told."""
    wave = await open_unit_wave(bot)
    [code] = await issue(bot)
    for user in (RESPONDENT, OTHER):
        await at_the_code_prompt(bot, user)
    before = len(bot.telegram.calls)
    await asyncio.gather(bot.send(RESPONDENT, code), bot.send(OTHER, code))
    sent = bot.telegram.calls[before:]  # (both at once: per chat, not per update)
    firsts = sorted(
        texts([c for c in sent if c.params["chat_id"] == u])[0] for u in (RESPONDENT, OTHER)
    )
    assert firsts == sorted([ACCEPTED, REFUSED])
    sessions = [await bot.store.find_session(wave.id, user) for user in (RESPONDENT, OTHER)]
    assert sum(s is not None for s in sessions) == 1


async def test_a_code_is_for_its_own_organisation_and_role(bot: Bot) -> None:
    """A council code does not open the administrators' link."""
    wave = await open_unit_wave(bot)
    [council] = await issue(bot, role="council")
    await at_the_code_prompt(bot, RESPONDENT)
    assert await bot.said(RESPONDENT, council) == REFUSED
    assert await bot.store.find_session(wave.id, RESPONDENT) is None


async def test_start_forgets_the_prompt_and_a_busy_person_answers_on(bot: Bot) -> None:
    """/start leaves the code prompt; someone midway elsewhere types an answer, not a code."""
    wave = await open_unit_wave(bot)
    await at_the_code_prompt(bot, RESPONDENT)
    assert texts(await bot.send(RESPONDENT, "/start")) == [t("bot.no_token", "nl")]
    assert await bot.said(RESPONDENT, "hallo") == t("bot.not_in_survey", "nl")
    # midway in a staff questionnaire, the code prompt of another survey's wave, a typed line
    staff = await link(bot, "staff")
    await bot.send(RESPONDENT, f"/start {staff}")
    await bot.press(RESPONDENT, f"c:{staff}")
    trust = bot.services.registry["trust"]
    orgs = [o.id for o in bot.services.config.organisations]
    other = await bot.store.open_wave("trust", trust.version, orgs)
    await at_the_code_prompt(bot, RESPONDENT)  # its link leads to the newest wave: trust
    assert texts(await bot.send(RESPONDENT, "hallo"))[0] == t("bot.use_buttons", "nl")
    assert (await bot.store.find_session(wave.id, RESPONDENT)).role == "staff"
    assert await bot.store.find_session(other.id, RESPONDENT) is None


async def test_a_closed_wave_at_the_prompt_is_said_so(bot: Bot) -> None:
    """The wave closes while the code is awaited: the code meets a closed wave, not a crash."""
    wave = await open_unit_wave(bot)
    [code] = await issue(bot)
    await at_the_code_prompt(bot, RESPONDENT)
    await bot.store.close_wave(wave.id)
    bot.services.forget_wave(wave.id)
    assert await bot.said(RESPONDENT, code) == t("bot.wave_closed", "nl")
    assert await codes.check(bot.store, "dijkhoven", "administrator", code)  # not used up


async def test_the_typed_code_is_never_logged(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """At the most verbose level trustscan logs at, no line holds a typed code."""
    await open_unit_wave(bot)
    [code] = await issue(bot)
    wrong = codes.formatted(codes.new_code())
    caplog.set_level(logging.INFO)
    await at_the_code_prompt(bot, RESPONDENT)
    await bot.send(RESPONDENT, wrong)
    await bot.send(RESPONDENT, code)
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for text in (code, wrong, code.replace("-", ""), wrong.replace("-", "")):
        assert text not in logged
