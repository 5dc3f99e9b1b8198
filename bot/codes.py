"""Single-use codes in the chat: a restricted role answers only with the code on its slip.

The respondent flow stays `bot.respondent`'s; these handlers run just before it (handler
group −1, see `bot.app.add_handlers`) and take over only what codes change:

* Consent (or a role press) on a link that fixes a restricted role does not start a
  response: the bot asks for the code and remembers, in memory only, which link it is
  for. Someone who started in that wave already resumes as ever, without a code.
* While a code is awaited, a typed message is the code. `trustscan.codes.begin` checks
  it and binds it to the new response; the first question follows. A refused code gets
  one short hint and may be typed again: there is no lock-out, since guessing 79 bits
  is hopeless, and "unknown", "used" and "someone else's" get the same answer, so
  trying tells nobody which codes exist.
* /start forgets an awaited code (then /start does what it always does).

The code someone types is never logged and never stored: the store receives its keyed
hash only, and nothing here keeps the text. After a restart the awaited code is
forgotten; the person opens the link again.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from surveys import flow
from surveys.engine import Done
from surveys.errors import UnknownWaveError, WaveClosedError
from surveys.i18n import t
from trustscan import codes as single_use

from . import callbacks, respondent
from .answering import answer
from .context import TrustscanContext
from .language import user_lang

AWAITED = "code_for"  # user_data key: the link a typed code is for (memory only)


@dataclass(frozen=True, slots=True)
class Awaited:
    """The restricted role's link whose code the chat's next message should be."""

    wave: int
    org: str
    role: str
    lang: str


def awaited(context: TrustscanContext) -> Awaited | None:
    found = context.user_data.get(AWAITED) if context.user_data is not None else None
    return found if isinstance(found, Awaited) else None


def forget(context: TrustscanContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(AWAITED, None)


PRESS_PATTERN = f"{callbacks.CONSENT_PATTERN}|{callbacks.ROLE_PATTERN}"  # one check a press


async def consent_or_role(update: Update, context: TrustscanContext) -> None:
    """Consent on a restricted role's link, or its own role pressed (forged): ask for the
    code. Anything else goes on to `respondent.consent` or `respondent.choose_role`."""
    query = update.callback_query
    assert query is not None and query.data is not None
    kind, token, role = [*callbacks.payload(query.data).split(":"), "", ""][:3]
    if kind == "r":
        invitation = await context.store.invitation(token)
        if invitation is None or invitation.role != role:
            return
    if await ask(update, context, token):
        raise ApplicationHandlerStop


async def ask(update: Update, context: TrustscanContext, token: str) -> bool:
    """Ask for the code if `token` fixes a restricted role of an open wave; False if not.

    Everything else — an open role, a closed wave, someone who started in this wave
    already — stays with `bot.respondent`.
    """
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    invitation = await context.store.invitation(token)
    role = context.config.role(invitation.role) if invitation is not None else None
    if invitation is None or role is None or not role.restricted:
        return False
    wave = await respondent.resolve_wave(context, invitation)
    if wave is None or not wave.is_open:
        return False
    try:
        if await context.store.find_session(wave.id, update.effective_user.id) is not None:
            return False  # resumes (or is told it is done) without a code
    except WaveClosedError:
        return False
    lang = context.services.registry[wave.survey].language_for(user_lang(update, context))
    if context.user_data is None:
        return False  # no chat to remember the link in: nothing can start
    context.user_data[AWAITED] = Awaited(wave.id, invitation.org, role.id, lang)
    await context.store.clear_consent(wave.id, update.effective_user.id)  # its button goes
    await answer(update, context)
    label = html.escape(role.label.get(lang) if lang in role.label else role.id)
    await respondent.edit(query.message, t("codes.ask", lang, role=label))
    return True


async def typed(update: Update, context: TrustscanContext) -> None:
    """A typed message while a code is awaited: the code (else `respondent.text_answer`).

    Taken in the chat's turn, like every step of the flow.
    """
    if awaited(context) is None:
        return
    async with respondent.chat_turn(context):
        waiting = awaited(context)  # a message ahead in the turn may have settled it
        handled = waiting is not None and await typed_in_turn(update, context, waiting)
    if handled:
        raise ApplicationHandlerStop


async def typed_in_turn(update: Update, context: TrustscanContext, waiting: Awaited) -> bool:
    """Check and bind the typed code; False when the message is not meant as one."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    user = update.effective_user.id
    text, lang = message.text or "", waiting.lang
    if single_use.normalise(text) is None and await respondent.in_progress(context, user):
        forget(context)  # an answer to the questionnaire this person is busy with
        return False
    try:
        wave = await context.services.wave(waiting.wave)
        session = await single_use.begin(
            context.store, wave.id, user, waiting.org, waiting.role, lang, text
        )
    except (UnknownWaveError, WaveClosedError):
        forget(context)
        await message.reply_text(t("bot.wave_closed", lang))
        return True
    if session is None:
        await message.reply_text(t("codes.refused", lang))
        return True
    forget(context)
    if session.completed:
        await message.reply_text(t("bot.already_done", lang))
        return True
    lang = session.lang or lang
    q = respondent.questionnaire_for(context, wave, session, lang)
    step = q.step(flow.state_of(q, session))
    await message.reply_text(t("codes.accepted", lang))
    if isinstance(step, Done):  # nothing to ask this role: the completion is all there is
        await respondent.resume(update, context, wave, session)
    else:
        await respondent.send_step(update, context, step, wave, lang, session.secret)
    return True


async def start(update: Update, context: TrustscanContext) -> None:
    """/start: whatever code was awaited is forgotten; /start itself runs next, as ever."""
    forget(context)
