"""`trustscan run --webhook-url`: updates arrive by HTTP POST, guarded by the secret token."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from .conftest import USER_ID, write_config
from .fake_telegram import FakeTelegram, FakeUser
from .test_restart import launch_args

SECRET = "s3cret"
GENUINE = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(update_id: int, user: FakeUser, text: str) -> dict[str, Any]:
    """A posted update: `user` types the command `text`."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": user.id, "type": "private"},
            "from": user.user,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


class Webhook:
    """The bot process in webhook mode, the URL it listens on, and its log (after `stop`)."""

    def __init__(self, bot: asyncio.subprocess.Process, url: str) -> None:
        self.bot = bot
        self.url = url
        self.log = ""

    async def post(
        self, http: aiohttp.ClientSession, update: dict[str, Any] | str, headers: dict[str, str]
    ) -> int:
        """POST `update` (a str as it is); its HTTP status. Waits for the listener to start."""
        body = update if isinstance(update, str) else json.dumps(update)
        deadline = time.monotonic() + 30
        while True:
            try:
                data = io.BytesIO(body.encode())  # a large body without locking the loop
                async with http.post(self.url, data=data, headers=headers) as r:
                    return r.status
            except aiohttp.ClientConnectorError:
                assert time.monotonic() < deadline, "the webhook server never listened"
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """SIGTERM, wait for the exit, keep what the process logged."""
        if self.bot.returncode is None:
            self.bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.bot.communicate(), 30)
        self.log = err.decode(errors="replace")


def webhook_args(url: str, port: int, *, secret: str | None = SECRET) -> list[str]:
    """`run` in webhook mode on 127.0.0.1 (with `--secret-token`, unless `secret` is None)."""
    args = ["run", "--webhook-url", url, "--listen", "127.0.0.1", "--port", str(port)]
    return [*args, "--secret-token", secret] if secret else args


@asynccontextmanager
async def webhook_bot(
    server: FakeTelegram, tmp_path: Path, *extra: str, secret: str | None = SECRET
) -> AsyncIterator[Webhook]:
    """`trustscan run --webhook-url …` (with a secret token by default); stopped on leaving."""
    config = write_config(tmp_path, server)
    port = free_port()
    url = f"http://127.0.0.1:{port}/trustscan-hook"
    bot = await launch_args(config, tmp_path, *webhook_args(url, port, secret=secret), *extra)
    hook = Webhook(bot, url)
    try:
        yield hook
    finally:
        await hook.stop()


