"""Respondent handlers: invitation, consent, questions, pause, erase, language.

Every handler reloads the respondent's state from the store (found by recomputing the
HMAC session key), lets the engine decide, persists the change, and only then answers
Telegram — so an acknowledged press is a stored answer, and a restart loses nothing.
Nothing here logs a user id or an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from surveys import flow
from surveys.engine import Change, Done, Questionnaire, QuestionStep, State
from surveys.errors import (
    AnswerError,
    StaleStepError,
    UnknownWaveError,
    UnlinkPendingError,
    WaveClosedError,
)
from surveys.hints import hint
from surveys.i18n import LANGUAGES, LOCALES, section, t
from surveys.qtypes import QUESTION_TYPES
from surveys.store import Invitation, Session, Wave
from trustscan.invites import deep_link

from . import shown
from .answering import answer, patient
from .callbacks import Action, Press, decode, payload, sign
from .context import TrustscanContext
from .language import user_lang
from .optin import opt_in_data, verified_org
from .outbox import Outbox
from .render import screen
from .widgets import REDRAWS, WIDGETS, forget_screen, redraw_in_order

log = logging.getLogger(__name__)
TURN = "turn"  # chat_data key of the chat's lock (see chat_turn)


# -- helpers ------------------------------------------------------------------------------


async def in_progress(context: TrustscanContext, user_id: int) -> list[tuple[Wave, Session]]:
    """The respondent's unfinished sessions in open waves, newest wave first."""
    found = []
    for wave in reversed(await context.store.waves(status="open")):
        try:
            session = await context.store.find_session(wave.id, user_id)
        except WaveClosedError:
            continue
        if session is not None and not session.completed:
            found.append((wave, session))
    return found


def questionnaire_for(
    context: TrustscanContext, wave: Wave, session: Session, lang: str
) -> Questionnaire:
    return context.services.questionnaire(wave.survey, session.org or "", session.role, lang)


async def resolve_wave(context: TrustscanContext, invitation: Invitation) -> Wave | None:
    """The wave a group link leads to: its own, or the open wave of its survey.

    A link leads to one survey for its whole life, whatever else opens; with two waves
    of that survey open (forced), to the older, the one it was handed out for. A link
    made before links were bound to a survey is bound to the survey it first leads to.
    """
    if invitation.wave is not None:
        try:
            return await context.services.wave(invitation.wave)
        except UnknownWaveError:
            return None
    waves = [
        w
        for w in await context.store.waves(status="open", survey=invitation.survey)
        if invitation.org in w.orgs
    ]
    if not waves:
        return None
    if invitation.survey is None:  # the newest wave's survey, as before; from now on, for good
        survey = waves[-1].survey
        await context.store.bind_invitation(invitation.token, survey)
        waves = [w for w in waves if w.survey == survey]
    return waves[0]


async def closed_wave_text(
    context: TrustscanContext, invitation: Invitation, wave: Wave, lang: str
) -> str:
    """A link to a wave that is not open: say so, and point to its survey's open wave."""
    if wave.status == "scheduled":
        return t("bot.no_open_wave", lang)
    current = [
        w
        for w in await context.store.waves(status="open", survey=wave.survey)
        if invitation.org in w.orgs
    ]
    if not current:
        return t("bot.wave_closed", lang)
    link = await context.store.ensure_invitation(invitation.org, invitation.role, None, wave.survey)
    survey = context.services.registry.get(wave.survey)
    title = survey.title.get(survey.language_for(lang)) if survey else wave.survey
    url = deep_link(context.config.telegram.bot_username, link.token)
    return t("waves.link_closed_current", lang, survey=html.escape(title), link=html.escape(url))


