"""WIDGETS: the Telegram keyboard and press handling of each question type, one entry each.

A widget draws its part of a question message (extra lines and keyboard rows; the
frame — section, progress, text, Back/Skip/Don't know — is `render.render_step`'s) and
turns its presses into an engine answer (`answer`) or, for presses that only change
what is on screen, into its next on-screen state (`redraw`). On-screen state (a multi
mask, allocate points, a ranking order) travels in the callback data: nothing half-made
is stored. Taps faster than the redraws apply in order (`redraw_in_order`: the newest
state of the message, in memory). A new question type needs one entry here.
"""

from __future__ import annotations

import html
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from telegram import InlineKeyboardButton

from surveys.answers import Answer
from surveys.engine import QuestionStep
from surveys.errors import AnswerError
from surveys.i18n import t
from surveys.model import Question
from surveys.qtypes import AllocateParams, MultiParams, NpsParams, TextParams

from .callbacks import Action, Press

CHECK = "✓ "
Button = Callable[..., InlineKeyboardButton]  # button(label, action, *args)
Rows = list[list[InlineKeyboardButton]]


class Widget:
    """Base: draws nothing, takes no press of its own.

    `answers`: the actions whose press is the answer (`answer` decodes it); `redraws`:
    the actions that only redraw the message (`redraw` gives the new on-screen state,
    which `draw` receives as `state`; None draws from the stored answer); `typed`: the
    answer is a typed message, not a press.
    """

    answers: ClassVar[frozenset[Action]] = frozenset()
    redraws: ClassVar[frozenset[Action]] = frozenset()
    typed: ClassVar[bool] = False
    in_order: ClassVar[bool] = False  # redraw presses apply to the newest state (`redraw_in_order`)
    reads_text: ClassVar[bool] = False  # a typed message answers too (read by the type)

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        return []

    def answer(self, press: Press, question: Question) -> Answer:
        raise ValueError(f"no answer press {press.action!r} for a {question.type} question")

    def redraw(self, press: Press, step: QuestionStep) -> object:
        raise ValueError(f"no widget press {press.action!r} for a {step.type} question")

    def pack(self, state: object) -> str:
        """A `redraw` state as the keyboard drawn from it carries it (its first argument)."""
        raise ValueError("this widget keeps no state on screen")


def _arg(press: Press, at: int = 0) -> str:
    if len(press.args) <= at:
        raise ValueError("press without its value")
    return press.args[at]


class LikertWidget(Widget):
    """One button per scale point, the chosen one checked; the point is the answer."""

    answers = frozenset({Action.ANSWER})

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        return [
            [button((CHECK if step.current == n else "") + choice.label, Action.ANSWER, n)]
            for n, choice in enumerate(step.choices, start=1)
        ]

    def answer(self, press: Press, question: Question) -> Answer:
        return int(_arg(press))


class ChoiceWidget(Widget):
    """One button per option, the chosen one checked; the option's value is the answer."""

    answers = frozenset({Action.ANSWER})

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        return [
            [button((CHECK if step.current == c.value else "") + c.label, Action.ANSWER, c.value)]
            for c in step.choices
        ]

    def answer(self, press: Press, question: Question) -> Answer:
        return _arg(press)


class NpsWidget(Widget):
    """0–10 in two rows, with the anchors' texts above them."""

    answers = frozenset({Action.ANSWER})

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        q = step.question
        if anchors := q.params_as(NpsParams).anchors:
            low, high = anchors[0].get(lang), anchors[1].get(lang)
            lines.append(f"<i>{html.escape(t('bot.nps_scale', lang, low=low, high=high))}</i>")
        numbers = [
            button((CHECK if step.current == i else "") + str(i), Action.ANSWER, i)
            for i in range(q.points)
        ]
        return [numbers[:6], numbers[6:]]

    def answer(self, press: Press, question: Question) -> Answer:
        return int(_arg(press))


