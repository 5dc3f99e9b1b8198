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
import re
import shlex
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ChatAction, ParseMode

from surveys.i18n import date, t
from trustscan.headcounts import Oversubscribed
from trustscan.operations import OperationError, Operations, WavePage, WaveStatus

from .context import TrustscanContext
from .jobs import announce_new_wave
from .language import user_lang
from .respondent import edit

# An `async def` handler: python-telegram-bot wants a coroutine function, not any awaitable.
Handler = Callable[[Update, TrustscanContext], Coroutine[Any, Any, None]]
ALBUM_LIMIT = 10  # photos Telegram accepts in one album
CHART_BROWSER_JOB = "close-chart-browser"
CHART_BROWSER_IDLE = 600  # seconds a warm chart browser waits for the next /report
WAVES_PER_PAGE = 5  # waves per /waves message: each takes a line per organisation
WAVES_PAGE_PATTERN = r"^V:\d{1,9}$"  # the ‹ › buttons of /waves: the first wave shown
FORCE_WORDS = frozenset({"force", "--force"})
DATE_LIKE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")  # a date, well written or not


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
    return t(error.key("refusals"), lang, **params)


async def refuse(update: Update, context: TrustscanContext, error: OperationError) -> None:
    """Tell the facilitator why an operation was refused, in one sentence."""
    await reply(update, refusal(error, user_lang(update, context)))


@facilitators_only
async def waves(update: Update, context: TrustscanContext) -> None:
    """/waves: the newest waves with response counts, paging back through all of them."""
    lang = user_lang(update, context)
    page = await context.operations.overview_page(actor(update), None, WAVES_PER_PAGE)
    if not page.statuses:
        await reply(update, t("facilitator.no_waves", lang))
        return
    text, keyboard = waves_page(context, page, lang)
    await reply(update, text, keyboard)


@facilitators_only
async def waves_paged(update: Update, context: TrustscanContext) -> None:
    """The ‹ › buttons of /waves: the same message shows another page."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    await query.answer()
    start = int(query.data[2:])
    page = await context.operations.overview_page(actor(update), start, WAVES_PER_PAGE)
    text, keyboard = waves_page(context, page, lang)
    await edit(query.message, text, keyboard)


def waves_page(
    context: TrustscanContext, page: WavePage, lang: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /waves, oldest first, with buttons to older and newer waves."""
    lines = []
    for status in page.statuses:
        lines.extend(wave_lines(context, status, lang))
    end = page.start + len(page.statuses)
    lines.append(t("waves.page", lang, first=page.start + 1, last=end, total=page.total))
    buttons = []
    if page.start > 0:
        older = max(0, page.start - WAVES_PER_PAGE)
        buttons.append(InlineKeyboardButton(t("waves.older", lang), callback_data=f"V:{older}"))
    if end < page.total:
        buttons.append(InlineKeyboardButton(t("waves.newer", lang), callback_data=f"V:{end}"))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


def wave_lines(context: TrustscanContext, status: WaveStatus, lang: str) -> list[str]:
    """A wave's heading line, its counts per organisation and its headcount warnings."""
    wave = status.wave
    closes = (
        t("facilitator.wave_closes", lang, date=date(wave.closes_on, lang))
        if wave.closes_on and wave.status != "closed"
        else ""
    )
    lines = [
        t(
            "facilitator.wave_line",
            lang,
            wave=wave.id,
            name=html.escape(wave.name),
            survey=wave.survey,
            status=t(f"facilitator.status_{wave.status}", lang),
        )
        + closes
    ]
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
    return lines


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
    label = html.escape(role.name(lang) if role else flag.role)
    headcount = flag.headcount
    return t("facilitator.oversubscribed_role", lang, org=name, role=label, headcount=headcount)