async def edit(
    message: MaybeInaccessibleMessage | None,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Edit a message in place; an unchanged message (double tap) is not an error.

    A button's message Telegram no longer hands out (deleted, or inaccessible to the
    bot) cannot be edited: it is left as it is. The message as it shows now, if any.
    """
    if not isinstance(message, Message):
        return None
    try:
        edited = await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
        return message
    return edited if isinstance(edited, Message) else message


def chat_turn(context: TrustscanContext) -> asyncio.Lock:
    """The lock that lets one chat's /start, presses and typed answers take turns.

    Each reads the state, stores, and shows the result before the next one reads: a
    /start handled while a press is half-way would show the question just answered.
    Other chats are never held up by it.
    """
    data = context.chat_data
    if data is None:
        return asyncio.Lock()  # no chat to order within
    lock = data.get(TURN)
    if not isinstance(lock, asyncio.Lock):
        lock = data[TURN] = asyncio.Lock()
    return lock


async def send_step(
    update: Update,
    context: TrustscanContext,
    step: QuestionStep,
    wave: Wave,
    lang: str,
    secret: bytes,
    hint_text: str | None = None,
) -> None:
    """Send the question as a new message (`hint_text` above it): the newest screen."""
    text, keyboard = screen(step, wave.id, lang, secret, hint=hint_text)
    assert update.effective_chat is not None
    sent = await update.effective_chat.send_message(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    shown.remember(context.chat_data, wave.id, step.index, sent)


async def finish(
    context: TrustscanContext,
    q: Questionnaire,
    session: Session,
    state: State,
    lang: str,
    chat_id: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """Complete the response and return the thank-you message with the opt-in button.

    The button is signed for this chat and organisation: only a real completion can opt in.
    The thank-you says the truth about the wait: the answers join the results together
    with k − 1 others of the same organisation and role, or at the close.
    """
    await flow.finish(context.store, q, session, state)
    k = context.config.min_group_size
    text = t("bot.thanks", lang, others=k - 1)
    outro = q.survey.outro.get(lang) if q.survey.outro else ""
    text += f"\n\n{html.escape(outro)}" if outro else ""
    key = context.services.opt_in_key
    assert key is not None, "the opt-in key is derived in post_init"
    data = opt_in_data(key, chat_id, session.org or "")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("bot.notify_button", lang), callback_data=data)]]
    )
    return text, keyboard


# -- /start and consent -------------------------------------------------------------------


async def start(update: Update, context: TrustscanContext) -> None:
    """/start [token]: welcome with the privacy promise, or resume where the person was.

    Taken in the chat's turn (see `chat_turn`), so a /start racing a press, or delivered
    twice, shows the question as it is after the press.
    """
    async with chat_turn(context):
        await start_in_turn(update, context)


async def start_in_turn(update: Update, context: TrustscanContext) -> None:
    assert update.effective_user is not None and update.effective_message is not None
    user_id = update.effective_user.id
    token = context.args[0] if context.args else None
    lang = user_lang(update, context)
    if token is None:
        active = await in_progress(context, user_id)
        if not active:
            await update.effective_message.reply_text(t("bot.no_token", lang))
            return
        await resume(update, context, *active[0])  # (wave, session)
        return
    invitation = await context.store.invitation(token[:64])
    if invitation is None:
        await update.effective_message.reply_text(t("bot.bad_token", lang))
        return
    wave = await resolve_wave(context, invitation)
    if wave is None:
        await update.effective_message.reply_text(t("bot.no_open_wave", lang))
        return
    if not wave.is_open:
        text = await closed_wave_text(context, invitation, wave, lang)
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
        return
    session = await context.store.find_session(wave.id, user_id)
    if session is not None and session.completed:
        await update.effective_message.reply_text(t("bot.already_done", lang))
        return
    if session is not None:
        await resume(update, context, wave, session)
        return
    survey = context.services.registry[wave.survey]
    lang = survey.language_for(lang)  # one language on screen: one the survey is written in
    org = context.config.organisation(invitation.org)
    intro = survey.intro.get(lang) if survey.intro else ""
    text = t(
        "bot.welcome",
        lang,
        survey=html.escape(survey.title.get(lang)),
        partnership=html.escape(context.config.partnership),
        org=html.escape(org.name if org else invitation.org),
        intro=html.escape(intro),
        role=role_phrase(context, invitation.role, lang),
    )
    text += "\n\n" + privacy_text(context, lang)
    keyboard = sign(
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(t("bot.consent_button", lang), callback_data=f"c:{token}")]]
        ),
        context.store.consent_secret(wave.id, user_id),
    )
    welcome = await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    await context.store.show_consent(wave.id, user_id, welcome.message_id)


def role_phrase(context: TrustscanContext, role_id: str | None, lang: str) -> str:
    """The welcome's ", in the role Council member" when the link fixes a role, else "".

    The welcome never assumes who reads it: a link without a role is for everyone of
    the organisation, and a council member's link says so in the council's own word.
    """
    role = context.config.role(role_id)
    return t("bot.as_role", lang, role=html.escape(role.name(lang))) if role else ""


async def on_consent_screen(context: TrustscanContext, user_id: int) -> tuple[Wave, int] | None:
    """The wave whose welcome the person was shown and has not yet begun, and the newest
    message of that screen; None when they are not on a consent screen.

    The store keeps the mark, sealed like a session's state, so it survives a restart.
    """
    for wave in reversed(await context.store.waves(status="open")):
        try:
            message_id = await context.store.consent_shown(wave.id, user_id)
        except WaveClosedError:
            continue
        if message_id is not None:
            return wave, message_id
    return None


async def not_taking_part(update: Update, context: TrustscanContext, lang: str) -> None:
    """The reply to a message from someone without a questionnaire in progress.

    On the consent screen that is a hint to tap the button, not "you are not taking
    part"; the hint becomes the screen's newest message, so a tap on the button above it
    brings the next step below it (see `next_screen_new`).
    """
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    screen = await on_consent_screen(context, update.effective_user.id)
    if screen is None:
        await message.reply_text(t("bot.not_in_survey", lang))
        return
    hint_text = t("bot.consent_hint", lang, button=t("bot.consent_button", lang))
    sent = await message.reply_text(hint_text)
    await context.store.show_consent(screen[0].id, update.effective_user.id, sent.message_id)


async def next_screen_new(context: TrustscanContext, wave: Wave, update: Update) -> bool:
    """Whether the step after a consent or role tap goes in a new message.

    It does when the pressed message is not the chat's newest: the bot sent something
    after it (known to the outbox, or, across a restart, to the consent mark). Then the
    newest message shows where the person is, whatever was on screen.
    """
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    message = query.message
    if not isinstance(message, Message):
        return True
    if newer_than(context, message):
        return True
    newest = await context.store.consent_shown(wave.id, update.effective_user.id)
    return newest is not None and newest > message.message_id


async def put(
    context: TrustscanContext,
    chat_id: int,
    message: MaybeInaccessibleMessage | None,
    text: str,
    keyboard: InlineKeyboardMarkup | None,
    new: bool,
) -> Message | None:
    """Show `text`: as a new message when `new` (or `message` cannot be edited), else in
    place of `message`. The message that shows it."""
    if new or not isinstance(message, Message):
        return await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    return await edit(message, text, keyboard)


async def resume(update: Update, context: TrustscanContext, wave: Wave, session: Session) -> None:
    lang = user_lang(update, context, session)
    q = questionnaire_for(context, wave, session, lang)
    state = flow.state_of(q, session)
    step = q.step(state)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t("bot.resume", lang))
    if isinstance(step, Done):  # answered everything but the completion did not happen
        text, keyboard = await finish(context, q, session, state, lang, update.effective_chat.id)
        shown.forget(context.chat_data)
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
        return
    await send_step(update, context, step, wave, lang, session.secret)


@patient
async def consent(update: Update, context: TrustscanContext) -> None:
    """Consent button: begin with the link's role, or ask one of the open roles.

    Restricted roles (council, administrators) are never offered: they come only with
    a link that fixes them. Taken in the chat's turn, like every step of the flow.
    """
    async with chat_turn(context):
        await consent_in_turn(update, context)


async def consent_in_turn(update: Update, context: TrustscanContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    assert update.effective_chat is not None
    lang = user_lang(update, context)
    token = payload(query.data)[2:]
    invitation = await context.store.invitation(token)
    wave = await resolve_wave(context, invitation) if invitation else None
    if invitation is None or wave is None or not wave.is_open:
        await notify(update, context, t("bot.wave_closed", lang), alert=True)
        return
    if invitation.role is not None:
        await begin(update, context, wave, invitation.org, invitation.role, lang)
        return
    survey = context.services.registry.get(wave.survey)
    lang = survey.language_for(lang) if survey else lang
    offered = context.config.open_roles()
    if not offered:  # every role is restricted: this link cannot be used
        await notify(update, context, t("bot.role_needs_link", lang), alert=True)
        return
    if len(offered) == 1:
        await begin(update, context, wave, invitation.org, offered[0].id, lang)
        return
    new = await next_screen_new(context, wave, update)
    await answer(update, context)
    rows = [
        [InlineKeyboardButton(role.name(lang), callback_data=f"r:{token}:{role.id}")]
        for role in offered
    ]
    keyboard = sign(
        InlineKeyboardMarkup(rows), context.store.consent_secret(wave.id, update.effective_user.id)
    )
    chat_id = update.effective_chat.id
    drawn = await put(context, chat_id, query.message, t("bot.choose_role", lang), keyboard, new)
    if drawn is not None:  # the role question is the consent screen's newest message now
        await context.store.show_consent(wave.id, update.effective_user.id, drawn.message_id)


@patient
async def choose_role(update: Update, context: TrustscanContext) -> None:
    """Role button: begin the questionnaire with the chosen role.

    Only a role the link offers can be chosen: none when the link fixes a role (its own
    role wins), and never a restricted one (forged data is refused; nothing is stored).
    """
    async with chat_turn(context):
        await choose_role_in_turn(update, context)


async def choose_role_in_turn(update: Update, context: TrustscanContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    _, token, role_id = [*payload(query.data).split(":"), "", ""][:3]
    invitation = await context.store.invitation(token)
    wave = await resolve_wave(context, invitation) if invitation else None
    role = context.config.role(role_id)
    if invitation is None or wave is None or not wave.is_open or role is None:
        await notify(update, context, t("bot.outdated", lang))
        return
    if invitation.role is not None and role.id != invitation.role:
        await notify(update, context, t("bot.outdated", lang))
        return
    if invitation.role is None and role.restricted:
        await notify(update, context, t("bot.role_needs_link", lang), alert=True)
        return
    await begin(update, context, wave, invitation.org, role.id, lang)


async def begin(
    update: Update, context: TrustscanContext, wave: Wave, org: str, role: str, lang: str
) -> None:
    """Start (or find) the response and show its first question where the person looks."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    assert update.effective_chat is not None
    user_id, chat_id = update.effective_user.id, update.effective_chat.id
    # the session's language is one the survey is written in (see Survey.language_for)
    lang = context.services.registry[wave.survey].language_for(lang)
    try:
        session = await context.store.begin(wave.id, user_id, org, role, lang)
        new = await next_screen_new(context, wave, update)
        await context.store.clear_consent(wave.id, user_id)
    except WaveClosedError:
        await notify(update, context, t("bot.wave_closed", lang), alert=True)
        return
    await answer(update, context)
    if session.completed:
        await put(context, chat_id, query.message, t("bot.already_done", lang), None, new)
        return
    lang = session.lang or lang
    q = questionnaire_for(context, wave, session, lang)
    await show_next(
        query.message, context, q, session, flow.state_of(q, session), wave, lang, chat_id, new
    )


