"""`trustscan run` stopped in the middle of an announcement round, by SIGTERM or kill -9.

SIGTERM does not wait for the round (at Telegram's pace a big one takes minutes, and
docker kills after 10 s): what was not sent stays due, and the next start sends it.
kill -9 halfway loses the rest of the round for nobody and sends nobody a second copy,
since every announcement is marked in the store as it goes out.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

from bot.timing import Budget
from tests.anonymity import keyed
from trustscan.config import load_config
from trustscan.services import load_registry, open_store

from .conftest import KEY, write_config
from .fake_telegram import FakeTelegram
from .test_restart import launch

CONTACTS = 8_100_000_000  # the contacts' chat ids start here
NEW_WAVE = "nieuwe meting"  # in every announcement (bot.new_wave, Dutch)


async def with_contacts(tmp_path: Path, server: FakeTelegram, count: int) -> Path:
    """A config and a database with `count` opted-in contacts and a wave opened while the
    bot was down: its first tick announces the wave to all of them."""
    path = write_config(tmp_path, server, r="[reminders]\nhour = 0\n")
    config = load_config(path, env={"TRUSTSCAN_KEY": KEY})
    store = await open_store(config)
    try:
        for n in range(count):
            await store.set_contact(CONTACTS + n, "dijkhoven", "nl")
        trust = load_registry(config)["trust"]
        await store.open_wave("trust", trust.version, [o.id for o in config.organisations])
    finally:
        await store.close()
    return path


def announced(server: FakeTelegram) -> Counter[int]:
    """How many announcements each contact has received."""
    return Counter(
        chat
        for chat, messages in list(server.chat_log.items())
        if chat >= CONTACTS
        for message in messages
        if NEW_WAVE in message.get("text", "")
    )


async def stop(bot: asyncio.subprocess.Process) -> str:
    """SIGTERM; the exit; what the process logged."""
    if bot.returncode is None:
        bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), 30)
    return err.decode(errors="replace")


async def marks(path: Path) -> int:
    """The announcements the bot's database records as sent (read as another process)."""

    def count() -> int:
        with keyed(path, bytes.fromhex(KEY)) as db:
            return int(db.execute("SELECT count(*) FROM notices_sent").fetchone()[0])

    return await asyncio.to_thread(count)


async def test_sigterm_with_a_backlog_stops_without_sending_it_and_the_next_start_does(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """SIGTERM ten announcements into a round of 100: the bot exits cleanly without sending
    the rest (three seconds of it at Telegram's pace; with 1,600 a minute); the next
    start sends exactly the rest, so every contact has one announcement."""
    config = await with_contacts(tmp_path, server, 100)
    bot = await launch(config, tmp_path)
    await server.wait_for(lambda: sum(announced(server).values()) >= 10, timeout=60)
    bot.send_signal(signal.SIGTERM)
    at_signal = sum(announced(server).values())
    log = await stop(bot)
    after_stop = sum(announced(server).values())
    assert bot.returncode == 0, log
    assert "Traceback" not in log
    # at most what was already on its way (the outbox's burst), not the backlog
    assert after_stop - at_signal <= Budget().burst < 100 - at_signal, "the backlog went first"
    assert "still due" in log or "not sent" in log  # said once, not per message
    bot = await launch(config, tmp_path)
    try:
        await server.wait_for(lambda: len(announced(server)) == 100, timeout=60)
    finally:
        log = await stop(bot)
    assert set(announced(server).values()) == {1}, "nobody twice"
    assert "Traceback" not in log


async def test_kill_9_halfway_through_an_announcement_round_reaches_everyone_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """Telegram takes 30 of 90 announcements, then hangs; the bot is killed with SIGKILL
    while it waits. After the restart the other 60 are sent, and nobody gets two."""
    config = await with_contacts(tmp_path, server, 90)
    server.hold = lambda method, params: (
        method == "sendMessage"
        and params.get("chat_id", 0) >= CONTACTS
        and sum(announced(server).values()) >= 30
    )
    bot = await launch(config, tmp_path)
    await server.wait_for(lambda: len(server.held) >= 3, timeout=60)
    taken = sum(announced(server).values())
    deadline = time.monotonic() + 30
    while await marks(tmp_path / "trustscan.db") < taken:  # each one marked as it went
        assert time.monotonic() < deadline, "the announcements taken were never marked"
        await asyncio.sleep(0.05)
    bot.kill()
    await bot.wait()
    server.release()  # what hung is lost with the process: Telegram never took it
    assert 30 <= taken < 90
    bot = await launch(config, tmp_path)
    try:
        await server.wait_for(lambda: len(announced(server)) == 90, timeout=60)
    finally:
        log = await stop(bot)
    assert set(announced(server).values()) == {1}, "nobody twice, nobody left out"
    assert "Traceback" not in log
