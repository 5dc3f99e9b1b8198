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
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ChatAction, ParseMode

from trustscan.headcounts import Oversubscribed
from trustscan.operations import OperationError, Operations

from .context import TrustscanContext
from .jobs import announce_new_wave
from .respondent import edit, user_lang
from .texts import t

Handler = Callable[[Update, TrustscanContext], Awaitable[None]]
NO_WAVES = "Er is nog geen meting om over te rapporteren (zie /openwave)."
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
                await update.callback_query.answer(t("not_allowed", user_lang(update, context)))
            elif update.effective_message:
                await update.effective_message.reply_text(
                    t("not_allowed", user_lang(update, context))
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


# What each refusal of `trustscan.operations` says in the chat.
REFUSALS = {
    "unknown_survey": "Onbekende vragenlijst <b>{survey}</b>. Kies uit: {available}",
    "unknown_org": "Onbekende organisatie. Kies uit: {known}",
    "unknown_role": "Onbekende rol. Kies uit: {known}",
    "unknown_wave": "Er is geen meting #{wave} (zie /waves).",
    "wave_closed": "Meting #{wave} is al gesloten.",
    "wave_not_open": "Meting #{wave} is niet open.",
    "invalid": "{reason}",
}


async def refuse(update: Update, error: OperationError) -> None:
    """Tell the facilitator why an operation was refused, in one sentence."""
    params = {k: html.escape(str(v)) for k, v in error.params.items()}
    await reply(update, REFUSALS[error.code].format(**params))


@facilitators_only
async def waves(update: Update, context: TrustscanContext) -> None:
    """/waves: the last waves with response counts per organisation."""
    statuses = await context.operations.overview(actor(update), last=8)
    if not statuses:
        await reply(update, "Nog geen metingen. Open er een met /openwave trust")
        return
    lines = []
    for status in statuses:
        wave = status.wave
        dates = f", sluit {wave.closes_on}" if wave.closes_on and wave.is_open else ""
        lines.append(
            f"<b>#{wave.id} {html.escape(wave.name)}</b> [{wave.survey}] {wave.status}{dates}"
        )
        for count in status.counts:
            org = context.config.organisation(count.org)
            name = org.name if org else count.org
            rate = (
                f" ({100 * count.completed / org.headcount:.0f}%)" if org and org.headcount else ""
            )
            lines.append(
                f"  {html.escape(name)}: {count.completed} klaar{rate}, {count.in_progress} bezig"
            )
        lines.extend(oversubscribed_line(context, f) for f in status.flags)
    await reply(update, "\n".join(lines))


def oversubscribed_line(context: TrustscanContext, flag: Oversubscribed) -> str:
    """A warning that a group has more completed responses than people.

    A role's own count is never shown (counts within an organisation could give away a
    small group by subtraction), only that it exceeds the configured headcount.
    """
    org = context.config.organisation(flag.org)
    name = html.escape(org.name if org else flag.org)
    if flag.role is None:
        return (
            f"  ⚠️ {name}: {flag.completed} klaar, meer dan de {flag.headcount} mensen van de "
            "organisatie. Is de link buiten de organisatie gedeeld?"
        )
    role = context.config.role(flag.role)
    label = html.escape(role.label.nl if role else flag.role)
    return (
        f"  ⚠️ {name} / {label}: meer antwoorden dan de {flag.headcount} mensen in deze rol. "
        "Is de link buiten de groep gedeeld?"
    )


@facilitators_only
async def invite(update: Update, context: TrustscanContext) -> None:
    """/invite [org]: the group links per organisation, as text and as QR codes.

    Restricted roles (council, administrators) are never offered on the organisation's
    link: their own role-fixing links are listed as text, to be handed only to those
    people (no QR code: a poster would let anyone claim the role).
    """
    org_id = context.args[0] if context.args else None
    try:
        links = await context.operations.links(actor(update), org_id)
    except OperationError as exc:
        await refuse(update, exc)
        return
    lines, photos = [], []
    for link in links:
        if link.role is None:
            lines.append(f"<b>{html.escape(link.org.name)}</b>: {html.escape(link.url)}")
            photos.append(InputMediaPhoto(Operations.qr_code(link), caption=link.org.name))
        else:
            lines.append(f"  {html.escape(link.role.label.nl)}: {html.escape(link.url)}")
    restricted = context.config.restricted_roles()
    if restricted:
        names = ", ".join(html.escape(r.label.nl) for r in restricted)
        lines.append(
            f"\nEen eigen link per organisatie (niet te kiezen op de gewone link): {names}. "
            "Geef die links alleen aan die mensen zelf, niet op een poster."
        )
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
    args = context.args or []
    if not args:
        await reply(
            update,
            "Gebruik: /openwave SURVEY [sluitdatum JJJJ-MM-DD]\nSurveys: " + ", ".join(registry),
        )
        return
    closes = None
    if len(args) > 1:
        try:
            closes = dt.date.fromisoformat(args[1]).isoformat()
        except ValueError:
            await reply(update, f"{html.escape(args[1])} is geen datum zoals 2027-03-31.")
            return
    try:
        wave = await context.operations.open_wave(actor(update), args[0], closes_on=closes)
    except OperationError as exc:
        await refuse(update, exc)
        return
    await reply(
        update,
        f"Meting #{wave.id} <b>{html.escape(wave.name)}</b> is geopend"
        + (f" tot {closes}" if closes else "")
        + ". Links: /invite",
    )
    await announce_new_wave(context.application, wave)


@facilitators_only
async def close_wave(update: Update, context: TrustscanContext) -> None:
    """/closewave WAVE: ask for confirmation before closing."""
    args = context.args or []
    if not args or not args[0].isdigit():
        await reply(update, "Gebruik: /closewave NUMMER (zie /waves)")
        return
    try:
        wave, counts = await context.operations.open_wave_to_close(int(args[0]))
    except OperationError as exc:
        await refuse(update, exc)
        return
    done = sum(c.completed for c in counts)
    busy = sum(c.in_progress for c in counts)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja, sluiten", callback_data=f"W:{wave.id}"),
                InlineKeyboardButton("Annuleren", callback_data="Z"),
            ]
        ]
    )
    await reply(
        update,
        f"Meting #{wave.id} <b>{html.escape(wave.name)}</b> sluiten? {done} "
        f"ingevuld; {busy} onvoltooide antwoorden vervallen. Daarna is niemand meer "
        "aan zijn antwoorden te koppelen.",
        keyboard,
    )