# -- answering ----------------------------------------------------------------------------


@patient
async def press(update: Update, context: TrustscanContext) -> None:
    """Any answer-area button: answer, don't know, skip, back, next, and the widgets.

    Taken in the chat's turn (see `chat_turn`). The press is answered as soon as the
    answer is stored (that costs nothing of the message budget and must happen within
    Telegram's 15 seconds), and only then is the next question shown. A press that
    waits long is told so in time (`answering.patient`); one answered too late for
    Telegram still moves the screen on.
    """
    async with chat_turn(context):
        await press_in_turn(update, context)


async def press_in_turn(update: Update, context: TrustscanContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    assert update.effective_chat is not None
    decoded = decode(query.data)
    lang = user_lang(update, context)
    if decoded is None:
        await notify(update, context, t("bot.outdated", lang))
        return
    try:
        wave = await context.services.wave(decoded.wave)
        session = await context.store.find_session(wave.id, update.effective_user.id)
    except (UnknownWaveError, WaveClosedError):
        await notify(update, context, t("bot.wave_closed", lang))
        return
    if session is None or session.completed:
        await notify(update, context, t("bot.outdated", lang))
        return
    lang = user_lang(update, context, session)
    q = questionnaire_for(context, wave, session, lang)
    state = flow.state_of(q, session)
    if decoded.index != state.cursor or state.cursor >= len(q.items):
        await outdated(update, context, q, state, wave, lang, session)
        return
    try:
        if decoded.action in REDRAWS:
            step = q.step(state)
            assert isinstance(step, QuestionStep)
            await redraw_widget(update, context, decoded, step, wave, lang, session.secret)
            return
        change = act(q, state, decoded)
        await flow.persist(context.store, q, session, state, change)
        forget_screen(context.chat_data)  # the message moves on: no widget points carry over
    except AnswerError as exc:
        await refuse(update, context, q, state, wave, lang, hint(exc, lang), session)
        return
    except StaleStepError:  # a double tap stored first: the state moved on meanwhile
        fresh = await context.store.find_session(wave.id, update.effective_user.id)
        now = flow.state_of(q, fresh) if fresh is not None and not fresh.completed else state
        await outdated(update, context, q, now, wave, lang, session)
        return
    except (ValueError, IndexError):
        await refuse(update, context, q, state, wave, lang, t("bot.outdated", lang), session)
        return
    await answer(update, context)
    new = isinstance(query.message, Message) and newer_than(context, query.message)
    await show_next(
        query.message, context, q, session, change.state, wave, lang, update.effective_chat.id, new
    )


async def notify(
    update: Update, context: TrustscanContext, text: str, *, alert: bool = False
) -> None:
    """A press that leads nowhere: a toast, or the same words in the chat when too late."""
    if not await answer(update, context, text, alert=alert):
        assert update.effective_chat is not None
        await update.effective_chat.send_message(text)


async def refuse(
    update: Update,
    context: TrustscanContext,
    q: Questionnaire,
    state: State,
    wave: Wave,
    lang: str,
    text: str,
    session: Session,
) -> None:
    """A press at the current question that is refused: its toast, or, when too late for
    one, the question again as the newest message with the words above it."""
    if await answer(update, context, text):
        return
    step = q.step(state)
    if isinstance(step, QuestionStep):
        await send_step(update, context, step, wave, lang, session.secret, hint_text=text)
    else:
        await notify(update, context, text)


async def outdated(
    update: Update,
    context: TrustscanContext,
    q: Questionnaire,
    state: State,
    wave: Wave,
    lang: str,
    session: Session,
) -> None:
    """A press on an earlier question's button: "outdated", and the current question.

    When the chat's newest message is known to show the current question (it is just
    below), the toast is enough. Otherwise, say after a restart that came before the
    next question could be sent, the current question is shown: in the pressed message
    when it is the newest, else as a new message. So a tap always leads on.
    """
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    text = t("bot.outdated", lang)
    toasted = await answer(update, context, text)
    step = q.step(state)
    if not isinstance(step, QuestionStep):  # at the end: /start completes it
        if not toasted:
            await update.effective_chat.send_message(text)
        return
    current = shown.on_screen(context.chat_data)
    chat_id = update.effective_chat.id
    below = (
        current is not None
        and current.shows(wave.id, step.index)
        and not (current.message is not None and newer_than_id(context, chat_id, current.message))
    )
    if toasted and below:
        return  # the current question is the newest message: the toast says it all
    message = query.message
    in_place = isinstance(message, Message) and newest_is(context, message)
    await show_next(
        message,
        context,
        q,
        session,
        state,
        wave,
        lang,
        update.effective_chat.id,
        not in_place,
        hint_text=None if toasted else text,
    )


def act(q: Questionnaire, state: State, press_: Press) -> Change:
    """Translate a press at the cursor into an engine action (widgets' final values too).

    A press its question's widget does not take (forged, or from an old version of the
    survey) is a `ValueError`: the person hears the button is outdated.
    """
    index = press_.index
    question = q.items[index].question
    widget = WIDGETS[question.type]
    if press_.action in widget.answers:
        return q.answer(state, index, widget.answer(press_, question))
    match press_.action:
        case Action.DONT_KNOW:
            return q.dont_know(state, index)
        case Action.SKIP:
            return q.skip(state, index)
        case Action.BACK:
            return q.back(state, index)
        case Action.NEXT:
            return q.proceed(state, index)
    raise ValueError(f"no action {press_.action!r} for a {question.type} question")


async def redraw_widget(
    update: Update,
    context: TrustscanContext,
    press_: Press,
    step: QuestionStep,
    wave: Wave,
    lang: str,
    secret: bytes,
) -> None:
    """Widget presses (multi toggles, allocate +/−, ranking picks) only redraw the message.

    The new state is worked out first, so a refused press (forged, too many options) gets
    its one toast instead of an empty answer; then the press is answered at once and the
    message redrawn. The chat's data keeps what the message shows, so quick taps on a
    keyboard not yet redrawn apply in order (`widgets.redraw_in_order`).
    """
    query = update.callback_query
    assert query is not None
    widget = WIDGETS[step.type]
    if press_.action not in widget.redraws:
        raise ValueError(f"no widget press {press_.action!r} for a {step.type} question")
    message = query.message
    on = message.message_id if isinstance(message, Message) else None
    state = redraw_in_order(widget, press_, step, context.chat_data, on)
    await answer(update, context)
    drawn = await edit(message, *screen(step, wave.id, lang, secret, widget=state))
    shown.remember(context.chat_data, wave.id, step.index, drawn)


async def show_next(
    message: MaybeInaccessibleMessage | None,
    context: TrustscanContext,
    q: Questionnaire,
    session: Session | None,
    state: State,
    wave: Wave,
    lang: str,
    chat_id: int,
    new: bool = False,
    hint_text: str | None = None,
) -> None:
    """After a stored step: the next question, or the thank-you when all is answered.

    It replaces `message` (the pressed one), or comes as a new message when `new` (the
    bot has sent a newer message into the chat since: a /start that raced the press, a
    reminder; or a typed answer), or when the pressed message cannot be edited: so the
    newest message always shows the current question.
    """
    step = q.step(state)
    if isinstance(step, Done):
        assert session is not None, "only a stored step reaches the end"
        text, keyboard = await finish(context, q, session, state, lang, chat_id)
        shown.forget(context.chat_data)
    else:
        text, keyboard = screen(
            step, wave.id, lang, session.secret if session else b"", hint=hint_text
        )
    if new or not isinstance(message, Message):
        drawn: Message | None = await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    else:
        drawn = await edit(message, text, keyboard)
    if isinstance(step, QuestionStep):
        shown.remember(context.chat_data, wave.id, step.index, drawn)


def newer_than(context: TrustscanContext, message: Message) -> bool:
    """Whether the bot has sent a message into the chat after `message` (outbox's record)."""
    return newer_than_id(context, message.chat.id, message.message_id)


def newer_than_id(context: TrustscanContext, chat_id: int, message_id: int) -> bool:
    """Whether the outbox knows of a message in `chat_id` newer than `message_id`."""
    outbox = context.bot.rate_limiter
    return isinstance(outbox, Outbox) and outbox.newest(chat_id) > message_id


def newest_is(context: TrustscanContext, message: Message) -> bool:
    """Whether `message` is known to be the newest the bot sent into its chat.

    Without an outbox (tests) the pressed message counts as the newest; with one, only
    a message this process sent counts (after a restart nothing is known).
    """
    outbox = context.bot.rate_limiter
    if not isinstance(outbox, Outbox):
        return True
    return outbox.newest(message.chat.id) == message.message_id


TYPED_WAITING = "typed_waiting"  # chat_data key: typed messages waiting for the chat's turn


async def text_answer(update: Update, context: TrustscanContext) -> None:
    """A typed message: the answer to an open question, or a hint to use the buttons.

    The line answers the question on screen when it arrived (`bot.shown`), taken now,
    before it waits for the chat's turn: a line sent twice, or typed just before the
    question moved on, is then refused instead of being stored as the answer to the next
    question. Taken in the chat's turn (see `chat_turn`), like presses and /start: a
    typed answer racing a tap reads the state only after the tap has stored and shown its
    step. Turns are taken one by one, so a flood of lines at a button question would be
    hinted at one by one at a message a second; a line with newer typed lines waiting
    behind it leaves the hint to the newest (`superseded`), so the flood is answered once.
    """
    on_screen = shown.on_screen(context.chat_data)
    data = context.chat_data if context.chat_data is not None else {}
    turn = chat_turn(context)
    data[TYPED_WAITING] = data.get(TYPED_WAITING, 0) + 1
    try:
        await turn.acquire()
    finally:  # also when cancelled while waiting: a stale count would mute later hints
        data[TYPED_WAITING] -= 1
    try:
        await text_answer_in_turn(update, context, on_screen, superseded=data[TYPED_WAITING] > 0)
    finally:
        turn.release()


async def text_answer_in_turn(
    update: Update,
    context: TrustscanContext,
    on_screen: shown.Shown | None,
    *,
    superseded: bool = False,
) -> None:
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    active = await in_progress(context, update.effective_user.id)
    lang = user_lang(update, context)
    if not active:
        await not_taking_part(update, context, lang)
        return
    wave, session = active[0]
    lang = user_lang(update, context, session)
    q = questionnaire_for(context, wave, session, lang)
    state = flow.state_of(q, session)
    step = q.step(state)
    if isinstance(step, Done):
        await resume(update, context, wave, session)
        return
    if session.last_message is not None and message.message_id <= session.last_message:
        return  # the same message delivered twice: it was stored the first time
    reads = WIDGETS[step.type].typed or WIDGETS[step.type].reads_text
    meant_here = on_screen is not None and on_screen.shows(wave.id, step.index)
    if not meant_here and (on_screen is not None or reads):
        if superseded:
            return  # a newer typed line waits for the turn and answers for this one
        word = "bot.typed_for_earlier" if on_screen is not None else "bot.typed_unsure"
        await send_step(update, context, step, wave, lang, session.secret, hint_text=t(word, lang))
        return
    if not reads:
        if superseded:
            return  # a newer typed line waits for the turn and gets the hint
        await message.reply_text(t("bot.use_buttons", lang))
        await send_step(update, context, step, wave, lang, session.secret)
        return
    try:  # the type reads the line: typed points ("40 30 20 10") at an allocate question
        typed = QUESTION_TYPES[step.type].from_text(step.question, message.text or "")
        change = q.answer(state, step.index, typed)
        await flow.persist(context.store, q, session, state, change, message_id=message.message_id)
        forget_screen(context.chat_data)  # the widget's points on screen are behind it now
    except AnswerError as exc:
        await send_step(
            update, context, step, wave, lang, session.secret, hint_text=hint(exc, lang)
        )
        return
    except StaleStepError:
        return  # the same message delivered twice: it was stored the first time
    assert update.effective_chat is not None
    await show_next(
        None, context, q, session, change.state, wave, lang, update.effective_chat.id, True
    )


async def unknown_press(update: Update, context: TrustscanContext) -> None:
    """Any other callback data (forged, or from an old version): a toast, nothing stored."""
    query = update.callback_query
    assert query is not None
    await notify(update, context, t("bot.outdated", user_lang(update, context)))


# -- opt-in, pause, erase, language, help ---------------------------------------------------


@patient
async def opt_in(update: Update, context: TrustscanContext) -> None:
    """'Tell me when the next measurement opens': store the chat as a contact.

    Only the signed button of this chat's own thank-you message counts; forged or
    foreign data gets a toast and stores nothing.
    """
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_chat is not None
    lang = user_lang(update, context)
    key = context.services.opt_in_key
    assert key is not None, "the opt-in key is derived in post_init"
    org = verified_org(key, update.effective_chat.id, query.data)
    if org is None or context.config.organisation(org) is None:
        await notify(update, context, t("bot.outdated", lang))
        return
    written = await context.store.set_contact(update.effective_chat.id, org, lang)
    await answer(update, context)
    k = context.config.min_group_size
    text = t("bot.notify_ok", lang) if written else t("bot.notify_held", lang, others=k - 1)
    await edit(query.message, text, unsubscribe_keyboard(lang))


UNSUBSCRIBE_DATA = "U"  # the unsubscribe button: no parameters, so nothing to forge
UNSUBSCRIBE_PATTERN = rf"^{UNSUBSCRIBE_DATA}$"


def unsubscribe_keyboard(lang: str) -> InlineKeyboardMarkup:
    """One button that stops reminders and announcements for this chat."""
    button = InlineKeyboardButton(t("bot.unsubscribe_button", lang), callback_data=UNSUBSCRIBE_DATA)
    return InlineKeyboardMarkup([[button]])


async def stop(update: Update, context: TrustscanContext) -> None:
    """/stop: pause. Every answer is already stored, so nothing is deleted or changed.

    Reminders go on (they are how a paused person hears the measurement is closing);
    /unsubscribe is the separate way to stop them.
    """
    assert update.effective_message is not None
    await update.effective_message.reply_text(t("bot.stopped", user_lang(update, context)))


async def unsubscribe(update: Update, context: TrustscanContext) -> None:
    """/unsubscribe: no more reminders and new-wave announcements for this chat."""
    assert update.effective_message is not None and update.effective_chat is not None
    await context.store.remove_contact(update.effective_chat.id)
    await update.effective_message.reply_text(t("bot.unsubscribed", user_lang(update, context)))


async def unsubscribe_pressed(update: Update, context: TrustscanContext) -> None:
    """The unsubscribe button: as /unsubscribe; the message it sat under stays readable.

    It may sit under an announcement whose link the person still wants to use, so only
    the button goes; the confirmation comes as a reply of its own.
    """
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await context.store.remove_contact(update.effective_chat.id)
    await answer(update, context)
    if isinstance(query.message, Message):
        with contextlib.suppress(BadRequest):  # pressed twice: the button is already gone
            await query.message.edit_reply_markup(reply_markup=None)
    await update.effective_chat.send_message(t("bot.unsubscribed", user_lang(update, context)))


async def delete(update: Update, context: TrustscanContext) -> None:
    """/delete: ask to confirm erasing the answers in progress."""
    assert update.effective_message is not None
    lang = user_lang(update, context)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("bot.delete_yes", lang), callback_data="x"),
                InlineKeyboardButton(t("bot.cancel", lang), callback_data="X"),
            ]
        ]
    )
    await update.effective_message.reply_text(t("bot.delete_confirm", lang), reply_markup=keyboard)