@facilitators_only
async def invite(update: Update, context: TrustscanContext) -> None:
    """/invite [org] [survey]: the group links per organisation, as text and as QR codes.

    Each link leads to one survey for its whole life: the one named, else each survey
    with a wave open or scheduled (a heading per survey when there are several).

    Restricted roles (council, administrators) are never offered on the organisation's
    link: their own role-fixing links are listed as text, to be handed only to those
    people (no QR code: a poster would let anyone claim the role).
    """
    lang = user_lang(update, context)
    args = context.args or []
    survey_id = next((a for a in args if a in context.services.registry), None)
    org_id = next((a for a in args if a != survey_id), None)
    try:
        links = await context.operations.links(actor(update), org_id, survey_id=survey_id)
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    lines, photos = [], []
    several = len({link.survey for link in links}) > 1
    for i, link in enumerate(links):
        if several and (i == 0 or links[i - 1].survey != link.survey):
            lines.append(f"\n<b>{html.escape(survey_title(context, link.survey, lang))}</b>")
        if link.role is None:
            caption = link.org.name + (f" · {link.survey}" if several else "")
            lines.append(f"<b>{html.escape(link.org.name)}</b>: {html.escape(link.url)}")
            photos.append(InputMediaPhoto(Operations.qr_code(link), caption=caption))
        else:
            lines.append(f"  {html.escape(link.role.name(lang))}: {html.escape(link.url)}")
    restricted = context.config.restricted_roles()
    if restricted:
        names = ", ".join(html.escape(r.name(lang)) for r in restricted)
        lines.append(t("facilitator.restricted_links", lang, roles=names))
    await reply(update, "\n".join(lines))
    assert update.effective_chat is not None
    for start in range(0, len(photos), 10):  # an album holds at most 10 photos
        chunk = photos[start : start + 10]
        if len(chunk) == 1:
            await update.effective_chat.send_photo(chunk[0].media, caption=chunk[0].caption)
        else:
            await update.effective_chat.send_media_group(chunk)


@dataclass(frozen=True, slots=True)
class OpenWaveArgs:
    """What /openwave was asked: survey, optional name and closing date, and `force`.

    `bad_date` holds a word that looks like a date but is none (31-03-2027, 2027-02-30).
    """

    survey: str
    name: str | None
    closes: str | None
    force: bool
    bad_date: str | None = None


def parse_open_wave(text: str) -> OpenWaveArgs | None:
    """`/openwave trust "Vertrouwensscan voorjaar 2027" 2027-03-31 [force]`; None if unusable.

    The name may be quoted or not: every word that is neither the date nor `force`
    belongs to it.
    """
    try:
        words = shlex.split(text)[1:]
    except ValueError:  # an unclosed quote
        return None
    if not words:
        return None
    survey, rest = words[0], words[1:]
    force = any(w.lower() in FORCE_WORDS for w in rest)
    rest = [w for w in rest if w.lower() not in FORCE_WORDS]
    dates = [w for w in rest if DATE_LIKE.fullmatch(w)]
    if len(dates) > 1:
        return None
    name = " ".join(w for w in rest if w not in dates) or None
    if not dates:
        return OpenWaveArgs(survey, name, None, force)
    try:
        closes = dt.date.fromisoformat(dates[0]).isoformat()
    except ValueError:
        return OpenWaveArgs(survey, name, None, force, bad_date=dates[0])
    return OpenWaveArgs(survey, name, closes, force)


def command_text(update: Update) -> str:
    assert update.effective_message is not None
    return update.effective_message.text or ""


@facilitators_only
async def open_wave(update: Update, context: TrustscanContext) -> None:
    """/openwave SURVEY ["NAME"] [YYYY-MM-DD] [force]: open a wave for every organisation."""
    registry = context.services.registry
    lang = user_lang(update, context)
    asked = parse_open_wave(command_text(update))
    if asked is None:
        await reply(update, t("waves.openwave_usage", lang, surveys=", ".join(registry)))
        return
    if asked.bad_date is not None:
        await reply(update, t("facilitator.bad_date", lang, text=html.escape(asked.bad_date)))
        return
    try:
        wave = await context.operations.open_wave(
            actor(update), asked.survey, name=asked.name, closes_on=asked.closes, force=asked.force
        )
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    closes = wave.closes_on
    until = t("facilitator.opened_until", lang, date=date(closes, lang)) if closes else ""
    opened = t("facilitator.opened", lang, wave=wave.id, name=html.escape(wave.name), until=until)
    plan = await context.operations.detectable_lines(wave.survey, lang)
    await reply(update, opened + "\n\n" + html.escape("\n".join(plan)))
    await announce_new_wave(context.application, wave)


@facilitators_only
async def rename_wave(update: Update, context: TrustscanContext) -> None:
    """/renamewave WAVE NAME: the name charts and reports show."""
    lang = user_lang(update, context)
    try:
        words = shlex.split(command_text(update))[1:]
    except ValueError:
        words = []
    if len(words) < 2 or not words[0].isdigit():
        await reply(update, t("waves.renamewave_usage", lang))
        return
    try:
        wave = await context.operations.rename_wave(
            actor(update), int(words[0]), " ".join(words[1:])
        )
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    context.services.forget_wave(wave.id)
    await reply(update, t("waves.renamed", lang, wave=wave.id, name=html.escape(wave.name)))


