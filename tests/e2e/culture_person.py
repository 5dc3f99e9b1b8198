"""A person taking the culture scan through the real bot: realistic points, counted taps.

Shared by the end-to-end tests (`test_allocate_taps.py`) and `benchmarks/taps_bench.py`.
The person decides what to answer first (a profile "now", and "preferred" as a shift of
it, as people do), then reaches it the way someone who has seen the widget once would:
amounts for each option in turn and Rest for the last, or their earlier answer copied
and nudged with −/+ when that is fewer taps. Every tap goes through the fake Bot API.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from bot.widgets import amounts
from surveys.engine import Questionnaire
from surveys.model import Question

from .fake_telegram import FakeTelegram, FakeUser

# how people tend to divide 100 points over four culture types (in their own order)
PROFILES = (
    (40, 30, 20, 10),
    (35, 30, 20, 15),
    (50, 25, 15, 10),
    (30, 30, 20, 20),
    (25, 25, 25, 25),
    (45, 25, 20, 10),
    (60, 20, 10, 10),
    (40, 40, 10, 10),
    (30, 25, 25, 20),
    (50, 30, 20, 0),
)


class CountingUser(FakeUser):
    """A FakeUser that counts its taps (every button press) and typed messages."""

    def __init__(self, server: FakeTelegram, user_id: int, language_code: str = "nl") -> None:
        super().__init__(server, user_id, language_code)
        self.taps = 0
        self.typed = 0

    async def press(self, data: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.taps += 1
        return await super().press(data, *args, **kwargs)

    async def send(self, text: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if not text.startswith("/"):
            self.typed += 1
        return await super().send(text, *args, **kwargs)


def culture_answers(rng: random.Random, questions: list[Question]) -> dict[str, tuple[int, ...]]:
    """What one person gives: a profile per "now" question, a shifted one for "preferred".

    The person leans to one ordering of the types; each aspect varies it a little. The
    preferred profile moves 10 points (sometimes 10 and 5 more) between two types.
    """
    order = list(range(4))
    rng.shuffle(order)
    given: dict[str, tuple[int, ...]] = {}
    for question in questions:
        if question.id.startswith("now_"):
            profile = rng.choice(PROFILES)
            if rng.random() < 0.3:  # this aspect in a different order
                rng.shuffle(order)
            points = [0] * 4
            for rank, option in enumerate(order):
                points[option] = profile[rank]
            given[question.id] = tuple(points)
        else:
            points = list(given["now_" + question.id.removeprefix("pref_")])
            for move in (10, 5) if rng.random() < 0.5 else (10,):
                source = max(range(4), key=lambda i: (points[i], rng.random()))
                target = rng.choice([i for i in range(4) if i != source])
                points[source] -= move
                points[target] += move
            given[question.id] = tuple(points)
    return given


@dataclass
class Plan:
    """The button operations (the end of each button's data) that reach one answer."""

    ops: list[str] = field(default_factory=list)


def _nudges(option: int, change: int, step: int) -> list[str]:
    """−/+ presses on one option: two steps at a time, then one."""
    sign = "+" if change > 0 else "-"
    size = abs(change)
    return [f"{option}{sign * 2}"] * (size // (2 * step)) + [f"{option}{sign}"] * (
        size % (2 * step) // step
    )


def from_scratch(question: Question, wanted: tuple[int, ...]) -> list[str]:
    """Amounts option by option (nudged where no amount fits), Rest on the last one."""
    pad = amounts(question)
    last = max(i for i, p in enumerate(wanted) if p > 0)
    ops: list[str] = []
    for option, points in enumerate(wanted[:last]):
        base = max(a for a in pad if a <= points)
        ops.append(f"*{base}")
        ops.extend(_nudges(option, points - base, question.params.step))
    return [*ops, "*r", "done"]


def from_copy(question: Question, wanted: tuple[int, ...], earlier: tuple[int, ...]) -> list[str]:
    """The earlier answer copied, then −/+ (taking away first, so there is room to add)."""
    diffs = [w - e for w, e in zip(wanted, earlier, strict=True)]
    minus = [op for i, d in enumerate(diffs) if d < 0 for op in _nudges(i, d, question.params.step)]
    plus = [op for i, d in enumerate(diffs) if d > 0 for op in _nudges(i, d, question.params.step)]
    return ["~", *minus, *plus, "done"]


def plan(question: Question, wanted: tuple[int, ...], earlier: tuple[int, ...] | None) -> Plan:
    """The fewer-taps way of the two a person would see."""
    ways = [from_scratch(question, wanted)]
    if earlier is not None:
        ways.append(from_copy(question, wanted, earlier))
    return Plan(min(ways, key=len))


def old_widget_taps(question: Question, wanted: tuple[int, ...]) -> int:
    """Taps the widget before this change needed for `wanted`: + per step, value = rest."""
    last = max(i for i, p in enumerate(wanted) if p > 0)
    return sum(p // question.params.step for p in wanted[:last]) + 2  # + the rest tap and Done


async def tap_op(user: FakeUser, op: str) -> None:
    """Press the button of one planned operation on the newest message."""
    if op == "done":
        await user.press(user.button(lambda _, d: d.startswith("L:")))
    else:
        await user.press(user.button(lambda _, d: d.startswith("l:") and d.endswith(f":{op}")))


def position_of(user: FakeUser) -> int:
    """The item position the newest message's buttons are for."""
    data = next(d for _, d in user.buttons() if d[:2] in ("l:", "n:", "a:"))
    return int(data.split(":")[2])


async def take_culture_scan(
    user: CountingUser,
    q: Questionnaire,
    given: dict[str, tuple[int, ...]],
    *,
    typed: bool = False,
) -> None:
    """From the first question to the thank-you: buttons (planned) or typed points."""
    for _ in range(40):
        buttons = [d for _, d in user.buttons()]
        if not any(d[:2] in ("l:", "n:") for d in buttons):
            return  # the thank-you
        position = position_of(user)
        question = q.items[position].question
        if question.type != "allocate":
            await user.press(next(d for d in buttons if d.startswith("n:")))
            continue
        wanted = given[question.id]
        if typed:
            await user.send(" ".join(str(p) for p in wanted[:-1]))  # the last one implied
            continue
        earlier = given.get("now_" + question.id.removeprefix("pref_"))
        for op in plan(question, wanted, None if earlier is wanted else earlier).ops:
            await tap_op(user, op)
    raise AssertionError("the culture scan did not end")
