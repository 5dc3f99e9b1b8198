"""Respondent handlers: invitation, consent, questions, pause, erase, language.

Every handler reloads the respondent's state from the store (found by recomputing the
HMAC session key), lets the engine decide, persists the change, and only then answers
Telegram — so an acknowledged press is a stored answer, and a restart loses nothing.
Nothing here logs a user id or an answer.
"""

from __future__ import annotations

import html
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

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
from surveys.store import Invitation, Session, Wave

from .context import TrustscanContext
from .optin import opt_in_data, verified_org
from .render import (
    Press,
    adjust_points,
    answer_value,
    decode,
    parse_points,
    render_step,
)
from .texts import t

log = logging.getLogger(__name__)


# -- helpers ------------------------------------------------------------------------------


def user_lang(update: Update, context: TrustscanContext, session: Session | None = None) -> str:
    """The respondent's language: chosen in the session, chosen by /language, or Telegram's."""
    if session is not None and session.lang:
        return session.lang
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    if chosen:
        return str(chosen)
    code = (update.effective_user.language_code or "") if update.effective_user else ""
    if code.startswith("en"):
        return "en"
    if code.startswith("nl"):
        return "nl"
    return context.config.default_language


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
    """The wave a group link leads to: its own, or the newest open wave of its organisation."""
    if invitation.wave is not None:
        try:
            return await context.services.wave(invitation.wave)
        except UnknownWaveError:
            return None
    waves = [w for w in await context.store.waves(status="open") if invitation.org in w.orgs]
    return waves[-1] if waves else None


async def edit(
    message: Message | None, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Edit a message in place; an unchanged message (double tap) is not an error."""
    if message is None:
        return
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def send_step(
    update: Update, step: QuestionStep, wave: Wave, lang: str, hint_text: str | None = None
) -> None:
    text, keyboard = render_step(step, wave.id, lang, hint=hint_text)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


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
    "Can no longer be linked" is said only once the store has erased the link from the
    database file and its WAL; while a reader holds the WAL the person hears it is pending.
    """
    try:
        await flow.finish(context.store, q, session, state)
        thanks = "thanks"
    except UnlinkPendingError:
        thanks = "thanks_pending"
    outro = q.survey.outro.get(lang) if q.survey.outro else ""
    text = t(thanks, lang) + (f"\n\n{html.escape(outro)}" if outro else "")
    key = context.services.opt_in_key
    assert key is not None, "the opt-in key is derived in post_init"
    data = opt_in_data(key, chat_id, session.org or "")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("notify_button", lang), callback_data=data)]]
    )
    return text, keyboard


# -- /start and consent -------------------------------------------------------------------


async def start(update: Update, context: TrustscanContext) -> None:
    """/start [token]: welcome with the privacy promise, or resume where the person was."""
    assert update.effective_user is not None and update.effective_message is not None
    user_id = update.effective_user.id
    token = context.args[0] if context.args else None
    lang = user_lang(update, context)
    if token is None:
        active = await in_progress(context, user_id)
        if not active:
            await update.effective_message.reply_text(t("no_token", lang))
            return
        wave, session = active[0]
        await resume(update, context, wave, session)
        return
    invitation = await context.store.invitation(token[:64])
    if invitation is None:
        await update.effective_message.reply_text(t("bad_token", lang))
        return
    wave = await resolve_wave(context, invitation)
    if wave is None:
        await update.effective_message.reply_text(t("no_open_wave", lang))
        return
    if not wave.is_open:
        await update.effective_message.reply_text(t("wave_closed", lang))
        return
    session = await context.store.find_session(wave.id, user_id)
    if session is not None and session.completed:
        await update.effective_message.reply_text(t("already_done", lang))
        return
    if session is not None:
        await resume(update, context, wave, session)
        return
    survey = context.services.registry[wave.survey]
    org = context.config.organisation(invitation.org)
    intro = survey.intro.get(lang) if survey.intro else ""
    text = t(
        "welcome",
        lang,
        survey=html.escape(survey.title.get(lang)),
        partnership=html.escape(context.config.partnership),
        org=html.escape(org.name if org else invitation.org),
        intro=html.escape(intro),
    )
    text += "\n\n" + privacy_text(context, lang)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("consent_button", lang), callback_data=f"c:{token}")]]
    )
    await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def resume(update: Update, context: TrustscanContext, wave: Wave, session: Session) -> None:
    lang = user_lang(update, context, session)
    q = questionnaire_for(context, wave, session, lang)
    state = flow.state_of(q, session)
    step = q.step(state)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(t("resume", lang))
    if isinstance(step, Done):  # answered everything but the completion did not happen
        text, keyboard = await finish(context, q, session, state, lang, update.effective_chat.id)
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
        return
    await send_step(update, step, wave, lang)


