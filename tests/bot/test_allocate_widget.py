"""The allocate widget and typed points, without Telegram: reading, drawing, pressing."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton

from bot.callbacks import Action, Press, decode
from bot.render import render_step
from bot.widgets import (
    SCREEN,
    WIDGETS,
    Points,
    amounts,
    example_points,
    forget_screen,
    parse_points,
    redraw_in_order,
)
from surveys.engine import Questionnaire, QuestionStep, Respondent, State
from surveys.errors import AnswerError
from surveys.loader import load_builtin
from surveys.model import Survey
from surveys.qtypes import QUESTION_TYPES
from trustscan.preview import PREVIEWS

ALLOCATE = QUESTION_TYPES["allocate"]
WIDGET = WIDGETS["allocate"]


@pytest.fixture(scope="module")
def culture() -> Survey:
    return load_builtin("culture")


def step_at(survey: Survey, question_id: str, answers: dict[str, object] | None = None):
    """The culture scan's step for `question_id`, with earlier answers given."""
    q = Questionnaire(survey, Respondent("north", "staff", "en"))
    index = next(i.index for i in q.items if i.question.id == question_id)
    step = q.step(State(index, dict(answers or {})))  # type: ignore[arg-type]
    assert isinstance(step, QuestionStep)
    return step


# -- typed points: one reading, in the type -----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "points"),
    [
        ("40 30 20 10", (40, 30, 20, 10)),
        ("40,30,20,10", (40, 30, 20, 10)),
        ("40, 30, 20, 10", (40, 30, 20, 10)),
        (" 40;30 ; 20 ;10 ", (40, 30, 20, 10)),
        ("40% 30% 20% 10%", (40, 30, 20, 10)),
        ("40 30 20", (40, 30, 20, 10)),  # exactly one option left: it gets the rest
        ("100 0 0", (100, 0, 0, 0)),
        ("50 50 0 0", (50, 50, 0, 0)),  # the sum is the engine's to judge, not the reader's
        ("50 40 30 20", (50, 40, 30, 20)),
    ],
)
def test_typed_points_are_read_in_option_order(culture, typed, points) -> None:
    assert ALLOCATE.from_text(culture.question("now_glue"), typed) == points


@pytest.mark.parametrize(
    ("typed", "code", "params"),
    [
        ("40 30", "allocate_shape", {"count": 4}),  # two open: the rest is ambiguous
        ("40 30 20 10 0", "allocate_shape", {"count": 4}),
        ("veertig", "allocate_shape", {"count": 4}),
        ("40 30 20 -10", "allocate_shape", {"count": 4}),
        ("40.5 30 20 9.5", "allocate_shape", {"count": 4}),
        ("", "allocate_shape", {"count": 4}),
        ("²", "allocate_shape", {"count": 4}),
        ("50 40 30", "allocate_total", {"total": 100, "got": 120}),  # overspent: say both
    ],
)
def test_typed_points_refused_with_the_reason(culture, typed, code, params) -> None:
    with pytest.raises(AnswerError) as caught:
        ALLOCATE.from_text(culture.question("now_glue"), typed)
    assert (caught.value.code, caught.value.params) == (code, params)


def test_a_wrong_sum_is_refused_naming_sum_and_total(culture) -> None:
    question = culture.question("now_glue")
    with pytest.raises(AnswerError) as caught:
        ALLOCATE.validate_answer(question, ALLOCATE.from_text(question, "40 30 20 20"))
    assert (caught.value.code, caught.value.params) == (
        "allocate_total",
        {"total": 100, "got": 110},
    )


def test_the_preview_reads_points_as_the_chat_does(culture) -> None:
    step = step_at(culture, "now_glue")
    assert PREVIEWS["allocate"].parse(step, "40,30,20") == (40, 30, 20, 10)


def test_the_text_type_reads_a_line_as_itself(culture) -> None:
    assert QUESTION_TYPES["text"].from_text(culture.question("now_glue"), " x ") == " x "


# -- the engine pairs "preferred" with "now" -------------------------------------------------


