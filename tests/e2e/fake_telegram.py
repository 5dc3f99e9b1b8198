"""A small fake Telegram Bot API server for end-to-end tests (aiohttp, real HTTP).

It speaks the subset of the Bot API that trustscan uses, with responses shaped like
Telegram's: getMe, getUpdates (offset semantics and long polling), sendMessage,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendPhoto,
sendDocument, sendMediaGroup, setMyCommands, deleteWebhook and friends. Tests play
the users: they push updates (commands, text, button presses) and read what the bot
sent. Failures can be injected: 429 flood control with retry_after, 5xx, and 403 for
chats that blocked the bot. Like Telegram, it can answer slowly (`delay`), keep flood
limits (`limits`: about 30 messages a second per bot and one new message a second per
chat, else 429; `second` shortens those seconds, for a bot run with `Timing.paced` by the
same factor), and refuse to answer a button press more than 15 seconds old. It can
be down (`down`: every request but getUpdates loses its connection without an answer,
as in an outage) and hold requests (`hold`: they hang until `release`, then go
unrecorded, as for a bot killed while waiting for Telegram).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Trustscan", "username": "TestBot"}
JSON_FIELDS = {
    "reply_markup",
    "commands",
    "media",
    "allowed_updates",
    "entities",
    "scope",
    "link_preview_options",
    "reply_parameters",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"}


ERRORS = {401: "Unauthorized", 404: "Not Found", 502: "Bad Gateway"}
BAD_GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
QUERY_TIMEOUT = 15.0  # Telegram's deadline for answering a button press
TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's flood control as token buckets: a burst, then a steady rate.

    Every request about a chat counts against the bot's budget (answering a button
    press does not); new messages (send*) also against the chat's.
    """

    per_second: float = 30.0
    burst: float = 30.0
    per_chat_second: float = 1.0
    per_chat_burst: float = 4.0

    def scaled(self, factor: float) -> FloodLimits:
        """The same limits where a second lasts `factor` seconds, as `Timing.paced` runs
        the bot: rates ÷ factor, the same bursts; a 429's "retry after 1" is then one
        such second too (`Timing.flood_second`)."""
        return dataclasses.replace(
            self, per_second=self.per_second / factor, per_chat_second=self.per_chat_second / factor
        )


@dataclass
class Bucket:
    rate: float
    tokens: float
    capacity: float
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


WAIT_LIMIT = 60.0  # seconds before an awaited event counts as never coming