async def consent(update: Update, context: TrustscanContext) -> None:
    """Consent button: begin with the link's role, or ask one of the open roles.

    Restricted roles (council, administrators) are never offered: they come only with
    a link that fixes them.
    """
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    token = query.data[2:]
    invitation = await context.store.invitation(token)
    wave = await resolve_wave(context, invitation) if invitation else None
    if invitation is None or wave is None or not wave.is_open:
        await query.answer(t("wave_closed", lang), show_alert=True)
        return
    if invitation.role is not None:
        await begin(update, context, wave, invitation.org, invitation.role, lang)
        return
    offered = context.config.open_roles()
    if not offered:  # every role is restricted: this link cannot be used
        await query.answer(t("role_needs_link", lang), show_alert=True)
        return
    if len(offered) == 1:
        await begin(update, context, wave, invitation.org, offered[0].id, lang)
        return
    await query.answer()
    rows = [
        [InlineKeyboardButton(role.label.get(lang), callback_data=f"r:{token}:{role.id}")]
        for role in offered
    ]
    await edit(query.message, t("choose_role", lang), InlineKeyboardMarkup(rows))


async def choose_role(update: Update, context: TrustscanContext) -> None:
    """Role button: begin the questionnaire with the chosen role.

    Only a role the link offers can be chosen: none when the link fixes a role (its own
    role wins), and never a restricted one (forged data is refused; nothing is stored).
    """
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = user_lang(update, context)
    _, token, role_id = [*query.data.split(":"), "", ""][:3]
    invitation = await context.store.invitation(token)
    wave = await resolve_wave(context, invitation) if invitation else None
    role = context.config.role(role_id)
    if invitation is None or wave is None or not wave.is_open or role is None:
        await query.answer(t("outdated", lang), show_alert=False)
        return
    if invitation.role is not None and role.id != invitation.role:
        await query.answer(t("outdated", lang), show_alert=False)
        return
    if invitation.role is None and role.restricted:
        await query.answer(t("role_needs_link", lang), show_alert=True)
        return
    await begin(update, context, wave, invitation.org, role.id, lang)


async def begin(
    update: Update, context: TrustscanContext, wave: Wave, org: str, role: str, lang: str
) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        session = await context.store.begin(wave.id, update.effective_user.id, org, role, lang)
    except WaveClosedError:
        await query.answer(t("wave_closed", lang), show_alert=True)
        return
    await query.answer()
    if session.completed:
        await edit(query.message, t("already_done", lang))
        return
    lang = session.lang or lang
    q = questionnaire_for(context, wave, session, lang)
    step = q.step(flow.state_of(q, session))
    if isinstance(step, Done):
        assert update.effective_chat is not None
        chat_id = update.effective_chat.id
        await edit(
            query.message,
            *await finish(context, q, session, flow.state_of(q, session), lang, chat_id),
        )
        return
    await edit(query.message, *render_step(step, wave.id, lang))


# -- answering ----------------------------------------------------------------------------


