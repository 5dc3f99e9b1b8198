"""The questionnaire engine: pure functions from (definition, respondent, state) to steps.

No I/O, no Telegram, no pandas. Adapters (the bot, the terminal preview) render the
`QuestionStep` it returns and feed the respondent's action back; every action returns
a `Change` that the caller persists before showing the next step.

The state is a cursor (index into the respondent's expanded item list) plus the
answers so far. Invariant: every applicable item before the cursor is answered, or
optional and skipped, or an info statement. Going back keeps answers, so going
forward again shows the earlier answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from .answers import DONT_KNOW, Answer
from .errors import AnswerError
from .model import Lang, Question, Survey, Text
from .qtypes import QUESTION_TYPES


@dataclass(frozen=True, slots=True)
class Partner:
    """Another organisation of the partnership, the target of per-partner questions."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Respondent:
    """What the engine may know about a respondent: group membership, never identity."""

    org: str
    role: str | None
    lang: Lang
    partners: tuple[Partner, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    """One question as asked: a question, or a per-partner question for one target."""

    index: int
    question: Question
    target: Partner | None

    @property
    def key(self) -> str:
        return item_key(self.question.id, self.target.id if self.target else None)


def item_key(question_id: str, target: str | None) -> str:
    """Storage key of an item: the question id, with `@target` for per-partner items."""
    return f"{question_id}@{target}" if target else question_id


def split_key(key: str) -> tuple[str, str | None]:
    question_id, _, target = key.partition("@")
    return question_id, target or None


EMPTY: Mapping[str, Answer] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class State:
    """Where a respondent is and what they answered; persisted by the store."""

    cursor: int = 0
    answers: Mapping[str, Answer] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class Change:
    """The result of one action: the new state and exactly what to persist."""

    state: State
    put: Mapping[str, Answer] = field(default_factory=lambda: EMPTY)
    drop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class QuestionStep:
    """A question to show, fully rendered in the respondent's language."""

    index: int
    key: str
    question: Question
    text: str
    choices: tuple[Choice, ...]
    position: int
    total: int
    section_title: str | None
    section_intro: str | None
    can_back: bool
    can_skip: bool
    can_dont_know: bool
    current: Answer | None
    # the respondent's answer to the question this one is compared with (preferred culture
    # against now): a widget may offer it as a starting point; None when there is none
    paired: Answer | None = None

    @property
    def type(self) -> str:
        return self.question.type


@dataclass(frozen=True, slots=True)
class Done:
    """Every applicable question is behind the respondent: ready to complete."""

    answered: int
    total: int


Step = QuestionStep | Done


class Questionnaire:
    """A survey as one respondent meets it: role-filtered, partners expanded."""

    def __init__(self, survey: Survey, respondent: Respondent) -> None:
        survey.require_language(respondent.lang)  # never shown in a language it lacks
        self.survey = survey
        self.respondent = respondent
        items: list[Item] = []
        for q in survey.questions:
            if q.roles is not None and respondent.role not in q.roles:
                continue
            targets = (
                [p for p in respondent.partners if p.id != respondent.org]
                if (q.per_partner)
                else [None]
            )
            for target in targets:
                items.append(Item(len(items), q, target))
        self.items: tuple[Item, ...] = tuple(items)
        self._by_key = {item.key: item for item in items}
        # Only items with a `when` can change whether they apply; counting the others once
        # keeps `step` proportional to the number of conditional items, not all items.
        self._static_before = [0]
        for item in items:
            counts = item.question.answerable and item.question.when is None
            self._static_before.append(self._static_before[-1] + counts)
        self._conditional = tuple(i for i in items if i.question.answerable and i.question.when)
        self._choices: dict[tuple[int, str], tuple[Choice, ...]] = {}
        self._paired = _pairs(survey, self._by_key, items)

    # -- reading -----------------------------------------------------------------------

    def applies(self, item: Item, answers: Mapping[str, Answer]) -> bool:
        """Whether `item` is asked, given the answers to earlier questions.

        Conditions chain: an answer to a question that is no longer asked (or not asked
        of this role) counts for nothing, so its follow-ups are not asked either.
        """
        cond = item.question.when
        if cond is None:
            return True
        source = self._by_key.get(cond.question)
        if source is None or not self.applies(source, answers):
            return False
        return _meets(cond.values, answers.get(cond.question))

    def may_apply(self, item: Item, answers: Mapping[str, Answer], cursor: int) -> bool:
        """Whether `item` is asked or may still be: true while its condition is open.

        A condition is open while the question it depends on lies at or after the cursor
        unanswered. Counting such follow-ups in the total keeps the progress line steady:
        the total can only shrink when an answer rules a follow-up out ("7 of 24" then
        "8 of 23"), never grow under the respondent's eyes (the old "23 of 23" → "24").
        """
        cond = item.question.when
        if cond is None:
            return True
        source = self._by_key.get(cond.question)
        if source is None or not self.may_apply(source, answers, cursor):
            return False
        answer = answers.get(cond.question)
        if answer is None:
            return source.index >= cursor
        return _meets(cond.values, answer)

    def settle(self, state: State) -> State:
        """Move the cursor past items that do not apply (e.g. after a definition update)."""
        cursor = self._forward(min(max(state.cursor, 0), len(self.items)), state.answers)
        return state if cursor == state.cursor else State(cursor, state.answers)

    def step(self, state: State, lang: str | None = None) -> Step:
        """The step at the cursor: the question to show, or `Done`."""
        state = self.settle(state)
        lang = lang or self.respondent.lang
        self.survey.require_language(lang)
        answers = state.answers
        if state.cursor >= len(self.items):
            applicable = [
                i for i in self.items if i.question.answerable and self.applies(i, answers)
            ]
            return Done(
                answered=sum(1 for i in applicable if i.key in answers), total=len(applicable)
            )
        conditional = [
            i.index for i in self._conditional if self.may_apply(i, answers, state.cursor)
        ]
        total = self._static_before[-1] + len(conditional)
        item = self.items[state.cursor]
        q = item.question
        position = min(  # an info statement after the last question shows no higher number
            self._static_before[item.index] + sum(1 for i in conditional if i < item.index) + 1,
            max(total, 1),
        )
        previous = self._backward(item.index, answers)
        section = self.survey.section(q.section)
        starts = section is not None and (
            previous is None or self.items[previous].question.section != q.section
        )
        text = q.text.get(lang)
        if item.target is not None:
            text = text.replace("{partner}", item.target.name)
        return QuestionStep(
            index=item.index,
            key=item.key,
            question=q,
            text=text,
            choices=self._choices_of(item, lang),
            position=position,
            total=total,
            section_title=section.title.get(lang) if starts and section else None,
            section_intro=_get(section.intro, lang) if starts and section else None,
            can_back=previous is not None,
            can_skip=q.answerable and not q.required,
            can_dont_know=q.dont_know,
            current=answers.get(item.key),
            paired=answers.get(self._paired.get(item.index, "")),
        )

    def _choices_of(self, item: Item, lang: str) -> tuple[Choice, ...]:
        choices = self._choices.get((item.index, lang))
        if choices is None:
            q = item.question
            choices = tuple(
                Choice(v, label) for v, label in QUESTION_TYPES[q.type].choices(q, lang)
            )
            self._choices[(item.index, lang)] = choices
        return choices

    def is_done(self, state: State) -> bool:
        return self.settle(state).cursor >= len(self.items)

    def missing_required(self, state: State) -> list[str]:
        """Keys of applicable required items without an answer (empty when complete)."""
        return [
            i.key
            for i in self.items
            if i.question.required and self.applies(i, state.answers) and i.key not in state.answers
        ]

    def stale_keys(self, state: State) -> tuple[str, ...]:
        """Answers to items that no longer apply (an earlier answer changed): drop them."""
        return tuple(
            k
            for k in state.answers
            if k not in self._by_key or not self.applies(self._by_key[k], state.answers)
        )

    def text_keys(self, state: State) -> tuple[str, ...]:
        """Keys of answered open questions: they become unlinked comments on completion."""
        return tuple(
            k
            for k, item in self._by_key.items()
            if QUESTION_TYPES[item.question.type].comment and k in state.answers
        )

    def item(self, key: str) -> Item | None:
        return self._by_key.get(key)

    # -- actions -----------------------------------------------------------------------

    def answer(self, state: State, index: int, value: object) -> Change:
        """Validate and store an answer to the item at the cursor, then move on."""
        item = self._current(state, index)
        q = item.question
        if not q.answerable:
            return Change(State(self._forward(index + 1, state.answers), state.answers))
        answer = QUESTION_TYPES[q.type].validate_answer(q, value)
        answers = dict(state.answers)
        answers[item.key] = answer
        return Change(
            State(self._forward(index + 1, answers), MappingProxyType(answers)),
            put=MappingProxyType({item.key: answer}),
        )

    def dont_know(self, state: State, index: int) -> Change:
        return self.answer(state, index, DONT_KNOW)

    def proceed(self, state: State, index: int) -> Change:
        """Move past an info statement."""
        item = self._current(state, index)
        if item.question.answerable:
            raise AnswerError("needs_answer")
        return Change(State(self._forward(index + 1, state.answers), state.answers))

    def skip(self, state: State, index: int) -> Change:
        """Leave an optional question unanswered (erasing an earlier answer to it)."""
        item = self._current(state, index)
        if item.question.required:
            raise AnswerError("required")
        answers = dict(state.answers)
        dropped = (item.key,) if answers.pop(item.key, None) is not None else ()
        return Change(
            State(self._forward(index + 1, answers), MappingProxyType(answers)), drop=dropped
        )

    def back(self, state: State, index: int) -> Change:
        """Return to the previous applicable item, keeping every answer."""
        if not self.items:
            raise AnswerError("at_start")
        self._current(state, index, allow_end=True)
        previous = self._backward(index, state.answers)
        if previous is None:
            raise AnswerError("at_start")
        return Change(State(previous, state.answers))

    # -- internals ---------------------------------------------------------------------

    def _current(self, state: State, index: int, allow_end: bool = False) -> Item:
        state = self.settle(state)
        if index != state.cursor or (index >= len(self.items) and not allow_end):
            raise AnswerError("stale", expected=state.cursor, got=index)
        return self.items[index] if index < len(self.items) else self.items[-1]

    def _forward(self, start: int, answers: Mapping[str, Answer]) -> int:
        i = start
        while i < len(self.items) and not self.applies(self.items[i], answers):
            i += 1
        return i

    def _backward(self, start: int, answers: Mapping[str, Answer]) -> int | None:
        i = start - 1
        while i >= 0 and not self.applies(self.items[i], answers):
            i -= 1
        return i if i >= 0 else None


def _meets(values: tuple[int | str, ...], answer: Answer | None) -> bool:
    """Whether an answer satisfies a condition's values (any of them, for a multi)."""
    if answer is None or answer is DONT_KNOW:
        return False
    if isinstance(answer, tuple):
        return any(v in values for v in answer)
    return answer in values


def _pairs(survey: Survey, asked: Mapping[str, Item], items: Sequence[Item]) -> dict[int, str]:
    """Item index -> key of the item it is compared with, for compared profile dimensions.

    The n-th question of a dimension that `compares` another is paired with the n-th
    question of that other one, when both are asked, per organisation as a whole (not
    per partner) and offer the same options (pref_glue with now_glue).
    """
    pairs: dict[int, str] = {}
    for base, compared in survey.profile_pairs():
        bases = [q for q in survey.questions if q.dimension == base.id]
        others = [q for q in survey.questions if q.dimension == compared.id]
        for earlier, later in zip(bases, others, strict=False):
            same = [o.value for o in earlier.options] == [o.value for o in later.options]
            item = next((i for i in items if i.question is later and i.target is None), None)
            if same and earlier.id in asked and item is not None:
                pairs[item.index] = earlier.id
    return pairs


def _get(text: Text | None, lang: str) -> str | None:
    return text.get(lang) if text else None