@patient
async def delete_confirmed(update: Update, context: TrustscanContext) -> None:
    """Confirmation of /delete: erase every unfinished response of this person."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    lang = user_lang(update, context)
    await answer(update, context)
    if query.data == "X":
        await edit(query.message, t("bot.cancelled", lang))
        return
    erased, pending = False, False
    for _, session in await in_progress(context, update.effective_user.id):
        try:
            erased = await context.store.delete_in_progress(session) or erased
        except UnlinkPendingError:
            erased, pending = True, True
    reply = (
        "bot.deleted_pending" if pending else "bot.deleted" if erased else "bot.nothing_to_delete"
    )
    if erased:
        shown.forget(context.chat_data)
    await edit(query.message, t(reply, lang))


async def language(update: Update, context: TrustscanContext) -> None:
    """/language: offer every language of the catalogue, each in its own name."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(LOCALES[lang].name, callback_data=f"g:{lang}")
                for lang in LANGUAGES
            ]
        ]
    )
    await update.effective_message.reply_text(
        t("bot.language_prompt", user_lang(update, context)), reply_markup=keyboard
    )


@patient
async def language_chosen(update: Update, context: TrustscanContext) -> None:
    """A language button: remember it for this chat and for the answers in progress.

    The prompt's message becomes the open question, drawn again in the new language, so
    the newest message is the question to answer (not only a "language changed" line).
    A survey in progress keeps speaking a language it is written in: if it lacks the
    chosen one, its session stays in (or moves to) the survey's first language.
    """
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    lang = query.data[2:]
    if lang not in LANGUAGES:  # the pattern admits only these; a forged press is ignored
        await answer(update, context)
        return
    if context.user_data is not None:
        context.user_data["lang"] = lang
    active = await in_progress(context, update.effective_user.id)
    for wave, session in active:
        survey = context.services.registry.get(wave.survey)
        await context.store.set_language(session, survey.language_for(lang) if survey else lang)
    await answer(update, context)
    text, keyboard = t("bot.language_set", lang), None
    step: QuestionStep | Done | None = None
    if active:  # the question the person is at, drawn again in the new language
        wave, session = active[0]
        session = await context.store.find_session(wave.id, update.effective_user.id) or session
        speaking = user_lang(update, context, session)
        q = questionnaire_for(context, wave, session, speaking)
        step = q.step(flow.state_of(q, session))
        if isinstance(step, QuestionStep):
            question, keyboard = screen(step, wave.id, speaking, session.secret)
            text += "\n\n" + question
    drawn = await edit(query.message, text, keyboard)
    if isinstance(step, QuestionStep):
        shown.remember(context.chat_data, active[0][0].id, step.index, drawn)


