"""`trustscan run --webhook-url`: our own small webhook server in front of the Application.

python-telegram-bot's webhook server parses each posted update itself. One it cannot
read (a poll message without fields a newer Bot API made required, say) is answered
400 and logged CRITICAL with its whole content: Telegram then delivers it again and
again, and the log holds what a person wrote. Its parsing cannot be replaced, so this
module follows the library's documented "custom webhook" pattern instead: a tornado
server (tornado comes with python-telegram-bot's webhooks extra) reads each post with
`parse_update`, which skips an unreadable update with one line that names only its id
and the error type, and answers 200 so Telegram moves on. The Application is driven
by `bot.lifecycle`, as for long polling, so a stop signal stops it within seconds.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from telegram.ext import ExtBot
from tornado.httpserver import HTTPServer

from .lifecycle import AnyApplication
from .updates import parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class UnsafeWebhookError(Exception):
    """A webhook that would take posts from anyone: refused before it starts."""


NO_SECRET = (
    "a webhook needs --secret-token: without it anyone who can reach the server can post "
    "updates in any Telegram user's name (only for a test on this machine: "
    "--insecure-loopback with a loopback --listen address)"
)
NOT_LOOPBACK = (
    "--insecure-loopback only goes with a loopback --listen address (127.0.0.1, ::1 or "
    "localhost): anywhere else the webhook needs --secret-token"
)


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

    def check(self, *, insecure_loopback: bool = False) -> None:
        """Refuse a webhook any forged post could drive (`UnsafeWebhookError`).

        Without a secret token a post with any `from.id` would answer, or `/delete`, as
        that person. Only a test on this machine may go without: on a loopback address,
        and only when it says so.
        """
        if self.secret_token:
            return
        if not insecure_loopback:
            raise UnsafeWebhookError(NO_SECRET)
        if not loopback(self.listen):
            raise UnsafeWebhookError(NOT_LOOPBACK)


def loopback(address: str) -> bool:
    """Whether `address` is reachable from this machine only."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class UpdatePost(tornado.web.RequestHandler):
    """One POST from Telegram: checked, read on its own, handed to the Application."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: AnyApplication, secret_token: str | None) -> None:
        self.app = app
        self.secret_token = secret_token

    async def post(self) -> None:
        """Refuse a post without our secret (403); answer any other 200, used or skipped.

        Telegram sends a post again until it gets 200, so a body that cannot be used (not
        JSON, nested absurdly deep, not an update) is skipped with one line that names
        nothing of its content, and answered 200 all the same.
        """
        if not self.genuine():
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        body = self.request.body
        if self.request.headers.get("Content-Type") != "application/json":
            log.warning("skipped a webhook post: it is not JSON (%d bytes)", len(body))
            return
        if too_deep(body):
            log.warning(
                "skipped a webhook post: JSON nested deeper than %d levels (%d bytes)",
                MAX_DEPTH,
                len(body),
            )
            return
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("skipped a webhook post: it is not JSON (%d bytes)", len(body))
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


MAX_DEPTH = 64  # Telegram's updates nest about ten levels deep
STRING = re.compile(rb'"[^"]*"')  # a JSON string once its escapes are taken out
BRACKETS = re.compile(rb"[\[\]{}]")
DEPTH_STEP = {ord("{"): 1, ord("["): 1, ord("}"): -1, ord("]"): -1}


def too_deep(body: bytes) -> bool:
    """Whether `body` nests arrays or objects deeper than `MAX_DEPTH`, checked before it
    is parsed: the parser recurses, and a 20,000-deep body would exhaust it.

    Cheap and linear: counting brackets settles almost every body at C speed. A body
    with many brackets loses its escaped backslashes and quotes, then its strings
    (which may hold brackets), and only the brackets left are walked.
    """
    if body.count(b"{") + body.count(b"[") <= MAX_DEPTH:
        return False
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    depth = 0
    for bracket in BRACKETS.findall(STRING.sub(b"", plain)):
        depth += DEPTH_STEP[bracket[0]]
        if depth > MAX_DEPTH:
            return True
    return False


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


class WebhookIntake:
    """Updates posted to our own server: registered with Telegram, then listened for."""

    def __init__(self, app: AnyApplication, hook: Hook) -> None:
        self.app = app
        self.hook = hook
        self.server: HTTPServer | None = None

    async def start(self) -> None:
        await self.app.bot.set_webhook(
            self.hook.url, allowed_updates=Update.ALL_TYPES, secret_token=self.hook.secret_token
        )
        self.server = listen(self.app, self.hook)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()
            self.server = None