@facilitators_only
async def close_wave_confirmed(update: Update, context: TrustscanContext) -> None:
    """Confirmation button of /closewave."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if query.data == "Z":
        await edit(query.message, "Geannuleerd.")
        return
    wave_id = int(query.data[2:])
    try:
        closed = await context.operations.close_wave(actor(update), wave_id)
    except OperationError as exc:
        params = {k: html.escape(str(v)) for k, v in exc.params.items()}
        await edit(query.message, REFUSALS[exc.code].format(**params))
        return
    context.services.forget_wave(wave_id)
    await edit(
        query.message,
        f"Meting #{closed.wave.id} <b>{html.escape(closed.wave.name)}</b> is gesloten.",
    )


@facilitators_only
async def report(update: Update, context: TrustscanContext) -> None:
    """/report [wave …]: the key charts as photos and the full HTML report as a document."""
    from analysis.png import ExportError

    args = context.args or []
    if not all(a.isdigit() for a in args):
        await reply(update, "Gebruik: /report [NUMMER …] (zie /waves)")
        return
    waves = [int(a) for a in args]
    ops = context.operations
    try:
        for wave in waves:
            await ops.wave(wave)
    except OperationError as exc:
        await refuse(update, exc)
        return
    if not waves and not await context.store.waves():
        await reply(update, NO_WAVES)
        return
    assert update.effective_chat is not None
    chat = update.effective_chat
    await chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
    lang = user_lang(update, context)
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
        await reply(update, NO_WAVES)
        return
    # no browser here (ExportError): the HTML report still goes out
    pngs = [png for outcome in rendered[1:] if isinstance(outcome, list) for png in outcome]
    if len(pngs) > 1:
        await chat.send_media_group([InputMediaPhoto(png) for png in pngs])
    elif pngs:
        await chat.send_photo(pngs[0])
    await chat.send_document(
        page.encode("utf-8"),
        filename="trustscan-rapport.html",
        caption=f"{context.config.partnership}: "
        + ", ".join(r.survey.title.get(lang) for r in reports),
    )


def _close_chart_browser_later(context: TrustscanContext) -> None:
    """Keep the chart browser (hundreds of MB) only while facilitators are reporting."""
    if context.job_queue is None:
        return
    for job in context.job_queue.get_jobs_by_name(CHART_BROWSER_JOB):
        job.schedule_removal()
    context.job_queue.run_once(_close_chart_browser, CHART_BROWSER_IDLE, name=CHART_BROWSER_JOB)


async def _close_chart_browser(context: TrustscanContext) -> None:
    await context.services.png_renderer().close()
