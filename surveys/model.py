"""The parsed form of a survey definition: frozen dataclasses, nothing else.

A questionnaire is data; these classes are what the TOML becomes after validation.
The `id` of a question is its key in storage and in analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["nl", "en"]
DimensionKind = Literal["scale", "matrix", "profile"]
DIMENSION_KINDS: tuple[DimensionKind, ...] = ("scale", "matrix", "profile")
LANGS: tuple[Lang, ...] = ("nl", "en")
DEFAULT_LANG: Lang = "nl"


@dataclass(frozen=True, slots=True)
class Text:
    """A user-facing string in every supported language."""

    nl: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


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


@dataclass(frozen=True, slots=True)
class Question:
    """One question of any type; fields that a type does not use keep their defaults."""

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
    scale: Scale | None = None
    reverse: bool = False
    dont_know: bool = False
    options: tuple[Option, ...] = ()
    min_choices: int = 0
    max_choices: int = 0
    total: int = 0
    step: int = 0
    max_length: int = 0
    anchors: tuple[Text, Text] | None = None

    @property
    def answerable(self) -> bool:
        return self.type != "info"

    @property
    def points(self) -> int:
        """Number of scale points for scored types (likert: the scale, nps: 11)."""
        if self.scale is not None:
            return self.scale.points
        return 11 if self.type == "nps" else 0

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
    _by_id: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

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
