"""The table-driven registry of question types: everything the domain knows of a type.

Each type is a small object that owns its type's knowledge: `parse` its own TOML keys
(`keys`) into its parameters (reporting problems, never raising; the loader adds the
file and the question), `validate_answer` (raise `AnswerError` with a hint code),
`choices` (the options an adapter renders), `encode` and `decode` (its answer as stored
rows and back) and its scoring facts as class attributes (`scored`, `per_option`,
`makes_profile`, `comment`, `answerable`). Nothing outside this module branches on a
type's name.

Parameters are a `model.Params`: the facts read whatever the type (options, scale,
points, reverse, don't know), or a frozen subclass declared beside the type that adds
its own keys (`AllocateParams`: total and step), read back typed with
`question.params_as(AllocateParams)`. A new type's keys never touch `Question`.

Adding a type is one class (and its parameters' class, if it has keys of its own) and
one line in `QUESTION_TYPES` here, plus one entry in each table keyed by type name: the
bot's widgets (`bot.widgets.WIDGETS`), the terminal preview
(`trustscan.preview.PREVIEWS`), the simulated answers (`trustscan.simulation.SIMULATED`)
and how the report shows its answers (`analysis.report.questions.REPORTED`).
`tests/test_question_types.py` fails naming any table that lacks the type, and finds
any new table keyed by type names that is not listed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeGuard, cast

from .answers import DONT_KNOW, Answer, ItemRow
from .errors import AnswerError
from .model import LANGS, NO_PARAMS, Lang, Option, Params, Question, Scale, Text

VALUE_RE = re.compile(r"^[a-z0-9_]{1,16}$")
MAX_TEXT_LENGTH = 3500  # leaves room in Telegram's 4096-character message for the prompt
NPS_POINTS = 11
MAX_RANKED = 10  # a longer list is no longer ranked with care (and fits the callback data)
POINTS_SEPARATORS = re.compile(r"[\s,;]+")  # between typed points: spaces, commas, semicolons


class ParseContext:
    """What a type's parser needs: the survey's scales and languages, a sink for problems."""

    def __init__(
        self,
        scales: Mapping[str, Scale],
        report: Callable[[str], None],
        languages: tuple[Lang, ...] = LANGS,
    ) -> None:
        self.scales = scales
        self.report = report
        self.languages = languages

    def text(self, raw: object, key: str) -> Text | None:
        """A `{nl = …, en = …, …}` table as Text in the survey's languages.

        A text missing for a declared language is reported by language and key (the
        problem's location names the file and the question).
        """
        shape = ", ".join(f'{lang} = "…"' for lang in self.languages)
        if raw is None:
            return None
        if isinstance(raw, str):
            self.report(
                f"'{key}' must be a table with a text per language ({', '.join(self.languages)})"
            )
            return None
        if not isinstance(raw, dict):
            self.report(f"'{key}' must be a table like {{ {shape} }}")
            return None
        ok = True
        for lang in self.languages:
            value = raw.get(lang)
            if not isinstance(value, str) or not value.strip():
                self.report(f"missing translation '{lang}' in '{key}'")
                ok = False
        self.undeclared(raw, key)
        if not ok:
            return None
        return Text({lang: raw[lang].strip() for lang in self.languages})

    def undeclared(self, raw: Mapping[str, object], key: str) -> None:
        """Report the languages of a text table beyond the survey's own.

        A text covers exactly the declared languages: one in a language the catalogue
        lacks is a typo, one the survey does not declare a forgotten `languages` entry,
        and neither is dropped without a word.
        """
        for extra in sorted(set(raw) - set(LANGS)):
            self.report(f"unknown language '{extra}' in '{key}' (supported: {', '.join(LANGS)})")
        for extra in [lang for lang in LANGS if lang in raw and lang not in self.languages]:
            self.report(
                f"'{key}' has a text in '{extra}', which is not among the survey's "
                f"languages ({', '.join(self.languages)})"
            )

    def integer(self, raw: object, key: str, default: int) -> int:
        if raw is None:
            return default
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.report(f"'{key}' must be a whole number")
            return default
        return raw

    def boolean(self, raw: object, key: str, default: bool) -> bool:
        if raw is None:
            return default
        if not isinstance(raw, bool):
            self.report(f"'{key}' must be true or false")
            return default
        return raw

    def options(self, raw: object) -> tuple[Option, ...]:
        if not isinstance(raw, list) or not raw:
            self.report("'options' must be a non-empty list of { value = …, label = {…} }")
            return ()
        options: list[Option] = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                self.report(f"options[{i}] must be a table {{ value = …, label = {{…}} }}")
                continue
            value = item.get("value")
            if not isinstance(value, str) or not VALUE_RE.match(value):
                self.report(
                    f"options[{i}]: value {value!r} must be 1-16 characters of a-z, 0-9 or _"
                )
                continue
            if any(o.value == value for o in options):
                self.report(f"options[{i}]: duplicate value '{value}'")
                continue
            label = self.text(item.get("label"), f"options[{i}].label")
            if label is not None:
                options.append(Option(value=value, label=label))
        return tuple(options)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


_UNKNOWN = ItemRow("", None, None)  # don't know: neither value nor text


class QuestionType:
    """Base: a type with no own keys whose answers are rejected.

    The class attributes are the type's facts for the engine, the loader and analysis:
    `answerable` (info: no), `required` (the default of `required`), `per_partner`
    (may be asked per partner), `makes_profile` (its items form a profile dimension),
    `scored` (its values are scale points that dimension scores average), `per_option`
    (a value per option that analysis reports as a mean per group, under this name) and
    `comment` (its answers become unlinked comments).
    """

    name: ClassVar[str] = ""
    keys: ClassVar[frozenset[str]] = frozenset()
    answerable: ClassVar[bool] = True
    required: ClassVar[bool] = True
    per_partner: ClassVar[bool] = False
    makes_profile: ClassVar[bool] = False
    scored: ClassVar[bool] = False
    per_option: ClassVar[str | None] = None
    comment: ClassVar[bool] = False

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        """This type's parameters from its own `keys` of one question's table.

        Problems go to `ctx.report`; what is returned then is never used (the question is
        not built), so a neutral value will do.
        """
        return NO_PARAMS

    def validate_answer(self, question: Question, value: object) -> Answer:
        raise AnswerError("no_answer")

    def encode(self, question: Question, answer: Answer) -> list[ItemRow]:
        """Rows to store for a validated answer other than don't-know."""
        raise ValueError(f"question {question.id!r} of type {self.name!r} takes no answer")

    def decode(self, question: Question, rows: Sequence[ItemRow]) -> Answer:
        """The answer the stored rows stand for (inverse of `encode`)."""
        raise ValueError(f"question {question.id!r} of type {self.name!r} takes no answer")

    def choices(self, question: Question, lang: str) -> tuple[tuple[str, str], ...]:
        return ()

    def from_text(self, question: Question, text: str) -> Answer:
        """The answer a typed line stands for, before `validate_answer` judges it.

        One reading for every adapter that takes typed answers (the chat, the terminal
        preview): the line itself, unless the type reads it (allocate's points).
        """
        return text

    def condition_values(self, question: Question) -> frozenset[int | str] | None:
        """Values a `when` may test; None when this type cannot be tested."""
        return None


class LikertType(QuestionType):
    """Agreement (or similar) on a named scale; optionally reverse-coded and don't-know."""

    name = "likert"
    keys = frozenset({"scale", "reverse"})
    per_partner = True
    scored = True

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        scale_id = raw.get("scale")
        scale = ctx.scales.get(scale_id) if isinstance(scale_id, str) else None
        if scale_id is None:
            ctx.report("likert question needs a 'scale'")
        elif scale is None:
            ctx.report(f"unknown scale '{scale_id}'")
        reverse = ctx.boolean(raw.get("reverse"), "reverse", False)
        if scale is None:
            return NO_PARAMS
        return Params(scale=scale, points=scale.points, reverse=reverse, dont_know=scale.dont_know)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:
            if not question.dont_know:
                raise AnswerError("no_dont_know")
            return DONT_KNOW
        if not _is_int(value) or not 1 <= value <= question.points:
            raise AnswerError("out_of_range", low=1, high=question.points)
        return value

    def choices(self, question: Question, lang: str) -> tuple[tuple[str, str], ...]:
        assert question.scale is not None
        return tuple((str(i + 1), t.get(lang)) for i, t in enumerate(question.scale.labels))

    def condition_values(self, question: Question) -> frozenset[int | str] | None:
        return frozenset(range(1, question.points + 1))

    def encode(self, question: Question, answer: Answer) -> list[ItemRow]:
        return [ItemRow("", int(cast(int, answer)), None)]

    def decode(self, question: Question, rows: Sequence[ItemRow]) -> Answer:
        return int(cast(int, rows[0].value))


@dataclass(frozen=True, slots=True, kw_only=True)
class NpsParams(Params):
    """The texts of both ends (0 and 10), if any."""

    anchors: tuple[Text, Text] | None = None


class NpsType(QuestionType):
    """Likelihood to recommend, 0–10, with optional anchor texts for both ends."""

    name = "nps"
    keys = frozenset({"dont_know", "anchors"})
    per_partner = True
    scored = True

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        anchors = None
        if (raw_anchors := raw.get("anchors")) is not None:
            if not isinstance(raw_anchors, dict) or set(raw_anchors) != {"low", "high"}:
                ctx.report("'anchors' must be a table { low = {nl, en}, high = {nl, en} }")
            else:
                low = ctx.text(raw_anchors["low"], "anchors.low")
                high = ctx.text(raw_anchors["high"], "anchors.high")
                anchors = (low, high) if low and high else None
        dont_know = ctx.boolean(raw.get("dont_know"), "dont_know", False)
        return NpsParams(points=NPS_POINTS, dont_know=dont_know, anchors=anchors)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:
            if not question.dont_know:
                raise AnswerError("no_dont_know")
            return DONT_KNOW
        if not _is_int(value) or not 0 <= value <= 10:
            raise AnswerError("out_of_range", low=0, high=10)
        return value

    def choices(self, question: Question, lang: str) -> tuple[tuple[str, str], ...]:
        return tuple((str(i), str(i)) for i in range(NPS_POINTS))

    def condition_values(self, question: Question) -> frozenset[int | str] | None:
        return frozenset(range(NPS_POINTS))

    encode = LikertType.encode
    decode = LikertType.decode


class ChoiceType(QuestionType):
    """Exactly one of a list of options."""

    name = "choice"
    keys = frozenset({"options", "dont_know"})
    per_partner = True

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        options = ctx.options(raw.get("options"))
        if len(options) == 1:
            ctx.report("a choice question needs at least 2 options")
        dont_know = ctx.boolean(raw.get("dont_know"), "dont_know", False)
        return Params(options=options, dont_know=dont_know)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:
            if not question.dont_know:
                raise AnswerError("no_dont_know")
            return DONT_KNOW
        if not isinstance(value, str) or question.option(value) is None:
            raise AnswerError("unknown_option")
        return value

    def choices(self, question: Question, lang: str) -> tuple[tuple[str, str], ...]:
        return tuple((o.value, o.label.get(lang)) for o in question.options)

    def condition_values(self, question: Question) -> frozenset[int | str] | None:
        return frozenset(o.value for o in question.options)

    def encode(self, question: Question, answer: Answer) -> list[ItemRow]:
        return [ItemRow("", None, str(answer))]

    def decode(self, question: Question, rows: Sequence[ItemRow]) -> Answer:
        return str(rows[0].text)


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiParams(Params):
    """How many of the options may be chosen (`min` and `max` in the file)."""

    min_choices: int
    max_choices: int


class MultiType(ChoiceType):
    """Several options, between `min` and `max` of them."""

    name = "multi"
    keys = frozenset({"options", "min", "max"})
    per_partner = False

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        options = ctx.options(raw.get("options"))
        low = ctx.integer(raw.get("min"), "min", 0)
        high = ctx.integer(raw.get("max"), "max", len(options))
        if options and not 0 <= low <= high <= len(options):
            ctx.report(
                f"needs 0 <= min ({low}) <= max ({high}) <= number of options ({len(options)})"
            )
        if high == 0 and options:
            ctx.report("max must be at least 1")
        return MultiParams(options=options, min_choices=low, max_choices=high)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:  # no "don't know" button for this type
            raise AnswerError("no_dont_know")
        if not isinstance(value, (tuple, list, set, frozenset)) or not all(
            isinstance(v, str) for v in value
        ):
            raise AnswerError("unknown_option")
        chosen = set(value)
        if any(question.option(v) is None for v in chosen):
            raise AnswerError("unknown_option")
        params = question.params_as(MultiParams)
        if not params.min_choices <= len(chosen) <= params.max_choices:
            raise AnswerError("choose_between", low=params.min_choices, high=params.max_choices)
        return tuple(o.value for o in question.options if o.value in chosen)

    def encode(self, question: Question, answer: Answer) -> list[ItemRow]:
        # An empty selection (allowed when min = 0) still needs a row to count as answered.
        chosen = [ItemRow(value, 1, None) for value in cast(tuple[str, ...], answer)]
        return chosen or [ItemRow("", 0, None)]

    def decode(self, question: Question, rows: Sequence[ItemRow]) -> Answer:
        chosen = {row.part for row in rows if row.part}
        return tuple(o.value for o in question.options if o.value in chosen)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocateParams(Params):
    """The points to divide over the options, and the step the buttons move them by."""

    total: int
    step: int


class AllocateType(QuestionType):
    """Divide a constant sum of points over the options (the competing-values method)."""

    name = "allocate"
    keys = frozenset({"options", "total", "step"})
    makes_profile = True

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        options = ctx.options(raw.get("options"))
        if options and len(options) < 2:
            ctx.report("an allocate question needs at least 2 options")
        total = ctx.integer(raw.get("total"), "total", 100)
        if total <= 0:
            ctx.report(f"allocate total must be greater than 0 (got {total})")
        step = ctx.integer(raw.get("step"), "step", 5 if total % 5 == 0 else 1)
        if step <= 0 or (total > 0 and total % step):
            ctx.report(f"step {step} must be positive and divide the total {total}")
        return AllocateParams(options=options, total=total, step=step)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:  # no "don't know" button for this type
            raise AnswerError("no_dont_know")
        if (
            not isinstance(value, (tuple, list))
            or len(value) != len(question.options)
            or not all(_is_int(v) and v >= 0 for v in value)
        ):
            raise AnswerError("allocate_shape", count=len(question.options))
        total = question.params_as(AllocateParams).total
        if sum(value) != total:
            raise AnswerError("allocate_total", total=total, got=sum(value))
        return tuple(int(v) for v in value)

    def choices(self, question: Question, lang: str) -> tuple[tuple[str, str], ...]:
        return tuple((o.value, o.label.get(lang)) for o in question.options)

    def from_text(self, question: Question, text: str) -> Answer:
        """Typed points in option order: "40 30 20 10", "40,30,20,10", "40; 30; 20; 10".

        One number fewer than there are options leaves exactly one option open: it gets
        what is left ("40 30 20" is 40 30 20 10), as long as nothing is overspent. Any
        other count, or anything but whole numbers (a "%" after one is allowed), is
        `allocate_shape`; the sum is `validate_answer`'s to judge (`allocate_total`
        names both the sum and the total).
        """
        count, total = len(question.options), question.params_as(AllocateParams).total
        parts = [n for p in POINTS_SEPARATORS.split(text) if (n := p.removesuffix("%").strip())]
        if not parts or not all(p.isascii() and p.isdigit() for p in parts):
            raise AnswerError("allocate_shape", count=count)
        points = [int(p) for p in parts]
        if len(points) == count - 1 and sum(points) <= total:
            points.append(total - sum(points))
        if len(points) != count:
            if len(points) == count - 1:  # overspent before the last option
                raise AnswerError("allocate_total", total=total, got=sum(points))
            raise AnswerError("allocate_shape", count=count)
        return tuple(points)

    def encode(self, question: Question, answer: Answer) -> list[ItemRow]:
        """One row per option, its number as the value (points here, ranks for ranking)."""
        numbers = zip(question.options, cast(tuple[int, ...], answer), strict=True)
        return [ItemRow(o.value, int(n), None) for o, n in numbers]

    def decode(self, question: Question, rows: Sequence[ItemRow]) -> Answer:
        numbers = {row.part: row.value or 0 for row in rows}
        return tuple(int(numbers.get(o.value, 0)) for o in question.options)


@dataclass(frozen=True, slots=True, kw_only=True)
class TextParams(Params):
    """The longest answer taken, in characters."""

    max_length: int


class TextType(QuestionType):
    """An open answer of at most `max_length` characters."""

    name = "text"
    keys = frozenset({"max_length"})
    required = False
    comment = True

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        limit = ctx.integer(raw.get("max_length"), "max_length", 1000)
        if not 0 < limit <= MAX_TEXT_LENGTH:
            ctx.report(f"max_length must be between 1 and {MAX_TEXT_LENGTH} (got {limit})")
        return TextParams(max_length=limit)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:  # no "don't know" button for this type
            raise AnswerError("no_dont_know")
        if not isinstance(value, str) or not value.strip():
            raise AnswerError("empty_text")
        text, limit = value.strip(), question.params_as(TextParams).max_length
        if len(text) > limit:
            raise AnswerError("too_long", limit=limit, got=len(text))
        return text

    encode = ChoiceType.encode
    decode = ChoiceType.decode


class InfoType(QuestionType):
    """A statement to read; it takes no answer and counts in no progress."""

    name = "info"
    answerable = False
    required = False


class RankingType(QuestionType):
    """Put the options in order: stored as one rank (1 = first) per option.

    Reported as the mean rank per option and group (`per_option`). The answer is a
    tuple of ranks in option order, a permutation of 1..n, like allocate's points.
    """

    name = "ranking"
    keys = frozenset({"options"})
    per_option = "mean_rank"

    def parse(self, raw: Mapping[str, Any], ctx: ParseContext) -> Params:
        options = ctx.options(raw.get("options"))
        if options and not 2 <= len(options) <= MAX_RANKED:
            ctx.report(f"a ranking question needs 2 to {MAX_RANKED} options (got {len(options)})")
        return Params(options=options)

    def validate_answer(self, question: Question, value: object) -> Answer:
        if value is DONT_KNOW:  # no "don't know" button for this type
            raise AnswerError("no_dont_know")
        count = len(question.options)
        if (
            not isinstance(value, (tuple, list))
            or not all(_is_int(v) for v in value)
            or sorted(value) != list(range(1, count + 1))
        ):
            raise AnswerError("rank_all", count=count)
        return tuple(int(v) for v in value)

    def choices(self, question: Question, lang: str) -> tuple[tuple[str, str], ...]:
        return tuple((o.value, o.label.get(lang)) for o in question.options)

    encode = AllocateType.encode
    decode = AllocateType.decode


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (
        LikertType(),
        NpsType(),
        ChoiceType(),
        MultiType(),
        AllocateType(),
        TextType(),
        InfoType(),
        RankingType(),
    )
}


def type_keys() -> frozenset[str]:
    """Every registered type's own keys (asked each time: a type registered later counts)."""
    return frozenset().union(*(t.keys for t in QUESTION_TYPES.values()))


def encode(question: Question, answer: Answer) -> list[ItemRow]:
    """Rows to store for `answer`; a don't-know is one row with neither value nor text."""
    if answer is DONT_KNOW:
        return [_UNKNOWN]
    return QUESTION_TYPES[question.type].encode(question, answer)


def decode(question: Question, rows: Sequence[ItemRow]) -> Answer:
    """The answer the rows of one item stand for (inverse of `encode`)."""
    if len(rows) == 1 and rows[0] == _UNKNOWN:
        return DONT_KNOW
    return QUESTION_TYPES[question.type].decode(question, rows)