@facilitators_only
async def extend_wave(update: Update, context: TrustscanContext) -> None:
    """/extendwave WAVE YYYY-MM-DD: move the closing date (not before today, never reopen)."""
    lang = user_lang(update, context)
    args = context.args or []
    if len(args) != 2 or not args[0].isdigit():
        await reply(update, t("waves.extendwave_usage", lang))
        return
    try:
        closes = dt.date.fromisoformat(args[1]).isoformat()
    except ValueError:
        await reply(update, t("facilitator.bad_date", lang, text=html.escape(args[1])))
        return
    try:
        wave = await context.operations.extend_wave(actor(update), int(args[0]), closes)
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    context.services.forget_wave(wave.id)
    when = date(closes, lang)
    await reply(
        update, t("waves.extended", lang, wave=wave.id, name=html.escape(wave.name), date=when)
    )


@facilitators_only
async def close_wave(update: Update, context: TrustscanContext) -> None:
    """/closewave WAVE: show what closing freezes and who is below k, then ask."""
    lang = user_lang(update, context)
    args = context.args or []
    if not args or not args[0].isdigit():
        await reply(update, t("facilitator.closewave_usage", lang))
        return
    try:
        closing = await context.operations.closing(int(args[0]))
    except OperationError as exc:
        await refuse(update, context, exc)
        return
    wave = closing.wave
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
    done, busy = closing.completed, closing.in_progress
    lines = [t("facilitator.close_confirm", lang, wave=wave.id, name=name, done=done, busy=busy)]
    if closing.below_k:
        groups = ", ".join(
            f"{html.escape(org_name(context, c.org))} ({c.completed})" for c in closing.below_k
        )
        lines.append(t("waves.below_k", lang, k=closing.k, groups=groups))
    lines.append(t("waves.roles_below_k", lang, k=closing.k))
    await reply(update, "\n\n".join(lines), keyboard)


def survey_title(context: TrustscanContext, survey_id: str, lang: str) -> str:
    survey = context.services.registry.get(survey_id)
    return survey.title.get(survey.language_for(lang)) if survey else survey_id


def org_name(context: TrustscanContext, org_id: str) -> str:
    org = context.config.organisation(org_id)
    return org.name if org else org_id


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
    """/report [wave …]: the key charts as captioned photos, the HTML report and its PDF."""
    from analysis.png import ExportError
    from trustscan.reporting import album_of, pdf_of

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
    warming = asyncio.create_task(renderer.warm())  # Chromium starts while numbers are made
    tasks: list[asyncio.Task[Any]] = []
    reports = []
    try:
        # one Holm family for everything sent together: charts only after the adjustment
        reports = await ops.reports(actor(update), waves, lang)
        tasks.append(asyncio.create_task(album_of(reports, renderer, ALBUM_LIMIT)))
        page = await ops.page(reports, lang)
        day = context.services.clock.today()
        tasks.append(
            asyncio.create_task(pdf_of(reports, page, context.config, lang, renderer, day))
        )
    finally:
        rendered = await asyncio.gather(warming, *tasks, return_exceptions=True)
    for outcome in rendered:
        if isinstance(outcome, BaseException) and not isinstance(outcome, ExportError):
            raise outcome
    if not reports:  # only waves of surveys this configuration no longer has
        await reply(update, t("facilitator.nothing_to_report", lang))
        return
    # no browser here (ExportError): the HTML report still goes out, without photos or PDF
    photos = rendered[1] if isinstance(rendered[1], list) else []
    if len(photos) > 1:
        await chat.send_media_group([InputMediaPhoto(p.png, caption=p.caption) for p in photos])
    elif photos:
        await chat.send_photo(photos[0].png, caption=photos[0].caption)
    caption = f"{context.config.partnership}: " + ", ".join(
        r.survey.title.get(lang) for r in reports
    )
    await chat.send_document(
        page.encode("utf-8"), filename=t("facilitator.report_file", lang), caption=caption
    )
    if isinstance(rendered[2], bytes):
        await chat.send_document(rendered[2], filename=t("paper.pdf_file", lang), caption=caption)


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