def test_preferred_questions_carry_the_now_answer(culture) -> None:
    now = {"now_characteristics": (40, 30, 20, 10), "now_glue": (25, 25, 25, 25)}
    assert step_at(culture, "pref_characteristics", now).paired == (40, 30, 20, 10)
    assert step_at(culture, "pref_glue", now).paired == (25, 25, 25, 25)
    assert step_at(culture, "pref_leadership", now).paired is None  # not answered
    assert step_at(culture, "now_glue", now).paired is None  # "now" compares with nothing


# -- drawing -----------------------------------------------------------------------------------


def buttons(markup) -> list[InlineKeyboardButton]:
    return [b for row in markup.inline_keyboard for b in row]


def ops(markup) -> list[str]:
    """The operation of each allocate button ('0+', '*40', '~', …), Done as 'L'."""
    found = []
    for b in buttons(markup):
        press = decode(str(b.callback_data))
        if press is not None and press.action is Action.ALLOCATE_STEP:
            found.append(press.args[1])
        elif press is not None and press.action is Action.ALLOCATE_DONE:
            found.append("L")
    return found


def test_a_fresh_question_shows_amounts_rest_and_the_mark_on_option_one(culture) -> None:
    step = step_at(culture, "now_glue")
    text, markup = render_step(step, 1, "en")
    assert ops(markup)[:5] == ["0--", "0-", "0=", "0+", "0++"]
    assert [o for o in ops(markup) if o.startswith("*")] == [f"*{n}" for n in range(0, 51, 5)] + [
        "*r"
    ]
    assert "~" not in ops(markup) and "L" not in ops(markup)  # nothing to copy, not done
    assert "▸ 1. Loyalty and mutual trust: <b>0</b>" in text
    assert "e.g. 40 30 20 10" in text
    labels = [b.text for b in buttons(markup)]
    assert labels[:5] == ["−10", "−5", "▸1 · 0", "+5", "+10"] and "Rest: 100" in labels
    assert max(len(row) for row in markup.inline_keyboard) <= 6


def test_every_button_keeps_its_place_whatever_the_points(culture) -> None:
    """Quick taps land where aimed: only Done is added, at the end, once all is divided."""
    step = step_at(culture, "now_glue")
    fresh = ops(render_step(step, 1, "en")[1])
    divided = ops(render_step(step, 1, "en", widget=Points((40, 30, 20, 10), 0))[1])
    assert divided[: len(fresh)] == fresh and divided[len(fresh) :] == ["L"]


def test_the_copy_button_shows_the_earlier_points(culture) -> None:
    step = step_at(culture, "pref_glue", {"now_glue": (40, 30, 20, 10)})
    labels = [b.text for b in buttons(render_step(step, 1, "en")[1])]
    assert "⧉ As your earlier answer: 40 · 30 · 20 · 10" in labels


def test_amounts_are_at_most_eleven_multiples_of_the_step(culture) -> None:
    question = culture.question("now_glue")
    assert amounts(question) == list(range(0, 51, 5))
    from dataclasses import replace

    def amounts_with(**params: int) -> list[int]:
        return amounts(replace(question, params=replace(question.params, **params)))

    assert amounts_with(step=10) == [0, 10, 20, 30, 40, 50]
    assert amounts_with(step=1) == list(range(0, 51, 5))  # coarsened
    assert amounts_with(total=10, step=5) == [0, 5]
    assert example_points(100, 5, 4) == [40, 30, 20, 10]
    assert example_points(10, 5, 2) == [5, 5]


# -- pressing ------------------------------------------------------------------------------------


def press(data: str) -> Press:
    decoded = decode(f"l:1:3:{data}")
    assert decoded is not None
    return decoded


