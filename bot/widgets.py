"""WIDGETS: the Telegram keyboard and press handling of each question type, one entry each.

A widget draws its part of a question message (extra lines and keyboard rows; the
frame — section, progress, text, Back/Skip/Don't know — is `render.render_step`'s) and
turns its presses into an engine answer (`answer`) or, for presses that only change
what is on screen, into its next on-screen state (`redraw`). On-screen state (a multi
mask, allocate points, a ranking order) travels in the callback data: nothing half-made
is stored. A new question type needs one entry here.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import ClassVar

from telegram import InlineKeyboardButton

from surveys.answers import Answer
from surveys.engine import QuestionStep
from surveys.errors import AnswerError
from surveys.i18n import t
from surveys.model import Question

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

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        return []

    def answer(self, press: Press, question: Question) -> Answer:
        raise ValueError(f"no answer press {press.action!r} for a {question.type} question")

    def redraw(self, press: Press, step: QuestionStep) -> object:
        raise ValueError(f"no widget press {press.action!r} for a {step.type} question")


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
        if q.anchors:
            low, high = q.anchors[0].get(lang), q.anchors[1].get(lang)
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

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        q = step.question
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
        q = step.question
        mask, option = int(_arg(press), 16), int(_arg(press, 1))
        if not 0 <= option < len(step.choices):
            raise ValueError("no such option")
        mask ^= 1 << option
        if bin(mask).count("1") > q.max_choices:
            raise AnswerError("choose_between", low=q.min_choices, high=q.max_choices)
        return mask


class AllocateWidget(Widget):
    """−, the value (tap: everything left) and + per option; Done when all is divided."""

    answers = frozenset({Action.ALLOCATE_DONE})
    redraws = frozenset({Action.ALLOCATE_STEP})

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        q = step.question
        points = state if isinstance(state, tuple) else self.initial(step)
        packed = ".".join(str(p) for p in points)
        left = q.total - sum(points)
        lines.append("")
        rows: Rows = []
        for n, (choice, p) in enumerate(zip(step.choices, points, strict=True), start=1):
            lines.append(f"{n}. {html.escape(choice.label)}: <b>{p}</b>")
            rows.append(
                [
                    button("−", Action.ALLOCATE_STEP, packed, f"{n - 1}-"),
                    button(f"{n} · {p}", Action.ALLOCATE_STEP, packed, f"{n - 1}="),
                    button("+", Action.ALLOCATE_STEP, packed, f"{n - 1}+"),
                ]
            )
        lines.append("")
        lines.append(t("bot.allocate_hint", lang, total=q.total, left=left))
        if left == 0:
            rows.append([button(t("bot.done_button", lang), Action.ALLOCATE_DONE, packed)])
        return rows

    @staticmethod
    def initial(step: QuestionStep) -> tuple[int, ...]:
        current = step.current
        if isinstance(current, tuple) and len(current) == len(step.choices):
            return tuple(int(p) for p in current)
        return (0,) * len(step.choices)

    def answer(self, press: Press, question: Question) -> Answer:
        return parse_points(_arg(press), len(question.options), question.total)

    def redraw(self, press: Press, step: QuestionStep) -> object:
        q = step.question
        points = parse_points(_arg(press), len(step.choices), q.total)
        change = _arg(press, 1)
        return adjust_points(points, int(change[:-1]), change[-1], q.step, q.total)


def adjust_points(
    points: tuple[int, ...], option: int, op: str, step: int, total: int
) -> tuple[int, ...]:
    """Apply one +/−/= press: keep every value within 0..total and the sum within total."""
    values = list(points)
    if not 0 <= option < len(values):
        raise ValueError("no such option")
    left = total - sum(values)
    if op == "+":
        values[option] += min(step, max(left, 0))
    elif op == "-":
        values[option] = max(values[option] - step, 0)
    elif op == "=":  # tap on the value: give this option everything still left
        values[option] += max(left, 0)
    else:
        raise ValueError("no such operation")
    return tuple(values)


def parse_points(packed: str, count: int, total: int) -> tuple[int, ...]:
    values = tuple(int(p) for p in packed.split("."))
    if len(values) != count or any(v < 0 or v > total for v in values) or sum(values) > total:
        raise ValueError("bad points")
    return values


class TextWidget(Widget):
    """No buttons: the answer is typed as a message (`respondent.text_answer`)."""

    typed = True

    def draw(
        self, step: QuestionStep, lang: str, state: object, button: Button, lines: list[str]
    ) -> Rows:
        lines.append("")
        lines.append(f"<i>{t('bot.text_hint', lang, limit=step.question.max_length)}</i>")
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
