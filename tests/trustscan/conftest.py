"""Fixtures of the command-line tests: a run in the test's folder, and the demo (once)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.shared import built_once

from .command import KEY, Demo, run_in


@pytest.fixture
def run(tmp_path: Path):
    """`run_in` the test's own folder."""

    def go(
        *args: str, stdin: str = "", key: str | None = KEY, lang: str = "en"
    ) -> subprocess.CompletedProcess:
        return run_in(tmp_path, *args, stdin=stdin, key=key, lang=lang)

    return go


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`trustscan demo --lang en` in a folder of its own, once for all xdist workers: the
    command-line, partner-report and demo-data tests read it (each takes a private copy
    of the database: `with_demo`)."""

    def run_demo(folder: Path) -> None:
        result = run_in(folder, "demo", "--lang", "en", key=None)
        (folder / "returncode").write_text(str(result.returncode), encoding="utf-8")
        (folder / "stdout").write_text(result.stdout, encoding="utf-8")
        (folder / "stderr").write_text(result.stderr, encoding="utf-8")

    folder = built_once(tmp_path_factory, "demo", run_demo)
    return Demo(
        int((folder / "returncode").read_text(encoding="utf-8")),
        (folder / "stdout").read_text(encoding="utf-8"),
        (folder / "stderr").read_text(encoding="utf-8"),
        folder / "trustscan-demo",
    )
