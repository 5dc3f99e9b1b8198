"""`trustscan demo --preview`: a survey answered by a scripted respondent in the terminal.

Walks the real engine alongside the preview, so what scrolls by is what a respondent
meets. The full demo (three simulated waves and the report) is `bot.simulation` plus
`trustscan demo` in `bot.cli`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from surveys.engine import Done, Questionnaire, QuestionStep, State

from .preview import run_preview


def scripted_line(step: QuestionStep, rng: random.Random) -> str:
    """What a plausible respondent would type at this step of the preview."""
    q = step.question
    match q.type:
        case "info":
            return ""
        case "likert":
            return str(rng.choice([2, 3, 4, 4, 5][: q.points]))
        case "nps":
            return str(rng.randint(5, 9))
        case "choice":
            return str(rng.randint(1, len(step.choices)))
        case "multi":
            count = max(q.min_choices, 1)
            return " ".join(str(i) for i in range(1, count + 1))
        case "allocate":
            weights = [rng.randint(1, 6) for _ in q.options]
            points = [q.step * round(q.total * w / sum(weights) / q.step) for w in weights]
            points[0] += q.total - sum(points)
            return " ".join(str(p) for p in points)
        case "text":
            return "s" if not q.required else "Meer samen optrekken."
    return ""


def scripted_lines(questionnaire: Questionnaire, rng: random.Random) -> Iterator[str]:
    """Answer lines for a whole survey, computed by walking the engine alongside."""
    from .preview import _act

    state = State()
    while not isinstance(step := questionnaire.step(state), Done):
        line = scripted_line(step, rng)
        state = _act(questionnaire, state, step, line).state
        yield line


def run_demo(
    questionnaire: Questionnaire, write: Callable[[str], object], lang: str, seed: int = 7
) -> bool:
    """Preview one survey with scripted answers, echoing each answer like a typed line."""
    lines = scripted_lines(questionnaire, random.Random(seed))

    def echo() -> Iterator[str]:
        for line in lines:
            write(f"> {line}")
            yield line

    return run_preview(questionnaire, echo(), write, lang)
