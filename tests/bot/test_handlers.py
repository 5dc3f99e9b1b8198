"""Handler units: each branch through `app.process_update`, Telegram replaced by a recorder.

Every test checks the text or the branch taken (what was sent, what was stored), so a
handler that answers wrongly, or not at all, fails here — not only end to end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardMarkup, Update

from bot.app import build_application
from bot.optin import opt_in_data
from bot.render import screen as screen_of
from bot.respondent import help_text
from surveys import flow, keys
from surveys.answers import DONT_KNOW
from surveys.engine import QuestionStep, State
from surveys.errors import StaleStepError, UnlinkPendingError, WaveClosedError
from surveys.i18n import t
from surveys.store import Wave
from tests.support.recording import Call, RecordingTelegram, message, press
from trustscan.config import load_config
from trustscan.detectable import detectable_lines, plan_next_wave

FACILITATOR = 4242
RESPONDENT = 5_555_000_111
KEY = "12" * 32
OTHER = 5_555_000_222
# A small survey: for staff 0 intro (info), 1 v1 (likert, don't know), 2 c1 (choice,
# optional), 3 why (text, only after c1 = less), 4 m1 (multi), 5 cult (allocate),
# 6 rank (ranking), 7 open (text); administrators first get adm (choice) at 0.
SURVEY = Path(__file__).parent / "data" / "unit.toml"


class Bot:
    """The real Application over a fresh database, driven update by update."""

    def __init__(self, app: Any, telegram: RecordingTelegram) -> None:
        self.app = app
        self.telegram = telegram
        self._update_id = 0

    @property
    def services(self) -> Any:
        return self.app.bot_data["services"]

    @property
    def store(self) -> Any:
        return self.services.store

    async def _process(self, update: dict[str, Any]) -> list[Any]:
        before = len(self.telegram.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.telegram.calls[before:]

    async def send(self, user: int, text: str, lang: str = "nl") -> list[Any]:
        """The calls the bot made in answer to a message."""
        self._update_id += 1
        return await self._process(message(self._update_id, user, text, lang))

    async def press(self, user: int, data: str, lang: str = "nl") -> list[Any]:
        self._update_id += 1
        return await self._process(press(self._update_id, user, data, lang))

    async def said(self, user: int, text: str, lang: str = "nl") -> str:
        """The text of the one reply a message gets (fails if there is not exactly one)."""
        replies = [c for c in await self.send(user, text, lang) if c.method == "sendMessage"]
        assert len(replies) == 1, [c.text for c in replies]
        return replies[0].text


async def started(tmp_path: Path) -> Bot:
    """The bot over the config and database in `tmp_path` (made the first time)."""
    config_file = tmp_path / "config.toml"
    if not config_file.exists():
        config_file.write_text(
            f'[telegram]\ntoken = "1:unit"\nbot_username = "TestBot"\n'
            f"facilitators = [{FACILITATOR}]\n"
            '[database]\npath = "t.db"\n'
            f'[surveys]\npaths = ["{SURVEY.as_posix()}"]\n',
            encoding="utf-8",
        )
    config = load_config(config_file, env={"TRUSTSCAN_KEY": KEY})
    telegram = RecordingTelegram()
    app = build_application(config, request=telegram)
    await app.initialize()
    await app.post_init(app)
    if app.job_queue is not None:
        app.job_queue.scheduler.remove_all_jobs()
    return Bot(app, telegram)


async def stopped(bot: Bot) -> None:
    await bot.app.post_shutdown(bot.app)
    await bot.app.shutdown()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    running = await started(tmp_path)
    try:
        yield running
    finally:
        await stopped(running)


# -- the error handler ----------------------------------------------------------------------


async def test_an_unexpected_error_gets_a_reply_not_silence(bot, monkeypatch) -> None:
    """A handler that fails is answered with the error text, in the person's language."""

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.store, "waves", broken)
    assert await bot.said(RESPONDENT, "/start") == t("bot.error", "nl")
    assert await bot.said(RESPONDENT, "/start", lang="en") == t("bot.error", "en")
    monkeypatch.setattr(bot.store, "invitation", broken)
    calls = await bot.press(RESPONDENT, "c:sometoken")  # consent looks up the link first
    assert [(c.method, c.params.get("text")) for c in calls] == [
        ("answerCallbackQuery", t("bot.error", "nl"))
    ]


# -- respondent commands ---------------------------------------------------------------------


async def test_help_privacy_and_start_say_their_own_text(bot) -> None:
    """/help, /privacy and a bare or bad /start each answer with their own text."""
    assert await bot.said(RESPONDENT, "/help") == help_text("nl")
    assert await bot.said(RESPONDENT, "/help", lang="en") == help_text("en")
    assert await bot.said(RESPONDENT, "/help", lang="de-AT") == help_text("de")
    assert "/unsubscribe – " in help_text("nl") and "Nederlands/English/Deutsch" in help_text("nl")
    assert "Telegram-nummer" in await bot.said(RESPONDENT, "/privacy")
    assert await bot.said(RESPONDENT, "/start") == t("bot.no_token", "nl")
    assert await bot.said(RESPONDENT, "/start nonsense-token") == t("bot.bad_token", "nl")


async def test_a_forged_or_outdated_button_stores_nothing(bot) -> None:
    """Callback data the bot never sent is answered briefly and changes nothing."""
    calls = await bot.press(RESPONDENT, "zz:forged")
    assert [(c.method, c.params.get("text")) for c in calls] == [
        ("answerCallbackQuery", t("bot.outdated", "nl"))
    ]
    calls = await bot.press(RESPONDENT, "a:1:9:5")  # an answer in a wave that is not open
    assert [(c.method, c.params.get("text")) for c in calls] == [
        ("answerCallbackQuery", t("bot.wave_closed", "nl"))
    ]
    calls = await bot.press(RESPONDENT, "c:no-such-link")
    assert [c.params.get("text") for c in calls] == [t("bot.wave_closed", "nl")]
    assert await bot.store.waves() == [] and await bot.store.invitations() == []


# -- facilitator commands: who may, and every refusal ----------------------------------------


