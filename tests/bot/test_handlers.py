"""Handler units: each branch through `app.process_update`, Telegram replaced by a recorder.

Every test checks the text or the branch taken (what was sent, what was stored), so a
handler that answers wrongly, or not at all, fails here — not only end to end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.app import build_application
from surveys.i18n import t
from tests.support.recording import RecordingTelegram, message, press
from trustscan.config import load_config

FACILITATOR = 4242
RESPONDENT = 5_555_000_111
KEY = "12" * 32


class Bot:
    """The real Application over a fresh database, driven update by update."""

    def __init__(self, app: Any, telegram: RecordingTelegram) -> None:
        self.app = app
        self.telegram = telegram
        self._update_id = 0

    @property
    def store(self) -> Any:
        return self.app.bot_data["services"].store

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


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    (tmp_path / "config.toml").write_text(
        f'[telegram]\ntoken = "1:unit"\nbot_username = "TestBot"\n'
        f"facilitators = [{FACILITATOR}]\n"
        '[database]\npath = "t.db"\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path / "config.toml", env={"TRUSTSCAN_KEY": KEY})
    telegram = RecordingTelegram()
    app = build_application(config, request=telegram)
    await app.initialize()
    await app.post_init(app)
    if app.job_queue is not None:
        app.job_queue.scheduler.remove_all_jobs()
    try:
        yield Bot(app, telegram)
    finally:
        await app.post_shutdown(app)
        await app.shutdown()


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
    languages = "Nederlands/English/Deutsch"
    assert await bot.said(RESPONDENT, "/help") == t("bot.help", "nl", languages=languages)
    assert await bot.said(RESPONDENT, "/help", lang="en") == t(
        "bot.help", "en", languages=languages
    )
    assert await bot.said(RESPONDENT, "/help", lang="de-AT") == t(
        "bot.help", "de", languages=languages
    )
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
    assert [w.survey for w in await bot.store.waves()] == ["trust"]


async def test_invite_refuses_an_unknown_organisation(bot) -> None:
    """/invite nowhere names the known organisations and makes no link."""
    refusal = await bot.said(FACILITATOR, "/invite nowhere")
    assert refusal.startswith("Onbekende organisatie") and "dijkhoven" in refusal
    assert await bot.store.invitations() == []
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
    assert "is niet open" in await bot.said(FACILITATOR, "/closewave 1")
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