class MultiWidget(Widget):
    """Tap to toggle options (the mask so far in the data), then Done."""

    answers = frozenset({Action.MULTI_DONE})
    redraws = frozenset({Action.MULTI_TOGGLE})
    in_order = True

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        q = step.question.params_as(MultiParams)
        mask = state if isinstance(state, int) else self.initial(step)
        lines.append(f"<i>{t('bot.multi_hint', lang, low=q.min_choices, high=q.max_choices)}</i>")
        packed = format(mask, "x")
        rows = [
            [button(("☑ " if mask >> i & 1 else "☐ ") + c.label, Action.MULTI_TOGGLE, packed, i)]
            for i, c in enumerate(step.choices)
        ]
        if q.min_choices <= bin(mask).count("1") <= q.max_choices:
            rows.append([button(t("bot.done_button", lang), Action.MULTI_DONE, packed)])
        return rows

    @staticmethod
    def initial(step: QuestionStep) -> int:
        chosen = step.current if isinstance(step.current, tuple) else ()
        values = [c.value for c in step.choices]
        return sum(1 << values.index(v) for v in chosen if v in values)

    def answer(self, press: Press, question: Question) -> Answer:
        chosen = int(_arg(press), 16)
        return tuple(o.value for i, o in enumerate(question.options) if chosen >> i & 1)

    def redraw(self, press: Press, step: QuestionStep) -> object:
        q = step.question.params_as(MultiParams)
        mask, option = int(_arg(press), 16), int(_arg(press, 1))
        if not 0 <= option < len(step.choices):
            raise ValueError("no such option")
        mask ^= 1 << option
        if bin(mask).count("1") > q.max_choices:
            raise AnswerError("choose_between", low=q.min_choices, high=q.max_choices)
        return mask

    def pack(self, state: object) -> str:
        assert isinstance(state, int)
        return format(state, "x")


@dataclass(frozen=True, slots=True)
class Points:
    """The allocate widget's on-screen state: points per option, and where amounts go.

    `target` is the option the amount row fills next; None: the first option still at 0
    (the first option when none is), as on a freshly drawn question.
    """

    values: tuple[int, ...]
    target: int | None = None

    def aim(self) -> int:
        """The option the amount row fills next."""
        if self.target is not None:
            return self.target
        return next((i for i, p in enumerate(self.values) if p == 0), 0)

    def pack(self) -> str:
        packed = ".".join(str(p) for p in self.values)
        return packed if self.target is None else f"{packed}/{self.target}"


