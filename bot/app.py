"""Build the python-telegram-bot Application: wiring only, no behaviour.

The store opens in `post_init` and closes in `post_shutdown`; the scheduler job is
(re)created in `post_init`, since jobs are not persisted. `trustscan run` calls `run`.
"""

from __future__ import annotations

import html
import logging
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from surveys.i18n import LANGUAGES, section, t
from surveys.keys import load_or_create_key
from surveys.model import Survey
from trustscan.config import Config
from trustscan.services import load_registry, open_store

from . import callbacks, facilitator, jobs, respondent
from .context import Clock, Services, TrustscanContext
from .optin import PATTERN as OPT_IN_PATTERN
from .optin import opt_in_key
from .ratelimit import PatientRateLimiter

log = logging.getLogger(__name__)


class NoTokenError(Exception):
    """`trustscan run` without a bot token."""


def build_application(
    config: Config,
    *,
    registry: dict[str, Survey] | None = None,
    clock: Clock | None = None,
    concurrent_updates: bool | int = 64,
    request: BaseRequest | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The configured Application, ready for polling or a webhook.

    `request` puts something in Telegram's place (handler tests record what the bot
    sends; benchmarks answer in-process). Telegram's flood limits are then not there to
    respect, so no rate limiter is installed with it.
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
        clock or Clock(config.reminders.timezone),
    )
    # ExtBot[int] with the rate limiter (its per-call argument type), ExtBot[None] without
    builder: ApplicationBuilder[ExtBot[Any], TrustscanContext, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .context_types(ContextTypes(context=TrustscanContext))
        .concurrent_updates(concurrent_updates)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.rate_limiter(PatientRateLimiter(max_retries=5))
    if config.telegram.api_base_url:
        base = config.telegram.api_base_url.rstrip("/")
        builder = builder.base_url(base if base.endswith("/bot") else base + "/bot")
        builder = builder.base_file_url(base.removesuffix("/bot") + "/file/bot")
    app = builder.build()
    app.bot_data["services"] = services
    add_handlers(app)
    return app


LANGUAGE_PATTERN = rf"^g:({'|'.join(LANGUAGES)})$"  # the /language buttons


def add_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    # Answer presses are by far the most frequent update: checked first. The callback
    # patterns are disjoint; only the catch-all for forged or outdated data comes last.
    app.add_handler(CallbackQueryHandler(respondent.press, pattern=callbacks.PRESS_PATTERN))
    app.add_handler(CommandHandler("start", respondent.start, filters=private))
    app.add_handler(CommandHandler("help", respondent.help_command, filters=private))
    app.add_handler(CommandHandler("privacy", respondent.privacy, filters=private))
    app.add_handler(CommandHandler("language", respondent.language, filters=private))
    app.add_handler(CommandHandler("stop", respondent.stop, filters=private))
    app.add_handler(CommandHandler("delete", respondent.delete, filters=private))
    app.add_handler(CommandHandler("waves", facilitator.waves, filters=private))
    app.add_handler(CommandHandler("invite", facilitator.invite, filters=private))
    app.add_handler(CommandHandler("openwave", facilitator.open_wave, filters=private))
    app.add_handler(CommandHandler("closewave", facilitator.close_wave, filters=private))
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
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, respondent.text_answer)
    )
    app.add_error_handler(on_error)


async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    services.store = await open_store(services.config)
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
    """Log the failure (never user ids or answers) and tell the person, if there is one."""
    error = context.error
    log.error(
        "error while handling %s: %s", type(update).__name__, type(error).__name__, exc_info=error
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        lang = respondent.user_lang(update, context)
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(t("bot.error", lang))
            else:
                await update.effective_chat.send_message(
                    html.escape(t("bot.error", lang)), parse_mode=ParseMode.HTML
                )
        except TelegramError:
            pass


def run(
    config: Config,
    *,
    webhook_url: str | None = None,
    listen: str = "127.0.0.1",
    port: int = 8443,
    secret_token: str | None = None,
) -> None:
    """Run until interrupted: long polling by default, a webhook when a URL is given."""
    app = build_application(config)
    if webhook_url:
        app.run_webhook(
            listen=listen,
            port=port,
            url_path=urlparse(webhook_url).path.strip("/"),
            webhook_url=webhook_url,
            secret_token=secret_token,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
