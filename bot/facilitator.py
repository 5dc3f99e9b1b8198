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
import importlib
import io
from collections.abc import Awaitable, Callable

import qrcode
from qrcode.image.pure import PyPNGImage
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ChatAction, ParseMode

from surveys.errors import StoreError, UnknownWaveError, UnlinkPendingError

from .context import TrustscanContext
from .headcounts import Oversubscribed, oversubscribed_groups
from .invites import deep_link
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


@facilitators_only
async def waves(update: Update, context: TrustscanContext) -> None:
    """/waves: open and recent waves with response counts per organisation."""
    store = context.store
    all_waves = await store.waves()
    await store.audit(actor(update), "waves")
    if not all_waves:
        await reply(update, "Nog geen metingen. Open er een met /openwave trust")
        return
    lines = []
    shown = all_waves[-8:]
    flags = await oversubscribed_groups(store, context.config.organisations, shown)
    for wave in shown:
        dates = f", sluit {wave.closes_on}" if wave.closes_on and wave.is_open else ""
        lines.append(
            f"<b>#{wave.id} {html.escape(wave.name)}</b> [{wave.survey}] {wave.status}{dates}"
        )
        for count in await store.response_counts(wave.id):
            org = context.config.organisation(count.org)
            name = org.name if org else count.org
            rate = (
                f" ({100 * count.completed / org.headcount:.0f}%)" if org and org.headcount else ""
            )
            lines.append(
                f"  {html.escape(name)}: {count.completed} klaar{rate}, {count.in_progress} bezig"
            )
        lines.extend(oversubscribed_line(context, f) for f in flags if f.wave == wave.id)
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
    config = context.config
    orgs = config.organisations
    if context.args:
        orgs = tuple(o for o in orgs if o.id == context.args[0])
        if not orgs:
            known = ", ".join(o.id for o in config.organisations)
            await reply(update, f"Onbekende organisatie. Kies uit: {html.escape(known)}")
            return
    lines, photos = [], []
    restricted = config.restricted_roles()
    for org in orgs:
        invitation = await context.store.ensure_invitation(org.id)
        link = deep_link(config.telegram.bot_username, invitation.token)
        lines.append(f"<b>{html.escape(org.name)}</b>: {html.escape(link)}")
        for role in restricted:
            own = await context.store.ensure_invitation(org.id, role.id)
            own_link = deep_link(config.telegram.bot_username, own.token)
            lines.append(f"  {html.escape(role.label.nl)}: {html.escape(own_link)}")
        png = io.BytesIO()
        qrcode.make(link, image_factory=PyPNGImage, box_size=8, border=4).save(png)
        photos.append(InputMediaPhoto(png.getvalue(), caption=org.name))
    if restricted:
        names = ", ".join(html.escape(r.label.nl) for r in restricted)
        lines.append(
            f"\nEen eigen link per organisatie (niet te kiezen op de gewone link): {names}. "
            "Geef die links alleen aan die mensen zelf, niet op een poster."
        )
    await context.store.audit(actor(update), "invite", ",".join(o.id for o in orgs))
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
    if not args or args[0] not in registry:
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
    survey = registry[args[0]]
    try:
        wave = await context.store.open_wave(
            survey.id,
            survey.version,
            [o.id for o in context.config.organisations],
            closes_on=closes,
        )
    except StoreError as exc:
        await reply(update, html.escape(str(exc)))
        return
    await context.store.audit(actor(update), "wave.open", f"wave {wave.id} ({survey.id})")
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
    try:
        wave = await context.store.wave(int(args[0]))
    except (IndexError, ValueError, UnknownWaveError):
        await reply(update, "Gebruik: /closewave NUMMER (zie /waves)")
        return
    if not wave.is_open:
        await reply(update, f"Meting #{wave.id} is niet open.")
        return
    counts = await context.store.response_counts(wave.id)
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
        wave = await context.store.close_wave(wave_id)
    except UnlinkPendingError:  # closed; the store clears the WAL once the reader lets go
        wave = await context.store.wave(wave_id)
    except StoreError as exc:
        await edit(query.message, html.escape(str(exc)))
        return
    context.services.forget_wave(wave_id)
    await context.store.audit(actor(update), "wave.close", f"wave {wave_id}")
    await edit(query.message, f"Meting #{wave.id} <b>{html.escape(wave.name)}</b> is gesloten.")


@facilitators_only
async def report(update: Update, context: TrustscanContext) -> None:
    """/report [wave …]: the key charts as photos and the full HTML report as a document."""
    from analysis.png import ExportError

    try:
        waves = [int(a) for a in context.args or []]
        for wave in waves:
            await context.store.wave(wave)
    except (ValueError, UnknownWaveError):
        await reply(update, "Gebruik: /report [NUMMER …] (zie /waves)")
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
    # pandas, scipy and plotly (about a second) load on the first report, off the loop
    reporting = await asyncio.to_thread(importlib.import_module, "bot.reporting")
    reports, rendering, queued = [], [], 0
    try:
        async for one in reporting.iter_reports(
            context.store, context.config, context.services.registry, waves or None, lang
        ):
            reports.append(one)
        # one Holm family for everything sent together: charts only after the adjustment
        await reporting.as_one_family(reports)
        for one in reports:
            figures = one.key_figures()[: ALBUM_LIMIT - queued]
            queued += len(figures)
            rendering.append(asyncio.create_task(renderer.render(figures)))
        page = await reporting.page_of(reports, context.config, lang)
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
    await context.store.audit(actor(update), "report", f"waves={waves or 'all'}")


def _close_chart_browser_later(context: TrustscanContext) -> None:
    """Keep the chart browser (hundreds of MB) only while facilitators are reporting."""
    if context.job_queue is None:
        return
    for job in context.job_queue.get_jobs_by_name(CHART_BROWSER_JOB):
        job.schedule_removal()
    context.job_queue.run_once(_close_chart_browser, CHART_BROWSER_IDLE, name=CHART_BROWSER_JOB)


async def _close_chart_browser(context: TrustscanContext) -> None:
    await context.services.png_renderer().close()
