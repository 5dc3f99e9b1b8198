"""Facilitator commands: waves, invitations, opening and closing. Every use is audited.

Only Telegram ids listed in `[telegram] facilitators` may use them; anyone else gets a
polite refusal and an audit entry that records the attempt but not who made it (a
respondent's id must never reach the database).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ChatAction, ParseMode

from surveys.i18n import date, t
from trustscan.headcounts import Oversubscribed
from trustscan.operations import OperationError, Operations

from .context import TrustscanContext
from .jobs import announce_new_wave
from .respondent import edit, user_lang

# An `async def` handler: python-telegram-bot wants a coroutine function, not any awaitable.
Handler = Callable[[Update, TrustscanContext], Coroutine[Any, Any, None]]
ALBUM_LIMIT = 10  # photos Telegram accepts in one album
CHART_BROWSER_JOB = "close-chart-browser"
CHART_BROWSER_IDLE = 600  # seconds a warm chart browser waits for the next /report


def facilitators_only(handler: Handler) -> Handler:
    """Let facilitators through; refuse and audit everyone else."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: TrustscanContext) -> None:
        user = update.effective_user
        action = handler.__name__
        if user is None or user.id not in context.config.telegram.facilitators:
            await context.store.audit("non-facilitator", f"refused:{action}")
            if update.callback_query:
                await update.callback_query.answer(t("bot.not_allowed", user_lang(update, context)))
            elif update.effective_message:
                await update.effective_message.reply_text(
                    t("bot.not_allowed", user_lang(update, context))
                )
            return
        await handler(update, context)

    return guarded


def actor(update: Update) -> str:
    assert update.effective_user is not None
    return f"facilitator:{update.effective_user.id}"


async def reply(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


def refusal(error: OperationError, lang: str) -> str:
    """Why an operation of `trustscan.operations` was refused: `refusals.<code>`."""
    params = {k: html.escape(str(v)) for k, v in error.params.items()}
    return t(f"refusals.{error.code}", lang, **params)


async def refuse(update: Update, context: TrustscanContext, error: OperationError) -> None:
    """Tell the facilitator why an operation was refused, in one sentence."""
    await reply(update, refusal(error, user_lang(update, context)))


@facilitators_only
async def waves(update: Update, context: TrustscanContext) -> None:
    """/waves: the last waves with response counts per organisation."""
    lang = user_lang(update, context)
    statuses = await context.operations.overview(actor(update), last=8)
    if not statuses:
        await reply(update, t("facilitator.no_waves", lang))
        return
    lines = []
    for status in statuses:
        wave = status.wave
        closes = (
            t("facilitator.wave_closes", lang, date=date(wave.closes_on, lang))
            if wave.closes_on and wave.is_open
            else ""
        )
        lines.append(
            t(
                "facilitator.wave_line",
                lang,
                wave=wave.id,
                name=html.escape(wave.name),
                survey=wave.survey,
                status=t(f"facilitator.status_{wave.status}", lang),
            )
            + closes
        )
        for count in status.counts:
            org = context.config.organisation(count.org)
            rate = (
                t("facilitator.rate", lang, percent=100 * count.completed / org.headcount)
                if org and org.headcount
                else ""
            )
            lines.append(
                t(
                    "facilitator.count_line",
                    lang,
                    org=html.escape(org.name if org else count.org),
                    completed=count.completed,
                    rate=rate,
                    in_progress=count.in_progress,
                )
            )
        lines.extend(oversubscribed_line(context, f, lang) for f in status.flags)
    await reply(update, "\n".join(lines))


def oversubscribed_line(context: TrustscanContext, flag: Oversubscribed, lang: str) -> str:
    """A warning that a group has more completed responses than people.

    A role's own count is never shown (counts within an organisation could give away a
    small group by subtraction), only that it exceeds the configured headcount.
    """
    org = context.config.organisation(flag.org)
    name = html.escape(org.name if org else flag.org)
    if flag.role is None:
        return t(
            "facilitator.oversubscribed_org",
            lang,
            org=name,
            completed=flag.completed,
            headcount=flag.headcount,
        )
    role = context.config.role(flag.role)
    label = html.escape(role.label.get(lang) if role else flag.role)
    headcount = flag.headcount
    return t("facilitator.oversubscribed_role", lang, org=name, role=label, headcount=headcount)


@facilitators_only
async def invite(update: Update, context: TrustscanContext) -> None:
    """/invite [org]: the group links per organisation, as text and as QR codes.

    Restricted roles (council, administrators) are never offered on the organisation's
    link: their own role-fixing links are listed as text, to be handed only to those
    people (no QR code: a poster would let anyone claim the role).
    """
    lang = user_lang(update, context)
    org_id = context.args[0] if context.args else None
    try:
        links = await context.operations.links(actor(update), org_id)
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    lines, photos = [], []
    for link in links:
        if link.role is None:
            lines.append(f"<b>{html.escape(link.org.name)}</b>: {html.escape(link.url)}")
            photos.append(InputMediaPhoto(Operations.qr_code(link), caption=link.org.name))
        else:
            lines.append(f"  {html.escape(link.role.label.get(lang))}: {html.escape(link.url)}")
    restricted = context.config.restricted_roles()
    if restricted:
        names = ", ".join(html.escape(r.label.get(lang)) for r in restricted)
        lines.append(t("facilitator.restricted_links", lang, roles=names))
    await reply(update, "\n".join(lines))
    assert update.effective_chat is not None
    for start in range(0, len(photos), 10):  # an album holds at most 10 photos
        chunk = photos[start : start + 10]
        if len(chunk) == 1:
            await update.effective_chat.send_photo(chunk[0].media, caption=chunk[0].caption)
        else:
            await update.effective_chat.send_media_group(chunk)


@facilitators_only
async def open_wave(update: Update, context: TrustscanContext) -> None:
    """/openwave SURVEY [YYYY-MM-DD]: open a wave for every organisation."""
    registry = context.services.registry
    lang = user_lang(update, context)
    args = context.args or []
    if not args:
        await reply(update, t("facilitator.openwave_usage", lang, surveys=", ".join(registry)))
        return
    closes = None
    if len(args) > 1:
        try:
            closes = dt.date.fromisoformat(args[1]).isoformat()
        except ValueError:
            await reply(update, t("facilitator.bad_date", lang, text=html.escape(args[1])))
            return
    try:
        wave = await context.operations.open_wave(actor(update), args[0], closes_on=closes)
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    until = t("facilitator.opened_until", lang, date=date(closes, lang)) if closes else ""
    await reply(
        update,
        t("facilitator.opened", lang, wave=wave.id, name=html.escape(wave.name), until=until),
    )
    await announce_new_wave(context.application, wave)


@facilitators_only
async def close_wave(update: Update, context: TrustscanContext) -> None:
    """/closewave WAVE: ask for confirmation before closing."""
    lang = user_lang(update, context)
    args = context.args or []
    if not args or not args[0].isdigit():
        await reply(update, t("facilitator.closewave_usage", lang))
        return
    try:
        wave, counts = await context.operations.open_wave_to_close(int(args[0]))
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    done = sum(c.completed for c in counts)
    busy = sum(c.in_progress for c in counts)
    yes = t("facilitator.close_yes", lang)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=f"W:{wave.id}"),
                InlineKeyboardButton(t("bot.cancel", lang), callback_data="Z"),
            ]
        ]
    )
    name = html.escape(wave.name)
    text = t("facilitator.close_confirm", lang, wave=wave.id, name=name, done=done, busy=busy)
    await reply(update, text, keyboard)


