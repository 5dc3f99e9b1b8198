"""`/report` for a partnership of about 2,000 respondents, through the real Application.

Setup (not measured): the demo partnership with its groups scaled up; `trust` in two
closed waves and `culture` and `evaluation` in one each, every respondent simulated
through the engine and the store (about 2,000 per wave). Measured: a facilitator's
`/report` update processed by the real Application with Telegram answered in-process —
the first call (analysis loads, the chart browser starts) and a second one (the browser
is warm) — each sending the captioned album, the HTML page and its PDF; and, separately,
the report alone (load + statistics + HTML), the album's PNGs alone and the PDF alone.
Targets (issue 10): first call <= 5 s, warm <= 3 s, PDF included.

Baseline, same run: a bare python-telegram-bot handler that sends the very same album,
HTML and PDF documents (Telegram I/O and serialisation only, nothing computed).

    python benchmarks/report_bench.py [--scale 13]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot_bench import KEY, StubTelegram
from telegram import InputMediaPhoto, Update
from telegram.ext import ApplicationBuilder, CommandHandler
from telegram.request import RequestData

from bot.app import build_application
from trustscan.config import load_config
from trustscan.simulation import simulate_wave

FACILITATOR = 4242


class StubWithMedia(StubTelegram):
    """The bot benchmark's stub, also answering the calls that send photos and documents."""

    def __init__(self) -> None:
        super().__init__()
        self.photos = 0
        self.documents = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        if endpoint not in ("sendMediaGroup", "sendPhoto", "sendDocument"):
            return await super().do_request(url, method, request_data, *a, **k)
        params = request_data.parameters if request_data else {}
        chat = int(params["chat_id"])
        message = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}}
        if endpoint == "sendMediaGroup":
            media = params["media"]
            count = len(json.loads(media) if isinstance(media, str) else media)
            self.photos += count
            result: Any = [message] * count
        else:
            self.photos += endpoint == "sendPhoto"
            self.documents += endpoint == "sendDocument"
            result = message
        return 200, json.dumps({"ok": True, "result": result}).encode()


def command_json(update_id: int, text: str) -> dict[str, Any]:
    user = {"id": FACILITATOR, "is_bot": False, "first_name": "F", "language_code": "nl"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
            "chat": {"id": FACILITATOR, "type": "private"},
            "from": user,
        },
    }


async def main_async(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp())
    (tmp / "config.toml").write_text(
        f'[telegram]\ntoken = "1:bench"\nfacilitators = [{FACILITATOR}]\n'
        '[database]\npath = "bench.db"\n',
        encoding="utf-8",
    )
    config = load_config(tmp / "config.toml", env={"TRUSTSCAN_KEY": KEY})
    stub = StubWithMedia()
    app = build_application(config, request=stub)  # Telegram answered in-process
    await app.initialize()
    await app.post_init(app)
    if app.job_queue is not None:
        app.job_queue.scheduler.remove_all_jobs()
    services = app.bot_data["services"]
    store = services.store

    t0 = time.perf_counter()
    people = 0
    plan = [("trust", 1), ("culture", 1), ("evaluation", 1), ("trust", 2)]
    for offset, (survey_id, number) in enumerate(plan):
        survey = services.registry[survey_id]
        wave = await store.open_wave(
            survey.id, survey.version, [o.id for o in config.organisations]
        )
        people = await simulate_wave(
            store, survey, wave.id, number, config.partners(), seed=offset, scale=args.scale
        )
        await store.close_wave(wave.id)
    setup_s = time.perf_counter() - t0

    async def timed_report(update_id: int) -> float:
        update = Update.de_json(command_json(update_id, "/report"), app.bot)
        t0 = time.perf_counter()
        await app.process_update(update)
        return time.perf_counter() - t0

    assert "pandas" not in sys.modules  # the first /report pays for loading analysis, as live
    cold = await timed_report(1)
    warm = await timed_report(2)
    sent = (stub.photos, stub.documents)

    from trustscan.reporting import album_of, build_reports, pdf_of

    t0 = time.perf_counter()
    page, reports = await build_reports(store, config, services.registry, None, "nl")
    report_s = time.perf_counter() - t0
    renderer = services.png_renderer()
    t0 = time.perf_counter()
    photos = await album_of(reports, renderer, 10)
    png_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf = await pdf_of(reports, page, config, "nl", renderer, dt.date(2027, 1, 1))
    pdf_s = time.perf_counter() - t0

    base_stub = StubWithMedia()
    base = ApplicationBuilder().token("1:base").request(base_stub).build()
    document = page.encode("utf-8")

    async def send_same(update: Update, context: Any) -> None:
        chat = update.effective_chat
        await chat.send_media_group([InputMediaPhoto(p.png, caption=p.caption) for p in photos])
        await chat.send_document(document, filename="trustscan-rapport.html")
        await chat.send_document(pdf, filename="trustscan-rapport.pdf")

    base.add_handler(CommandHandler("report", send_same))
    await base.initialize()
    t0 = time.perf_counter()
    await base.process_update(Update.de_json(command_json(3, "/report"), base.bot))
    base_s = time.perf_counter() - t0
    await base.shutdown()

    await app.post_shutdown(app)
    await app.shutdown()
    print(
        f"/report benchmark: {people:,} respondents per wave, waves: "
        f"{', '.join(f'{s} #{n}' for s, n in plan)} (setup {setup_s:.0f} s, not measured)"
    )
    print(f"  /report, first call (analysis loads, browser starts) {cold:6.2f} s   (target <= 5 s)")
    print(f"  /report, browser warm                       {warm:6.2f} s   (target <= 3 s)")
    print(f"    of which load + statistics + HTML         {report_s:6.2f} s")
    print(f"    of which PNG of {len(photos)} charts (warm browser) {png_s:6.2f} s")
    print(f"    of which PDF (warm browser)               {pdf_s:6.2f} s")
    print(f"  baseline: bare PTB handler, same album + documents {1000 * base_s:6.1f} ms")
    print(
        f"  sent per /report: {sent[0] // 2} photos + {sent[1] // 2} documents "
        f"(HTML {len(document) / 1e6:.1f} MB, PDF {len(pdf) / 1e6:.1f} MB)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale", type=float, default=13.0, help="demo group sizes × this (13 ≈ 2,000)"
    )
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
