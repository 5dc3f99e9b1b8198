"""`trustscan run` at start-up, through the installed command: a wrong token, no network."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

from .conftest import KEY, TOKEN, USER_ID, write_config
from .fake_telegram import FakeTelegram, FakeUser


def trustscan_path() -> str:
    return shutil.which("trustscan") or str(Path(sys.executable).parent / "trustscan")


async def start_bot(
    folder: Path, config: Path, *command: str, key: str = KEY
) -> asyncio.subprocess.Process:
    """`trustscan --config CONFIG run` (or another command) with the master key `key`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSCAN_")}
    env["TRUSTSCAN_KEY"] = key
    return await asyncio.create_subprocess_exec(
        trustscan_path(),
        "--config",
        str(config),
        *(command or ("run",)),
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_wrong_token_is_one_sentence(tmp_path: Path, server: FakeTelegram) -> None:
    server.fail_next("getMe", 401, times=5)
    bot = await start_bot(tmp_path, write_config(tmp_path, server))
    _, err = await asyncio.wait_for(bot.communicate(), 60)
    lines = err.decode().strip().splitlines()
    assert bot.returncode != 0
    assert len(lines) == 1, lines
    assert "does not accept the bot token" in lines[0] and "TRUSTSCAN_TOKEN" in lines[0]
    assert TOKEN.split(":")[1] not in lines[0]


async def test_run_waits_for_telegram_and_comes_up_with_it(tmp_path: Path) -> None:
    """Nothing listens yet: one line per attempt; then Telegram appears and the bot polls.

    A 502 page from a proxy in front of Telegram is then one line too, not a traceback.
    """
    port = free_port()
    server = FakeTelegram()
    server.port = port  # the config names it before it listens
    bot = await start_bot(tmp_path, write_config(tmp_path, server))
    assert bot.stderr is not None
    try:
        lines = [await asyncio.wait_for(bot.stderr.readline(), 30) for _ in range(2)]
        assert all(b"cannot be reached" in line for line in lines), lines
        assert bot.returncode is None  # still waiting, not gone
        await server.start(port)
        await server.wait_for(lambda: server.calls_of("getUpdates"), timeout=30)
        server.pages.append("getUpdates")  # a proxy's 502 page instead of an answer
        # a person writes: the bot's long poll under way returns with it (rather than after
        # its ten seconds) and the next one meets the page
        await FakeUser(server, USER_ID).send("/help")
        await server.wait_for(
            lambda: not server.pages and len(server.calls_of("getUpdates")) > 2, timeout=30
        )
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGINT)
        _, rest = await asyncio.wait_for(bot.communicate(), 60)
        await server.stop()
    assert b"Traceback" not in rest
    assert len([line for line in rest.splitlines() if b"Bad Gateway" in line]) == 1, rest


async def test_a_wrong_key_is_one_sentence_every_time(tmp_path: Path, server: FakeTelegram) -> None:
    """A database made with one master key, `trustscan run` with another, ten times over:
    each time exactly one sentence and a failure exit, never a traceback (it used to add an
    "Event loop is closed" one now and then), and Telegram is not even asked."""
    config = write_config(tmp_path, server)
    made = await start_bot(tmp_path, config, "wave", "list")  # creates it with KEY
    await asyncio.wait_for(made.communicate(), 60)
    assert made.returncode == 0
    wrong = "cd" * 32
    runs = [await start_bot(tmp_path, config, key=wrong) for _ in range(10)]
    outputs = await asyncio.wait_for(asyncio.gather(*(r.communicate() for r in runs)), 120)
    for run, (_, err) in zip(runs, outputs, strict=True):
        lines = err.decode().strip().splitlines()
        assert run.returncode == 1 and len(lines) == 1, lines
        assert "master key does not open the database" in lines[0]
    assert not server.calls_of("getMe"), "refused before Telegram was asked"
