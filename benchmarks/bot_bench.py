"""Bot throughput: scripted respondents through the real Application and the real store.

N respondents answer at once; every update is built as Telegram JSON and parsed
(`Update.de_json`), then processed by the Application (`process_update`) with the
durable store. Telegram is answered in-process by a stub request object, which also
lets each scripted respondent see the keyboard the bot sent and press the next button.

The scripted respondents' presses are recorded once; the timed figures are replays of
those very JSON streams, so the driver's own work (choosing a button, building JSON) is
charged to nobody. Replayed: trustscan on a copy of the database as it was before the
first press (same wave secret, same link, so every chat must end on the same message),
the same on a plaintext copy (SQLCipher swapped for sqlite3) for the cost of encryption
at rest, and the baseline: a bare python-telegram-bot Application whose only handler
does what any answer needs — answer the callback and edit the message with the very
text and keyboard trustscan sent.

Afterwards respondents are added until R are in progress, to measure peak RSS
(state lives in SQLite, not in memory).

    python benchmarks/bot_bench.py [--respondents 500] [--updates 20000] [--in-progress 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# benchmarks/ is the script's folder, first on sys.path
from plaintext import plaintext, plaintext_copy
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler
from telegram.request import BaseRequest, RequestData

from bot.app import build_application
from trustscan.config import load_config

BOT = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "BenchBot"}
KEY = "cd" * 32


class StubTelegram(BaseRequest):
    """Answers every Bot API call in-process and remembers the last keyboard per chat."""

    def __init__(self) -> None:
        self.keyboards: dict[int, list[str]] = {}
        self.texts: dict[int, str] = {}
        self.current_update = 0
        self.sent: dict[int, tuple[str, list[list[tuple[str, str]]]]] = {}
        self.calls = 0
        self._ids = 0

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

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
        self.calls += 1
        endpoint = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any = True
        if endpoint == "getMe":
            result = BOT
        elif endpoint in ("sendMessage", "editMessageText"):
            chat = int(params["chat_id"])
            markup = params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            rows = (markup or {}).get("inline_keyboard", [])
            buttons = [b.get("callback_data", "") for row in rows for b in row]
            self.sent[chat] = (
                str(params.get("text", "")),
                [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows],
            )
            self.keyboards[chat] = buttons
            self.texts[chat] = str(params.get("text", ""))
            self._ids += 1
            result = {
                "message_id": int(params.get("message_id") or self._ids),
                "date": 0,
                "chat": {"id": chat, "type": "private"},
                "text": params.get("text", ""),
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


def callback_json(update_id: int, user: int, message_id: int, data: str) -> str:
    return json.dumps(
        {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "chat_instance": "1",
                "data": data,
                "from": {"id": user, "is_bot": False, "first_name": "R", "language_code": "nl"},
                "message": {
                    "message_id": message_id,
                    "date": 0,
                    "text": "q",
                    "chat": {"id": user, "type": "private"},
                    "from": BOT,
                },
            },
        }
    )


def choose(buttons: list[str], rng: random.Random) -> str | None:
    """The next press of a scripted respondent, from the keyboard the bot sent."""
    for prefix in ("L:", "M:"):
        done = [b for b in buttons if b.startswith(prefix)]
        if done:
            return done[0]
    give = [b for b in buttons if b.endswith("=")]
    if give:
        return rng.choice(give)
    toggles = [b for b in buttons if b.startswith("m:")]
    if toggles:
        return toggles[0]
    if any(b.startswith("o:") for b in buttons):
        return None
    answers = [b for b in buttons if b[:2] in ("a:", "n:", "r:", "c:")]
    if answers:
        return rng.choice(answers)
    skips = [b for b in buttons if b.startswith("s:")]
    return skips[0] if skips else None


async def drive(
    app: Application,
    stub: StubTelegram,
    users: list[int],
    token: str,
    budget: int,
    record: list[list[str]] | None,
    replies: dict[int, Any] | None = None,
) -> list[float]:
    """Each user presses the next button until `budget` updates are processed in all."""
    latencies: list[float] = []
    counter = iter(range(1, 10**9))
    processed = 0

    async def respondent(user: int, rng: random.Random) -> None:
        nonlocal processed
        stub.keyboards[user] = [f"c:{token}"]
        mine: list[str] = []
        while processed < budget:
            data = choose(stub.keyboards.get(user, []), rng)
            if data is None or data.startswith("o:"):  # done: the next person takes the seat
                user += 10**8
                stub.keyboards[user] = [f"c:{token}"]
                continue
            update_id = next(counter)
            raw = callback_json(update_id, user, 1, data)
            processed += 1
            t0 = time.perf_counter()
            await app.process_update(Update.de_json(json.loads(raw), app.bot))
            latencies.append(time.perf_counter() - t0)
            mine.append(raw)
            if replies is not None:
                replies[update_id] = stub.sent.get(user, ("", []))
        if record is not None:
            record.append(mine)

    await asyncio.gather(*(respondent(u, random.Random(u)) for u in users))
    return latencies


async def replay(app: Application, streams: list[list[str]]) -> list[float]:
    latencies: list[float] = []

    async def one(stream: list[str]) -> None:
        for raw in stream:
            t0 = time.perf_counter()
            await app.process_update(Update.de_json(json.loads(raw), app.bot))
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(one(s) for s in streams))
    return latencies


def baseline_handler(replies: dict[int, Any]) -> Any:
    """Answer the callback, then edit with the very text and keyboard trustscan sent."""

    async def handle(update: Update, context: Any) -> None:
        query = update.callback_query
        await query.answer()
        text, rows = replies[update.update_id]
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in rows
            ]
        )
        await query.edit_message_text(text or "…", reply_markup=keyboard)

    return handle


def summary(name: str, latencies: list[float], seconds: float) -> dict[str, float]:
    latencies = sorted(latencies)
    return {
        "name": name,
        "updates": len(latencies),
        "rate": len(latencies) / seconds,
        "p50": 1000 * latencies[len(latencies) // 2],
        "p99": 1000 * latencies[int(len(latencies) * 0.99)],
        "cpu_us": 0.0,
    }


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def start_app(folder: Path) -> tuple[Any, StubTelegram, Any]:
    """The real Application on the database in `folder`, Telegram answered in-process."""
    (folder / "config.toml").write_text(
        '[telegram]\ntoken = "1:bench"\n[database]\npath = "bench.db"\n', encoding="utf-8"
    )
    config = load_config(folder / "config.toml", env={"TRUSTSCAN_KEY": KEY})
    stub = StubTelegram()
    app = build_application(config, request=stub)
    await app.initialize()
    await app.post_init(app)
    if app.job_queue is not None:
        app.job_queue.scheduler.remove_all_jobs()
    return app, stub, app.bot_data["services"].store


async def start_trustscan(args: argparse.Namespace) -> tuple[Any, StubTelegram, Any, str, Path]:
    """A fresh database with one open wave; also a snapshot of it, for the timed replays."""
    tmp = Path(tempfile.mkdtemp())
    app, stub, store = await start_app(tmp)
    survey = app.bot_data["services"].registry[args.survey]
    organisations = [o.id for o in app.bot_data["services"].config.organisations]
    await store.open_wave(survey.id, survey.version, organisations)
    token = (await store.ensure_invitation("dijkhoven", "staff")).token
    await store.backup(tmp / "snapshot.db")  # same wave secret, same link: same replies
    return app, stub, store, token, tmp / "snapshot.db"


async def replay_trustscan(
    snapshot: Path, streams: list[list[str]], recorded: StubTelegram, name: str
) -> dict[str, Any]:
    """The recorded presses through a fresh Application on a copy of the snapshot.

    Every chat must end on the very message it ended on while recording: proof that the
    replay did the same work (no press refused as outdated).
    """
    folder = Path(tempfile.mkdtemp())
    shutil.copyfile(snapshot, folder / "bench.db")
    app, stub, _ = await start_app(folder)
    cpu0, t0 = time.process_time(), time.perf_counter()
    latencies = await replay(app, streams)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await app.post_shutdown(app)
    await app.shutdown()
    differ = [chat for chat, text in stub.texts.items() if recorded.texts.get(chat) != text]
    if differ or not stub.texts:
        raise SystemExit(f"{name} replay ended differently in {len(differ)} chats")
    result = summary(name, latencies, seconds)
    result["cpu_us"] = 1e6 * cpu / len(latencies)
    return result


Recorded = tuple[Any, Any, Any, str, Path, list[list[str]], dict[int, Any]]


async def record(args: argparse.Namespace) -> Recorded:
    """Scripted respondents drive the real bot once; their presses are recorded as JSON.

    The driver (choosing the next button from the keyboard the bot sent, building the
    JSON) is not timed: both applications are then timed replaying the same streams.
    """
    app, stub, store, token, snapshot = await start_trustscan(args)
    users = [10**9 + i for i in range(args.respondents)]
    streams: list[list[str]] = []
    replies: dict[int, Any] = {}
    await drive(app, stub, users, token, args.updates, streams, replies)
    return app, stub, store, token, snapshot, streams, replies


async def main_async(args: argparse.Namespace) -> int:
    app, stub, store, token, snapshot, streams, replies = await record(args)

    # The same presses on a plaintext database: the cost of encryption at rest.
    plain = plaintext_copy(snapshot, bytes.fromhex(KEY))
    with plaintext():
        plain_summary = await replay_trustscan(plain, streams, stub, "plaintext")
    ours_summary = await replay_trustscan(snapshot, streams, stub, "trustscan")

    base_stub = StubTelegram()
    base = (
        ApplicationBuilder()
        .token("1:bench")
        .request(base_stub)
        .get_updates_request(base_stub)
        .build()
    )
    base.add_handler(CallbackQueryHandler(baseline_handler(replies)))
    await base.initialize()
    cpu0, t0 = time.process_time(), time.perf_counter()
    base_lat = await replay(base, streams)
    base_s, base_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    base_summary = summary("baseline", base_lat, base_s)
    base_summary["cpu_us"] = 1e6 * base_cpu / len(base_lat)
    # Processing time without queueing: one respondent alone, both applications.
    solo_streams: list[list[str]] = []
    solo_replies: dict[int, Any] = {}
    solo = await drive(app, stub, [3 * 10**9], token, 400, solo_streams, solo_replies)
    replies.update(solo_replies)
    base_solo = await replay(base, solo_streams)
    await base.shutdown()

    # Fill up to R respondents in progress (consent, role, first answer each) for peak RSS.
    more = [2 * 10**9 + i for i in range(max(args.in_progress - args.respondents, 0))]
    for start in range(0, len(more), 500):
        await drive(app, stub, more[start : start + 500], token, 3 * 500, None)
    in_progress = sum(c.in_progress for c in await store.response_counts(1))
    await app.post_shutdown(app)
    await app.shutdown()

    print(
        f"bot benchmark: {args.respondents} concurrent respondents, survey '{args.survey}', "
        f"updates as Telegram JSON, durable store (synchronous=FULL)"
    )
    for s in (base_summary, plain_summary, ours_summary):
        print(
            f"  {s['name']:<10} {s['updates']:6d} updates  {s['rate']:7.0f} updates/s  "
            f"p50 {s['p50']:6.2f} ms  p99 {s['p99']:6.2f} ms  CPU {s['cpu_us']:6.0f} µs/update"
        )
    for name, lat in (("baseline", base_solo), ("trustscan", solo)):
        lat = sorted(lat)
        print(
            f"  {name:<10} one respondent alone: p50 {1000 * lat[len(lat) // 2]:5.2f} ms  "
            f"p99 {1000 * lat[int(len(lat) * 0.99)]:5.2f} ms per update (incl. fsync)"
        )
    ratio = ours_summary["cpu_us"] / base_summary["cpu_us"]
    wall = base_summary["rate"] / ours_summary["rate"]
    print(f"  cost per update vs baseline: {ratio:.2f}x CPU, {wall:.2f}x wall time")
    print(
        f"  cost of encryption at rest: {ours_summary['cpu_us'] / plain_summary['cpu_us']:.2f}x "
        "CPU per update (trustscan encrypted vs plaintext)"
    )
    print(f"  peak RSS {rss_mb():.0f} MB with {in_progress} respondents in progress")
    ok = ratio <= 1.5 and ours_summary["rate"] >= 1500 and rss_mb() < 200
    print(
        f"  targets (<= 1.5x baseline, >= 1500 updates/s, RSS < 200 MB): "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--respondents", type=int, default=500)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--in-progress", type=int, default=10_000)
    parser.add_argument("--survey", default="trust")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
