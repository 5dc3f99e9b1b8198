"""Scheduled work: waves that open and close on their dates, reminders, new-wave invitations.

One `tick` job runs every minute (and once at start-up) and decides from the
database what is due, so nothing depends on jobs surviving a restart. Each
notification round is recorded (`notifications_sent`) before it is sent, so a restart
never sends it twice. Whether someone still has to finish is decided by recomputing
their HMAC key while the wave is open; no new link between contact and answers is kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from dataclasses import dataclass
from typing import Any

from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from surveys.errors import UnlinkPendingError
from surveys.i18n import t
from surveys.model import Survey
from surveys.store import Wave
from trustscan.invites import deep_link

from .context import Services, TrustscanContext
from .outbox import BROADCAST
from .respondent import unsubscribe_keyboard

log = logging.getLogger(__name__)
TICK_SECONDS = 60  # a wave opened on the command line is announced within a minute
REBUILD_HOUR = 3  # the nightly rewrite of the database file, when nobody is answering
PARALLEL_SENDS = 500  # how many wait in the outbox at once; it keeps Telegram's pace


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    services: Services = app.bot_data["services"]  # bot_data is an untyped dict
    return services


async def tick(context: TrustscanContext) -> None:
    """Open and close waves that are due, then send the reminders that are due."""
    await run_due(context.application)


async def run_due(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services = services_of(app)
    store = services.store
    assert store is not None
    now = services.clock.now()
    today = now.date().isoformat()
    if now.hour >= REBUILD_HOUR and await store.rebuild_daily(today):
        log.info("rebuilt the database file: no insertion order older than today remains")
    if now.hour < services.config.reminders.hour:
        return
    for wave in await store.waves(status="scheduled"):
        if wave.opens_on and wave.opens_on <= today:
            await store.start_scheduled_wave(wave.id)
            await store.audit("scheduler", "wave.open", f"wave {wave.id}")
    for wave in await store.waves(status="open"):
        if wave.closes_on and wave.closes_on < today:
            try:
                await store.close_wave(wave.id)
            except UnlinkPendingError as exc:  # closed all the same; the WAL is cleared later
                log.warning("wave %s closed; %s", wave.id, exc)
            services.forget_wave(wave.id)
            await store.audit("scheduler", "wave.close", f"wave {wave.id}")
            continue
        # however it was opened (command line, /openwave, its date): announced once, the
        # store's mark says whether it was, so a restart neither skips nor repeats it
        await announce_new_wave(app, wave)
        if wave.closes_on:
            days_left = (dt.date.fromisoformat(wave.closes_on) - now.date()).days
            if days_left in services.config.reminders.days_before_close:
                await send_reminders(app, wave, days_left)


async def send_reminders(
    app: Application[Any, Any, Any, Any, Any, Any], wave: Wave, days_left: int
) -> int:
    """Remind opted-in contacts of the wave's organisations who have not completed it."""
    services = services_of(app)
    store = services.store
    assert store is not None
    if not await store.mark_notified(wave.id, f"reminder-{days_left}"):
        return 0
    survey = services.registry.get(wave.survey)
    targets: list[Notice] = []
    for contact in await store.contacts():
        if contact.blocked or contact.org not in wave.orgs:
            continue
        if await store.has_completed(wave.id, contact.chat_id):
            continue
        name = html.escape(survey_title(survey, contact.lang) if survey else wave.survey)
        text = t("bot.reminder", contact.lang, survey=name, days=days_left)
        targets.append(Notice(contact.chat_id, text, contact.lang))
    return await deliver_all(app, targets)


async def announce_new_wave(app: Application[Any, Any, Any, Any, Any, Any], wave: Wave) -> int:
    """Invite opted-in contacts of the wave's organisations to the new measurement, once.

    Called for every open wave on every tick, however it was opened: the store's mark
    makes it once. A contact who already completed the wave (it was opened while the
    bot was down, and they came through a poster) is not told it is new.
    """
    services = services_of(app)
    store = services.store
    assert store is not None
    if not wave.is_open or not await store.mark_notified(wave.id, "opened"):
        return 0
    survey = services.registry.get(wave.survey)
    targets: list[Notice] = []
    for contact in await store.contacts():
        if contact.blocked or contact.org not in wave.orgs:
            continue
        if await store.has_completed(wave.id, contact.chat_id):  # took part before the tick
            continue
        invitation = await store.ensure_invitation(contact.org, None, wave.id, wave.survey)
        link = deep_link(services.config.telegram.bot_username, invitation.token)
        name = html.escape(survey_title(survey, contact.lang) if survey else wave.survey)
        text = t("bot.new_wave", contact.lang, survey=name, link=html.escape(link))
        restricted = services.config.restricted_roles()
        if restricted:  # not offered on this link; contacts do not (and must not) keep a role
            labels = [html.escape(r.name(contact.lang)) for r in restricted]
            listed = [", ".join(labels[:-1]), labels[-1]]
            roles = t("bot.or", contact.lang).join(filter(None, listed))
            text += "\n" + t("bot.own_link_roles", contact.lang, roles=roles)
        targets.append(Notice(contact.chat_id, text, contact.lang))
    return await deliver_all(app, targets)


def survey_title(survey: Survey, lang: str) -> str:
    """The survey's title in `lang`, or in its first language when it lacks `lang`."""
    return survey.title.get(survey.language_for(lang))


@dataclass(frozen=True, slots=True)
class Notice:
    """One reminder or announcement for one opted-in chat, in the contact's language."""

    chat_id: int
    text: str
    lang: str


async def deliver_all(app: Application[Any, Any, Any, Any, Any, Any], notices: list[Notice]) -> int:
    """Send each message on its own, so one failing chat never blocks the others.

    They go as broadcasts: only with the budget replies to respondents leave over.
    """
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def one(notice: Notice) -> bool:
        async with gate:
            return await deliver(app, notice)

    results = await asyncio.gather(*(one(n) for n in notices))
    return sum(results)


async def deliver(app: Application[Any, Any, Any, Any, Any, Any], notice: Notice) -> bool:
    """One notice, with the button that stops them all under it (no command to remember)."""
    store = services_of(app).store
    assert store is not None
    chat_id = notice.chat_id
    # behind every reply to a respondent (see bot.outbox); without an outbox, plainly
    priority = {"rate_limit_args": BROADCAST} if app.bot.rate_limiter is not None else {}
    try:
        await app.bot.send_message(
            chat_id,
            notice.text,
            parse_mode=ParseMode.HTML,
            reply_markup=unsubscribe_keyboard(notice.lang),
            **priority,
        )
        return True
    except Forbidden:  # the person blocked the bot: skip them from now on
        await store.mark_blocked(chat_id)
    except TelegramError as exc:
        log.warning("could not deliver a notification: %s", type(exc).__name__)
    return False