async def test_facilitator_commands_refuse_everyone_else_and_audit_it(bot) -> None:
    """A respondent typing /waves, /openwave or /report is refused; the attempt is audited."""
    for command in ("/waves", "/invite", "/openwave trust", "/closewave 1", "/report"):
        assert await bot.said(RESPONDENT, command) == t("bot.not_allowed", "nl")
    assert await bot.store.waves() == []  # /openwave did nothing
    audit = await bot.store.audit_entries()
    assert {a.actor for a in audit} == {"non-facilitator"}


async def test_openwave_refuses_an_unknown_survey_and_a_bad_date(bot) -> None:
    """Unknown survey and malformed dates are refused with the reason; no wave is made."""
    assert "Gebruik: /openwave" in await bot.said(FACILITATOR, "/openwave")
    unknown = await bot.said(FACILITATOR, "/openwave nonsense")
    assert "Onbekende vragenlijst <b>nonsense</b>" in unknown and "trust" in unknown
    assert "geen datum" in await bot.said(FACILITATOR, "/openwave trust 31-03-2027")
    assert "after the opening date" in await bot.said(FACILITATOR, "/openwave trust 2001-01-01")
    assert await bot.store.waves() == []
    opened = await bot.said(FACILITATOR, "/openwave trust 2099-03-31")
    assert "Meting #1" in opened and "tot 31-03-2099" in opened  # a Dutch date
    plan = await plan_next_wave(bot.store, bot.services.config, bot.services.registry["trust"])
    assert detectable_lines(plan, "nl")[0] in opened  # what n can show, at the verdicts' α
    assert [w.survey for w in await bot.store.waves()] == ["trust"]


async def test_invite_refuses_an_unknown_organisation(bot) -> None:
    """/invite nowhere names the known organisations and makes no link."""
    refusal = await bot.said(FACILITATOR, "/invite nowhere")
    assert refusal.startswith("Onbekende organisatie") and "dijkhoven" in refusal
    assert await bot.store.invitations() == []
    await bot.said(FACILITATOR, "/openwave trust")  # links lead to a survey: one must run
    calls = await bot.send(FACILITATOR, "/invite veenstede")
    text = next(c.text for c in calls if c.method == "sendMessage")
    assert "Veenstede" in text and "Dijkhoven" not in text
    assert [c.method for c in calls if c.method.startswith("sendPhoto")] == ["sendPhoto"]


async def test_closewave_checks_its_argument_and_asks_before_closing(bot) -> None:
    """Usage, unknown and closed waves are refused; a close needs the confirmation press."""
    assert "Gebruik: /closewave" in await bot.said(FACILITATOR, "/closewave")
    assert "Gebruik: /closewave" in await bot.said(FACILITATOR, "/closewave x")
    assert "geen meting #9" in await bot.said(FACILITATOR, "/closewave 9")
    await bot.said(FACILITATOR, "/openwave trust")
    calls = await bot.send(FACILITATOR, "/closewave 1")
    assert "sluiten?" in calls[-1].text
    assert [d for _, d in calls[-1].buttons] == ["W:1", "Z"]
    assert (await bot.store.wave(1)).is_open  # asking closes nothing
    cancel = await bot.press(FACILITATOR, "Z")
    assert cancel[-1].text == "Geannuleerd." and (await bot.store.wave(1)).is_open
    confirm = await bot.press(FACILITATOR, "W:1")
    assert "is gesloten" in confirm[-1].text
    assert (await bot.store.wave(1)).status == "closed"
    assert "is al gesloten" in await bot.said(FACILITATOR, "/closewave 1")
    again = await bot.press(FACILITATOR, "W:1")  # a second press on the old button
    assert again[-1].text == "Meting #1 is al gesloten."


async def test_report_checks_its_arguments_before_any_work(bot) -> None:
    """Bad and unknown wave numbers are refused; with no wave at all it says so."""
    assert "Gebruik: /report" in await bot.said(FACILITATOR, "/report x")
    assert "geen meting #3" in await bot.said(FACILITATOR, "/report 3")
    assert "nog geen meting" in await bot.said(FACILITATOR, "/report")


async def test_waves_lists_counts_per_organisation(bot) -> None:
    """/waves shows each wave with its counts per organisation."""
    assert "Nog geen metingen" in await bot.said(FACILITATOR, "/waves")
    await bot.said(FACILITATOR, "/openwave culture")
    listing = await bot.said(FACILITATOR, "/waves")
    assert "<b>#1 culture 1</b> [culture] open" in listing
    assert "Lindermeer: 0 klaar (0%), 0 bezig" in listing


async def test_language_offers_every_catalogue_language_and_switches(bot) -> None:
    """/language shows Nederlands, English and Deutsch; a press switches the bot's language."""
    (prompt,) = [c for c in await bot.send(RESPONDENT, "/language") if c.method == "sendMessage"]
    buttons = [b for row in prompt.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("Nederlands", "g:nl"),
        ("English", "g:en"),
        ("Deutsch", "g:de"),
    ]
    calls = await bot.press(RESPONDENT, "g:de")
    assert any(c.text == "Die Sprache ist jetzt Deutsch." for c in calls)
    # the choice outlives Telegram's own language code
    assert await bot.said(RESPONDENT, "/start", lang="nl") == t("bot.no_token", "de")
    await bot.press(RESPONDENT, "g:en")
    assert await bot.said(RESPONDENT, "/start", lang="de") == t("bot.no_token", "en")


async def test_facilitators_get_replies_in_their_own_language(bot) -> None:
    """A German facilitator's commands, refusals and confirmations are German."""
    usage = await bot.said(FACILITATOR, "/openwave", lang="de")
    assert usage.startswith("Verwendung: /openwave")
    assert "Unbekannter Fragebogen" in await bot.said(FACILITATOR, "/openwave x", lang="de")
    opened = await bot.said(FACILITATOR, "/openwave trust 2099-03-31", lang="de")
    assert "ist geöffnet bis 31.03.2099" in opened
    listing = await bot.said(FACILITATOR, "/waves", lang="de")
    assert "offen, schließt am 31.03.2099" in listing and "0 fertig (0 %)" in listing
    assert "Befragung #1 <b>" in await bot.said(FACILITATOR, "/closewave 1", lang="de")
    assert "Es gibt keine Befragung #7" in await bot.said(FACILITATOR, "/report 7", lang="de")


