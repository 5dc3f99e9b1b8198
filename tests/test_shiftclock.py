"""The wall-clock shim that runs the suite on other days (`make test-dates`) moves the
date and nothing else: sleeps, timed waits and the monotonic clock behave as before."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SHIM = Path(__file__).parent / "support" / "shiftclock.c"
SHIFT = 400 * 86400 + 3600  # a year and a month on, and an hour

PROBE = """
import datetime, json, threading, time
wall, mono = time.time(), time.monotonic()
time.sleep(0.05)
threading.Event().wait(0.05)
lock = threading.Lock(); lock.acquire(); lock.acquire(timeout=0.05)
print(json.dumps({"wall": wall, "now": datetime.datetime.now().timestamp(),
                  "slept": time.monotonic() - mono}))
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler builds the shim (build-essential)"
    out = tmp_path_factory.mktemp("shim") / "shiftclock.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", out, SHIM, "-ldl"], check=True)
    return out


def probe(env: dict[str, str]) -> dict[str, float]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,  # a shim that hung timed waits would end here
    )
    result: dict[str, float] = json.loads(run.stdout)
    return result


def test_the_shim_moves_the_date_and_leaves_waits_alone(shim: Path) -> None:
    """Under the shim Python's date is a year on, and a 0.15 s series of sleeps and timed
    waits still waits and returns (libfaketime's way of moving time hangs or skips them)."""
    plain = probe({"PATH": "/usr/bin:/bin"})
    moved = probe(
        {"PATH": "/usr/bin:/bin", "LD_PRELOAD": str(shim), "TRUSTSCAN_SHIFT_SECONDS": str(SHIFT)}
    )
    assert abs((moved["wall"] - plain["wall"]) - SHIFT) < 60
    assert abs((moved["now"] - plain["now"]) - SHIFT) < 60
    assert moved["slept"] >= 0.14  # the waits took their time (none returned at once)
    date = subprocess.run(
        ["date", "-u", "+%Y"],
        capture_output=True,
        text=True,
        check=True,
        env={"LD_PRELOAD": str(shim), "TRUSTSCAN_SHIFT_SECONDS": str(SHIFT * 10)},
    )
    assert int(date.stdout) >= 2037  # other programs (the bot, Chromium) see it too
