"""Render engine steps as Telegram messages: HTML text plus an inline keyboard.

The frame of every question (section title, progress, the question, Back/Skip/Don't
know, a hint) is drawn here; what is particular to a question type is its widget in
`widgets.WIDGETS`. The callback data of the buttons is `callbacks`' alphabet.
"""

from __future__ import annotations

import functools
import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from surveys.answers import DONT_KNOW
from surveys.engine import QuestionStep
from surveys.i18n import t

from .callbacks import Action, encode, sign
from .widgets import CHECK, WIDGETS


@functools.lru_cache(maxsize=4096)
def render_step(
    step: QuestionStep, wave: int, lang: str, *, widget: object = None, hint: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """Text and keyboard for a step; `widget` is the widget's on-screen state, if any.

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
        lines.append(f"<i>{t('bot.progress', lang, pos=step.position, total=step.total)}</i>")
    lines.append(html.escape(step.text))
    pos = step.index

    def button(label: str, action: Action, *args: object) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=encode(action, wave, pos, *args))

    current = step.current
    rows = WIDGETS[q.type].draw(step, lang, widget, button, lines)
    nav: list[InlineKeyboardButton] = []
    if step.can_back:
        nav.append(button(t("bot.back", lang), Action.BACK))
    if step.can_skip:
        nav.append(button(t("bot.skip", lang), Action.SKIP))
    if step.can_dont_know:
        label = t("bot.dont_know", lang)
        nav.append(button((CHECK if current is DONT_KNOW else "") + label, Action.DONT_KNOW))
    if nav:
        rows.append(nav)
    if hint:
        lines.append("")
        lines.append(f"⚠️ {html.escape(hint)}")
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def screen(
    step: QuestionStep,
    wave: int,
    lang: str,
    secret: bytes,
    *,
    widget: object = None,
    hint: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """`render_step` with every button carrying the person's session secret (`sign`):
    the rendering is shared, the secret is theirs alone."""
    text, keyboard = render_step(step, wave, lang, widget=widget, hint=hint)
    return text, sign(keyboard, secret)