# -- respondent flow: helpers over the unit survey ------------------------------------------


def toasts(calls: list[Call]) -> list[tuple[str, Any]]:
    """The callback answers of a press: (text or None, show_alert or None)."""
    return [
        (c.params.get("text"), c.params.get("show_alert"))
        for c in calls
        if c.method == "answerCallbackQuery"
    ]


def keyboard(markup: InlineKeyboardMarkup) -> list[tuple[str, str]]:
    """The buttons as (label, data without the session secret), like `Call.buttons`."""
    return [
        (str(b.text), str(b.callback_data).partition("|")[0])
        for row in markup.inline_keyboard
        for b in row
    ]


def edited(calls: list[Call]) -> Call:
    """The one message a press edited."""
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1, [c.method for c in calls]
    return edits[0]


async def open_unit_wave(bot: Bot) -> Wave:
    survey = bot.services.registry["unit"]
    orgs = [o.id for o in bot.services.config.organisations]
    wave: Wave = await bot.store.open_wave("unit", survey.version, orgs)
    return wave


async def link(bot: Bot, role: str | None = None, wave: int | None = None) -> str:
    return str((await bot.store.ensure_invitation("dijkhoven", role, wave)).token)


async def join(bot: Bot, user: int, role: str = "staff") -> None:
    """/start with a link that fixes `role`, then consent: the first question is shown."""
    token = await link(bot, role)
    await bot.send(user, f"/start {token}")
    await bot.press(user, f"c:{token}")


async def state_of(bot: Bot, wave: Wave, user: int) -> State:
    """The engine state stored for the person (fails if they have no unfinished session)."""
    session = await bot.store.find_session(wave.id, user)
    assert session is not None and not session.completed
    q = bot.services.questionnaire("unit", session.org, session.role, session.lang)
    state: State = flow.state_of(q, session)
    return state


