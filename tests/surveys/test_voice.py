"""One voice: every Dutch text says "u", every German text "Sie", and nobody is misaddressed.

The catalogue and the built-in instruments are read as a respondent or facilitator meets
them. Facilitators are addressed like respondents (formal "u"), so the whole Dutch
catalogue is checked, not only the respondent areas.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator

import pytest

from surveys import i18n
from surveys.i18n import t
from surveys.loader import builtin_paths, load_survey

INFORMAL = {
    "nl": re.compile(r"\b(je|jij|jou|jouw|jezelf|jullie)\b", re.IGNORECASE),
    "de": re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|euch|euer|eure)\b"),
}
FORMAL = {"nl": re.compile(r"\b(u|uw)\b", re.IGNORECASE), "de": re.compile(r"\b(Sie|Ihr\w*)\b")}


def strings_in(value: object, lang: str, inside: bool = False) -> Iterator[str]:
    """Every string of `lang` in a parsed instrument (values under a `lang` key)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, lang, inside=key == lang)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item, lang, inside)
    elif isinstance(value, str) and inside:
        yield value


def instrument_texts(lang: str) -> list[tuple[str, str]]:
    return [
        (path.name, text)
        for path in builtin_paths()
        for text in strings_in(tomllib.loads(path.read_text("utf-8")), lang)
    ]


@pytest.mark.parametrize("lang", ["nl", "de"])
def test_the_catalogue_never_addresses_anyone_informally(lang: str) -> None:
    """No Dutch text says je/jij/jou/jouw, no German text du/dich/dein (word boundaries)."""
    informal = {
        key: match.group(0)
        for key, text in i18n.catalogue(lang).items()
        if (match := INFORMAL[lang].search(re.sub(r"\{[^}]*\}", "", text)))  # not {dir}
    }
    assert informal == {}


@pytest.mark.parametrize("lang", ["nl", "de"])
def test_the_instruments_never_address_anyone_informally(lang: str) -> None:
    """The built-in questionnaires use the same formal address as the bot around them."""
    texts = instrument_texts(lang)
    assert len(texts) > 100  # the three instruments were really read
    informal = [(name, text) for name, text in texts if INFORMAL[lang].search(text)]
    assert informal == []


def test_the_formal_address_is_really_used() -> None:
    """The check above is not vacuous: bot, hints and instruments do say "u" and "Sie"."""
    for key in ("bot.privacy", "bot.thanks", "bot.choose_role", "hints.required", "bot.help"):
        nl = t(key, "nl", k=5, k_comments=10, k_minus_1=4, others=4, commands="", languages="")
        de = t(key, "de", k=5, k_comments=10, k_minus_1=4, others=4, commands="", languages="")
        assert FORMAL["nl"].search(nl), key
        assert FORMAL["de"].search(de), key
    assert sum(bool(FORMAL["nl"].search(text)) for _, text in instrument_texts("nl")) >= 10


@pytest.mark.parametrize("lang", ["nl", "en", "de"])
def test_the_welcome_assumes_no_role(lang: str) -> None:
    """The welcome says "on behalf of <org>", and names a role only when the link fixes one."""
    params = {"survey": "S", "partnership": "P", "org": "Gemeente X", "intro": ""}
    plain = t("bot.welcome", lang, role="", **params)
    assert not re.search(r"medewerker|employee|staff|Mitarbeit", plain, re.IGNORECASE)
    council = t("bot.as_role", lang, role=t("roles.council", lang))
    assert t("roles.council", lang) in t("bot.welcome", lang, role=council, **params)


def test_nps_anchors_are_printed_once() -> None:
    """An NPS question's text does not repeat the anchors the keyboard already shows."""
    checked = 0
    for path in builtin_paths():
        survey = load_survey(path)
        for question in survey.questions:
            if question.type != "nps" or not question.params.anchors:
                continue
            for lang in survey.languages:
                text = question.text.get(lang)
                for anchor in question.params.anchors:
                    assert anchor.get(lang) not in text, (question.id, lang)
                checked += 1
    assert checked >= 3


def test_the_catalogue_lists_the_commands_the_help_shows() -> None:
    """[commands] has /unsubscribe next to /stop; facilitators' commands are kept apart."""
    for lang in i18n.LANGUAGES:
        commands = i18n.section("commands", lang)
        assert {"start", "help", "privacy", "language", "stop", "unsubscribe", "delete"} <= set(
            commands
        )
        assert not set(commands) & set(i18n.section("facilitator_commands", lang))


def test_the_reminder_and_announcement_say_how_to_unsubscribe() -> None:
    """Whoever receives a reminder or an announcement reads how to stop them (not /stop)."""
    for lang in i18n.LANGUAGES:
        assert "/unsubscribe" in t("bot.reminder", lang, survey="S", days=2)
        assert "/unsubscribe" in t("bot.new_wave", lang, survey="S", link="L")
        assert "/stop" not in t("bot.privacy", lang, k=5, k_comments=10, k_minus_1=4)