class AllocateWidget(Widget):
    """Points per option in a few taps: an amount row, −/+ in two sizes, rest, a copy.

    Each option has a row −big −step [n · points] +step +big (tap the number: all that is
    left goes there). The amount row sets the option marked ▸ and moves the mark on, so
    "40, 30, 20, Rest, Done" answers 40/30/20/10 in five taps. A question compared with an
    earlier one (preferred culture against now) offers that answer as a starting point.
    Every button keeps its place whatever the points, so quick taps land where aimed.
    Typed points ("40 30 20 10") are read by the type (`respondent.text_answer`).
    """

    answers = frozenset({Action.ALLOCATE_DONE})
    redraws = frozenset({Action.ALLOCATE_STEP})
    in_order = True
    reads_text = True

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        q = step.question.params_as(AllocateParams)
        view = self.view(step, state)
        packed, aim, left = view.pack(), view.aim(), q.total - sum(view.values)
        lines.append("")
        rows: Rows = []
        for i, (choice, p) in enumerate(zip(step.choices, view.values, strict=True)):
            mark = AIM if i == aim else ""
            lines.append(f"{mark}{i + 1}. {html.escape(choice.label)}: <b>{p}</b>")
            rows.append(
                [
                    button(label, Action.ALLOCATE_STEP, packed, f"{i}{op}")
                    for label, op in _option_row(q.step, f"{mark.strip()}{i + 1} · {p}")
                ]
            )
        pad = [
            button(str(n), Action.ALLOCATE_STEP, packed, f"*{n}") for n in amounts(step.question)
        ]
        rest = t("allocate.rest", lang, points=left + view.values[aim])
        rows.extend(balanced([*pad, button(rest, Action.ALLOCATE_STEP, packed, "*r")]))
        if (paired := self.paired(step)) is not None:
            copy = t("allocate.copy", lang, points=" · ".join(str(p) for p in paired))
            rows.append([button(copy, Action.ALLOCATE_STEP, packed, "~")])
        example = " ".join(str(p) for p in example_points(q.total, q.step, len(view.values)))
        hint = t("allocate.hint", lang, option=aim + 1, count=len(view.values), example=example)
        lines.extend(["", t("bot.allocate_hint", lang, total=q.total, left=left), f"<i>{hint}</i>"])
        last = [button(t("bot.start_over", lang), Action.ALLOCATE_STEP, packed, "x")]
        if left == 0:
            done = ".".join(str(p) for p in view.values)
            last.append(button(t("bot.done_button", lang), Action.ALLOCATE_DONE, done))
        rows.append(last)
        return rows

    def view(self, step: QuestionStep, state: object) -> Points:
        """The state to draw: a redraw's, bare points (as tests pass them), or the stored."""
        if isinstance(state, Points):
            return state
        if isinstance(state, tuple):
            return Points(tuple(int(p) for p in state))
        current = step.current
        if isinstance(current, tuple) and len(current) == len(step.choices):
            return Points(tuple(int(p) for p in current))
        return Points((0,) * len(step.choices))

    @staticmethod
    def paired(step: QuestionStep) -> tuple[int, ...] | None:
        """The earlier answer this question may start from, if it fits (same options)."""
        paired = step.paired
        if not isinstance(paired, tuple) or len(paired) != len(step.choices):
            return None
        points = tuple(p for p in paired if isinstance(p, int))
        return points if len(points) == len(paired) else None

    def answer(self, press: Press, question: Question) -> Answer:
        total = question.params_as(AllocateParams).total
        return parse_points(_arg(press), len(question.options), total).values

    def redraw(self, press: Press, step: QuestionStep) -> object:
        q = step.question.params_as(AllocateParams)
        view = parse_points(_arg(press), len(step.choices), q.total)
        change = _arg(press, 1)
        if change == "~":
            paired = self.paired(step)
            if paired is None:
                raise ValueError("nothing to copy")
            return Points(paired)
        if change == "x":
            return Points((0,) * len(view.values))
        if change.startswith("*"):
            return set_aimed(view, change[1:], q.total)
        option, op = change.rstrip("+-="), change[len(change.rstrip("+-=")) :]
        return Points(adjust_points(view.values, int(option), op, q.step, q.total), view.target)

    def pack(self, state: object) -> str:
        assert isinstance(state, Points)
        return state.pack()


AIM = "▸ "


def _option_row(step: int, value: str) -> list[tuple[str, str]]:
    """(label, operation) of an option's buttons: −2 steps, −1, the value (rest), +1, +2."""
    big = 2 * step
    return [
        (f"−{big}", "--"),
        (f"−{step}", "-"),
        (value, "="),
        (f"+{step}", "+"),
        (f"+{big}", "++"),
    ]


STEPS = {"+": 1, "++": 2, "-": -1, "--": -2}  # an option's −/+ buttons, in steps


def adjust_points(
    points: tuple[int, ...], option: int, op: str, step: int, total: int
) -> tuple[int, ...]:
    """Apply one −/+/= press: keep every value within 0..total and the sum within total.

    "+" and "-" move one step, "++" and "--" two; "=" gives the option all that is left.
    """
    values = list(points)
    if not 0 <= option < len(values):
        raise ValueError("no such option")
    left = max(total - sum(values), 0)
    if op == "=":
        values[option] += left
    elif op in STEPS:
        change = STEPS[op] * step
        values[option] = max(values[option] + min(change, left), 0)
    else:
        raise ValueError("no such operation")
    return tuple(values)


