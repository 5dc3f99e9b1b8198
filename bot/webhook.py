"""`trustscan run --webhook-url`: our own small webhook server in front of the Application.

python-telegram-bot's webhook server parses each posted update itself. One it cannot
read (a poll message without fields a newer Bot API made required, say) is answered
400 and logged CRITICAL with its whole content: Telegram then delivers it again and
again, and the log holds what a person wrote. Its parsing cannot be replaced, so this
module follows the library's documented "custom webhook" pattern instead: a tornado
server (tornado comes with python-telegram-bot's webhooks extra) reads each post with
`parse_update`, which skips an unreadable update with one line that names only its id
and the error type, and answers 200 so Telegram moves on. The Application is driven
the way `Application.run_webhook` drives it (initialize, post_init, start; on a stop
signal: stop, shutdown, post_shutdown).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from telegram.ext import Application, ExtBot
from tornado.httpserver import HTTPServer

from .updates import parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class Hook:
    """Where Telegram posts updates and where this process listens for them."""

    url: str
    listen: str
    port: int
    secret_token: str | None

    @property
    def path(self) -> str:
        return "/" + urlparse(self.url).path.strip("/")


class UpdatePost(tornado.web.RequestHandler):
    """One POST from Telegram: checked, read on its own, handed to the Application."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: AnyApplication, secret_token: str | None) -> None:
        self.app = app
        self.secret_token = secret_token

    async def post(self) -> None:
        if self.request.headers.get("Content-Type") != "application/json" or not self.genuine():
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            raw = json.loads(self.request.body)
        except ValueError:
            log.warning("skipped a webhook post: it is not JSON")
            return  # answered 200: sending it again would not make it readable
        update = parse_update(raw, self.app.bot)
        if update is None:
            return  # logged by parse_update; answered 200 so Telegram moves on
        if isinstance(self.app.bot, ExtBot):
            self.app.bot.insert_callback_data(update)
        await self.app.update_queue.put(update)

    def genuine(self) -> bool:
        """Whether the post carries our secret token (any post does when none is set)."""
        if self.secret_token is None:
            return True
        given = self.request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret_token.encode())

    def log_exception(self, *args: Any) -> None:
        """A refused post is answered 403; it needs no traceback in the log."""


def no_access_log(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log would add a line per update; the bot logs what matters."""


def listen(app: AnyApplication, hook: Hook) -> HTTPServer:
    """Start accepting posts on the hook's address (the loop serves them)."""
    web = tornado.web.Application(
        [(rf"{hook.path}/?", UpdatePost, {"app": app, "secret_token": hook.secret_token})],
        log_function=no_access_log,
    )
    server = HTTPServer(web)
    server.listen(hook.port, address=hook.listen)
    return server


async def serve(app: AnyApplication, hook: Hook, stop: asyncio.Event) -> None:
    """Run the Application behind the webhook until `stop` is set, then wind it down."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.bot.set_webhook(
            hook.url, allowed_updates=Update.ALL_TYPES, secret_token=hook.secret_token
        )
        server = listen(app, hook)
        try:
            await app.start()
            await stop.wait()
        finally:
            server.stop()
            await server.close_all_connections()
            if app.running:
                await app.stop()
                if app.post_stop:
                    await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


def run_webhook(app: AnyApplication, hook: Hook, loop: asyncio.AbstractEventLoop) -> None:
    """Serve in `loop` until SIGINT, SIGTERM or SIGABRT; then close the loop."""
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(serve(app, hook, stop))
    finally:
        loop.close()
