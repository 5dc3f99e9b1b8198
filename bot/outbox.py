"""The one place that sends to Telegram: replies first, fair per chat, newest state only.

Telegram lets a bot send about 30 messages a second, and about one a second into one
chat; it answers more with 429 flood control. Installed as the bot's rate limiter, the
outbox sees every request and decides when it goes:

- Answers to button presses (`answerCallbackQuery`) and requests that are not messages
  go at once: they do not count against the budget, and a press answered after 15
  seconds is lost for good. A "query is too old" answer is logged in one line and
  reported to the handler as `False` (not answered), so it can say in the chat what a
  toast would have said; either way it goes on to show the next question.
- Messages wait in a queue per chat, sent one at a time and new messages at most about
  one a second (edits of a message answer a person's own taps and are not held back).
  Chats take turns (round robin), so a person who sends 200 messages delays nobody
  else by more than a turn.
- Replies to respondents always go before broadcasts (reminders, announcements), which
  are sent with `rate_limit_args=BROADCAST` and get what is left of the budget.
- A newer edit of a message replaces an older one still waiting (both callers get the
  newer result), and a message identical to one already waiting for the same chat is
  sent once: so the newest state is never followed by an older one, and a flood of
  "please use the buttons" collapses to one.
- 429, 5xx, failed connections and time-outs are retried (see `ratelimit`), messages
  for as long as the bot runs: a retried message keeps its place at the head of its
  chat's queue (nothing of that chat overtakes it), and a retried edit is dropped when
  a newer edit of the same message is already waiting.
- Stopping (`close`) is quick: broadcasts still waiting fail at once with
  `OutboxClosed` (their senders keep them due), replies get a short grace; whatever is
  left then fails too. A reply that never went is shown again at the person's next
  press or /start, since the state it showed is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import BaseRateLimiter

from .ratelimit import retry_delay
from .timing import Budget, Timing

log = logging.getLogger(__name__)

REPLY = 0
BROADCAST = 1
UNMETERED = {"answerCallbackQuery", "getMe", "setMyCommands", "deleteWebhook", "setWebhook"}
TOO_OLD = ("query is too old", "query id is invalid")
START_RETRIES = 3  # the other unmetered requests (start-up calls) are tried this often


class OutboxClosed(NetworkError):
    """The bot is stopping: this message was not sent (and will not be)."""

    def __init__(self) -> None:
        super().__init__("the bot stopped before this message was sent")


@dataclass
class Bucket:
    """A token bucket: `capacity` sends at once, refilled at `rate` per second."""

    rate: float
    capacity: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def wait(self, now: float) -> float:
        """Seconds until one token is there (0: now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass(eq=False)
class Job:
    """One message request waiting for its turn; everyone in `waiters` gets its result."""

    chat: int
    priority: int
    key: Hashable | None
    new_message: bool  # counts against the chat's one message a second
    send: Callable[[], Coroutine[Any, Any, Any]]
    waiters: list[asyncio.Future[Any]]
    attempt: int = 0


def coalesce_key(endpoint: str, data: dict[str, Any]) -> Hashable | None:
    """What makes a waiting request superseded by a newer one of the same chat.

    An edit is superseded by a newer edit of the same message; a text message by the
    very same text and keyboard (the second is no news). Other sends never are.
    """
    if endpoint.startswith("editMessage") and "message_id" in data:
        return ("edit", data["message_id"])
    if endpoint == "sendMessage":
        markup = data.get("reply_markup")
        if not isinstance(markup, str | None):
            markup = json.dumps(markup, sort_keys=True, default=str)
        return ("send", str(data.get("text")), markup)
    return None


class Outbox(BaseRateLimiter[int]):
    """The bot's rate limiter: a prioritised, per-chat fair queue with coalescing."""

    def __init__(self, budget: Budget | None = None, timing: Timing | None = None) -> None:
        self.timing = timing or Timing()
        self.budget = budget or self.timing.budget  # Telegram's pace (`Timing.budget`)
        self._queues: dict[int, dict[int, deque[Job]]] = {REPLY: {}, BROADCAST: {}}
        self._rings: dict[int, deque[int]] = {REPLY: deque(), BROADCAST: deque()}
        self._chat_buckets: dict[int, Bucket] = {}
        self._bucket = Bucket(self.budget.per_second, self.budget.burst)
        self._busy: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._newest: dict[int, int] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self._closing = False  # broadcasts are refused; replies still go
        self._closed = False  # nothing goes any more
        self.unsent = 0  # messages that failed because the bot stopped
        self._trouble = False  # Telegram is failing sends (logged once, not per message)

    async def initialize(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._dispatch(), name="outbox")

    def close(self, grace: float) -> None:
        """Begin stopping: broadcasts waiting fail now, replies get `grace` seconds.

        New broadcasts are refused at once; after the grace everything is refused and
        whatever still waits, is waiting to be retried or is on its way fails with
        `OutboxClosed`.
        """
        if self._closing:
            return
        self._closing = True
        self._drop(BROADCAST)
        asyncio.get_running_loop().call_later(grace, self._close_now)

    def _close_now(self) -> None:
        if self._closed:
            return
        self._closed = self._closing = True
        for priority in (REPLY, BROADCAST):
            self._drop(priority)
        for task in list(self._sending):
            task.cancel()
        if self.unsent:
            log.warning(
                "stopped with %d message(s) not sent: announcements stay due for the next "
                "start; a respondent sees their current question at the next press or /start",
                self.unsent,
            )

    def _drop(self, priority: int) -> None:
        """Fail every job of `priority` still waiting: the bot stops before sending it."""
        for queue in self._queues[priority].values():
            for job in queue:
                self._fail_closed(job)
        self._queues[priority].clear()
        self._rings[priority].clear()

    def _fail_closed(self, job: Job) -> None:
        self.unsent += 1
        self._settle(job, error=OutboxClosed())

    async def shutdown(self) -> None:
        """Stop sending; whoever still waits hears that the message did not go."""
        self._close_now()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def newest(self, chat: int) -> int:
        """The id of the newest message the bot sent into `chat` (0: none seen)."""
        return self._newest.get(chat, 0)

    def pending(self) -> int:
        """Messages waiting to be sent (for tests and benchmarks)."""
        return sum(len(q) for queues in self._queues.values() for q in queues.values())

    def expected_wait(self) -> float:
        """Seconds a reply queued now waits for the replies ahead of it, at Telegram's pace.

        When many people tap at once the bot's 30 messages a second are the limit: a press
        is acknowledged at once, but its next question waits its turn. A press handler
        uses this to tell the person so rather than leave them looking at nothing.
        """
        ahead = sum(len(q) for q in self._queues[REPLY].values())
        return ahead / self.budget.per_second

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat = data.get("chat_id")
        priority = BROADCAST if rate_limit_args == BROADCAST else REPLY
        if self._closed or (self._closing and priority == BROADCAST):
            raise OutboxClosed
        if endpoint in UNMETERED or not isinstance(chat, int) or self._task is None:
            return await self._unmetered(callback, args, kwargs, endpoint)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        job = Job(
            int(chat),
            priority,
            coalesce_key(endpoint, data),
            endpoint.startswith("send"),
            lambda: callback(*args, **kwargs),
            [future],
        )
        self._enqueue(job)
        return await future

    async def _unmetered(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
    ) -> Any:
        """Send now, retrying what `ratelimit` retries.

        A press's answer is tried until Telegram's deadline has passed; then, or when
        Telegram says the press is too old, it is one log line and `False` (not
        answered): the handler says in the chat what the toast would have said.
        """
        attempt = 0
        started = asyncio.get_running_loop().time()
        press = endpoint == "answerCallbackQuery"
        while True:
            try:
                return await callback(*args, **kwargs)
            except BadRequest as exc:
                if press and any(s in str(exc).lower() for s in TOO_OLD):
                    log.warning("a button press was answered too late for Telegram: %s", exc)
                    return False
                raise
            except Exception as exc:
                delay = retry_delay(exc, attempt, self.timing)
                if delay is None or (not press and attempt + 1 >= START_RETRIES):
                    raise
                waited = asyncio.get_running_loop().time() - started
                if press and waited + delay > self.timing.query_deadline:
                    log.warning("a button press could not be answered in time: %s", exc)
                    return False
                attempt += 1
                await asyncio.sleep(delay)

    # -- the queue ------------------------------------------------------------------------

    def _enqueue(self, job: Job, *, front: bool = False) -> None:
        """Queue `job`; a waiting job it supersedes hands over its callers to it."""
        queue = self._queues[job.priority].setdefault(job.chat, deque())
        waiting = bool(queue)
        if job.key is not None:
            for older in [j for j in queue if j.key == job.key]:
                queue.remove(older)
                job.waiters.extend(older.waiters)
        if front:
            queue.appendleft(job)
        else:
            queue.append(job)
        if not waiting:  # the chat was not waiting: it takes its turn at the end
            self._rings[job.priority].append(job.chat)
        self._wake.set()

    def _retry(self, job: Job) -> None:
        """Put a failed job back at the front, unless a newer one already replaces it.

        At the front: it keeps its place, so nothing sent into its chat after it
        overtakes it (a question never arrives before the hint that belongs above it).
        """
        if self._closed or (self._closing and job.priority == BROADCAST):
            self._fail_closed(job)
            return
        waiting = self._queues[job.priority].get(job.chat, deque())
        newer = next((j for j in waiting if job.key is not None and j.key == job.key), None)
        if newer is not None:
            newer.waiters.extend(job.waiters)
            return
        self._enqueue(job, front=True)

    def _pick(self, now: float) -> tuple[Job | None, float]:
        """The next job by priority and turn, or how long until one may go."""
        soonest = 60.0
        for priority in (REPLY, BROADCAST):
            ring = self._rings[priority]
            for _ in range(len(ring)):
                chat = ring[0]
                ring.rotate(-1)
                queue = self._queues[priority].get(chat)
                if not queue:
                    ring.remove(chat)
                    self._queues[priority].pop(chat, None)
                    continue
                if chat in self._busy:
                    continue
                wait = self._chat_bucket(chat).wait(now) if queue[0].new_message else 0.0
                if wait > 0:
                    soonest = min(soonest, wait)
                    continue
                job = queue.popleft()
                if not queue:
                    ring.remove(chat)
                    del self._queues[priority][chat]
                return job, 0.0
        return None, soonest

    def _chat_bucket(self, chat: int) -> Bucket:
        bucket = self._chat_buckets.get(chat)
        if bucket is None:
            bucket = Bucket(self.budget.per_chat_second, self.budget.per_chat_burst)
            self._chat_buckets[chat] = bucket
        return bucket

    async def _dispatch(self) -> None:
        """Forever: wait for the global budget, then send the next job in turn."""
        while True:
            now = time.monotonic()
            wait = self._bucket.wait(now)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            job, wait = self._pick(now)
            if job is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            self._bucket.take()
            if job.new_message:
                self._chat_bucket(job.chat).take()
            self._busy.add(job.chat)
            task = asyncio.create_task(self._send(job))
            self._sending.add(task)
            task.add_done_callback(functools.partial(self._sent, job=job))
            if len(self._chat_buckets) > 10_000:
                self._forget_idle(now)

    def _sent(self, task: asyncio.Task[None], job: Job) -> None:
        """A send task ended; one cancelled (the bot stopped) leaves its callers an answer."""
        self._sending.discard(task)
        if task.cancelled():  # perhaps before it even began: `_send` had no say
            self._fail_closed(job)

    async def _send(self, job: Job) -> None:
        try:
            result = await job.send()
        except Exception as exc:
            delay = retry_delay(exc, job.attempt, self.timing)
            if delay is None:
                self._settle(job, error=exc)
                return
            if not self._trouble:
                self._trouble = True
                log.warning("Telegram did not take a message (%s); sending again", exc)
            job.attempt += 1
            asyncio.get_running_loop().call_later(delay, self._release_and_retry, job)
            return
        if self._trouble:
            self._trouble = False
            log.warning("Telegram takes messages again")
        self._remember(job.chat, result)
        self._settle(job, result=result)

    def _release_and_retry(self, job: Job) -> None:
        self._busy.discard(job.chat)
        self._retry(job)
        self._wake.set()

    def _settle(self, job: Job, *, result: Any = None, error: Exception | None = None) -> None:
        self._busy.discard(job.chat)
        self._wake.set()
        for waiter in job.waiters:
            if waiter.done():
                continue
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(result)

    def _remember(self, chat: int, result: Any) -> None:
        sent = isinstance(result, dict) and isinstance(result.get("message_id"), int)
        if sent and "edit_date" not in result:  # a new message, not an edited one
            self._newest[chat] = max(self._newest.get(chat, 0), result["message_id"])

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets of chats that are full again (memory stays bounded)."""
        for chat, bucket in list(self._chat_buckets.items()):
            bucket.wait(now)
            if chat not in self._busy and bucket.tokens >= bucket.capacity:
                del self._chat_buckets[chat]
