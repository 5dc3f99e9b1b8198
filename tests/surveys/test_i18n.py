"""The text catalogue: complete in every language, loud when a text is missing."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from surveys import i18n
from surveys.errors import TextError
from surveys.i18n import LANGUAGES, Text, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_key_exists_in_every_language_with_the_same_placeholders() -> None:
    """Each language has exactly the keys of the default language, with the same fields."""
    reference = i18n.catalogue(i18n.DEFAULT_LANGUAGE)
    for lang in LANGUAGES:
        texts = i18n.catalogue(lang)
        assert sorted(texts) == sorted(reference), lang
        for key, text in texts.items():
            assert text.strip(), (lang, key)
            assert placeholders(text) == placeholders(reference[key]), (lang, key)


def test_the_language_list_names_three_languages_with_dutch_first() -> None:
    """Dutch is the default; English and German follow; each has its own name."""
    assert LANGUAGES == ("nl", "en", "de")
    assert [i18n.LOCALES[code].name for code in LANGUAGES] == ["Nederlands", "English", "Deutsch"]


def test_a_missing_key_or_language_is_an_error_not_a_fallback() -> None:
    """Neither an unknown key nor an unknown language quietly returns Dutch."""
    with pytest.raises(TextError):
        t("bot.no_such_key", "nl")
    with pytest.raises(TextError):
        t("bot.thanks", "fr")
    with pytest.raises(TextError):
        Text(nl="Ja", en="Yes").get("de")


def test_numbers_are_written_as_the_reader_writes_them() -> None:
    """A decimal comma in Dutch and German, a point in English; dates likewise."""
    assert t("detectable.line", "nl", org="A", expected=40, mdc=0.456) == (
        "  A: ongeveer 40 respondenten; aantoonbare verandering 0,46 punt"
    )
    assert "0,46" in t("detectable.line", "de", org="A", expected=40, mdc=0.456)
    assert "0.46" in t("detectable.line", "en", org="A", expected=40, mdc=0.456)
    assert i18n.number(1234.5, ",.1f", "de") == "1.234,5"
    assert i18n.number(1234.5, ",.1f", "en") == "1,234.5"
    day = dt.date(2027, 3, 31)
    dates = [i18n.date(day, lang) for lang in LANGUAGES]
    assert dates == ["31-03-2027", "2027-03-31", "31.03.2027"]


def test_telegram_language_codes_map_to_catalogue_languages() -> None:
    """Regional variants count; languages the catalogue lacks give None."""
    assert i18n.language_of("de-AT") == "de"
    assert i18n.language_of("nl") == "nl"
    assert i18n.language_of("fr") is None
    assert i18n.language_of(None) is None


def test_text_is_a_mapping_of_language_to_string() -> None:
    """Text reads by language, by item and by attribute, compares and hashes by content."""
    text = Text({"nl": "Ja", "en": "Yes", "de": "Ja"})
    assert text["en"] == text.get("en") == text.en == "Yes"
    assert list(text) == ["nl", "en", "de"] and "de" in text and len(text) == 3
    assert text == Text(nl="Ja", en="Yes", de="Ja") and hash(text) == hash(Text(dict(text.items())))


def test_every_answer_error_code_has_a_hint() -> None:
    """Each code the domain raises is phrased in the catalogue (else the hint would fail)."""
    import re
    from pathlib import Path

    import surveys

    root = Path(surveys.__file__).parent
    codes = {
        code
        for path in root.rglob("*.py")
        for code in re.findall(r'AnswerError\(\s*"([a-z_]+)"', path.read_text("utf-8"))
    }
    assert codes and codes <= set(i18n.section("hints", "nl"))