async def press(update: Update, context: TrustscanContext) -> None:
    """Any answer-area button: answer, don't know, skip, back, next, and the widgets."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    decoded = decode(query.data)
    lang = user_lang(update, context)
    if decoded is None:
        await query.answer(t("outdated", lang))
        return
    try:
        wave = await context.services.wave(decoded.wave)
        session = await context.store.find_session(wave.id, update.effective_user.id)
    except (UnknownWaveError, WaveClosedError):
        await query.answer(t("wave_closed", lang))
        return
    if session is None or session.completed:
        await query.answer(t("outdated", lang))
        return
    lang = user_lang(update, context, session)
    q = questionnaire_for(context, wave, session, lang)
    state = flow.state_of(q, session)
    if decoded.index != state.cursor or state.cursor >= len(q.items):
        await query.answer(t("outdated", lang))
        return
    try:
        if decoded.action in "ml":
            step = q.step(state)
            assert isinstance(step, QuestionStep)
            await redraw_widget(query.message, decoded, step, wave, lang)
            await query.answer()
            return
        change = act(q, state, decoded)
        await flow.persist(context.store, q, session, state, change)
    except AnswerError as exc:
        await query.answer(hint(exc, lang))
        return
    except (StaleStepError, ValueError, IndexError):
        await query.answer(t("outdated", lang))
        return
    await query.answer()
    assert update.effective_chat is not None
    await show_next(
        query.message, context, q, session, change.state, wave, lang, update.effective_chat.id
    )


def act(q: Questionnaire, state: State, press_: Press) -> Change:
    """Translate a press at the cursor into an engine action (widgets' final values too)."""
    index = press_.index
    question = q.items[index].question
    match press_.action:
        case "a":
            return q.answer(state, index, answer_value(press_, question))
        case "k":
            return q.dont_know(state, index)
        case "s":
            return q.skip(state, index)
        case "b":
            return q.back(state, index)
        case "n":
            return q.proceed(state, index)
        case "M":
            chosen = int(press_.args[0], 16)
            return q.answer(
                state,
                index,
                tuple(o.value for i, o in enumerate(question.options) if chosen >> i & 1),
            )
        case "L":
            points = parse_points(press_.args[0], len(question.options), question.total)
            return q.answer(state, index, points)
    raise ValueError(f"unknown action {press_.action!r}")


async def redraw_widget(
    message: Message | None, press_: Press, step: QuestionStep, wave: Wave, lang: str
) -> None:
    """Multi toggles and allocate +/− only redraw the message; nothing is stored yet."""
    q = step.question
    if press_.action == "m":
        mask, option = int(press_.args[0], 16), int(press_.args[1])
        if not 0 <= option < len(step.choices):
            raise ValueError("no such option")
        mask ^= 1 << option
        if bin(mask).count("1") > q.max_choices:
            raise AnswerError("choose_between", low=q.min_choices, high=q.max_choices)
        await edit(message, *render_step(step, wave.id, lang, widget=mask))
        return
    points = parse_points(press_.args[0], len(step.choices), q.total)
    option, op = int(press_.args[1][:-1]), press_.args[1][-1]
    points = adjust_points(points, option, op, q.step, q.total)
    await edit(message, *render_step(step, wave.id, lang, widget=points))


async def show_next(
    message: Message | None,
    context: TrustscanContext,
    q: Questionnaire,
    session: Session,
    state: State,
    wave: Wave,
    lang: str,
    chat_id: int,
    send_new: Update | None = None,
) -> None:
    """After a stored step: the next question, or the thank-you when all is answered."""
    step = q.step(state)
    if isinstance(step, Done):
        text, keyboard = await finish(context, q, session, state, lang, chat_id)
    else:
        text, keyboard = render_step(step, wave.id, lang)
    if send_new is not None and send_new.effective_chat is not None:
        await send_new.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    else:
        await edit(message, text, keyboard)


async def text_answer(update: Update, context: TrustscanContext) -> None:
    """A typed message: the answer to an open question, or a hint to use the buttons."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    active = await in_progress(context, update.effective_user.id)
    lang = user_lang(update, context)
    if not active:
        await message.reply_text(t("not_in_survey", lang))
        return
    wave, session = active[0]
    lang = user_lang(update, context, session)
    q = questionnaire_for(context, wave, session, lang)
    state = flow.state_of(q, session)
    step = q.step(state)
    if isinstance(step, Done):
        await resume(update, context, wave, session)
        return
    if step.type != "text":
        await message.reply_text(t("use_buttons", lang))
        await send_step(update, step, wave, lang)
        return
    try:
        change = q.answer(state, step.index, message.text or "")
        await flow.persist(context.store, q, session, state, change, message_id=message.message_id)
    except AnswerError as exc:
        await send_step(update, step, wave, lang, hint_text=hint(exc, lang))
        return
    except StaleStepError:
        return  # the same message delivered twice: it was stored the first time
    assert update.effective_chat is not None
    await show_next(
        None, context, q, session, change.state, wave, lang, update.effective_chat.id, update
    )


async def unknown_press(update: Update, context: TrustscanContext) -> None:
    """Any other callback data (forged, or from an old version): a toast, nothing stored."""
    query = update.callback_query
    assert query is not None
    await query.answer(t("outdated", user_lang(update, context)))


# -- opt-in, pause, erase, language, help ---------------------------------------------------


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
        await query.answer(t("outdated", lang))
        return
    await context.store.set_contact(update.effective_chat.id, org, lang)
    await query.answer()
    await edit(query.message, t("notify_ok", lang))


async def stop(update: Update, context: TrustscanContext) -> None:
    """/stop: pause (everything is already stored) and stop notifications."""
    assert update.effective_message is not None and update.effective_chat is not None
    await context.store.remove_contact(update.effective_chat.id)
    lang = user_lang(update, context)
    await update.effective_message.reply_text(t("stopped", lang) + "\n" + t("unsubscribed", lang))


async def delete(update: Update, context: TrustscanContext) -> None:
    """/delete: ask to confirm erasing the answers in progress."""
    assert update.effective_message is not None
    lang = user_lang(update, context)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("delete_yes", lang), callback_data="x"),
                InlineKeyboardButton(t("cancel", lang), callback_data="X"),
            ]
        ]
    )
    await update.effective_message.reply_text(t("delete_confirm", lang), reply_markup=keyboard)


async def delete_confirmed(update: Update, context: TrustscanContext) -> None:
    """Confirmation of /delete: erase every unfinished response of this person."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    lang = user_lang(update, context)
    await query.answer()
    if query.data == "X":
        await edit(query.message, t("cancelled", lang))
        return
    erased, pending = False, False
    for _, session in await in_progress(context, update.effective_user.id):
        try:
            erased = await context.store.delete_in_progress(session) or erased
        except UnlinkPendingError:
            erased, pending = True, True
    reply = "deleted_pending" if pending else "deleted" if erased else "nothing_to_delete"
    await edit(query.message, t(reply, lang))


async def language(update: Update, context: TrustscanContext) -> None:
    """/language: offer Dutch or English."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Nederlands", callback_data="g:nl"),
                InlineKeyboardButton("English", callback_data="g:en"),
            ]
        ]
    )
    await update.effective_message.reply_text("Taal / language?", reply_markup=keyboard)


async def language_chosen(update: Update, context: TrustscanContext) -> None:
    """A language button: remember it for this chat and for the answers in progress."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    lang = "en" if query.data == "g:en" else "nl"
    if context.user_data is not None:
        context.user_data["lang"] = lang
    for _, session in await in_progress(context, update.effective_user.id):
        await context.store.set_language(session, lang)
    await query.answer()
    await edit(query.message, t("language_set", lang))


async def help_command(update: Update, context: TrustscanContext) -> None:
    """/help: what the bot does and its commands."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(t("help", user_lang(update, context)))


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
        "privacy",
        lang,
        k=k,
        k_comments=context.config.min_group_size_comments,
        k_minus_1=k - 1,
    )
