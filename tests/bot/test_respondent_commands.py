"""The respondent's commands and the frame of a question, through `app.process_update`.

/help per audience, /stop that only pauses, /unsubscribe and its button, a pointer for
unknown commands, a hint on the consent screen, the role in the welcome, /language that
redraws the open question, and a progress line that does not jump.
"""

from __future__ import annotations

import re

from telegram.ext import CommandHandler

from bot import facilitator
from bot.respondent import UNSUBSCRIBE_DATA
from surveys.i18n import LANGUAGES, section, t
from tests.bot import test_handlers
from tests.bot.test_handlers import (
    FACILITATOR,
    RESPONDENT,
    Bot,
    advance,
    edited,
    join,
    link,
    open_unit_wave,
    screen,
    state_of,
)

bot = test_handlers.bot  # the fixture: the real Application over a fresh database


async def test_help_lists_facilitator_commands_only_to_facilitators(bot: Bot) -> None:
    """A respondent's /help names their commands; a facilitator's adds /waves, /openwave…."""
    for lang in LANGUAGES:
        mine = await bot.said(RESPONDENT, "/help", lang=lang)
        theirs = await bot.said(FACILITATOR, "/help", lang=lang)
        for command, text in section("commands", lang).items():
            assert f"/{command} – {text}" in mine and f"/{command} – {text}" in theirs
        for command, text in section("facilitator_commands", lang).items():
            assert f"/{command}" not in mine
            assert f"/{command} – {text}" in theirs
        assert t("bot.help_facilitators", lang) in theirs
        assert t("bot.help_facilitators", lang) not in mine


async def test_stop_pauses_without_unsubscribing_and_start_resumes(bot: Bot) -> None:
    """/stop keeps the answers, the place and the contact; /start goes on at that question."""
    wave = await open_unit_wave(bot)
    await bot.store.set_contact(RESPONDENT, "dijkhoven", "nl")
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    before = await state_of(bot, wave, RESPONDENT)
    assert await bot.said(RESPONDENT, "/stop") == t("bot.stopped", "nl")
    assert await state_of(bot, wave, RESPONDENT) == before
    assert [c.chat_id for c in await bot.store.contacts()] == [RESPONDENT]
    calls = [c for c in await bot.send(RESPONDENT, "/start") if c.method == "sendMessage"]
    assert [(c.text, c.buttons) for c in calls[1:]] == [await screen(bot, wave, RESPONDENT)]
    assert await bot.said(RESPONDENT, "/unsubscribe") == t("bot.unsubscribed", "nl")
    assert await bot.store.contacts() == []
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 2  # unsubscribing pauses nothing


async def test_the_opt_in_confirmation_carries_an_unsubscribe_button(bot: Bot) -> None:
    """After opting in, one tap on the button under the confirmation opts out again."""
    wave = await open_unit_wave(bot)
    for other in range(4):  # four colleagues finished first: this completion makes k
        colleague = await bot.store.begin(wave.id, 9_000 + other, "dijkhoven", "staff", "nl")
        await bot.store.complete(colleague, 0)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 7)
    thanks = [c for c in await bot.send(RESPONDENT, "Prima") if c.method == "sendMessage"]
    assert len(await bot.store.completed_responses([wave.id])) == 5  # released together
    (_, signed) = thanks[-1].buttons[0]
    confirmation = edited(await bot.press(RESPONDENT, signed))
    assert confirmation.text == t("bot.notify_ok", "nl")  # released: nothing left to date
    assert confirmation.buttons == [(t("bot.unsubscribe_button", "nl"), UNSUBSCRIBE_DATA)]
    assert [c.chat_id for c in await bot.store.contacts()] == [RESPONDENT]
    calls = await bot.press(RESPONDENT, UNSUBSCRIBE_DATA)
    assert [c.method for c in calls if c.method != "answerCallbackQuery"] == [
        "editMessageReplyMarkup",  # the button goes, the confirmation stays readable
        "sendMessage",
    ]
    assert calls[-1].text == t("bot.unsubscribed", "nl")
    assert await bot.store.contacts() == []


async def test_an_unknown_command_gets_a_pointer_to_help_and_known_ones_do_not(bot: Bot) -> None:
    """/nonsense is answered with the pointer; /help, /stop and a refused /waves are not."""
    assert await bot.said(RESPONDENT, "/nonsense") == t("bot.unknown_command", "nl")
    assert await bot.said(RESPONDENT, "/Nonsense@TestBot", lang="en") == t(
        "bot.unknown_command", "en"
    )
    assert await bot.said(RESPONDENT, "/help") != t("bot.unknown_command", "nl")
    assert await bot.said(RESPONDENT, "/stop") == t("bot.stopped", "nl")
    assert await bot.said(RESPONDENT, "/waves") == t("bot.not_allowed", "nl")
    assert await bot.said(RESPONDENT, "/unsubscribe") == t("bot.unsubscribed", "nl")


