"""The outbox and the retry policy, driven directly: order, priority, fairness, coalescing."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.outbox import BROADCAST, Outbox, OutboxClosed
from bot.ratelimit import retry_delay
from bot.timing import Budget, Timing

QUICK = Timing(retry_first=0.01, retry_most=0.04, query_deadline=0.2)


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
async def roomy() -> AsyncIterator[Outbox]:
    """An outbox whose budget never holds a message back: only retries take time."""
    box = Outbox(
        Budget(per_second=1000, burst=100, per_chat_second=1000, per_chat_burst=100), QUICK
    )
    await box.initialize()
    yield box
    await box.shutdown()


@pytest.fixture
async def outbox() -> AsyncIterator[Outbox]:
    box = Outbox(Budget(per_second=50, burst=5, per_chat_second=5, per_chat_burst=1), QUICK)
    await box.initialize()
    yield box
    await box.shutdown()


async def send(
    box: Outbox, wire: Wire, endpoint: str, rate_limit_args: int | None = None, **data: Any
) -> Any:
    return await box.process_request(
        wire.request(endpoint, data), (), {}, endpoint, data, rate_limit_args
    )


def test_flood_control_server_errors_and_failed_connections_are_retried() -> None:
    """429 after its retry_after; 5xx, refused connections and time-outs with a backoff that
    doubles up to a limit and never gives up; final answers are never retried."""
    timing = Timing(retry_first=0.5, retry_most=10.0)
    assert retry_delay(RetryAfter(2), 0, timing) == pytest.approx(2.1)
    assert retry_delay(RetryAfter(2), 40, timing) == pytest.approx(2.1)
    assert retry_delay(NetworkError("Bad Gateway"), 0, timing) == pytest.approx(0.5)
    assert retry_delay(NetworkError("Bad Gateway"), 2, timing) == pytest.approx(2.0)
    assert retry_delay(NetworkError("httpx.ConnectError: refused"), 5, timing) == 10.0
    assert retry_delay(NetworkError("httpx.ConnectError: refused"), 500, timing) == 10.0
    assert retry_delay(TimedOut(), 1, timing) == pytest.approx(1.0)  # sent again all the same
    # "message is not modified" is a NetworkError subclass: re-sending it later would
    # overwrite whatever newer state the person sees by then
    assert retry_delay(BadRequest("Message is not modified"), 0, timing) is None
    assert retry_delay(Forbidden("blocked"), 0, timing) is None
    assert retry_delay(OutboxClosed(), 0, timing) is None  # the bot is stopping


def test_a_paced_timing_runs_telegrams_seconds_faster_and_nothing_else() -> None:
    """`Timing.paced(f)`: the outbox's rates ÷ f (bursts as they are), a "retry after" in
    seconds f long; a person's patience, the press deadline and the back-off unchanged."""
    paced = Timing().paced(0.1)
    assert paced.budget == Budget(per_second=290.0, burst=20.0, per_chat_second=10.0)
    assert retry_delay(RetryAfter(2), 0, paced) == pytest.approx(0.21)
    assert retry_delay(NetworkError("Bad Gateway"), 0, paced) == Timing().retry_first
    unpaced = ("budget", "flood_second")
    for name in Timing.__dataclass_fields__:
        if name not in unpaced:
            assert getattr(paced, name) == getattr(Timing(), name), name
    assert Outbox(timing=paced).budget == paced.budget  # the outbox keeps the timing's pace


@pytest.mark.parametrize(
    "failure",
    [
        RetryAfter(0),
        NetworkError("Bad Gateway"),
        NetworkError("httpx.ConnectError: [Errno 111] Connection refused"),
        TimedOut(),
    ],
    ids=["429", "502", "refused", "timed-out"],
)
async def test_a_retried_message_keeps_its_place_in_its_chat(
    roomy: Outbox, failure: Exception
) -> None:
    """The first of three messages meets a failure: it still arrives first, the others after."""
    wire = Wire(fail={"first": [failure, NetworkError("Bad Gateway")]})
    sends = []
    for text in ("first", "second", "third"):
        sends.append(asyncio.create_task(send(roomy, wire, "sendMessage", chat_id=1, text=text)))
        await asyncio.sleep(0)  # queued in this order
    other = asyncio.create_task(send(roomy, wire, "sendMessage", chat_id=2, text="elsewhere"))
    await asyncio.gather(*sends, other)
    assert wire.texts(1) == ["first", "second", "third"]
    assert wire.texts(2) == ["elsewhere"]  # another chat did not wait for the retries


