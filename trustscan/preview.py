"""The terminal adapter: take a survey in the terminal through the same engine as the bot.

Works interactively and with answers piped on stdin (one line per question), which is
how the tests and `make demo` drive it. Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TextIO

from surveys.answers import DONT_KNOW, Answer
from surveys.engine import Change, Done, Questionnaire, QuestionStep, State
from surveys.errors import AnswerError
from surveys.hints import hint

UI = {
    "progress": {"nl": "Vraag {pos} van {total}", "en": "Question {pos} of {total}"},
    "keys": {
        "nl": "b = terug, s = overslaan, ? = weet niet",
        "en": "b = back, s = skip, ? = don't know",
    },
    "continue": {"nl": "(Enter om verder te gaan)", "en": "(press Enter to continue)"},
    "multi": {
        "nl": "Nummers gescheiden door spaties ({low} tot {high})",
        "en": "Numbers separated by spaces ({low} to {high})",
    },
    "allocate": {
        "nl": "Verdeel {total} punten: {count} getallen gescheiden door spaties",
        "en": "Divide {total} points: {count} numbers separated by spaces",
    },
    "text": {
        "nl": "Typ je antwoord (maximaal {limit} tekens)",
        "en": "Type your answer (at most {limit} characters)",
    },
    "number": {"nl": "Kies een nummer", "en": "Choose a number"},
    "done": {
        "nl": "Klaar! Dit zijn je antwoorden (er is niets opgeslagen):",
        "en": "Done! These are your answers (nothing was stored):",
    },
    "eof": {
        "nl": "Invoer gestopt bij vraag {pos}; er is niets opgeslagen.",
        "en": "Input ended at question {pos}; nothing was stored.",
    },
    "skipped": {"nl": "(overgeslagen)", "en": "(skipped)"},
    "dont_know": {"nl": "weet niet", "en": "don't know"},
    "current": {"nl": "huidig antwoord", "en": "current answer"},
}


def ui(key: str, lang: str, **params: object) -> str:
    return UI[key][lang].format(**params)


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
    if q.type == "nps":
        write(
            "  0 … 10"
            + (f"  ({q.anchors[0].get(lang)} … {q.anchors[1].get(lang)})" if q.anchors else "")
        )
    else:
        for n, choice in enumerate(step.choices, start=1):
            write(f"  {n}. {choice.label}")
    if step.current is not None:
        write(f"  [{ui('current', lang)}: {_show(step.current, lang)}]")
    match q.type:
        case "info":
            write(ui("continue", lang))
        case "multi":
            write(ui("multi", lang, low=q.min_choices, high=q.max_choices))
        case "allocate":
            write(ui("allocate", lang, total=q.total, count=len(q.options)))
        case "text":
            write(ui("text", lang, limit=q.max_length))
        case _:
            write(ui("number", lang))


def _act(engine: Questionnaire, state: State, step: QuestionStep, line: str) -> Change:
    command = line.strip().lower()
    q = step.question
    if command == "b":
        return engine.back(state, step.index)
    if command == "s":
        return engine.skip(state, step.index)
    if command == "?":
        return engine.dont_know(state, step.index)
    match q.type:
        case "info":
            return engine.proceed(state, step.index)
        case "text":
            return engine.answer(state, step.index, line)
        case "nps":
            return engine.answer(state, step.index, _int(command))
        case "likert":
            return engine.answer(state, step.index, _int(command))
        case "choice":
            return engine.answer(state, step.index, _pick(step, _int(command)))
        case "multi":
            picks = command.replace(",", " ").split()
            return engine.answer(state, step.index, tuple(_pick(step, _int(p)) for p in picks))
        case "allocate":
            return engine.answer(
                state, step.index, tuple(_int(p) for p in command.replace(",", " ").split())
            )
    raise AnswerError("unknown_option")


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