async def test_text_on_the_consent_screen_gets_a_hint_to_tap_the_button(bot: Bot) -> None:
    """Typing instead of tapping "Ik doe mee" says to tap it; before any link, how to begin."""
    assert await bot.said(RESPONDENT, "hallo") == t("bot.not_in_survey", "nl")
    wave = await open_unit_wave(bot)
    token = await link(bot, "staff")
    await bot.send(RESPONDENT, f"/start {token}")
    hint = await bot.said(RESPONDENT, "ja, ik doe mee")
    assert hint == t("bot.consent_hint", "nl", button=t("bot.consent_button", "nl"))
    assert "Ik doe mee" in hint
    assert await bot.store.find_session(wave.id, RESPONDENT) is None  # typing consents to nothing
    await bot.press(RESPONDENT, f"c:{token}")
    at_question = [c.text for c in await bot.send(RESPONDENT, "nog iets")]
    assert at_question[0] == t("bot.use_buttons", "nl")  # now at a question: not the hint
    await advance(bot, wave, RESPONDENT, 7)
    await bot.send(RESPONDENT, "Klaar")  # completes the response
    assert await bot.said(RESPONDENT, "hallo") == t("bot.not_in_survey", "nl")


async def test_the_welcome_names_the_role_a_link_fixes_and_no_other(bot: Bot) -> None:
    """A council link says "in de rol Raadslid"; an organisation's link names no role."""
    await open_unit_wave(bot)
    council = await bot.said(RESPONDENT, f"/start {await link(bot, 'council')}")
    assert "namens <b>Dijkhoven</b>, in de rol <b>Raadslid</b>." in council
    everyone = await bot.said(RESPONDENT, f"/start {await link(bot)}")
    assert "namens <b>Dijkhoven</b>." in everyone and "in de rol" not in everyone
    for text in (council, everyone):
        assert "medewerker" not in text.lower()


async def test_language_redraws_the_open_question_in_place(bot: Bot) -> None:
    """/language mid-question: the prompt becomes the same question in the new language."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 1)
    prompt = [c for c in await bot.send(RESPONDENT, "/language") if c.method == "sendMessage"]
    assert len(prompt) == 1
    calls = await bot.press(RESPONDENT, "g:en")
    text, buttons = await screen(bot, wave, RESPONDENT)
    assert "Partners keep their commitments." in text and "Question 1 of" in text
    assert (edited(calls).text, edited(calls).buttons) == (
        t("bot.language_set", "en") + "\n\n" + text,
        buttons,
    )
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 1  # nothing answered by it
    outside = await bot.press(OTHER_USER, "g:en")  # nobody's question: only the line
    assert edited(outside).text == t("bot.language_set", "en") and not edited(outside).buttons


OTHER_USER = 5_555_000_999


def progress_of(text: str) -> tuple[int, int]:
    found = re.search(r"Vraag (\d+) van (\d+)", text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


async def test_progress_does_not_jump_when_a_follow_up_appears(bot: Bot) -> None:
    """c1 = less brings in "why": the total stays; c1 = more rules it out: it only shrinks."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    at_c1 = progress_of((await screen(bot, wave, RESPONDENT))[0])
    assert at_c1 == (2, 7)  # v1, c1, why (not ruled out yet), m1, cult, rank, open
    why = edited(await bot.press(RESPONDENT, f"a:{wave.id}:2:less"))
    assert "Waarom minder?" in why.text and progress_of(why.text) == (3, 7)
    await bot.press(RESPONDENT, f"b:{wave.id}:3")
    m1 = edited(await bot.press(RESPONDENT, f"a:{wave.id}:2:more"))
    assert "Wat levert het op?" in m1.text and progress_of(m1.text) == (3, 6)


async def test_every_command_the_bot_takes_is_described_for_its_audience(bot: Bot) -> None:
    """Each CommandHandler's command is in [commands] or, for facilitators, in
    [facilitator_commands]: /help and Telegram's menu never miss one."""
    registered = {
        command: handler.callback.__module__
        for handler in bot.app.handlers[0]
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    for lang in LANGUAGES:
        respondent, facilitators = section("commands", lang), section("facilitator_commands", lang)
        for command, module in registered.items():
            described = facilitators if module == facilitator.__name__ else respondent
            assert command in described, (lang, command)
        assert set(respondent) | set(facilitators) == set(registered)
