"""Render engine steps as Telegram messages: HTML text plus an inline keyboard.

Callback data is compact and prefixed, always carries the wave and the item position,
and stays within Telegram's 64 bytes:

    a:<wave>:<pos>:<value>          answer (likert point, nps number, choice value)
    k:<wave>:<pos>  s:…  b:…  n:…   don't know, skip, back, next (info)
    m:<wave>:<pos>:<mask>:<opt>     toggle a multi option (mask = chosen so far, hex)
    M:<wave>:<pos>:<mask>           multi done
    l:<wave>:<pos>:<p.p.p>:<opt><±> allocate: change one option by one step
    L:<wave>:<pos>:<p.p.p>          allocate done

The widget state of multi and allocate lives in the callback data itself, so a restart
never loses it and nothing half-made is stored.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from surveys.answers import DONT_KNOW, Answer
from surveys.engine import QuestionStep
from surveys.model import Question

from .texts import t

MAX_CALLBACK = 64
CHECK = "✓ "


@dataclass(frozen=True, slots=True)
class Press:
    """A decoded respondent button press."""

    action: str
    wave: int
    index: int
    args: tuple[str, ...] = ()


def encode(action: str, wave: int, index: int, *args: object) -> str:
    data = ":".join([action, str(wave), str(index), *(str(a) for a in args)])
    if len(data.encode()) > MAX_CALLBACK:
        raise ValueError(f"callback data too long ({len(data)} bytes): {data}")
    return data


def decode(data: str) -> Press | None:
    """Parse callback data; None for anything malformed (forged or from an old version)."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] not in "akmnbsMlL" or len(parts[0]) != 1:
        return None
    try:
        return Press(parts[0], int(parts[1]), int(parts[2]), tuple(parts[3:]))
    except ValueError:
        return None


def mask_of(chosen: tuple[str, ...], step: QuestionStep) -> int:
    values = [c.value for c in step.choices]
    return sum(1 << values.index(v) for v in chosen if v in values)


def initial_points(step: QuestionStep) -> tuple[int, ...]:
    current = step.current
    if isinstance(current, tuple) and len(current) == len(step.choices):
        return tuple(int(p) for p in current)  # type: ignore[arg-type]
    return (0,) * len(step.choices)


@functools.lru_cache(maxsize=4096)
def render_step(
    step: QuestionStep, wave: int, lang: str, *, widget: object = None, hint: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """Text and keyboard for a step; `widget` is the multi mask or allocate points.

    Memoised: every respondent of a group meets the same steps, steps are hashable and
    Telegram objects immutable, so the rendering is shared instead of rebuilt per update.
    """
    q = step.question
    lines: list[str] = []
    if step.section_title:
        lines.append(f"<b>{html.escape(step.section_title)}</b>")
        if step.section_intro:
            lines.append(html.escape(step.section_intro))
        lines.append("")
    if q.answerable:
        lines.append(f"<i>{t('progress', lang, pos=step.position, total=step.total)}</i>")
    lines.append(html.escape(step.text))
    rows: list[list[InlineKeyboardButton]] = []
    pos = step.index

    def button(label: str, action: str, *args: object) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=encode(action, wave, pos, *args))

    current = step.current
    match q.type:
        case "likert" | "choice":
            for n, choice in enumerate(step.choices, start=1):
                value = str(n) if q.type == "likert" else choice.value
                selected = current == (n if q.type == "likert" else choice.value)
                rows.append([button((CHECK if selected else "") + choice.label, "a", value)])
        case "nps":
            if q.anchors:
                scale = t(
                    "nps_scale", lang, low=q.anchors[0].get(lang), high=q.anchors[1].get(lang)
                )
                lines.append(f"<i>{html.escape(scale)}</i>")
            numbers = [button((CHECK if current == i else "") + str(i), "a", i) for i in range(11)]
            rows.extend([numbers[:6], numbers[6:]])
        case "multi":
            mask = (
                widget
                if isinstance(widget, int)
                else mask_of(current if isinstance(current, tuple) else (), step)
            )  # type: ignore[arg-type]
            lines.append(f"<i>{t('multi_hint', lang, low=q.min_choices, high=q.max_choices)}</i>")
            for i, choice in enumerate(step.choices):
                mark = "☑ " if mask >> i & 1 else "☐ "
                rows.append([button(mark + choice.label, "m", format(mask, "x"), i)])
            count = bin(mask).count("1")
            if q.min_choices <= count <= q.max_choices:
                rows.append([button(t("done_button", lang), "M", format(mask, "x"))])
        case "allocate":
            points = widget if isinstance(widget, tuple) else initial_points(step)
            packed = ".".join(str(p) for p in points)
            left = q.total - sum(points)
            lines.append("")
            for n, (choice, p) in enumerate(zip(step.choices, points, strict=True), start=1):
                lines.append(f"{n}. {html.escape(choice.label)}: <b>{p}</b>")
                rows.append(
                    [
                        button("−", "l", packed, f"{n - 1}-"),
                        button(f"{n} · {p}", "l", packed, f"{n - 1}="),
                        button("+", "l", packed, f"{n - 1}+"),
                    ]
                )
            lines.append("")
            lines.append(t("allocate_hint", lang, total=q.total, left=left))
            if left == 0:
                rows.append([button(t("done_button", lang), "L", packed)])
        case "text":
            lines.append("")
            lines.append(f"<i>{t('text_hint', lang, limit=q.max_length)}</i>")
            if isinstance(current, str):
                lines.append(f"{CHECK}<i>{html.escape(current)}</i>")
        case "info":
            rows.append([button(t("next", lang), "n")])
    nav: list[InlineKeyboardButton] = []
    if step.can_back:
        nav.append(button(t("back", lang), "b"))
    if step.can_skip:
        nav.append(button(t("skip", lang), "s"))
    if step.can_dont_know:
        label = t("dont_know", lang)
        nav.append(button((CHECK if current is DONT_KNOW else "") + label, "k"))
    if nav:
        rows.append(nav)
    if hint:
        lines.append("")
        lines.append(f"⚠️ {html.escape(hint)}")
    return "\n".join(lines), InlineKeyboardMarkup(rows)


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


def answer_value(press: Press, question: Question) -> Answer:
    """The engine answer encoded by an `a:` press (likert/nps as int, choice as value)."""
    raw = press.args[0] if press.args else ""
    if question.type in ("likert", "nps"):
        return int(raw)
    return raw
