"""Build the python-telegram-bot Application: wiring only, no behaviour.

The store opens in `post_init` and closes in `post_shutdown`; the scheduler job is
(re)created in `post_init`, since jobs are not persisted. `trustscan run` calls `run`.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any, NamedTuple

from telegram import Bot, BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from surveys.i18n import LANGUAGES, section, t
from surveys.keys import load_or_create_key
from surveys.model import Survey
from trustscan.clock import Clock, partnership_clock
from trustscan.config import Config
from trustscan.services import load_registry, open_store

from . import callbacks, codes, facilitator, jobs, lifecycle, respondent
from .answering import PressAnswer
from .context import Services, TrustscanContext
from .language import user_lang
from .optin import PATTERN as OPT_IN_PATTERN
from .optin import opt_in_key
from .outbox import Outbox, OutboxClosed
from .timing import Timing
from .updates import ReadableUpdates
from .webhook import Hook, WebhookIntake

log = logging.getLogger(__name__)


STUB_CONCURRENCY = 64
OUTBOX_CONCURRENCY = 4096


class NoTokenError(Exception):
    """`trustscan run` without a bot token."""


class BadTokenError(Exception):
    """Telegram does not accept the bot token."""


BAD_TOKEN = (
    "Telegram does not accept the bot token: check TRUSTSCAN_TOKEN (or [telegram] token "
    "in the config) against the token @BotFather gave you."
)


def build_application(
    config: Config,
    *,
    registry: dict[str, Survey] | None = None,
    clock: Clock | None = None,
    concurrent_updates: bool | int | None = None,
    request: BaseRequest | None = None,
    timing: Timing | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The configured Application, ready for polling or a webhook.

    `request` puts something in Telegram's place (handler tests record what the bot
    sends; benchmarks answer in-process). Telegram's flood limits are then not there to
    respect, so no outbox is installed with it. With the outbox, a handler waits for its
    message's turn: many handlers may wait at once, so many run concurrently (a waiting
    one costs a suspended coroutine), and a press is never held back behind them.
    `timing` shortens the bot's waits (tests; see `bot.timing`).
    """
    if not config.telegram.token:
        raise NoTokenError(
            "no Telegram bot token: set TRUSTSCAN_TOKEN (or [telegram] token in the config). "
            "Get a token from @BotFather. Without one, try `trustscan demo` or "
            "`trustscan preview trust`."
        )
    services = Services(
        config,
        registry if registry is not None else load_registry(config),
        clock or partnership_clock(config),
        timing or Timing(),
    )
    # ExtBot[int] with the rate limiter (its per-call argument type), ExtBot[None] without
    builder: ApplicationBuilder[ExtBot[Any], TrustscanContext, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .context_types(ContextTypes(context=TrustscanContext))
        .concurrent_updates(
            concurrent_updates
            if concurrent_updates is not None
            else (STUB_CONCURRENCY if request is not None else OUTBOX_CONCURRENCY)
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.rate_limiter(Outbox(timing=services.timing)).get_updates_request(
            ReadableUpdates(HTTPXRequest(connection_pool_size=1))
        )
    urls = api_urls(config)
    if urls is not None:
        builder = builder.base_url(urls.api).base_file_url(urls.files)
    app = builder.build()
    app.bot_data["services"] = services
    add_handlers(app)
    return app


class ApiUrls(NamedTuple):
    """Where a self-hosted (or fake) Bot API server answers."""

    api: str
    files: str


def api_urls(config: Config) -> ApiUrls | None:
    """The configured Bot API server's URLs, or None for Telegram's own."""
    if not config.telegram.api_base_url:
        return None
    base = config.telegram.api_base_url.rstrip("/")
    return ApiUrls(
        base if base.endswith("/bot") else base + "/bot", base.removesuffix("/bot") + "/file/bot"
    )


LANGUAGE_PATTERN = rf"^g:({'|'.join(LANGUAGES)})$"  # the /language buttons


async def recall(update: Update, context: TrustscanContext) -> None:
    """Hand the session secret a press carries to the store (`Store.recall`)."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_user is None:
        return
    secret = callbacks.secret_of(query.data)
    if secret is not None:
        await context.store.recall(update.effective_user.id, secret)


def add_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    # group -2: a button of a respondent's own flow carries their session secret; after a
    # restart it is how the store finds their draft again (before anything else looks)
    app.add_handler(CallbackQueryHandler(recall, pattern=callbacks.SIGNED_PATTERN), group=-2)
    # group -1: single-use codes of restricted roles go first; they stop the update when
    # they take it (a restricted role's link, an awaited code), else the flow goes on
    app.add_handler(CommandHandler("start", codes.start, filters=private), group=-1)
    app.add_handler(CallbackQueryHandler(codes.consent_or_role, pattern=codes.PRESS_PATTERN), -1)
    text = filters.TEXT & ~filters.COMMAND & private
    app.add_handler(MessageHandler(text, codes.typed), group=-1)
    # Answer presses are by far the most frequent update: checked first. The callback
    # patterns are disjoint; only the catch-all for forged or outdated data comes last.
    app.add_handler(CallbackQueryHandler(respondent.press, pattern=callbacks.PRESS_PATTERN))
    app.add_handler(CommandHandler("start", respondent.start, filters=private))
    app.add_handler(CommandHandler("help", respondent.help_command, filters=private))
    app.add_handler(CommandHandler("privacy", respondent.privacy, filters=private))
    app.add_handler(CommandHandler("language", respondent.language, filters=private))
    app.add_handler(CommandHandler("stop", respondent.stop, filters=private))
    app.add_handler(CommandHandler("unsubscribe", respondent.unsubscribe, filters=private))
    unsubscribe = respondent.unsubscribe_pressed
    app.add_handler(CallbackQueryHandler(unsubscribe, pattern=respondent.UNSUBSCRIBE_PATTERN))
    # group 1 sees every command after group 0; it answers only those no handler knows
    app.add_handler(MessageHandler(filters.COMMAND & private, respondent.unknown_command), group=1)
    app.add_handler(CommandHandler("delete", respondent.delete, filters=private))
    app.add_handler(CommandHandler("waves", facilitator.waves, filters=private))
    app.add_handler(CommandHandler("invite", facilitator.invite, filters=private))
    app.add_handler(CommandHandler("openwave", facilitator.open_wave, filters=private))
    app.add_handler(CommandHandler("closewave", facilitator.close_wave, filters=private))
    app.add_handler(CommandHandler("renamewave", facilitator.rename_wave, filters=private))
    app.add_handler(CommandHandler("extendwave", facilitator.extend_wave, filters=private))
    app.add_handler(
        CallbackQueryHandler(facilitator.waves_paged, pattern=facilitator.WAVES_PAGE_PATTERN)
    )
    app.add_handler(CommandHandler("report", facilitator.report, filters=private))
    app.add_handler(CallbackQueryHandler(respondent.consent, pattern=callbacks.CONSENT_PATTERN))
    app.add_handler(CallbackQueryHandler(respondent.choose_role, pattern=callbacks.ROLE_PATTERN))
    app.add_handler(CallbackQueryHandler(respondent.opt_in, pattern=OPT_IN_PATTERN))
    app.add_handler(
        CallbackQueryHandler(respondent.delete_confirmed, pattern=callbacks.DELETE_PATTERN)
    )
    app.add_handler(CallbackQueryHandler(respondent.language_chosen, pattern=LANGUAGE_PATTERN))
    app.add_handler(
        CallbackQueryHandler(facilitator.close_wave_confirmed, pattern=callbacks.CLOSE_WAVE_PATTERN)
    )
    app.add_handler(CallbackQueryHandler(respondent.unknown_press))  # forged or outdated data
    app.add_handler(MessageHandler(text, respondent.text_answer))
    app.add_error_handler(on_error)


async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    if services.store is None:  # `run` opens it before waiting for Telegram
        services.store = await open_store(services.config, services.clock)
    # who gave the completions still waiting was known only to the process that ended
    await services.store.release_left_waiting()
    services.opt_in_key = opt_in_key(
        load_or_create_key(services.config.key_file, services.config.master_key)
    )
    for lang in LANGUAGES:
        commands = section("commands", lang).items()
        try:
            await app.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], language_code=lang
            )
        except TelegramError as exc:
            log.warning("could not register bot commands: %s", exc)
    if app.job_queue is not None:
        app.job_queue.run_repeating(jobs.tick, interval=jobs.TICK_SECONDS, first=1, name="tick")


async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    await services.close()


async def on_error(update: object, context: TrustscanContext) -> None:
    """Log the failure (never user ids or answers) and tell the person, if there is one.

    An update whose handler failed goes no further: no later handler group (the codes'
    group −1 comes before the flow's) answers it a second time.
    """
    error = context.error
    if isinstance(error, OutboxClosed):  # stopping: the outbox says how much was not sent
        return
    if isinstance(error, TelegramError):  # Telegram's hiccup, already retried: one line
        log.warning("Telegram failed while handling %s: %s", type(update).__name__, error)
    else:
        log.error(
            "error while handling %s: %s",
            type(update).__name__,
            type(error).__name__,
            exc_info=error,
        )
    if isinstance(update, Update) and update.effective_chat is not None:
        lang = user_lang(update, context)
        try:  # a press already answered, or too late for a toast: the words in the chat
            if update.callback_query is None or not await PressAnswer(update)(t("bot.error", lang)):
                await update.effective_chat.send_message(
                    html.escape(t("bot.error", lang)), parse_mode=ParseMode.HTML
                )
        except TelegramError:
            pass
    if isinstance(update, Update):
        raise ApplicationHandlerStop


def run(
    config: Config,
    *,
    webhook_url: str | None = None,
    listen: str = "127.0.0.1",
    port: int = 8443,
    secret_token: str | None = None,
    insecure_loopback: bool = False,
) -> None:
    """Run until SIGTERM or SIGINT: long polling by default, a webhook when a URL is given.

    A webhook without a secret token is refused (`UnsafeWebhookError`) unless it listens
    on this machine only and `insecure_loopback` says that is meant (tests). The database
    is opened first, so a wrong master key or an unwritable file is one sentence at once.
    Then the bot waits for Telegram (see `wait_for_telegram`), so a bot started before the
    network is up comes up with it instead of exiting. A stop signal stops it within
    seconds (see `bot.lifecycle`).
    """
    hook = Hook(webhook_url, listen, port, secret_token) if webhook_url else None
    if hook is not None:
        hook.check(insecure_loopback=insecure_loopback)
    app = build_application(config)
    services: Services = app.bot_data["services"]
    quiet_hiccups()
    loop = asyncio.new_event_loop()  # the bot goes on in this loop
    asyncio.set_event_loop(loop)
    try:
        services.store = loop.run_until_complete(open_store(config, services.clock))
        loop.run_until_complete(wait_for_telegram(config, services.timing))
    except BaseException:
        lifecycle.close_loop(loop, services.close())
        raise
    # our own webhook server, so an unreadable update is skipped (see bot.webhook)
    intake = WebhookIntake(app, hook) if hook is not None else lifecycle.Polling(app)
    lifecycle.run(app, intake, loop)


class OneLine(logging.Filter):
    """Telegram's handled hiccups (a 502 page, a refused connection) as one line.

    python-telegram-bot logs a failed fetch of updates with a full traceback and then
    simply tries again; the traceback says nothing the one line does not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "telegram.request.BaseRequest" and record.levelno >= logging.ERROR:
            return False  # a page that is not JSON: the failed request says so in one line
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, TelegramError):
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
        return True


ONE_LINE = OneLine()
LIBRARY_LOGGERS = (
    "telegram.ext.Updater",
    "telegram.ext",
    "telegram.ext.Application",
    "telegram.request.BaseRequest",
)


def quiet_hiccups() -> None:
    """Log the library's handled Telegram failures in one line each (see `OneLine`)."""
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).addFilter(ONE_LINE)


async def wait_for_telegram(
    config: Config, timing: Timing | None = None, *, sleep: Any = asyncio.sleep
) -> None:
    """Return once Telegram answers with the bot's account; retry while it cannot be reached.

    Each failed attempt is one log line; the pause doubles from `Timing.start_first` (a
    second) up to `Timing.start_most` (a minute). A token
    Telegram refuses is a `BadTokenError` at once: waiting would not help.
    """
    urls = api_urls(config)
    bot = Bot(
        config.telegram.token or "",
        base_url=urls.api if urls else "https://api.telegram.org/bot",
        base_file_url=urls.files if urls else "https://api.telegram.org/file/bot",
    )
    timing = timing or Timing()
    delay = timing.start_first
    while True:
        try:
            async with bot:
                return
        except InvalidToken:  # its message repeats the token: not shown
            raise BadTokenError(BAD_TOKEN) from None
        except NetworkError as exc:  # TimedOut included; 5xx and refused connections
            log.warning("Telegram cannot be reached (%s); trying again in %.0f s", exc, delay)
        await sleep(delay)
        delay = min(delay * 2, timing.start_most)
