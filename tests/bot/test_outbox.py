"""The outbox and the retry policy, driven directly: order, priority, fairness, coalescing."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.outbox import BROADCAST, Budget, Outbox
from bot.ratelimit import retry_delay


@dataclass
class Wire:
    """Telegram's side: what arrived, in order; failures to answer with, per text."""

    sent: list[tuple[str, int, str]] = field(default_factory=list)
    fail: dict[str, list[Exception]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(100))
    latency: float = 0.0

    def request(self, endpoint: str, data: dict[str, Any]) -> Any:
        async def call() -> Any:
            if self.latency:
                await asyncio.sleep(self.latency)
            failures = self.fail.get(str(data.get("text")), [])
            if failures:
                raise failures.pop(0)
            self.sent.append((endpoint, data.get("chat_id", 0), str(data.get("text"))))
            if endpoint == "answerCallbackQuery":
                return True
            result = {"message_id": data.get("message_id") or next(self.ids)}
            return result | ({"edit_date": 1} if endpoint.startswith("edit") else {})

        return call

    def texts(self, chat: int | None = None) -> list[str]:
        return [text for _, c, text in self.sent if chat is None or c == chat]


@pytest.fixture
async def outbox() -> AsyncIterator[Outbox]:
    box = Outbox(Budget(per_second=50, burst=5, per_chat_second=5, per_chat_burst=1))
    await box.initialize()
    yield box
    await box.shutdown()


async def send(
    box: Outbox, wire: Wire, endpoint: str, rate_limit_args: int | None = None, **data: Any
) -> Any:
    return await box.process_request(
        wire.request(endpoint, data), (), {}, endpoint, data, rate_limit_args
    )


def test_only_flood_control_and_server_errors_are_retried() -> None:
    assert retry_delay(RetryAfter(2), 0) == pytest.approx(2.1)
    assert retry_delay(NetworkError("Bad Gateway"), 0) == pytest.approx(0.5)
    assert retry_delay(NetworkError("Bad Gateway"), 2) == pytest.approx(2.0)
    assert retry_delay(NetworkError("Bad Gateway"), 3) is None  # gives up after three
    # "message is not modified" is a NetworkError subclass: re-sending it later would
    # overwrite whatever newer state the person sees by then
    assert retry_delay(BadRequest("Message is not modified"), 0) is None
    assert retry_delay(TimedOut(), 0) is None  # it may have gone through
    assert retry_delay(Forbidden("blocked"), 0) is None


async def test_an_older_edit_waiting_is_replaced_by_the_newer(outbox: Outbox) -> None:
    wire = Wire(latency=0.05)
    first = asyncio.create_task(send(outbox, wire, "sendMessage", chat_id=1, text="question"))
    await asyncio.sleep(0.01)  # in flight: what follows waits behind it
    edits = [
        asyncio.create_task(
            send(outbox, wire, "editMessageText", chat_id=1, message_id=7, text=f"{n} points")
        )
        for n in (5, 10, 15, 20)
    ]
    results = await asyncio.gather(first, *edits)
    assert wire.texts() == ["question", "20 points"]  # only the newest state went
    assert all(r == {"message_id": 7, "edit_date": 1} for r in results[1:])  # all got it


async def test_a_retried_edit_is_dropped_when_a_newer_one_waits(outbox: Outbox) -> None:
    wire = Wire(latency=0.05, fail={"5 points": [RetryAfter(0)]})
    older = asyncio.create_task(
        send(outbox, wire, "editMessageText", chat_id=1, message_id=7, text="5 points")
    )
    await asyncio.sleep(0.02)  # the first edit is in flight and will meet flood control
    newer = asyncio.create_task(
        send(outbox, wire, "editMessageText", chat_id=1, message_id=7, text="10 points")
    )
    await asyncio.gather(older, newer)
    assert wire.texts() == ["10 points"]  # 5 never overwrote 10


async def test_a_bad_request_is_not_retried(outbox: Outbox) -> None:
    wire = Wire(fail={"same": [BadRequest("Message is not modified")]})
    with pytest.raises(BadRequest):
        await send(outbox, wire, "editMessageText", chat_id=1, message_id=7, text="same")
    await asyncio.sleep(0.2)
    assert wire.sent == []


async def test_server_errors_are_retried_until_they_pass(outbox: Outbox) -> None:
    wire = Wire(fail={"hello": [NetworkError("Bad Gateway")]})
    await send(outbox, wire, "sendMessage", chat_id=1, text="hello")
    assert wire.texts() == ["hello"]


async def test_replies_go_before_broadcasts_and_chats_take_turns() -> None:
    box = Outbox(Budget(per_second=40, burst=1, per_chat_second=100, per_chat_burst=100))
    await box.initialize()
    wire = Wire()
    try:
        broadcasts = [
            asyncio.create_task(send(box, wire, "sendMessage", BROADCAST, chat_id=c, text="news"))
            for c in range(1000, 1020)
        ]
        flood = [  # one person's flood: 30 different replies queued in their chat
            asyncio.create_task(send(box, wire, "sendMessage", chat_id=1, text=f"hint {n}"))
            for n in range(30)
        ]
        await asyncio.sleep(0.03)
        other = asyncio.create_task(send(box, wire, "sendMessage", chat_id=2, text="help"))
        await asyncio.gather(*broadcasts, *flood, other)
    finally:
        await box.shutdown()
    texts = wire.texts()
    assert texts.index("help") < 5  # behind at most a turn of the flood, not all 30
    assert max(texts.index(f"hint {n}") for n in range(30)) < texts.index("news")
    assert texts.count("news") == 20  # the broadcast comes after, but comes


async def test_identical_messages_waiting_for_a_chat_are_sent_once() -> None:
    box = Outbox(Budget(per_second=100, burst=100, per_chat_second=2, per_chat_burst=1))
    await box.initialize()
    wire = Wire()
    try:
        replies = [
            asyncio.create_task(send(box, wire, "sendMessage", chat_id=1, text=text))
            for _ in range(100)
            for text in ("Please use the buttons", "Question 3")
        ]
        started = time.monotonic()
        await asyncio.gather(*replies)
    finally:
        await box.shutdown()
    # the copies waited together and went once each: 2 messages for 200 replies
    assert wire.texts() == ["Please use the buttons", "Question 3"]
    assert time.monotonic() - started < 2.0


async def test_a_press_answered_too_late_is_one_line_not_an_error(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    too_old = "Query is too old and response timeout expired or query id is invalid"
    wire = Wire(fail={"None": [BadRequest(too_old)]})
    assert await send(outbox, wire, "answerCallbackQuery", callback_query_id="1") is True
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].exc_info is None


async def test_the_newest_message_of_each_chat_is_known(outbox: Outbox) -> None:
    wire = Wire()
    first = await send(outbox, wire, "sendMessage", chat_id=1, text="a")
    second = await send(outbox, wire, "sendMessage", chat_id=1, text="b")
    await send(outbox, wire, "editMessageText", chat_id=1, message_id=first["message_id"], text="c")
    assert outbox.newest(1) == second["message_id"]
    assert outbox.newest(2) == 0
