"""`trustscan run` killed with SIGKILL mid-survey: after a restart nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sys
from pathlib import Path

from tests.anonymity import keyed

from .conftest import (
    KEY,
    TOKEN,
    USER_ID,
    assert_no_user_id,
    complete_by_buttons,
    start_survey,
    write_config,
)
from .fake_telegram import FakeTelegram, FakeUser

E2E_SURVEY = Path(__file__).parent / "data" / "e2e.toml"


def trustscan() -> str:
    return shutil.which("trustscan") or str(Path(sys.executable).parent / "trustscan")


async def launch(config: Path, cwd: Path) -> asyncio.subprocess.Process:
    return await launch_args(config, cwd, "run")


async def launch_args(config: Path, cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """Start the installed `trustscan --config CONFIG ARGS…` in the background."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSCAN_")}
    env["TRUSTSCAN_KEY"] = KEY
    return await asyncio.create_subprocess_exec(
        trustscan(),
        "--config",
        str(config),
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def cli(config: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSCAN_")}
    env["TRUSTSCAN_KEY"] = KEY
    proc = await asyncio.create_subprocess_exec(
        trustscan(),
        "--config",
        str(config),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_resume_after_sigkill_and_restart(server: FakeTelegram, tmp_path: Path):
    """Kill -9 between answers; the restarted bot continues at the right question."""
    config = write_config(tmp_path, server, s=f'[surveys]\npaths = ["{E2E_SURVEY}"]\n')
    await cli(config, "wave", "open", "e2e")
    link = (await cli(config, "invite", "--org", "dijkhoven", "--role", "staff")).split()[-1]
    token = link.split("start=")[1]
    bot = await launch(config, tmp_path)
    try:
        await server.wait_for(lambda: server.calls_of("getUpdates"), timeout=30)
        user = FakeUser(server, USER_ID)
        await start_survey(user, token)
        await user.press(user.button(lambda _, d: d.startswith("n:")))
        await user.press(user.button(lambda t, _: t == "eens"))  # v1 = 4, acknowledged
        current = user.last
        assert "Partners zoeken" in current["text"]
        bot.send_signal(signal.SIGKILL)
        await bot.wait()

        bot = await launch(config, tmp_path)
        await server.wait_for(lambda: len(server.calls_of("getMe")) >= 2, timeout=30)
        # the button on the message shown before the crash still works
        await user.press(user.button(lambda t, _: t == "oneens", current), current)
        assert "Vraag 3 van" in user.last["text"] or "Ik vertrouw" in user.last["text"]
        await complete_by_buttons(user, random.Random(5))
        assert "Hartelijk dank" in user.last["text"]
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
    stderr = (await bot.stderr.read()).decode() if bot.stderr else ""
    assert TOKEN not in stderr  # the token never reaches the logs
    with keyed(tmp_path / "trustscan.db", bytes.fromhex(KEY)) as db:
        # finished, and waiting (unlinked) for k − 1 others of its group or the close
        [(content,)] = db.execute("SELECT content FROM pending").fetchall()
        assert db.execute("SELECT count(*) FROM drafts").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM responses").fetchone() == (0,)
    rows = sorted((q, t, v) for q, t, _, v, _ in json.loads(content)["a"] if q in ("v1", "v2"))
    assert rows == [("v1", "", 4), ("v2", "", 2)]
    assert_no_user_id(tmp_path / "trustscan.db", USER_ID)
