"""A folder built once per test run and shared by every xdist worker (the demo, say).

A session-scoped fixture runs once per worker process; what it writes to a file can
serve them all. The first worker to ask builds the folder while it holds a lock; the
others block on that lock (an event: no polling, no sleep) and then find it built. A
build that raised leaves no mark of completion, so the next one to ask builds it again.
Readers must not change the folder: a test that writes takes a private copy.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

BUILT = ".built"  # written last: the folder is complete


def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This run's temporary root: the workers' common parent under xdist, else our own
    (never the parent of a lone run's folder, which earlier runs share)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """The folder `name` of this run, filled by `build(folder)` the first time it is asked for."""
    root = run_root(tmp_path_factory)
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / BUILT).exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / BUILT).touch()
    return folder