async def test_a_long_outage_delays_replies_but_drops_none(roomy: Outbox) -> None:
    """Twenty failed connections in a row (far more than any fixed number of retries)."""
    refused = [NetworkError("httpx.ConnectError: refused") for _ in range(20)]
    wire = Wire(fail={"next question": refused})
    first = asyncio.create_task(send(roomy, wire, "sendMessage", chat_id=1, text="next question"))
    await asyncio.sleep(0)
    after = asyncio.create_task(send(roomy, wire, "sendMessage", chat_id=1, text="thanks"))
    await asyncio.gather(first, after)
    assert wire.texts() == ["next question", "thanks"]


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
        results = await asyncio.gather(*replies)
    finally:
        await box.shutdown()
    # the copies waited together and went once each: 2 messages for 200 replies (had each
    # gone on its own, at two a second, the wire would hold 200 and this test 100 s)
    assert wire.texts() == ["Please use the buttons", "Question 3"]
    assert {r["message_id"] for r in results} == {100, 101}  # every caller got a message


async def test_a_press_answered_too_late_is_one_line_not_an_error(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram refuses the answer as too old: not an error, but the caller hears False."""
    too_old = "Query is too old and response timeout expired or query id is invalid"
    wire = Wire(fail={"None": [BadRequest(too_old)]})
    assert await send(outbox, wire, "answerCallbackQuery", callback_query_id="1") is False
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].exc_info is None


async def test_a_press_answer_is_retried_only_until_telegrams_deadline(outbox: Outbox) -> None:
    """Connections fail for longer than the deadline: the answer gives up (False); one that
    fails briefly goes through."""
    refused = [NetworkError("httpx.ConnectError: refused") for _ in range(50)]
    wire = Wire(fail={"None": refused})
    assert await send(outbox, wire, "answerCallbackQuery", callback_query_id="1") is False
    assert wire.sent == [] and len(wire.fail["None"]) > 40  # gave up, did not try 50 times
    wire.fail["None"] = refused[:2]
    assert await send(outbox, wire, "answerCallbackQuery", callback_query_id="2") is True


async def test_stopping_drops_broadcasts_at_once_and_gives_replies_a_grace() -> None:
    """close(): waiting broadcasts fail with OutboxClosed, a reply still goes within the grace,
    and after it everything fails at once."""
    box = Outbox(Budget(per_second=100, burst=1, per_chat_second=100, per_chat_burst=100), QUICK)
    await box.initialize()
    wire = Wire()
    gate = asyncio.Event()
    try:
        broadcasts = [
            asyncio.create_task(send(box, wire, "sendMessage", BROADCAST, chat_id=c, text="news"))
            for c in range(1000, 1050)
        ]
        while not wire.texts():  # the first went out
            await asyncio.sleep(0.005)
        box.close(grace=60)
        results = await asyncio.gather(*broadcasts, return_exceptions=True)
        went = [r for r in results if not isinstance(r, BaseException)]
        assert 0 < len(went) < 50
        assert all(isinstance(r, OutboxClosed) for r in results if r not in went)
        with pytest.raises(OutboxClosed):  # a new broadcast is refused
            await send(box, wire, "sendMessage", BROADCAST, chat_id=1, text="news")
        assert await send(box, wire, "sendMessage", chat_id=1, text="reply")  # still goes

        async def held() -> Any:
            await gate.wait()
            return {"message_id": 1}

        stuck = asyncio.create_task(
            box.process_request(held, (), {}, "sendMessage", {"chat_id": 2}, None)
        )
        await asyncio.sleep(0.01)
        box._close_now()  # the grace is over: what is on its way fails
        with pytest.raises(OutboxClosed):
            await stuck
        with pytest.raises(OutboxClosed):
            await send(box, wire, "sendMessage", chat_id=1, text="too late")
        assert box.unsent == 50 - len(went) + 1
    finally:
        await box.shutdown()
    assert wire.texts().count("news") == len(went) and "too late" not in wire.texts()


async def test_the_newest_message_of_each_chat_is_known(outbox: Outbox) -> None:
    wire = Wire()
    first = await send(outbox, wire, "sendMessage", chat_id=1, text="a")
    second = await send(outbox, wire, "sendMessage", chat_id=1, text="b")
    await send(outbox, wire, "editMessageText", chat_id=1, message_id=first["message_id"], text="c")
    assert outbox.newest(1) == second["message_id"]
    assert outbox.newest(2) == 0


async def test_a_chat_waiting_for_its_budget_holds_up_no_other_chat() -> None:
    """One chat's messages wait for its one-message-per-interval budget; a message for
    another chat, queued after them all, goes before the second of them."""
    box = Outbox(Budget(per_second=1000, burst=100, per_chat_second=20, per_chat_burst=1), QUICK)
    await box.initialize()
    wire = Wire()
    try:
        flood = []
        for n in range(4):
            flood.append(
                asyncio.create_task(send(box, wire, "sendMessage", chat_id=1, text=f"{n}"))
            )
            await asyncio.sleep(0)
        other = asyncio.create_task(send(box, wire, "sendMessage", chat_id=2, text="help"))
        await asyncio.gather(*flood, other)
    finally:
        await box.shutdown()
    assert wire.texts() == ["0", "help", "1", "2", "3"]