@facilitators_only
async def close_wave_confirmed(update: Update, context: TrustscanContext) -> None:
    """Confirmation button of /closewave."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    await query.answer()
    if query.data == "Z":
        await edit(query.message, t("bot.cancelled", lang))
        return
    wave_id = int(query.data[2:])
    try:
        closed = await context.operations.close_wave(actor(update), wave_id)
    except OperationError as exc:
        await edit(query.message, refusal(exc, lang))
        return
    context.services.forget_wave(wave_id)
    name = html.escape(closed.wave.name)
    await edit(query.message, t("facilitator.closed", lang, wave=closed.wave.id, name=name))


@facilitators_only
async def report(update: Update, context: TrustscanContext) -> None:
    """/report [wave …]: the key charts as photos and the full HTML report as a document."""
    from analysis.png import ExportError

    lang = user_lang(update, context)
    args = context.args or []
    if not all(a.isdigit() for a in args):
        await reply(update, t("facilitator.report_usage", lang))
        return
    waves = [int(a) for a in args]
    ops = context.operations
    try:
        for wave in waves:
            await ops.wave(wave)
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    if not waves and not await context.store.waves():
        await reply(update, t("facilitator.nothing_to_report", lang))
        return
    assert update.effective_chat is not None
    chat = update.effective_chat
    await chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
    _close_chart_browser_later(context)
    renderer = context.services.png_renderer()
    warming = asyncio.create_task(renderer.open())  # Chromium starts while numbers are made
    rendering: list[asyncio.Task[list[bytes]]] = []
    reports = []
    try:
        # one Holm family for everything sent together: charts only after the adjustment
        reports = await ops.reports(actor(update), waves, lang)
        queued = 0
        for one in reports:
            figures = one.key_figures()[: ALBUM_LIMIT - queued]
            queued += len(figures)
            rendering.append(asyncio.create_task(renderer.render(figures)))
        page = await ops.page(reports, lang)
    finally:
        rendered = await asyncio.gather(warming, *rendering, return_exceptions=True)
    for outcome in rendered:
        if isinstance(outcome, BaseException) and not isinstance(outcome, ExportError):
            raise outcome
    if not reports:  # only waves of surveys this configuration no longer has
        await reply(update, t("facilitator.nothing_to_report", lang))
        return
    # no browser here (ExportError): the HTML report still goes out
    pngs = [png for outcome in rendered[1:] if isinstance(outcome, list) for png in outcome]
    if len(pngs) > 1:
        await chat.send_media_group([InputMediaPhoto(png) for png in pngs])
    elif pngs:
        await chat.send_photo(pngs[0])
    await chat.send_document(
        page.encode("utf-8"),
        filename=t("facilitator.report_file", lang),
        caption=f"{context.config.partnership}: "
        + ", ".join(r.survey.title.get(lang) for r in reports),
    )


def _close_chart_browser_later(context: TrustscanContext) -> None:
    """Keep the chart browser (hundreds of MB) only while facilitators are reporting."""
    queue = context.jobs
    if queue is None:
        return
    for job in queue.get_jobs_by_name(CHART_BROWSER_JOB):
        job.schedule_removal()
    queue.run_once(_close_chart_browser, CHART_BROWSER_IDLE, name=CHART_BROWSER_JOB)


async def _close_chart_browser(context: TrustscanContext) -> None:
    await context.services.png_renderer().close()
