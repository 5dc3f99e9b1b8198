"""A Telegram stand-in for handler unit tests: records every Bot API call, answers it.

Passed as `build_application(config, request=RecordingTelegram())`, as python-telegram-
bot's own tests do with an offline request: `app.process_update` then runs the real
handlers, and the test reads what the bot sent from `calls`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 1, "is_bot": True, "first_name": "Test", "username": "TestBot"}


@dataclass(frozen=True)
class Call:
    """One Bot API call: its method and its parameters as the bot sent them."""

    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = markup.get("inline_keyboard", [])
        return [
            (b["text"], b.get("callback_data", "").partition("|")[0]) for row in rows for b in row
        ]

    @property
    def secrets(self) -> set[str]:
        """The session secrets the buttons carry (`|<secret>` at the end of their data)."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = markup.get("inline_keyboard", [])
        return {
            b["callback_data"].partition("|")[2]
            for row in rows
            for b in row
            if "|" in b.get("callback_data", "")
        }


class RecordingTelegram(BaseRequest):
    """Answers every call with a plausible result and keeps the calls in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._message_ids = 100

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def replies(self) -> list[Call]:
        """What a person would see: messages, edits and callback answers, in order."""
        kinds = ("sendMessage", "editMessageText", "answerCallbackQuery")
        return [c for c in self.calls if c.method in kinds]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(endpoint, params))
        result: Any = True
        if endpoint == "getMe":
            result = BOT
        elif endpoint in ("sendMessage", "editMessageText", "sendPhoto", "sendDocument"):
            self._message_ids += 1
            result = {
                "message_id": int(params.get("message_id") or self._message_ids),
                "date": 0,
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "text": params.get("text", ""),
            }
        elif endpoint == "sendMediaGroup":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()


def message(update_id: int, user: int, text: str, lang: str = "nl") -> dict[str, Any]:
    """A private text message (a command if it starts with /) as Telegram delivers it."""
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "text": text,
            "entities": entities,
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "P", "language_code": lang},
        },
    }


def press(update_id: int, user: int, data: str, lang: str = "nl") -> dict[str, Any]:
    """A button press on a message the bot sent."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "chat_instance": "1",
            "data": data,
            "from": {"id": user, "is_bot": False, "first_name": "P", "language_code": lang},
            "message": {
                "message_id": 7,
                "date": 0,
                "text": "…",
                "chat": {"id": user, "type": "private"},
                "from": BOT,
            },
        },
    }
