"""Scheduled work: waves that open and close on their dates, reminders, new-wave invitations.

One `tick` job runs every minute (and once at start-up) and decides from the
database what is due, so nothing depends on jobs surviving a restart. A notification
round (an announcement, a reminder) is begun in the store and each message marked as
it goes out (`Store.mark_sent`); the round is done once every contact was handled. A
crash or a stop halfway (kill -9 included) so leaves exactly the unsent part due, and
the next start sends that, to nobody twice. Whether someone still has to finish is
decided by recomputing their HMAC key while the wave is open; no new link between
contact and answers is kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from surveys.errors import UnlinkPendingError
from surveys.i18n import t
from surveys.model import Survey
from surveys.store import Store, Wave
from trustscan.invites import deep_link

from .context import Services, TrustscanContext
from .outbox import BROADCAST, OutboxClosed
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
    survey = services.registry.get(wave.survey)

    async def notices(store: Store) -> list[Notice]:
        targets: list[Notice] = []
        for contact in await store.contacts():
            if contact.blocked or contact.org not in wave.orgs:
                continue
            if await store.has_completed(wave.id, contact.chat_id):
                continue
            name = html.escape(survey_title(survey, contact.lang) if survey else wave.survey)
            text = t("bot.reminder", contact.lang, survey=name, days=days_left)
            targets.append(Notice(contact.chat_id, text, contact.lang))
        return targets

    return await run_round(app, wave, f"reminder-{days_left}", notices)


async def announce_new_wave(app: Application[Any, Any, Any, Any, Any, Any], wave: Wave) -> int:
    """Invite opted-in contacts of the wave's organisations to the new measurement, once.

    Called for every open wave on every tick, however it was opened: the store's marks
    make it once. A contact who already completed the wave (it was opened while the
    bot was down, and they came through a poster) is not told it is new.
    """
    if not wave.is_open:
        return 0
    services = services_of(app)
    survey = services.registry.get(wave.survey)
    restricted = services.config.restricted_roles()

    async def notices(store: Store) -> list[Notice]:
        links: dict[str, str] = {}  # one link per organisation
        targets: list[Notice] = []
        for contact in await store.contacts():
            if contact.blocked or contact.org is None or contact.org not in wave.orgs:
                continue
            if await store.has_completed(wave.id, contact.chat_id):  # took part before
                continue
            if contact.org not in links:
                invitation = await store.ensure_invitation(contact.org, None, wave.id, wave.survey)
                links[contact.org] = deep_link(
                    services.config.telegram.bot_username, invitation.token
                )
            link = links[contact.org]
            name = html.escape(survey_title(survey, contact.lang) if survey else wave.survey)
            text = t("bot.new_wave", contact.lang, survey=name, link=html.escape(link))
            if restricted:  # not offered on this link; contacts do not (and must not) keep a role
                labels = [html.escape(r.name(contact.lang)) for r in restricted]
                listed = [", ".join(labels[:-1]), labels[-1]]
                roles = t("bot.or", contact.lang).join(filter(None, listed))
                text += "\n" + t("bot.own_link_roles", contact.lang, roles=roles)
            targets.append(Notice(contact.chat_id, text, contact.lang))
        return targets

    return await run_round(app, wave, "opened", notices)


async def run_round(
    app: Application[Any, Any, Any, Any, Any, Any],
    wave: Wave,
    kind: str,
    notices: Callable[[Store], Awaitable[list[Notice]]],
) -> int:
    """Send a round's notices to the contacts it has not reached yet; how many went.

    The round is begun in the store (or found unfinished) and marked per contact as
    each message goes; it is finished only when every contact was handled. While it
    runs in this process a second call (the tick and /openwave at once) does nothing.
    """
    services = services_of(app)
    store = services.store
    assert store is not None
    round_id = (wave.id, kind)
    if services.stopping or round_id in services.rounds:
        return 0
    services.rounds.add(round_id)
    try:
        if not await store.begin_round(wave.id, kind):
            return 0
        reached = await store.round_sent(wave.id, kind)
        targets = [n for n in await notices(store) if n.chat_id not in reached]
        outcomes = await deliver_all(app, targets, wave.id, kind)
        if all(outcome is not Outcome.LATER for outcome in outcomes):
            await store.finish_round(wave.id, kind)
        elif reached or any(o is Outcome.SENT for o in outcomes):
            left = sum(1 for o in outcomes if o is Outcome.LATER)
            log.info("a notification round stopped with %d message(s) still due", left)
        return sum(1 for outcome in outcomes if outcome is Outcome.SENT)
    finally:
        services.rounds.discard(round_id)


def survey_title(survey: Survey, lang: str) -> str:
    """The survey's title in `lang`, or in its first language when it lacks `lang`."""
    return survey.title.get(survey.language_for(lang))


@dataclass(frozen=True, slots=True)
class Notice:
    """One reminder or announcement for one opted-in chat, in the contact's language."""

    chat_id: int
    text: str
    lang: str


class Outcome(enum.Enum):
    """What became of one notice."""

    SENT = "sent"  # delivered and marked
    GONE = "gone"  # cannot be delivered (blocked, no such chat): handled all the same
    LATER = "later"  # not sent because the bot is stopping: still due


async def deliver_all(
    app: Application[Any, Any, Any, Any, Any, Any],
    notices: list[Notice],
    wave_id: int | None = None,
    kind: str = "",
) -> list[Outcome]:
    """Send each message on its own, so one failing chat never blocks the others.

    They go as broadcasts: only with the budget replies to respondents leave over. Each
    one sent is marked in the round (`wave_id`, `kind`) before it counts as sent.
    """
    gate = asyncio.Semaphore(PARALLEL_SENDS)
    services = services_of(app)

    async def one(notice: Notice) -> Outcome:
        async with gate:
            if services.stopping:
                return Outcome.LATER
            outcome = await deliver(app, notice)
            if outcome is Outcome.SENT and wave_id is not None and services.store is not None:
                await services.store.mark_sent(wave_id, kind, notice.chat_id)
            return outcome

    return list(await asyncio.gather(*(one(n) for n in notices)))


async def deliver(app: Application[Any, Any, Any, Any, Any, Any], notice: Notice) -> Outcome:
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
        return Outcome.SENT
    except OutboxClosed:  # the bot is stopping: the next start sends it
        return Outcome.LATER
    except Forbidden:  # the person blocked the bot: skip them from now on
        await store.mark_blocked(chat_id)
    except TelegramError as exc:
        log.warning("could not deliver a notification: %s", type(exc).__name__)
    return Outcome.GONE
