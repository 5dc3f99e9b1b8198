"""`trustscan demo --preview`: a survey answered by a scripted respondent in the terminal.

Walks the real engine alongside the preview, so what scrolls by is what a respondent
meets. The full demo (three simulated waves and the report) is `trustscan.simulation`
plus `trustscan demo` in `trustscan.cli`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from surveys.engine import Done, Questionnaire, QuestionStep, State

from .preview import PREVIEWS, run_preview


def scripted_line(step: QuestionStep, rng: random.Random) -> str:
    """What a plausible respondent would type at this step of the preview."""
    return PREVIEWS[step.type].script(step, rng)


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