async def test_webhook_mode_registers_and_serves_updates(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """The bot sets its webhook and commands, answers posted updates and refuses forgeries."""
    async with webhook_bot(server, tmp_path) as hook:
        webhook = await server.wait_for(lambda: server.webhook, timeout=30)
        assert webhook["url"] == hook.url and webhook["secret_token"] == SECRET
        languages = {c.params.get("language_code") for c in server.calls_of("setMyCommands")}
        assert {"nl", "en"} <= languages
        user = FakeUser(server, USER_ID)
        update = command(1, user, "/start")
        async with aiohttp.ClientSession() as http:
            forged = {**GENUINE, "X-Telegram-Bot-Api-Secret-Token": "wrong"}
            assert await hook.post(http, update, forged) == 403
            assert await hook.post(http, update, {"Content-Type": "application/json"}) == 403
            assert await hook.post(http, update, {**GENUINE}) == 200
        await server.wait_for(lambda: server.sent_to(USER_ID), timeout=15)
        assert "link" in user.last["text"].lower()
        assert len(server.sent_to(USER_ID)) == 1  # the forged posts did nothing
    assert hook.bot.returncode == 0, hook.log
    assert "Traceback" not in hook.log


async def test_an_unreadable_posted_update_is_answered_and_skipped(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """A poll message without the fields a newer Bot API requires, posted between two others.

    It is answered 200 (anything else and Telegram posts it again and again), logged once
    by update id and error type without any of its content, and the next person is served.
    """
    first, second = FakeUser(server, USER_ID), FakeUser(server, USER_ID + 1)
    poison = {
        "update_id": 2,
        "message": {
            "message_id": 77,
            "date": int(time.time()),
            "chat": {"id": USER_ID + 2, "type": "private"},
            "poll": {"id": "secret-poll-content"},
        },
    }
    async with webhook_bot(server, tmp_path) as hook:
        async with aiohttp.ClientSession() as http:
            assert await hook.post(http, command(1, first, "/help"), GENUINE) == 200
            await server.wait_for(lambda: first.inbox(), timeout=15)
            assert await hook.post(http, poison, GENUINE) == 200
            assert await hook.post(http, '{"update_id": 4, "message": secret', GENUINE) == 200
            assert await hook.post(http, command(3, second, "/help"), GENUINE) == 200
            await server.wait_for(lambda: second.inbox(), timeout=15)
        assert second.last["text"] == first.last["text"], "the next update was served"
        assert not server.sent_to(USER_ID + 2), "nothing was handled for the unreadable one"
    skipped = [line for line in hook.log.splitlines() if "cannot be read" in line]
    assert skipped == [skipped[0]] and "update 2:" in skipped[0], hook.log
    assert "TypeError" in skipped[0]  # the error type, so the operator knows what failed
    assert "secret-poll-content" not in hook.log and '"message": secret' not in hook.log
    assert "poll" not in hook.log.lower()
    assert hook.log.count("not JSON") == 1  # a broken post: answered, one line
    assert "Traceback" not in hook.log
    assert hook.bot.returncode == 0, hook.log


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_nested_and_oversized_bodies_are_answered_and_skipped_without_their_content(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """A 20,000-deep JSON body, an update whose id is a megabyte of text, a body that is a
    list: each answered 200 (Telegram would post an error again and again), skipped with
    one short line that holds none of it, and the next update is served."""
    user = FakeUser(server, USER_ID)
    megabyte = "secret" * 174_763  # a little over 1 MB, recognisable in a log
    oversized = {**command(2, user, "/help"), "update_id": megabyte}
    async with webhook_bot(server, tmp_path) as hook, aiohttp.ClientSession() as http:
        assert await hook.post(http, nested(20_000), GENUINE) == 200
        assert (
            await hook.post(http, {"update_id": 1, "deep": json.loads(nested(500))}, GENUINE) == 200
        )
        assert await hook.post(http, oversized, GENUINE) == 200
        assert await hook.post(http, "[1, 2, 3]", GENUINE) == 200
        assert await hook.post(http, command(3, user, "/help"), GENUINE) == 200
        await server.wait_for(lambda: user.inbox(), timeout=15)
    assert len(user.inbox()) == 1, "only the readable update was answered"
    assert hook.bot.returncode == 0, hook.log[:2000]
    assert "Traceback" not in hook.log and megabyte[:60] not in hook.log
    assert len(hook.log) < 4000, "the log grew by the body"
    assert hook.log.count("nested deeper than") == 2
    skipped = [line for line in hook.log.splitlines() if "cannot be read" in line]
    assert any("not a number (str, 1048578 characters)" in line for line in skipped), skipped


async def test_a_webhook_without_a_secret_token_refuses_to_start(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """Without --secret-token the webhook does not start (any post could then answer, or
    /delete, as anyone): one sentence and a failure exit. --insecure-loopback lets a test
    go without, on a loopback address only."""
    config = write_config(tmp_path, server)
    port = free_port()
    url = f"http://127.0.0.1:{port}/trustscan-hook"
    no_secret = webhook_args(url, port, secret=None)
    anywhere = [a if a != "127.0.0.1" else "0.0.0.0" for a in no_secret]
    for args in (no_secret, [*anywhere, "--insecure-loopback"]):
        bot = await launch_args(config, tmp_path, *args)
        _, err = await asyncio.wait_for(bot.communicate(), 60)
        lines = err.decode().strip().splitlines()
        assert bot.returncode == 1 and len(lines) == 1, lines
        assert "--secret-token" in lines[0]
    assert not server.calls, "refused before anything started"
    user = FakeUser(server, USER_ID)
    async with webhook_bot(server, tmp_path, "--insecure-loopback", secret=None) as hook:
        async with aiohttp.ClientSession() as http:
            headers = {"Content-Type": "application/json"}
            assert await hook.post(http, command(1, user, "/help"), headers) == 200
        await server.wait_for(lambda: user.inbox(), timeout=15)
    assert hook.bot.returncode == 0, hook.log
