"""The one text catalogue: every word trustscan says, in every language, and how to look it up.

The languages and the words are data, shipped beside this module:

    texts/languages.toml   the language list, in order (the first is the default), with
                           each language's own name and how it writes numbers and dates
    texts/<lang>.toml      one file per language: tables per area ([bot], [facilitator],
                           [refusals], [report], [charts], [hints], [preview], [commands],
                           [roles]), the same keys in every file

`t("bot.welcome", lang, survey=…)` is the one lookup. A key or a language that is not in
the catalogue raises `TextError`: there is no silent fallback to another language.
Numbers in placeholders are written as the reader writes them (a decimal comma in Dutch
and German). `tests/surveys/test_i18n.py` checks that every key exists in every language
with the same `{placeholders}`.

Adding a language: a row in `languages.toml` and a `<lang>.toml` here; the bot then
speaks it. A survey is offered in it once its file lists it in `languages` and has its
texts; the built-ins declare theirs, and role labels are needed only in languages a
survey is offered in (`tests/test_fourth_language.py` adds one and checks this).
"""

from __future__ import annotations

import datetime as dt
import numbers
import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .errors import TextError

Lang = str


@dataclass(frozen=True, slots=True)
class Locale:
    """How one language is named and writes numbers and dates."""

    code: str
    name: str  # in the language itself, for the /language buttons
    decimal: str
    thousands: str
    date: str  # strftime pattern


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads((resources.files("surveys") / "texts" / name).read_text("utf-8"))


def _locales() -> dict[str, Locale]:
    raw = _data("languages.toml")
    return {code: Locale(code=code, **fields) for code, fields in raw.items()}


LOCALES: Mapping[str, Locale] = _locales()
LANGUAGES: tuple[Lang, ...] = tuple(LOCALES)
DEFAULT_LANGUAGE: Lang = LANGUAGES[0]


@cache
def catalogue(lang: Lang) -> Mapping[str, str]:
    """Every text of one language, keyed `area.key`."""
    if lang not in LOCALES:
        raise TextError(f"language {lang!r} is not in the catalogue ({', '.join(LANGUAGES)})")
    flat: dict[str, str] = {}
    for area, table in _data(f"{lang}.toml").items():
        for key, value in table.items():
            flat[f"{area}.{key}"] = value
    return flat


def raw(key: str, lang: Lang) -> str:
    """The unformatted text of `key` in `lang`; `TextError` when either is unknown."""
    try:
        return catalogue(lang)[key]
    except KeyError:
        raise TextError(f"no text {key!r} in language {lang!r}") from None


def t(key: str, lang: Lang, **params: object) -> str:
    """The text of `key` in `lang`, placeholders filled, numbers as the reader writes them."""
    text = raw(key, lang)
    return _Formatter(LOCALES[lang]).format(text, **params) if params else text


def section(area: str, lang: Lang) -> dict[str, str]:
    """All texts of one area in declared order, by key (e.g. the bot's command list)."""
    prefix = f"{area}."
    found = {k[len(prefix) :]: v for k, v in catalogue(lang).items() if k.startswith(prefix)}
    if not found:
        raise TextError(f"no area {area!r} in language {lang!r}")
    return found


def text_of(key: str) -> Text:
    """One key in every language, as a `Text` (e.g. the default role labels)."""
    return Text({lang: raw(key, lang) for lang in LANGUAGES})


def number(value: float, spec: str, lang: Lang) -> str:
    """A number formatted with `spec`, written with the language's separators."""
    return _localise(format(value, spec), LOCALES[lang])


def date(value: dt.date | str, lang: Lang) -> str:
    """A date as the language writes it; accepts an ISO string."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime(LOCALES[lang].date)


def language_of(code: str | None) -> Lang | None:
    """The catalogue language of a Telegram/IETF language code ("de-AT" → "de"), if any."""
    base = (code or "").lower().replace("_", "-").split("-")[0]
    return base if base in LOCALES else None


def _localise(text: str, locale: Locale) -> str:
    swap = {".": locale.decimal, ",": locale.thousands}
    return "".join(swap.get(c, c) for c in text)


class _Formatter(string.Formatter):
    """Formats numeric placeholders with the locale's separators; the rest as usual."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        is_number = isinstance(value, numbers.Number) and not isinstance(value, bool)
        return _localise(text, self.locale) if is_number else text


class Text:
    """A user-facing string in the languages it was written in: a mapping language → text.

    `get(lang)` raises `TextError` for a language the text lacks: no silent fallback.
    Immutable and hashable, like the frozen definitions that hold it.
    """

    __slots__ = ("_items",)
    _items: tuple[tuple[str, str], ...]

    def __init__(self, texts: Mapping[str, str] | None = None, /, **by_lang: str) -> None:
        merged = {**(texts or {}), **by_lang}
        object.__setattr__(self, "_items", tuple(merged.items()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Text is immutable")

    def get(self, lang: str) -> str:
        for code, value in self._items:
            if code == lang:
                return value
        raise TextError(f"no text in language {lang!r} (has: {', '.join(self.languages)})")

    __getitem__ = get

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self._items)

    def __contains__(self, lang: object) -> bool:
        return lang in self.languages

    def __iter__(self) -> Iterator[str]:
        return iter(self.languages)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._items

    def values(self) -> tuple[str, ...]:
        return tuple(value for _, value in self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and dict(self._items) == dict(other._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items))

    def __repr__(self) -> str:
        return f"Text({dict(self._items)!r})"

    def __reduce__(self) -> tuple[type[Text], tuple[dict[str, str]]]:
        return (Text, (dict(self._items),))

    def __getattr__(self, name: str) -> str:
        """`text.nl`, `text.de`: attribute access for a language code."""
        if len(name) == 2 and name.isalpha():
            return self.get(name)
        raise AttributeError(name)