@pytest.mark.parametrize(
    ("data", "after"),
    [
        ("0.0.0.0:*40", Points((40, 0, 0, 0), 1)),  # the mark moves on
        ("40.0.0.0/1:*30", Points((40, 30, 0, 0), 2)),
        ("40.30.20.0/3:*r", Points((40, 30, 20, 10), 0)),  # rest, then round again
        ("40.30.0.0/2:*50", Points((40, 30, 30, 0), 3)),  # capped at what is free
        ("40.30.20.10:*0", Points((0, 30, 20, 10), 1)),  # no option at 0: the mark is on 1
        ("10.0.0.0:*20", Points((10, 20, 0, 0), 2)),  # the mark: the first option at 0
        ("0.0.0.0:0++", Points((10, 0, 0, 0))),
        ("10.0.0.0/2:0--", Points((0, 0, 0, 0), 2)),  # −/+ leave the mark where it is
        ("5.0.0.0:0--", Points((0, 0, 0, 0))),  # never below 0
        ("90.5.0.0:1++", Points((90, 10, 0, 0))),  # never more than is left
        ("40.0.0.0:2=", Points((40, 0, 60, 0))),
        ("40.30.20.10:x", Points((0, 0, 0, 0))),
    ],
)
def test_presses_change_the_points(culture, data, after) -> None:
    step = step_at(culture, "now_glue")
    assert WIDGET.redraw(press(data), step) == after


@pytest.mark.parametrize(
    "data", ["9.9.9.9.9:0+", "60.60.0.0:0+", "0.0.0.0/4:*5", "0.0.0.0:4+", "0.0.0.0:*-5", "0.0.0.0"]
)
def test_forged_presses_are_refused(culture, data) -> None:
    with pytest.raises(ValueError):
        WIDGET.redraw(press(data), step_at(culture, "now_glue"))


def test_copy_takes_the_earlier_answer_and_only_where_there_is_one(culture) -> None:
    step = step_at(culture, "pref_glue", {"now_glue": (40, 30, 20, 10)})
    assert WIDGET.redraw(press("0.0.0.0:~"), step) == Points((40, 30, 20, 10))
    with pytest.raises(ValueError):
        WIDGET.redraw(press("0.0.0.0:~"), step_at(culture, "pref_glue"))


def test_done_takes_its_own_points(culture) -> None:
    done = decode("L:1:3:40.30.20.10")
    assert done is not None
    assert WIDGET.answer(done, culture.question("now_glue")) == (40, 30, 20, 10)
    assert parse_points("40.30.20.10/2", 4, 100) == Points((40, 30, 20, 10), 2)


# -- quick taps: the newest state of the message -----------------------------------------------


def test_taps_on_a_keyboard_not_yet_redrawn_apply_in_order(culture) -> None:
    """Four +10 on one keyboard end at 40; a keyboard this message never showed is fresh."""
    step = step_at(culture, "now_glue")
    memory: dict[object, object] = {}
    states = [redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, memory, 7) for _ in range(4)]
    assert [s.values[0] for s in states] == [10, 20, 30, 40]  # type: ignore[attr-defined]
    # an older keyboard of this message (showing 20) adds to the newest, never resets it
    older = redraw_in_order(WIDGET, press("20.0.0.0:1++"), step, memory, 7)
    assert older == Points((40, 10, 0, 0))
    # another message (the question sent anew) starts from what its own keyboard shows
    other = redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, memory, 8)
    assert other == Points((10, 0, 0, 0))
    forget_screen(memory)  # answered, Back, Skip: the same message starts afresh
    assert SCREEN not in memory
    assert redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, memory, 8) == Points((10, 0, 0, 0))


def test_a_refused_press_leaves_the_newest_state_alone(culture) -> None:
    step = step_at(culture, "now_glue")
    memory: dict[object, object] = {}
    redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, memory, 7)
    with pytest.raises(ValueError):
        redraw_in_order(WIDGET, press("0.0.0.0:9+"), step, memory, 7)
    assert redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, memory, 7) == Points((20, 0, 0, 0))


def test_without_memory_a_press_is_taken_as_it_is(culture) -> None:
    step = step_at(culture, "now_glue")
    first = redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, None, 7)
    assert redraw_in_order(WIDGET, press("0.0.0.0:0++"), step, None, 7) == first