class FakeTelegram:
    """The server; `base_url` goes into the bot's `api_base_url`."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0
        self.delivered = 0  # the newest update id handed to the bot by getUpdates
        self.pushed = 0  # the newest update id queued by the test
        self.answering = 0  # requests other than getUpdates being answered right now
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chat_log: dict[int, list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.failures: list[tuple[str, int, int]] = []  # (method, status, retry_after)
        self.blocked: set[int] = set()
        self.pages: list[str] = []  # methods to answer once with a proxy's 502 HTML page
        self.webhook: dict[str, Any] | None = None
        self.delay = 0.0  # seconds before each answer (not getUpdates'), like a slow network
        self.limits: FloodLimits | None = None
        self.query_timeout = QUERY_TIMEOUT
        self.second = 1.0  # how long one of Telegram's seconds lasts for `limits`
        self.flood_refusals = 0  # 429s answered because of `limits`
        self.late_answers = 0  # presses answered after QUERY_TIMEOUT (refused)
        self.pushed_at: dict[str, float] = {}  # callback query id -> when the person tapped
        self.down = False  # an outage: connections are dropped without an answer
        self.dropped: list[Call] = []  # the requests dropped while down
        self.hold: Callable[[str, dict[str, Any]], bool] | None = None  # which requests hang
        self.held: list[Call] = []
        self._released = asyncio.Event()
        self._bot_bucket: Bucket | None = None
        self._chat_buckets: dict[int, Bucket] = {}
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=50 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop at once: a long poll still open (a killed bot's) returns instead of waiting."""
        self._stopping = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test side --------------------------------------------------------------------

    async def push(self, update: dict[str, Any], *, twice: bool = False) -> int:
        """Queue an update (twice: the very same update delivered two times)."""
        update = {"update_id": next(self._update_ids), **update}
        self.pushed = int(update["update_id"])
        query = update.get("callback_query")
        if isinstance(query, dict):
            self.pushed_at.setdefault(str(query.get("id")), time.monotonic())
        async with self._changed:
            self.updates.append(update)
            if twice:
                self.updates.append(dict(update))
            self._changed.notify_all()
        return int(update["update_id"])

    async def push_all(self, updates: list[dict[str, Any]]) -> None:
        """Queue several updates at once: the bot fetches them together."""
        async with self._changed:
            for update in updates:
                self.updates.append({"update_id": next(self._update_ids), **update})
                self.pushed = int(self.updates[-1]["update_id"])
            self._changed.notify_all()

    def release(self) -> None:
        """Let the held requests go (unrecorded) and hold no more."""
        self.hold = None
        self._released.set()
        self._released = asyncio.Event()  # for a hold that comes later

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1
    ) -> None:
        self.failures.extend([(method, status, retry_after)] * times)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = WAIT_LIMIT) -> Any:
        """Wait until `predicate()` is truthy (re-checked whenever the server changes).

        The limit only ends a test that would otherwise hang: waiting costs nothing when
        the event comes, so it is generous enough for a loaded 2-core machine.
        """
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not (result := predicate()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        "condition not met; last calls: "
                        + ", ".join(c.method for c in self.calls[-8:])
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)
            return result

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages in a chat, in order, each as it looks now (after edits)."""
        return [self.messages[(chat_id, m["message_id"])] for m in self.chat_log.get(chat_id, [])]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # -- server side ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        """Answer one Bot API call, counting the calls in progress (`answering`)."""
        waiting = request.match_info["method"] != "getUpdates"
        self.answering += waiting
        try:
            return await self._answer(request)
        finally:
            self.answering -= waiting

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params)
        self.calls.append(call)
        async with self._changed:  # a request is news too (wait_for(calls_of(…)))
            self._changed.notify_all()
        if self.down and method != "getUpdates":
            self.dropped.append(call)
            async with self._changed:
                self._changed.notify_all()
            assert request.transport is not None
            request.transport.abort()  # no answer at all: the client's connection fails
            raise web.HTTPServiceUnavailable()
        if self.hold is not None and self.hold(method, params):
            self.held.append(call)
            async with self._changed:
                self._changed.notify_all()
            await self._released.wait()
            return self._error(502, 0)  # its client is gone: nothing is recorded
        if self.delay and method != "getUpdates":
            await asyncio.sleep(self.delay)
        refusal = self._refusal(method, params)
        if refusal is not None:
            return refusal
        if method in self.pages:
            self.pages.remove(method)
            return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
        for i, (name, status, retry_after) in enumerate(self.failures):
            if name == method:
                del self.failures[i]
                return self._error(status, retry_after)
        chat_id = params.get("chat_id")
        if chat_id in self.blocked and method.startswith("send"):
            return self._error(403, 0, "Forbidden: bot was blocked by the user")
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return self._error(404, 0, f"Not Found: method {method} is not faked")
        try:
            result = await handler(params)
        except LookupError as exc:
            return self._error(400, 0, f"Bad Request: {exc}")
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    def _refusal(self, method: str, params: dict[str, Any]) -> web.Response | None:
        """Telegram's 429 for a flood, or its 400 for a press answered too late."""
        if method == "answerCallbackQuery":
            tapped = self.pushed_at.get(str(params.get("callback_query_id")))
            if tapped is not None and time.monotonic() - tapped > self.query_timeout:
                self.late_answers += 1
                return self._error(400, 0, f"Bad Request: {TOO_OLD}")
            return None
        chat = params.get("chat_id")
        if self.limits is None or not isinstance(chat, int):
            return None
        limits = self.limits.scaled(self.second)
        if self._bot_bucket is None:
            self._bot_bucket = Bucket(limits.per_second, limits.burst, limits.burst)
        if method.startswith("send"):
            bucket = self._chat_buckets.setdefault(
                chat, Bucket(limits.per_chat_second, limits.per_chat_burst, limits.per_chat_burst)
            )
            if not bucket.take():
                self.flood_refusals += 1
                return self._error(429, 1)
        if not self._bot_bucket.take():
            self.flood_refusals += 1
            return self._error(429, 1)
        return None

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        params: dict[str, Any] = {}
        form = await request.post()
        for key, value in form.items():
            if hasattr(value, "file"):
                params[key] = value.file.read()
                params.setdefault("filename", value.filename)  # as Telegram keeps it
            elif key in JSON_FIELDS:
                params[key] = json.loads(str(value))
            elif key in INT_FIELDS:
                params[key] = int(str(value))
            else:
                params[key] = str(value)
        params.update({k: int(v) for k, v in request.query.items() if k in INT_FIELDS})
        return params

    @staticmethod
    def _error(status: int, retry_after: int, description: str | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if status == 429:
            body["description"] = f"Too Many Requests: retry after {retry_after}"
            body["parameters"] = {"retry_after": retry_after}
        else:
            body["description"] = description or ERRORS.get(status, "Internal Server Error")
        return web.json_response(body, status=status)

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "User"},
            "from": BOT_USER,
            **{k: v for k, v in content.items() if v is not None},
        }
        self.messages[(chat_id, message["message_id"])] = message
        self.chat_log.setdefault(chat_id, []).append(message)
        return message

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self.confirmed = max(self.confirmed, offset)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.updates and not self._stopping and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
            batch = self.updates[: int(params.get("limit") or 100)]
        if batch:
            self.delivered = max(self.delivered, int(batch[-1]["update_id"]))
        return batch

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return []

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._message(
            int(params["chat_id"]), text=params["text"], reply_markup=params.get("reply_markup")
        )

    async def api_editMessageText(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise LookupError("message to edit not found")
        message = self.messages[key]
        if message.get("text") == params["text"] and message.get("reply_markup") == params.get(
            "reply_markup"
        ):
            raise LookupError(
                "message is not modified: specified new message content and "
                "reply markup are exactly the same"
            )
        message["text"] = params["text"]
        message["edit_date"] = int(time.time())
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise LookupError("message to edit not found")
        message = self.messages[key]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.callback_answers[str(params["callback_query_id"])] = params
        return True

    async def api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def api_sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._message(
            int(params["chat_id"]),
            caption=params.get("caption"),
            photo=[self._file(params.get("photo"))],
        )

    async def api_sendDocument(self, params: dict[str, Any]) -> Any:
        document = self._file(params.get("document"))
        document["file_name"] = params.get("filename") or "document"
        return self._message(
            int(params["chat_id"]), caption=params.get("caption"), document=document
        )

    async def api_sendMediaGroup(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        messages = []
        for item in params["media"]:
            media = item["media"]
            data = params.get(media.removeprefix("attach://")) if isinstance(media, str) else None
            messages.append(
                self._message(chat_id, caption=item.get("caption"), photo=[self._file(data)])
            )
        return messages

    def _file(self, data: Any) -> dict[str, Any]:
        """A Telegram file object; the uploaded bytes are kept in `files` by file_id."""
        content = data if isinstance(data, bytes) else b""
        n = next(self._ids)
        self.files[f"file{n}"] = content
        return {
            "file_id": f"file{n}",
            "file_unique_id": f"u{n}",
            "width": 100,
            "height": 100,
            "file_size": len(content),
        }


class FakeUser:
    """A person in a private chat with the bot, driven by a test."""

    _callback_ids = itertools.count(1)

    def __init__(self, server: FakeTelegram, user_id: int, language_code: str = "nl") -> None:
        self.server = server
        self.id = user_id
        self.language_code = language_code
        self._message_ids = itertools.count(10_000)
        self.seen: list[str] = []  # every text the person saw, edits included

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": "Respondent",
            "language_code": self.language_code,
        }

    def inbox(self) -> list[dict[str, Any]]:
        return self.server.sent_to(self.id)

    @property
    def last(self) -> dict[str, Any]:
        return self.inbox()[-1]

    def raw_buttons(self, message: dict[str, Any] | None = None) -> list[tuple[str, str]]:
        """(label, callback data) as Telegram holds them, session secret included."""
        message = message or self.last
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def buttons(self, message: dict[str, Any] | None = None) -> list[tuple[str, str]]:
        """(label, callback data without the session secret that ends a respondent's)."""
        return [(text, data.partition("|")[0]) for text, data in self.raw_buttons(message)]

    def secrets(self, message: dict[str, Any] | None = None) -> set[str]:
        """The session secrets the message's buttons carry."""
        return {data.partition("|")[2] for _, data in self.raw_buttons(message) if "|" in data}

    def button(
        self, predicate: Callable[[str, str], bool], message: dict[str, Any] | None = None
    ) -> str:
        """The data to press (secret included) of the first button whose label and data
        (without the secret) satisfy `predicate`."""
        for text, data in self.raw_buttons(message):
            if predicate(text, data.partition("|")[0]):
                return data
        raise LookupError(f"no such button among {self.buttons(message)}")

    def _message(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "text": text,
            "chat": {"id": self.id, "type": "private", "first_name": "Respondent"},
            "from": self.user,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return message

    async def send_lines(self, *texts: str) -> None:
        """Type several messages in quick succession: they arrive together."""
        await self.server.push_all([{"message": self._message(text)} for text in texts])

    async def send(self, text: str, *, twice: bool = False, wait: bool = True) -> dict[str, Any]:
        """Type a message (a /command when it starts with /); wait for the bot's reply."""
        before = len(self.server.chat_log.get(self.id, []))
        message = self._message(text)
        await self.server.push({"message": message}, twice=twice)
        if wait:
            await self.server.wait_for(lambda: len(self.server.chat_log.get(self.id, [])) > before)
            self.seen.append(self.last.get("text", ""))
        return message

    async def press(
        self,
        data: str,
        message: dict[str, Any] | None = None,
        *,
        twice: bool = False,
        expect_change: bool = True,
    ) -> dict[str, Any]:
        """Tap a button; wait for the toast and (unless told otherwise) a new/edited message."""
        message = message or self.last
        callback_id = str(next(self._callback_ids))
        before = self._snapshot()
        await self.server.push(
            {
                "callback_query": {
                    "id": callback_id,
                    "from": self.user,
                    "chat_instance": str(self.id),
                    "message": message,
                    "data": data,
                }
            },
            twice=twice,
        )
        answer = await self.server.wait_for(lambda: self.server.callback_answers.get(callback_id))
        if expect_change and not answer.get("text"):
            await self.server.wait_for(lambda: self._snapshot() != before)
            self.seen.append(self.last.get("text", ""))
        return answer

    def _snapshot(self) -> tuple[int, tuple[Any, ...]]:
        log = self.server.chat_log.get(self.id, [])
        return len(log), tuple(
            (m.get("text"), json.dumps(m.get("reply_markup"), sort_keys=True))
            for m in self.inbox()[-2:]
        )
