"""The terminal adapter: take a survey in the terminal through the same engine as the bot.

Works interactively and with answers piped on stdin (one line per question), which is
how the tests and `make demo` drive it. Nothing is stored.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import TextIO

from surveys.answers import DONT_KNOW, Answer
from surveys.engine import Change, Done, Questionnaire, QuestionStep, State
from surveys.errors import AnswerError
from surveys.hints import hint
from surveys.i18n import t
from surveys.qtypes import QUESTION_TYPES, AllocateParams, MultiParams, NpsParams, TextParams


def ui(key: str, lang: str, **params: object) -> str:
    return t(f"preview.{key}", lang, **params)


def run_preview(
    questionnaire: Questionnaire, lines: Iterator[str], write: Callable[[str], object], lang: str
) -> bool:
    """Drive the engine from input lines; True when the survey was completed."""
    state = State()
    survey = questionnaire.survey
    write(f"== {survey.title.get(lang)} ==")
    if survey.intro:
        write(survey.intro.get(lang))
    write(ui("keys", lang))
    while True:
        step = questionnaire.step(state, lang)
        if isinstance(step, Done):
            break
        write("")
        _render(step, write, lang)
        while True:
            line = next(lines, None)
            if line is None:
                write(ui("eof", lang, pos=step.position))
                return False
            try:
                change = _act(questionnaire, state, step, line.rstrip("\n"))
            except AnswerError as exc:
                write(f"  ! {hint(exc, lang)}")
                continue
            state = change.state
            break
    write("")
    if survey.outro:
        write(survey.outro.get(lang))
    write(ui("done", lang))
    for item in questionnaire.items:
        if item.question.answerable and questionnaire.applies(item, state.answers):
            value = state.answers.get(item.key)
            shown = ui("skipped", lang) if value is None else _show(value, lang)
            write(f"  {item.key}: {shown}")
    return True


def _render(step: QuestionStep, write: Callable[[str], object], lang: str) -> None:
    q = step.question
    if step.section_title:
        write(f"--- {step.section_title} ---")
        if step.section_intro:
            write(step.section_intro)
    if q.answerable:
        write(ui("progress", lang, pos=step.position, total=step.total))
    write(step.text)
    preview = PREVIEWS[q.type]
    for line in preview.options(step, lang):
        write(f"  {line}")
    if step.current is not None:
        write(f"  [{ui('current', lang)}: {_show(step.current, lang)}]")
    write(preview.prompt(step, lang))


def _act(engine: Questionnaire, state: State, step: QuestionStep, line: str) -> Change:
    command = line.strip().lower()
    q = step.question
    if command == "b":
        return engine.back(state, step.index)
    if command == "s":
        return engine.skip(state, step.index)
    if command == "?":
        return engine.dont_know(state, step.index)
    if not q.answerable:
        return engine.proceed(state, step.index)
    return engine.answer(state, step.index, PREVIEWS[q.type].parse(step, line))


def _numbers(line: str) -> list[int]:
    return [_int(p) for p in line.replace(",", " ").split()]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise AnswerError("unknown_option") from None


def _pick(step: QuestionStep, number: int) -> str:
    if not 1 <= number <= len(step.choices):
        raise AnswerError("out_of_range", low=1, high=len(step.choices))
    return step.choices[number - 1].value


def _show(value: Answer, lang: str) -> str:
    if value is DONT_KNOW:
        return ui("dont_know", lang)
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def lines_of(stream: TextIO) -> Iterator[str]:
    """Lines from a stream, ending cleanly at EOF or Ctrl-D."""
    yield from stream


# -- one entry per question type: how it looks, what is typed, what a demo person types --


class Preview:
    """Base: the options as a numbered list, a number to type (likert, choice)."""

    def options(self, step: QuestionStep, lang: str) -> list[str]:
        return [f"{n}. {choice.label}" for n, choice in enumerate(step.choices, start=1)]

    def prompt(self, step: QuestionStep, lang: str) -> str:
        return ui("number", lang)

    def parse(self, step: QuestionStep, line: str) -> Answer:
        return _int(line.strip())

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        """What a plausible respondent would type here (`trustscan demo --preview`)."""
        return str(rng.choice([2, 3, 4, 4, 5][: step.question.points]))


class NpsPreview(Preview):
    def options(self, step: QuestionStep, lang: str) -> list[str]:
        anchors = step.question.params_as(NpsParams).anchors
        return [
            "0 … 10" + (f"  ({anchors[0].get(lang)} … {anchors[1].get(lang)})" if anchors else "")
        ]

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        return str(rng.randint(5, 9))


class ChoicePreview(Preview):
    def parse(self, step: QuestionStep, line: str) -> Answer:
        return _pick(step, _int(line.strip()))

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        return str(rng.randint(1, len(step.choices)))


class MultiPreview(Preview):
    def prompt(self, step: QuestionStep, lang: str) -> str:
        q = step.question.params_as(MultiParams)
        return ui("multi", lang, low=q.min_choices, high=q.max_choices)

    def parse(self, step: QuestionStep, line: str) -> Answer:
        return tuple(_pick(step, n) for n in _numbers(line))

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        low = step.question.params_as(MultiParams).min_choices
        return " ".join(str(i) for i in range(1, max(low, 1) + 1))


class AllocatePreview(Preview):
    def prompt(self, step: QuestionStep, lang: str) -> str:
        q = step.question.params_as(AllocateParams)
        return ui("allocate", lang, total=q.total, count=len(q.options))

    def parse(self, step: QuestionStep, line: str) -> Answer:
        """Points as the chat reads them (the type's reading: the rest may be implied)."""
        return QUESTION_TYPES[step.type].from_text(step.question, line)

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        q = step.question.params_as(AllocateParams)
        weights = [rng.randint(1, 6) for _ in q.options]
        points = [q.step * round(q.total * w / sum(weights) / q.step) for w in weights]
        points[0] += q.total - sum(points)
        return " ".join(str(p) for p in points)


class TextPreview(Preview):
    def options(self, step: QuestionStep, lang: str) -> list[str]:
        return []

    def prompt(self, step: QuestionStep, lang: str) -> str:
        return ui("text", lang, limit=step.question.params_as(TextParams).max_length)

    def parse(self, step: QuestionStep, line: str) -> Answer:
        return line

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        return "s" if not step.question.required else "Meer samen optrekken."


class InfoPreview(Preview):
    def options(self, step: QuestionStep, lang: str) -> list[str]:
        return []

    def prompt(self, step: QuestionStep, lang: str) -> str:
        return ui("continue", lang)

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        return ""


class RankingPreview(Preview):
    """The option numbers in the order preferred ("3 1 2"): stored as a rank per option."""

    def prompt(self, step: QuestionStep, lang: str) -> str:
        return ui("ranking", lang)

    def parse(self, step: QuestionStep, line: str) -> Answer:
        order = _numbers(line)
        ranks = [0] * len(step.choices)  # anything but each number once: refused as rank_all
        for rank, number in enumerate(order, start=1):
            if 1 <= number <= len(ranks):
                ranks[number - 1] = rank
        return tuple(ranks) if len(order) == len(ranks) else tuple(order)

    def script(self, step: QuestionStep, rng: random.Random) -> str:
        order = list(range(1, len(step.choices) + 1))
        rng.shuffle(order)
        return " ".join(str(n) for n in order)


PREVIEWS: dict[str, Preview] = {
    "likert": Preview(),
    "nps": NpsPreview(),
    "choice": ChoicePreview(),
    "multi": MultiPreview(),
    "allocate": AllocatePreview(),
    "text": TextPreview(),
    "info": InfoPreview(),
    "ranking": RankingPreview(),
}