async def help_command(update: Update, context: TrustscanContext) -> None:
    """/help: what the bot does and its commands; a facilitator's commands to facilitators."""
    assert update.effective_message is not None
    user = update.effective_user
    facilitator = user is not None and user.id in context.config.telegram.facilitators
    text = help_text(user_lang(update, context), facilitator=facilitator)
    await update.effective_message.reply_text(text)


def help_text(lang: str, *, facilitator: bool = False) -> str:
    """/help in `lang`: the commands of the catalogue's [commands], every language named.

    Facilitators get [facilitator_commands] as well; respondents never see them.
    """
    languages = "/".join(LOCALES[code].name for code in LANGUAGES)
    text = t("bot.help", lang, commands=command_lines("commands", lang), languages=languages)
    if facilitator:
        heading = t("bot.help_facilitators", lang)
        text += f"\n\n{heading}\n{command_lines('facilitator_commands', lang)}"
    return text


def command_lines(area: str, lang: str) -> str:
    """One line "/command – what it does" per command of a catalogue area."""
    return "\n".join(f"/{name} – {text}" for name, text in section(area, lang).items())


async def unknown_command(update: Update, context: TrustscanContext) -> None:
    """A command no handler takes: a short pointer to /help instead of silence.

    Registered in a later handler group, so it sees every command: it answers only those
    no CommandHandler of the main group knows (whoever adds a command needs no change here).
    """
    message = update.effective_message
    assert message is not None
    words = (message.text or "").split(maxsplit=1)
    name = words[0].removeprefix("/").split("@", 1)[0].lower() if words else ""
    known = {
        command
        for handler in context.application.handlers.get(0, [])
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    if name and name not in known:
        await message.reply_text(t("bot.unknown_command", user_lang(update, context)))


async def privacy(update: Update, context: TrustscanContext) -> None:
    """/privacy: the anonymity promise in plain words."""
    assert update.effective_message is not None
    lang = user_lang(update, context)
    await update.effective_message.reply_text(
        privacy_text(context, lang), parse_mode=ParseMode.HTML
    )


def privacy_text(context: TrustscanContext, lang: str) -> str:
    """The privacy promise with this deployment's group sizes filled in."""
    k = context.config.min_group_size
    return t(
        "bot.privacy",
        lang,
        k=k,
        k_comments=context.config.min_group_size_comments,
        k_minus_1=k - 1,
    )