async def screen(
    bot: Bot, wave: Wave, user: int, widget: object = None, hint: str | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The text and buttons of the question the person is at, as the bot must draw it."""
    session = await bot.store.find_session(wave.id, user)
    q = bot.services.questionnaire("unit", session.org, session.role, session.lang)
    step = q.step(flow.state_of(q, session))
    assert isinstance(step, QuestionStep)
    text, markup = screen_of(step, wave.id, session.lang, session.secret, widget=widget, hint=hint)
    return text, keyboard(markup)


# the staff answers that lead from each position to the next (c1 = more: "why" not asked)
PATH = {0: "n:{w}:0", 1: "a:{w}:1:4", 2: "a:{w}:2:more", 4: "M:{w}:4:1", 5: "L:{w}:5:5.5"}
PATH |= {6: "P:{w}:6:0.1.2"}


async def advance(bot: Bot, wave: Wave, user: int, to: int) -> None:
    """Answer by buttons until the person is at position `to`."""
    while (cursor := (await state_of(bot, wave, user)).cursor) < to:
        await bot.press(user, PATH[cursor].format(w=wave.id))
    assert cursor == to


# -- /start with a link ---------------------------------------------------------------------


async def test_start_with_a_link_welcomes_and_asks_for_consent(bot) -> None:
    """A valid link: the survey's welcome and the privacy promise, one consent button."""
    wave = await open_unit_wave(bot)
    token = await link(bot)
    config = bot.services.config
    privacy = t(
        "bot.privacy",
        "nl",
        k=config.min_group_size,
        k_comments=config.min_group_size_comments,
        k_minus_1=config.min_group_size - 1,
    )
    for lang in ("nl", "de"):  # the survey has no German: its first language, Dutch
        calls = [c for c in await bot.send(RESPONDENT, f"/start {token}", lang) if c.text]
        assert len(calls) == 1
        welcome = t(
            "bot.welcome",
            "nl",
            survey="Eenheidsscan",
            partnership=config.partnership,
            org="Dijkhoven",
            intro="Een heel korte scan.",
            role="",  # a link for everyone of the organisation names no role
        )
        assert calls[0].text == welcome + "\n\n" + privacy
        secret = keys.secret_text(bot.store.consent_secret(wave.id, RESPONDENT))
        assert calls[0].buttons == [(t("bot.consent_button", "nl"), f"c:{token}")]
        assert calls[0].secrets == {secret}  # the chat holds it; the database never does
    assert await bot.store.find_session(wave.id, RESPONDENT) is None  # nothing until consent


async def test_start_without_an_open_wave_or_in_a_closed_one(bot) -> None:
    """No open wave for the link's organisation, or the link's own wave closed: said so."""
    token = await link(bot)
    assert await bot.said(RESPONDENT, f"/start {token}") == t("bot.no_open_wave", "nl")
    wave = await open_unit_wave(bot)
    own = await link(bot, wave=wave.id)
    await bot.store.close_wave(wave.id)
    assert await bot.said(RESPONDENT, f"/start {own}") == t("bot.wave_closed", "nl")
    assert await bot.said(RESPONDENT, f"/start {token}") == t("bot.no_open_wave", "nl")
    # consent on the welcome of a wave that closed meanwhile
    assert toasts(await bot.press(RESPONDENT, f"c:{own}")) == [(t("bot.wave_closed", "nl"), True)]


async def test_start_after_completing_says_so_and_the_old_consent_button_too(bot) -> None:
    """A completed response is not started again: /start and consent say it is done."""
    wave = await open_unit_wave(bot)
    token = await link(bot, "staff")
    session = await bot.store.begin(wave.id, RESPONDENT, "dijkhoven", "staff", "nl")
    await bot.store.complete(session, 0)
    assert await bot.said(RESPONDENT, f"/start {token}") == t("bot.already_done", "nl")
    calls = await bot.press(RESPONDENT, f"c:{token}")
    assert edited(calls).text == t("bot.already_done", "nl")
    assert (await bot.store.find_session(wave.id, RESPONDENT)).completed


async def test_start_resumes_an_unfinished_response_where_it_was(bot) -> None:
    """/start, with the link or without, says welcome back and shows the current question."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    token = await link(bot, "staff")
    for command in ("/start", f"/start {token}"):
        calls = [c for c in await bot.send(RESPONDENT, command) if c.method == "sendMessage"]
        assert [c.text for c in calls[:1]] == [t("bot.resume", "nl")]
        assert (calls[1].text, calls[1].buttons) == await screen(bot, wave, RESPONDENT)
        assert "Hoe verder?" in calls[1].text
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 2  # resuming changes nothing


async def test_a_response_answered_to_the_end_is_completed_on_resume(bot) -> None:
    """Every answer stored but no completion (a crash): /start or consent completes it."""
    wave = await open_unit_wave(bot)
    token = await link(bot, "staff")
    key = bot.services.opt_in_key
    thanks = t("bot.thanks", "nl", others=4) + "\n\nTot ziens."
    for user, via_start in ((RESPONDENT, True), (OTHER, False)):
        session = await bot.store.begin(wave.id, user, "dijkhoven", "staff", "nl")
        await bot.store.save_step(session, 0, 8)  # past the last question, unanswered
        if via_start:
            calls = [c for c in await bot.send(user, "/start") if c.method == "sendMessage"]
            assert [c.text for c in calls] == [t("bot.resume", "nl"), thanks]
            reply = calls[1]
        else:
            reply = edited(await bot.press(user, f"c:{token}"))
            assert reply.text == thanks
        assert reply.buttons == [
            (t("bot.notify_button", "nl"), opt_in_data(key, user, "dijkhoven"))
        ]
        assert (await bot.store.find_session(wave.id, user)).completed
    [group] = await bot.store.completed_counts([wave.id])
    assert (group.org, group.role, group.completed) == ("dijkhoven", "staff", 2)


# -- consent and role ------------------------------------------------------------------------


async def test_consent_offers_only_the_open_roles(bot) -> None:
    """An organisation link: staff and manager to choose from, never a restricted role."""
    await open_unit_wave(bot)
    token = await link(bot)
    calls = await bot.press(RESPONDENT, f"c:{token}")
    assert toasts(calls) == [(None, None)]
    choice = edited(calls)
    assert choice.text == t("bot.choose_role", "nl")
    assert choice.buttons == [
        ("Medewerker", f"r:{token}:staff"),
        ("Leidinggevende", f"r:{token}:manager"),
    ]
    assert choice.secrets == {keys.secret_text(bot.store.consent_secret(1, RESPONDENT))}
    assert await bot.store.find_session(1, RESPONDENT) is None  # nothing before the role


async def test_consent_with_a_role_link_begins_at_its_first_question(bot) -> None:
    """A link that fixes an open role starts at once, with that role's questions.

    (A restricted role's link asks for a code first: tests/bot/test_codes.py.)
    """
    wave = await open_unit_wave(bot)
    token = await link(bot, "manager")
    calls = await bot.press(RESPONDENT, f"c:{token}")
    session = await bot.store.find_session(wave.id, RESPONDENT)
    assert (session.org, session.role, session.lang) == ("dijkhoven", "manager", "nl")
    first = edited(calls)
    assert (first.text, first.buttons) == await screen(bot, wave, RESPONDENT)
    assert "Eerst een stelling." in first.text


async def test_consent_with_one_or_no_open_role(bot) -> None:
    """One open role: no question, it is taken; none (all restricted): the link is refused."""
    wave = await open_unit_wave(bot)
    token = await link(bot)
    services = bot.services
    restricted = {"manager", "administrator", "council"}
    services.config = dataclasses.replace(
        services.config,
        roles=tuple(
            dataclasses.replace(r, restricted=r.id in restricted) for r in services.config.roles
        ),
    )
    first = edited(await bot.press(RESPONDENT, f"c:{token}"))
    assert "Eerst een stelling." in first.text
    assert (await bot.store.find_session(wave.id, RESPONDENT)).role == "staff"
    services.config = dataclasses.replace(
        services.config,
        roles=tuple(dataclasses.replace(r, restricted=True) for r in services.config.roles),
    )
    calls = await bot.press(OTHER, f"c:{token}")
    assert toasts(calls) == [(t("bot.role_needs_link", "nl"), True)]
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert await bot.store.find_session(wave.id, OTHER) is None


async def test_choose_role_refuses_what_the_link_does_not_offer(bot) -> None:
    """Unknown role, another role than the link's, a restricted role, a closed wave."""
    wave = await open_unit_wave(bot)
    token, staff_link = await link(bot), await link(bot, "staff")
    outdated = [(t("bot.outdated", "nl"), None)]  # a toast, not an alert
    assert toasts(await bot.press(RESPONDENT, f"r:{token}:nobody")) == outdated
    assert toasts(await bot.press(RESPONDENT, f"r:{staff_link}:manager")) == outdated
    assert toasts(await bot.press(RESPONDENT, f"r:{token}:council")) == [
        (t("bot.role_needs_link", "nl"), True)
    ]
    assert toasts(await bot.press(RESPONDENT, "r:no-such-link:staff")) == outdated
    assert await bot.store.find_session(wave.id, RESPONDENT) is None
    calls = await bot.press(RESPONDENT, f"r:{token}:manager")  # a role the link offers
    assert "Eerst een stelling." in edited(calls).text
    assert (await bot.store.find_session(wave.id, RESPONDENT)).role == "manager"
    await bot.store.close_wave(wave.id)
    bot.services.forget_wave(wave.id)
    assert toasts(await bot.press(OTHER, f"r:{token}:staff")) == outdated


async def test_a_wave_that_closes_between_link_and_consent_is_refused(bot) -> None:
    """The bot still holds the wave as open, the store has closed it: no session."""
    wave = await open_unit_wave(bot)
    token = await link(bot, "staff", wave.id)
    await bot.send(RESPONDENT, f"/start {token}")  # the bot now knows the wave as open
    await bot.store.close_wave(wave.id)
    calls = await bot.press(RESPONDENT, f"c:{token}")
    assert toasts(calls) == [(t("bot.wave_closed", "nl"), True)]
    assert [c.method for c in calls] == ["answerCallbackQuery"]


# -- answering by buttons ----------------------------------------------------------------------


async def test_an_answer_is_stored_and_the_next_question_shown(bot) -> None:
    """Next on the statement, then a scale point: stored, and the next question drawn."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    calls = await bot.press(RESPONDENT, f"n:{wave.id}:0")
    assert toasts(calls) == [(None, None)]
    assert (edited(calls).text, edited(calls).buttons) == await screen(bot, wave, RESPONDENT)
    assert "Partners houden zich aan afspraken." in edited(calls).text
    calls = await bot.press(RESPONDENT, f"a:{wave.id}:1:4")
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 2 and dict(state.answers) == {"v1": 4}
    assert (edited(calls).text, edited(calls).buttons) == await screen(bot, wave, RESPONDENT)
    assert "Hoe verder?" in edited(calls).text
    # every button carries the person's session secret, which the store never keeps
    session = await bot.store.find_session(wave.id, RESPONDENT)
    assert edited(calls).secrets == {keys.secret_text(session.secret)}


async def test_an_outdated_or_malformed_press_changes_nothing(bot, monkeypatch) -> None:
    """An earlier question's button, a garbled one, one from nobody's session: "outdated"."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    before = await state_of(bot, wave, RESPONDENT)
    outdated = [(t("bot.outdated", "nl"), None)]
    for data in (f"a:{wave.id}:1:2", f"a:{wave.id}:2x:more", f"b:{wave.id}:1"):
        calls = await bot.press(RESPONDENT, data)
        assert toasts(calls) == outdated and [c.method for c in calls] == ["answerCallbackQuery"]
    assert toasts(await bot.press(OTHER, f"a:{wave.id}:0:1")) == outdated  # never started
    assert await state_of(bot, wave, RESPONDENT) == before

    async def moved_meanwhile(*args: object, **kwargs: object) -> None:
        raise StaleStepError("a double tap got there first")

    monkeypatch.setattr(bot.store, "save_step", moved_meanwhile)
    calls = await bot.press(RESPONDENT, f"a:{wave.id}:2:more")
    assert toasts(calls) == outdated and [c.method for c in calls] == ["answerCallbackQuery"]


async def test_a_press_past_the_end_after_completion_or_closing_is_refused(bot) -> None:
    """At the end without completion, after completion, and in a closed wave: no change."""
    wave = await open_unit_wave(bot)
    session = await bot.store.begin(wave.id, RESPONDENT, "dijkhoven", "staff", "nl")
    await bot.store.save_step(session, 0, 8)
    outdated = [(t("bot.outdated", "nl"), None)]
    assert toasts(await bot.press(RESPONDENT, f"n:{wave.id}:8")) == outdated
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 8
    done = await bot.store.begin(wave.id, OTHER, "dijkhoven", "staff", "nl")
    await bot.store.complete(done, 0)
    assert toasts(await bot.press(OTHER, f"n:{wave.id}:0")) == outdated
    await bot.store.close_wave(wave.id)
    bot.services.forget_wave(wave.id)
    assert toasts(await bot.press(RESPONDENT, f"n:{wave.id}:8")) == [
        (t("bot.wave_closed", "nl"), None)
    ]


async def test_a_refused_answer_gets_its_hint_and_stores_nothing(bot) -> None:
    """Out of range, skipping a required question, Next on a question, Back at the start."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    w = wave.id
    assert toasts(await bot.press(RESPONDENT, f"b:{w}:0")) == [(t("hints.at_start", "nl"), None)]
    await advance(bot, wave, RESPONDENT, 1)
    before = await state_of(bot, wave, RESPONDENT)
    expected = {
        f"a:{w}:1:9": t("hints.out_of_range", "nl", low=1, high=5),
        f"s:{w}:1": t("hints.required", "nl"),
        f"n:{w}:1": t("hints.needs_answer", "nl"),
        f"M:{w}:1:3": t("bot.outdated", "nl"),  # a multi's Done on a scale question
        f"p:{w}:1:-:0": t("bot.outdated", "nl"),  # a ranking pick on a scale question
    }
    for data, toast in expected.items():
        calls = await bot.press(RESPONDENT, data)
        assert toasts(calls) == [(toast, None)], data
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert await state_of(bot, wave, RESPONDENT) == before


async def test_dont_know_skip_and_back(bot) -> None:
    """Don't know is stored as such, Skip leaves an answer out, Back keeps every answer."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 1)
    w = wave.id
    await bot.press(RESPONDENT, f"k:{w}:1")
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 2 and state.answers["v1"] is DONT_KNOW
    calls = await bot.press(RESPONDENT, f"s:{w}:2")  # c1 left out: "why" is not asked
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 4 and "c1" not in state.answers
    assert "Wat levert het op?" in edited(calls).text
    calls = await bot.press(RESPONDENT, f"b:{w}:4")
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 2 and state.answers["v1"] is DONT_KNOW
    assert (edited(calls).text, edited(calls).buttons) == await screen(bot, wave, RESPONDENT)
    calls = await bot.press(RESPONDENT, f"b:{w}:2")  # back to the scale: don't know checked
    assert f"✓ {t('bot.dont_know', 'nl')}" in [label for label, _ in edited(calls).buttons]
    await bot.press(RESPONDENT, f"a:{w}:1:2")
    await bot.press(RESPONDENT, f"a:{w}:2:less")  # now the follow-up is asked
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 3 and dict(state.answers) == {"v1": 2, "c1": "less"}


async def test_multi_toggles_redraw_and_done_stores_the_choice(bot) -> None:
    """Toggles only redraw (the mask in the data); too many or a forged option is refused."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 4)
    w = wave.id
    calls = await bot.press(RESPONDENT, f"m:{w}:4:0:1")
    assert toasts(calls) == [(None, None)]
    assert (edited(calls).text, edited(calls).buttons) == await screen(
        bot, wave, RESPONDENT, widget=0b10
    )
    assert ("☑ Kwaliteit", f"m:{w}:4:2:1") in edited(calls).buttons
    assert (t("bot.done_button", "nl"), f"M:{w}:4:2") in edited(calls).buttons
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 4  # a toggle stores nothing
    refused = {
        f"m:{w}:4:3:2": t("hints.choose_between", "nl", low=1, high=2),  # a third option
        f"m:{w}:4:0:7": t("bot.outdated", "nl"),  # no such option
        f"l:{w}:4:0.0:0+": t("bot.outdated", "nl"),  # an allocate step on a multi
        f"p:{w}:4:0:1": t("bot.outdated", "nl"),  # a ranking pick shaped like a toggle
        f"M:{w}:4:0": t("hints.choose_between", "nl", low=1, high=2),  # Done with none
    }
    for data, toast in refused.items():
        calls = await bot.press(RESPONDENT, data)
        assert toasts(calls) == [(toast, None)], data
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    await bot.press(RESPONDENT, f"M:{w}:4:5")
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 5 and state.answers["m1"] == ("cost", "clients")


async def test_allocate_steps_redraw_and_done_stores_the_points(bot) -> None:
    """+, − and the value redraw the points; Done needs exactly the total."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 5)
    w = wave.id
    for data, points in ((f"l:{w}:5:0.0:0+", (5, 0)), (f"l:{w}:5:5.0:1=", (5, 5))):
        calls = await bot.press(RESPONDENT, data)
        redrawn = edited(calls)
        assert (redrawn.text, redrawn.buttons) == await screen(bot, wave, RESPONDENT, widget=points)
    assert "Nog te verdelen: <b>0</b>" in redrawn.text
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 5
    calls = await bot.press(RESPONDENT, f"L:{w}:5:5.0")
    assert toasts(calls) == [(t("hints.allocate_total", "nl", total=10, got=5), None)]
    assert toasts(await bot.press(RESPONDENT, f"l:{w}:5:9.9:0+")) == [  # more than the total
        (t("bot.outdated", "nl"), None)
    ]
    await bot.press(RESPONDENT, f"L:{w}:5:0.10")
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 6 and state.answers["cult"] == (0, 10)


async def test_ranking_picks_redraw_and_done_stores_the_ranks(bot) -> None:
    """Picks and Start over redraw the order; Done needs every option once."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 6)
    w = wave.id
    for data, order in ((f"p:{w}:6:-:2", (2,)), (f"p:{w}:6:2:0", (2, 0)), (f"p:{w}:6:2.0", ())):
        redrawn = edited(await bot.press(RESPONDENT, data))
        assert (redrawn.text, redrawn.buttons) == await screen(bot, wave, RESPONDENT, widget=order)
    assert toasts(await bot.press(RESPONDENT, f"p:{w}:6:2:2")) == [  # picked twice
        (t("bot.outdated", "nl"), None)
    ]
    calls = await bot.press(RESPONDENT, f"P:{w}:6:2")
    assert toasts(calls) == [(t("hints.rank_all", "nl", count=3), None)]
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 6
    await bot.press(RESPONDENT, f"P:{w}:6:2.0.1")
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 7 and state.answers["rank"] == (2, 3, 1)


# -- typed answers ----------------------------------------------------------------------------


async def test_a_typed_answer_to_an_open_question_is_stored(bot) -> None:
    """Too long: the question again with the hint; fitting: stored, the next one sent."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    await bot.press(RESPONDENT, f"a:{wave.id}:2:less")
    long = "x" * 21
    hint = t("hints.too_long", "nl", limit=20, got=21)
    calls = await bot.send(RESPONDENT, long)
    assert [(c.text, c.buttons) for c in calls] == [await screen(bot, wave, RESPONDENT, hint=hint)]
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 3
    bot._update_id += 1
    update = message(bot._update_id, RESPONDENT, "  te duur  ")
    calls = await bot._process(update)
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 4 and state.answers["why"] == "te duur"
    assert [(c.method, c.text, c.buttons) for c in calls] == [
        ("sendMessage", *await screen(bot, wave, RESPONDENT))
    ]
    await bot.press(RESPONDENT, f"b:{wave.id}:4")  # back at the open question
    assert await bot._process(update) == []  # the same message delivered again: ignored
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 3 and state.answers["why"] == "te duur"


async def test_typing_where_buttons_are_expected_or_outside_a_survey(bot) -> None:
    """A message at a button question: use the buttons, and the question again."""
    assert await bot.said(RESPONDENT, "hallo") == t("bot.not_in_survey", "nl")
    # a Telegram language the catalogue lacks: the configured default (Dutch)
    assert await bot.said(RESPONDENT, "hello", lang="fr") == t("bot.not_in_survey", "nl")
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 1)
    calls = await bot.send(RESPONDENT, "helemaal eens")
    assert [c.text for c in calls[:1]] == [t("bot.use_buttons", "nl")]
    assert [(c.text, c.buttons) for c in calls[1:]] == [await screen(bot, wave, RESPONDENT)]
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 1 and dict(state.answers) == {}


async def test_the_last_answer_completes_and_the_signed_button_opts_in(bot) -> None:
    """The final text completes the response; only this chat's signed button opts in."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 7)
    calls = await bot.send(RESPONDENT, "Prima scan")
    key = bot.services.opt_in_key
    signed = opt_in_data(key, RESPONDENT, "dijkhoven")
    assert [(c.text, c.buttons) for c in calls] == [
        (
            t("bot.thanks", "nl", others=4) + "\n\nTot ziens.",
            [(t("bot.notify_button", "nl"), signed)],
        )
    ]
    assert (await bot.store.find_session(wave.id, RESPONDENT)).completed
    # alone in its group, the response waits for k − 1 others (or the close), unlinked
    assert await bot.store.completed_responses([wave.id]) == []
    counts = {c.org: (c.completed, c.in_progress) for c in await bot.store.response_counts(1)}
    assert counts["dijkhoven"] == (1, 0) and sum(c for c, _ in counts.values()) == 1
    assert await bot.said(RESPONDENT, "nog iets") == t("bot.not_in_survey", "nl")
    outdated = [(t("bot.outdated", "nl"), None)]
    for forged in (
        "o:dijkhoven:AAAAAAAAAA",  # a made-up mac
        opt_in_data(key, OTHER, "dijkhoven"),  # another chat's button
        opt_in_data(key, RESPONDENT, "nowhere"),  # signed, but no such organisation
    ):
        assert toasts(await bot.press(RESPONDENT, forged)) == outdated
    assert await bot.store.contacts() == []
    calls = await bot.press(RESPONDENT, signed)
    # a contact appearing now would date this completion: it is written with the release
    assert edited(calls).text == t("bot.notify_held", "nl", others=4)
    assert await bot.store.contacts() == []
    await bot.store.close_wave(wave.id)
    [response] = await bot.store.completed_responses([wave.id])  # released at the close
    assert (response.org, response.role) == ("dijkhoven", "staff")
    assert [c.text for c in await bot.store.comments([wave.id])] == ["Prima scan"]
    assert await bot.store.contacts() == []  # its group never reached k: it would name them


async def test_after_a_restart_the_next_press_brings_the_session_back(tmp_path) -> None:
    """The session secret lives in the chat's buttons and the bot's memory only.

    After a restart the database alone cannot say whose draft is whose: a typed line
    hears how to go on, a press without the secret leads nowhere, and a press of a button
    the bot drew before (carrying the secret) continues where the person was.
    """
    first = await started(tmp_path)
    try:
        wave = await open_unit_wave(first)
        await join(first, RESPONDENT)
        await advance(first, wave, RESPONDENT, 2)
        [secret] = {s for c in await first.press(RESPONDENT, "b:1:2") for s in c.secrets}
        await first.press(RESPONDENT, "a:1:1:4")
    finally:
        await stopped(first)
    again = await started(tmp_path)
    try:
        assert await again.store.find_session(wave.id, RESPONDENT) is None  # nothing in memory
        assert await again.said(RESPONDENT, "hallo") == t("bot.not_in_survey", "nl")
        assert toasts(await again.press(RESPONDENT, "a:1:2:more")) == [
            (t("bot.outdated", "nl"), None)
        ]
        calls = await again.press(RESPONDENT, f"a:1:2:more|{secret}")
        assert (await state_of(again, wave, RESPONDENT)).cursor == 4  # the answer was taken
        assert edited(calls).secrets == {secret}  # and the next question carries it on
        session = await again.store.find_session(wave.id, RESPONDENT)
        assert keys.secret_text(session.secret) == secret
        assert [(r.question, r.value) for r in session.rows if r.question == "v1"] == [("v1", 4)]
    finally:
        await stopped(again)


async def test_typing_after_the_last_question_completes_the_response(bot) -> None:
    """Everything answered but not completed: a message completes it (via resume)."""
    wave = await open_unit_wave(bot)
    session = await bot.store.begin(wave.id, RESPONDENT, "dijkhoven", "staff", "nl")
    await bot.store.save_step(session, 0, 8)
    calls = [c for c in await bot.send(RESPONDENT, "hallo?") if c.method == "sendMessage"]
    assert [c.text for c in calls] == [
        t("bot.resume", "nl"),
        t("bot.thanks", "nl", others=4) + "\n\nTot ziens.",
    ]
    assert (await bot.store.find_session(wave.id, RESPONDENT)).completed


# -- /delete and /language ------------------------------------------------------------------


async def test_delete_asks_first_cancel_keeps_and_confirm_erases(bot, monkeypatch) -> None:
    """/delete asks; Cancel keeps the answers; Yes erases them; with nothing, says so."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    calls = [c for c in await bot.send(RESPONDENT, "/delete") if c.method == "sendMessage"]
    assert [(c.text, c.buttons) for c in calls] == [
        (
            t("bot.delete_confirm", "nl"),
            [(t("bot.delete_yes", "nl"), "x"), (t("bot.cancel", "nl"), "X")],
        )
    ]
    assert edited(await bot.press(RESPONDENT, "X")).text == t("bot.cancelled", "nl")
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 2
    assert edited(await bot.press(RESPONDENT, "x")).text == t("bot.deleted", "nl")
    assert await bot.store.find_session(wave.id, RESPONDENT) is None
    assert edited(await bot.press(RESPONDENT, "x")).text == t("bot.nothing_to_delete", "nl")

    async def pending(*args: object, **kwargs: object) -> bool:
        raise UnlinkPendingError("a reader holds the WAL")

    await join(bot, RESPONDENT)
    monkeypatch.setattr(bot.store, "delete_in_progress", pending)
    assert edited(await bot.press(RESPONDENT, "x")).text == t("bot.deleted_pending", "nl")


async def test_a_language_switch_carries_the_survey_in_progress(bot) -> None:
    """English moves the session to English; German (the survey lacks it) keeps Dutch."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    calls = await bot.press(RESPONDENT, "g:en")
    text, buttons = await screen(bot, wave, RESPONDENT)  # the open question, redrawn
    assert (edited(calls).text, edited(calls).buttons) == (
        t("bot.language_set", "en") + "\n\n" + text,
        buttons,
    )
    assert "First a statement." in text
    assert (await bot.store.find_session(wave.id, RESPONDENT)).lang == "en"
    calls = await bot.press(RESPONDENT, f"n:{wave.id}:0")
    assert (edited(calls).text, edited(calls).buttons) == await screen(bot, wave, RESPONDENT)
    assert "Partners keep their commitments." in edited(calls).text
    assert ("strongly agree", f"a:{wave.id}:1:5") in edited(calls).buttons
    calls = await bot.press(RESPONDENT, "g:de")
    assert edited(calls).text.startswith(t("bot.language_set", "de") + "\n\n")
    assert "Partners houden zich aan afspraken." in edited(calls).text  # the survey's Dutch
    assert (await bot.store.find_session(wave.id, RESPONDENT)).lang == "nl"  # the first one
    hint = t("hints.out_of_range", "nl", low=1, high=5)
    assert toasts(await bot.press(RESPONDENT, f"a:{wave.id}:1:0")) == [(hint, None)]
    calls = [c for c in await bot.send(RESPONDENT, "/start") if c.method == "sendMessage"]
    assert [c.text for c in calls[:1]] == [t("bot.resume", "nl")]
    assert "Partners houden zich aan afspraken." in calls[1].text
    # a language the catalogue lacks is no language button: the catch-all answers it
    assert toasts(await bot.press(RESPONDENT, "g:xx")) == [(t("bot.outdated", "de"), None)]


# -- rare paths: a link's wave gone, a wave closing mid-listing, edits Telegram refuses -----


async def test_a_link_to_a_wave_that_does_not_exist_finds_no_open_wave(bot) -> None:
    """A link made for a wave the database no longer knows leads nowhere."""
    await open_unit_wave(bot)
    token = await link(bot, wave=99)
    assert await bot.said(RESPONDENT, f"/start {token}") == t("bot.no_open_wave", "nl")
    assert toasts(await bot.press(RESPONDENT, f"c:{token}")) == [(t("bot.wave_closed", "nl"), True)]


async def test_a_wave_closing_while_sessions_are_listed_is_passed_over(bot, monkeypatch) -> None:
    """/start without a link skips a wave that closed between listing and lookup."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 0

    async def closed(*args: object, **kwargs: object) -> None:
        raise WaveClosedError("closed meanwhile")

    monkeypatch.setattr(bot.store, "find_session", closed)
    assert await bot.said(RESPONDENT, "/start") == t("bot.no_token", "nl")


async def test_edits_telegram_refuses(bot, monkeypatch) -> None:
    """A double tap's "not modified" is no error; another refusal reaches the error handler.

    A press whose message Telegram does not hand out is answered without an edit.
    """
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    recording = bot.telegram.do_request
    refusal = {"description": "Bad Request: message is not modified"}

    async def refusing(url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        answer: tuple[int, bytes] = await recording(url, method, *args, **kwargs)
        if url.endswith("/editMessageText"):
            return 400, json.dumps({"ok": False, "error_code": 400, **refusal}).encode()
        return answer

    monkeypatch.setattr(bot.telegram, "do_request", refusing)
    calls = await bot.press(RESPONDENT, f"n:{wave.id}:0")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert toasts(calls) == [(None, None)]  # no error toast after the stored step
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 1
    refusal["description"] = "Bad Request: message to edit not found"
    calls = await bot.press(RESPONDENT, f"a:{wave.id}:1:3")
    assert toasts(calls) == [(None, None), (t("bot.error", "nl"), None)]
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 2  # stored before the edit
    monkeypatch.setattr(bot.telegram, "do_request", recording)
    update = press(900, RESPONDENT, "g:en")
    del update["callback_query"]["message"]  # e.g. a button of an inline message
    update["callback_query"]["inline_message_id"] = "1"
    calls = await bot._process(update)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert (await bot.store.find_session(wave.id, RESPONDENT)).lang == "en"


# -- answers that must land where they were given (issue 16) --------------------------------


async def at_the_open_question(bot: Bot) -> Wave:
    """The person at position 3, the open question "why" (reached by c1 = less)."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    await bot.press(RESPONDENT, f"a:{wave.id}:2:less")
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 3
    return wave


async def test_two_typed_lines_arriving_together_answer_one_question(bot) -> None:
    """Both lines arrive while "why" is on screen: the first answers it, the second is not
    stored as the answer to the next question but refused, with that question below."""
    wave = await at_the_open_question(bot)
    first, second = bot._update_id + 1, bot._update_id + 2
    bot._update_id += 2
    before = len(bot.telegram.calls)
    await asyncio.gather(
        bot._process(message(first, RESPONDENT, "te duur")),
        bot._process(message(second, RESPONDENT, "te duur")),
    )
    state = await state_of(bot, wave, RESPONDENT)
    assert state.cursor == 4 and state.answers["why"] == "te duur"
    assert "m1" not in state.answers
    sent = [c for c in bot.telegram.calls[before:] if c.method == "sendMessage"]
    refusal = await screen(bot, wave, RESPONDENT, hint=t("bot.typed_for_earlier", "nl"))
    assert [(c.text, c.buttons) for c in sent] == [await screen(bot, wave, RESPONDENT), refusal]


async def test_a_typed_line_the_bot_cannot_place_is_not_stored(bot) -> None:
    """After a restart the bot does not know which question the person saw: a typed line
    gets the question again, with a word why, and the next line counts."""
    wave = await at_the_open_question(bot)
    bot.app.chat_data[RESPONDENT].clear()  # what a restart forgets
    calls = await bot.send(RESPONDENT, "te duur")
    unsure = await screen(bot, wave, RESPONDENT, hint=t("bot.typed_unsure", "nl"))
    assert [(c.text, c.buttons) for c in calls] == [unsure]
    assert "why" not in (await state_of(bot, wave, RESPONDENT)).answers
    await bot.send(RESPONDENT, "te duur")
    assert (await state_of(bot, wave, RESPONDENT)).answers["why"] == "te duur"


async def test_an_earlier_button_shows_the_current_question_when_it_may_not_be_on_screen(
    bot,
) -> None:
    """After a restart (the next question may never have been sent) a tap on an answered
    question's button is "outdated" and brings the current question; while the bot knows
    the current question is the newest message, the toast alone."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 2)
    calls = await bot.press(RESPONDENT, f"a:{wave.id}:1:2")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    bot.app.chat_data[RESPONDENT].clear()  # what a restart forgets
    calls = await bot.press(RESPONDENT, f"a:{wave.id}:1:2")
    assert toasts(calls) == [(t("bot.outdated", "nl"), None)]
    assert (edited(calls).text, edited(calls).buttons) == await screen(bot, wave, RESPONDENT)
    assert (await state_of(bot, wave, RESPONDENT)).answers.get("v1") == 4  # nothing stored


async def test_a_press_too_late_for_a_toast_says_it_in_the_chat(bot, monkeypatch) -> None:
    """Telegram refuses the answer as too old: a stored answer still shows the next
    question; a refused one brings its hint in the chat, above the question again."""
    wave = await open_unit_wave(bot)
    await join(bot, RESPONDENT)
    await advance(bot, wave, RESPONDENT, 4)
    recording = bot.telegram.do_request
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"

    async def late(url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        answer: tuple[int, bytes] = await recording(url, method, *args, **kwargs)
        if url.endswith("/answerCallbackQuery"):
            body = {"ok": False, "error_code": 400, "description": too_old}
            return 400, json.dumps(body).encode()
        return answer

    monkeypatch.setattr(bot.telegram, "do_request", late)
    calls = await bot.press(RESPONDENT, f"M:{wave.id}:4:0")  # a multi with nothing chosen
    sent = [c for c in calls if c.method == "sendMessage"]
    assert len(sent) == 1 and "⚠️" in sent[0].text  # the hint, above the question
    assert sent[0].buttons == (await screen(bot, wave, RESPONDENT))[1]
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 4
    calls = await bot.press(RESPONDENT, f"M:{wave.id}:4:1")
    assert (edited(calls).text, edited(calls).buttons) == await screen(bot, wave, RESPONDENT)
    assert (await state_of(bot, wave, RESPONDENT)).cursor == 5
