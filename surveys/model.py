"""The parsed form of a survey definition: frozen dataclasses, nothing else.

A questionnaire is data; these classes are what the TOML becomes after validation.
The `id` of a question is its key in storage and in analysis.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from .errors import TextError

# `Lang` and `Text` are re-exported: the model is where definitions' users import them from.
from .i18n import DEFAULT_LANGUAGE, LANGUAGES
from .i18n import Lang as Lang
from .i18n import Text as Text

DimensionKind = Literal["scale", "matrix", "profile"]
DIMENSION_KINDS: tuple[DimensionKind, ...] = ("scale", "matrix", "profile")
LANGS: tuple[Lang, ...] = LANGUAGES
DEFAULT_LANG: Lang = DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option; `value` is what is stored, `label` what is shown."""

    value: str
    label: Text


@dataclass(frozen=True, slots=True)
class Scale:
    """A reusable answer scale: `points` labelled steps stored as 1..points."""

    id: str
    points: int
    labels: tuple[Text, ...]
    dont_know: bool = False


@dataclass(frozen=True, slots=True)
class Dimension:
    """A construct several items measure together (e.g. vertrouwen).

    `kind` says what analysis makes of it, so no report depends on dimension ids:
    `scale` (a score per respondent: the profile, roles, trends), `matrix` (per-partner
    items: a score per respondent and target organisation, the trust matrix) or `profile`
    (allocate items: points per option). A profile dimension may `compare` itself with
    another one (preferred against now) and name its options briefly for charts.
    """

    id: str
    label: Text
    description: Text | None = None
    kind: DimensionKind = "scale"
    compares: str | None = None
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of questions; its title is shown when it starts."""

    id: str
    title: Text
    intro: Text | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """Ask a question only when an earlier answer is one of `values`."""

    question: str
    values: tuple[int | str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A question type's parameters, parsed from its own keys by the type (`surveys.qtypes`).

    The fields here are the few facts read whatever the type — the options an adapter
    offers, the labelled scale and its points that analysis scores, reverse coding,
    whether "don't know" is offered — with neutral defaults. A type with keys of its own
    (allocate's total, multi's min and max) declares a frozen subclass beside its class
    and reads it back typed (`question.params_as(AllocateParams)`), so a new type with
    new keys touches neither `Question` nor this module.
    """

    options: tuple[Option, ...] = ()
    scale: Scale | None = None
    points: int = 0  # scale points of a scored type (likert: its scale's, nps: 11)
    reverse: bool = False  # agreement means less of the dimension: analysis mirrors it
    dont_know: bool = False  # a "don't know" answer is offered (stored as missing)


NO_PARAMS = Params()
P = TypeVar("P", bound=Params)


@dataclass(frozen=True, slots=True)
class Question:
    """One question: what every type has, plus its type's own `params`."""

    id: str
    type: str
    text: Text
    label: Text | None = None
    section: str | None = None
    required: bool = True
    roles: frozenset[str] | None = None
    when: Condition | None = None
    per_partner: bool = False
    dimension: str | None = None
    params: Params = NO_PARAMS
    answerable: bool = True  # False for a statement to read (info)

    def params_as(self, kind: builtins.type[P]) -> P:
        """The type's own parameters, as its class; `TypeError` for another type's.

        How an adapter for one type reads that type's keys, typed (e.g. allocate's total).
        (`builtins.type`: in this class body, `type` is the question's field.)
        """
        if not isinstance(self.params, kind):
            raise TypeError(
                f"question {self.id!r} of type {self.type!r} has no {kind.__name__} "
                f"(it has {type(self.params).__name__})"
            )
        return self.params

    # the facts of `Params` that code reads whatever the type
    @property
    def options(self) -> tuple[Option, ...]:
        return self.params.options

    @property
    def scale(self) -> Scale | None:
        return self.params.scale

    @property
    def points(self) -> int:
        return self.params.points

    @property
    def reverse(self) -> bool:
        return self.params.reverse

    @property
    def dont_know(self) -> bool:
        return self.params.dont_know

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True, slots=True)
class Survey:
    """A validated questionnaire, loaded once and shared read-only."""

    id: str
    version: int
    title: Text
    intro: Text | None
    outro: Text | None
    scales: tuple[Scale, ...]
    dimensions: tuple[Dimension, ...]
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    source: str = ""
    # the languages every text of this survey is written in (checked by the loader)
    languages: tuple[Lang, ...] = LANGUAGES
    _by_id: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def offers(self, lang: str) -> bool:
        return lang in self.languages

    def require_language(self, lang: str) -> None:
        """Refuse a language this survey is not written in: never show another instead."""
        if lang not in self.languages:
            raise TextError(
                f"survey '{self.id}' is not offered in {lang!r} "
                f"(it is in: {', '.join(self.languages)})"
            )

    def language_for(self, lang: str) -> Lang:
        """The respondent's language if this survey offers it, else the survey's first.

        The one explicit rule for a respondent whose language a survey lacks (e.g. a
        German speaker invited to a Dutch-only survey): the survey's first declared
        language, so the questions and the bot around them speak one language.
        """
        return lang if lang in self.languages else self.languages[0]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def section(self, section_id: str | None) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def dimension(self, dimension_id: str | None) -> Dimension | None:
        return next((d for d in self.dimensions if d.id == dimension_id), None)

    def dimensions_of(self, kind: DimensionKind) -> tuple[Dimension, ...]:
        """The dimensions of one kind, in definition order."""
        return tuple(d for d in self.dimensions if d.kind == kind)

    def profile_pairs(self) -> tuple[tuple[Dimension, Dimension], ...]:
        """(base, compared) profile dimensions: e.g. (culture now, culture preferred)."""
        return tuple(
            (base, d)
            for d in self.dimensions_of("profile")
            if d.compares and (base := self.dimension(d.compares)) is not None
        )

    def option_labels(self, *dimensions: Dimension) -> dict[str, Text]:
        """Short names of the options of these profile dimensions, in declared order.

        The dimensions' own `options` first; without them, the option labels of the
        first allocate question in one of them.
        """
        for dimension in dimensions:
            if dimension.options:
                return {o.value: o.label for o in dimension.options}
        ids = {d.id for d in dimensions}
        first = next((q for q in self.questions if q.dimension in ids and q.options), None)
        return {o.value: o.label for o in first.options} if first else {}