def set_aimed(view: Points, amount: str, total: int) -> Points:
    """An amount press: the marked option gets it (at most what is free), the mark moves on.

    "r" is the rest: all points not given to another option. An amount from a keyboard
    drawn before other points were given is capped, never overspent.
    """
    aim = view.aim()
    values = list(view.values)
    free = total - (sum(values) - values[aim])
    wanted = free if amount == "r" else int(amount)
    if wanted < 0:
        raise ValueError("no such amount")
    values[aim] = min(wanted, free)
    return Points(tuple(values), (aim + 1) % len(values))


def amounts(question: Question) -> list[int]:
    """The amount row: multiples of the step from 0 to half the total, at most 11 of them."""
    params = question.params_as(AllocateParams)
    step = params.step
    while params.total // 2 // step + 1 > MAX_AMOUNTS:
        step += params.step
    return list(range(0, params.total // 2 + 1, step))


MAX_AMOUNTS = 11  # with Rest: two rows of six


def balanced(buttons: list[InlineKeyboardButton], width: int = 6) -> Rows:
    """Buttons in rows of at most `width`, the rows as equal as they can be."""
    count = -(-len(buttons) // width)
    size = -(-len(buttons) // count)
    return [buttons[i : i + size] for i in range(0, len(buttons), size)]


def example_points(total: int, step: int, count: int) -> list[int]:
    """A plausible typed answer to show ("40 30 20 10"): falling shares, in whole steps."""
    weights = range(count, 0, -1)
    share = sum(weights)
    points = [step * int(total * w / share / step) for w in weights][:-1]
    return [*points, total - sum(points)]


def parse_points(packed: str, count: int, total: int) -> Points:
    """The points (and the mark, after "/") a keyboard was drawn with; `ValueError` if forged."""
    values_text, _, target_text = packed.partition("/")
    values = tuple(int(p) for p in values_text.split("."))
    target = int(target_text) if target_text else None
    if len(values) != count or any(v < 0 or v > total for v in values) or sum(values) > total:
        raise ValueError("bad points")
    if target is not None and not 0 <= target < count:
        raise ValueError("bad mark")
    return Points(values, target)


class TextWidget(Widget):
    """No buttons: the answer is typed as a message (`respondent.text_answer`)."""

    typed = True

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        lines.append("")
        limit = step.question.params_as(TextParams).max_length
        lines.append(f"<i>{t('bot.text_hint', lang, limit=limit)}</i>")
        if isinstance(step.current, str):
            lines.append(f"{CHECK}<i>{html.escape(step.current)}</i>")
        return []


class InfoWidget(Widget):
    """A Next button (the press is the engine's `proceed`, handled with the navigation)."""

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        return [[button(t("bot.next", lang), Action.NEXT)]]


class RankingWidget(Widget):
    """Tap the options in the order you prefer them; Start over; Done when all are ranked.

    The order so far (option indices) travels in the data; the answer is the rank of
    each option, as the type stores it.
    """

    answers = frozenset({Action.RANK_DONE})
    redraws = frozenset({Action.RANK_PICK})

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        order = state if isinstance(state, tuple) else self.initial(step)
        packed = pack_order(order)
        lines.append(f"<i>{t('bot.rank_hint', lang)}</i>")
        lines.extend(
            f"{rank}. {html.escape(step.choices[i].label)}" for rank, i in enumerate(order, 1)
        )
        rows: Rows = [
            [button(c.label, Action.RANK_PICK, packed, i)]
            for i, c in enumerate(step.choices)
            if i not in order
        ]
        if order:
            rows.append([button(t("bot.start_over", lang), Action.RANK_PICK, "-")])
        if len(order) == len(step.choices):
            rows.append([button(t("bot.done_button", lang), Action.RANK_DONE, packed)])
        return rows

    @staticmethod
    def initial(step: QuestionStep) -> tuple[int, ...]:
        ranks = step.current
        if isinstance(ranks, tuple) and len(ranks) == len(step.choices):
            return tuple(sorted(range(len(ranks)), key=ranks.__getitem__))
        return ()

    def answer(self, press: Press, question: Question) -> Answer:
        order = parse_order(_arg(press), len(question.options))
        ranks = [0] * len(question.options)  # an incomplete order: refused as rank_all
        for rank, option in enumerate(order, start=1):
            ranks[option] = rank
        return tuple(ranks)

    def redraw(self, press: Press, step: QuestionStep) -> object:
        order = parse_order(_arg(press), len(step.choices))
        if len(press.args) == 1:
            return ()  # start over
        option = int(_arg(press, 1))
        if not 0 <= option < len(step.choices) or option in order:
            raise ValueError("no such option")
        return (*order, option)


def pack_order(order: tuple[int, ...]) -> str:
    return ".".join(str(i) for i in order) or "-"


def parse_order(packed: str, count: int) -> tuple[int, ...]:
    """Option indices in chosen order, each at most once ("-": none yet)."""
    order = () if packed == "-" else tuple(int(i) for i in packed.split("."))
    if len(set(order)) != len(order) or any(not 0 <= i < count for i in order):
        raise ValueError("bad order")
    return order


# -- quick taps: a keyboard not yet redrawn applies to the newest state ------------------

SCREEN = "widget_screen"  # chat_data key: the chat's newest widget message (`Screen`)
MAX_SHOWN = 64  # states remembered per screen: far more than taps outrun one redraw


@dataclass(slots=True)
class Screen:
    """What one chat's widget message has shown since it was drawn afresh (in memory).

    Quick taps all come from the keyboard on screen before the first redraw arrives; each
    carries that keyboard's state. A press whose state this message has shown applies to
    the newest state instead, so four quick "+10" end at 40 and an outdated keyboard never
    resets newer points. A state it never showed (a new message, a keyboard drawn from the
    stored answer, a restart that forgot this) is taken as it is. Nothing here is an
    answer: Done still takes what its own keyboard showed.
    """

    message: int
    index: int
    shown: list[str] = field(default_factory=list)


def redraw_in_order(
    widget: Widget,
    press: Press,
    step: QuestionStep,
    memory: MutableMapping[Any, Any] | None,
    message: int | None,
) -> object:
    """The widget's next state for a redraw press, remembered for the presses after it.

    Synchronous from reading to remembering: presses handled at the same time cannot
    both start from the same state.
    """
    if not widget.in_order or memory is None or message is None or not press.args:
        return widget.redraw(press, step)
    screen = memory.get(SCREEN)
    packed = press.args[0]
    if (
        isinstance(screen, Screen)
        and (screen.message, screen.index) == (message, press.index)
        and packed in screen.shown
    ):
        press = replace(press, args=(screen.shown[-1], *press.args[1:]))
    else:
        screen = Screen(message, press.index, [packed])
    state = widget.redraw(press, step)
    screen.shown = [*screen.shown[-MAX_SHOWN + 1 :], widget.pack(state)]
    memory[SCREEN] = screen
    return state


def forget_screen(memory: MutableMapping[Any, Any] | None) -> None:
    """The widget message moves on (an answer, Back, Skip, a typed answer): start afresh.

    A question shown again on the same message (Back, then forward) starts from what it
    shows then, never from points left on it before.
    """
    if memory is not None:
        memory.pop(SCREEN, None)


WIDGETS: dict[str, Widget] = {
    "likert": LikertWidget(),
    "nps": NpsWidget(),
    "choice": ChoiceWidget(),
    "multi": MultiWidget(),
    "allocate": AllocateWidget(),
    "text": TextWidget(),
    "info": InfoWidget(),
    "ranking": RankingWidget(),
}
# presses that only redraw a widget, whichever the type
REDRAWS: frozenset[Action] = frozenset().union(*(w.redraws for w in WIDGETS.values()))
