"""`trustscan run --webhook-url`: updates arrive by HTTP POST, guarded by the secret token."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from pathlib import Path

import aiohttp

from .conftest import USER_ID, write_config
from .fake_telegram import FakeTelegram, FakeUser
from .test_restart import launch_args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_registers_and_serves_updates(server: FakeTelegram, tmp_path: Path):
    """The bot sets its webhook and commands, answers posted updates and refuses forgeries."""
    config = write_config(tmp_path, server)
    port = free_port()
    url = f"http://127.0.0.1:{port}/trustscan-hook"
    bot = await launch_args(
        config,
        tmp_path,
        "run",
        "--webhook-url",
        url,
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--secret-token",
        "s3cret",
    )
    try:
        await server.wait_for(lambda: server.webhook is not None, timeout=30)
        assert server.webhook["url"] == url and server.webhook["secret_token"] == "s3cret"
        languages = {c.params.get("language_code") for c in server.calls_of("setMyCommands")}
        assert {"nl", "en"} <= languages
        user = FakeUser(server, USER_ID)
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "text": "/start",
                "chat": {"id": USER_ID, "type": "private"},
                "from": user.user,
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 30
            while True:  # the listener may still be starting
                try:
                    async with http.post(
                        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                    ) as response:
                        assert response.status == 403
                        break
                except aiohttp.ClientConnectorError:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
            async with http.post(
                url,
                data=json.dumps(update),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret",
                    "Content-Type": "application/json",
                },
            ) as response:
                assert response.status == 200
        await server.wait_for(lambda: server.sent_to(USER_ID), timeout=15)
        assert "link" in user.last["text"].lower()
        assert len(server.sent_to(USER_ID)) == 1  # the forged post did nothing
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 30)
