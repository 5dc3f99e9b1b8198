"""kill -9 at any moment, with respondents answering at once, loses nothing acknowledged.

A child process (`kill_child.py`) runs concurrent respondents against a real store and
prints each acknowledgement after the store returned it; the test kills it with SIGKILL
after a chosen number of lines (an event, not a time), reopens the database and checks
every promise: every acknowledged draft and position (found again with the secret the
chat would bring), every acknowledged completion (released, or waiting for its batch).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from surveys.store import Store
from tests.anonymity import keyed
from tests.support.clock import CLOCK
from tests.surveys.test_store import KEY, ORGS, USER

PEOPLE = 8  # staggered: one batch of five released, three left waiting, if all finish
ROOT = Path(__file__).resolve().parents[2]


async def killed_after(path: Path, wave: int, lines: int) -> list[list[str]]:
    """Run the child until it has printed `lines` acknowledgements, then SIGKILL it."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.surveys.kill_child",
        str(path),
        str(wave),
        str(USER),
        str(PEOPLE),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    said: list[list[str]] = []
    while len(said) < lines:
        line = await asyncio.wait_for(child.stdout.readline(), 60)
        if not line:
            break
        said.append(line.decode().split())
    child.send_signal(signal.SIGKILL)
    await child.wait()
    return [words for words in said if words and words[0] != "all"]


def finished_clans(path: Path, wave: int) -> list[int]:
    """The clan points of every finished response in the file: released or waiting."""
    with keyed(path, KEY) as db:
        released = db.execute(
            "SELECT a.value FROM answers a JOIN responses r ON r.id = a.response "
            "WHERE r.wave = ? AND r.complete = 1 AND a.question = 'a1' AND a.part = 'clan'",
            (wave,),
        ).fetchall()
        waiting = db.execute("SELECT content FROM pending WHERE wave = ?", (wave,)).fetchall()
    clans = [value for (value,) in released]
    for (content,) in waiting:
        clans += [v for q, _, part, v, _ in json.loads(content)["a"] if (q, part) == ("a1", "clan")]
    return sorted(clans)


@pytest.mark.parametrize("lines", [9, 20, 33, 44, 50])
async def test_kill_9_at_any_moment_loses_nothing_acknowledged(tmp_path: Path, lines: int):
    path = tmp_path / "t.db"
    async with await Store.open(path, KEY, clock=CLOCK) as store:
        wave = (await store.open_wave("mini", 1, ORGS)).id
    said = await killed_after(path, wave, lines)
    assert len(said) == lines, said  # the kill came in the middle of the answering
    secrets = {int(w[1]): bytes.fromhex(w[2]) for w in said if w[0] == "begin"}
    reached = {int(w[1]): int(w[2]) for w in said if w[0] == "step"}
    done = {int(w[1]): int(w[2]) for w in said if w[0] == "done"}
    clans = finished_clans(path, wave)
    assert set(done.values()) <= set(clans), "an acknowledged completion was lost"
    assert len(clans) == len(set(clans)), "a completion was stored twice"
    async with await Store.open(path, KEY, clock=CLOCK) as store:
        for user, secret in secrets.items():
            await store.recall(user, secret)  # the person's next tap
            session = await store.find_session(wave, user)
            if session is None or session.completed:
                # finished (acknowledged or not yet): its response is in the file
                assert user - USER + 1 in clans, "a draft was lost"
                continue
            assert user not in done, "an acknowledged completion came back as a draft"
            assert session.cursor >= reached.get(user, 0), "an acknowledged step was lost"
        await store.close_wave(wave)
    assert finished_clans(path, wave) == clans  # the close releases, loses nothing
