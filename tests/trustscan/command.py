"""The installed `trustscan` command, run in a test's folder, and the demo it writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

KEY = "ef" * 32


def trustscan_path() -> str:
    return shutil.which("trustscan") or str(Path(sys.executable).parent / "trustscan")


def permissive_umask() -> None:
    os.umask(0o022)  # the usual default: new files world-readable unless trustscan objects


def assert_private(folder: Path, *written_by_test: str) -> None:
    """Every file trustscan wrote under `folder` is 0600 and every folder 0700."""
    for path in folder.rglob("*"):
        if path.name in written_by_test:
            continue
        expected = 0o700 if path.is_dir() else 0o600
        assert path.stat().st_mode & 0o777 == expected, f"{path.relative_to(folder)}"


def run_in(
    folder: Path, *args: str, stdin: str = "", key: str | None = KEY, lang: str = "en"
) -> subprocess.CompletedProcess:
    """Run the installed command in `folder` with a clean trustscan environment.

    Facilitator-facing lines follow `--lang` (the tests read English unless they say).

    The umask is the permissive 022, so a file trustscan leaves readable shows up.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSCAN_")}
    if key:
        env["TRUSTSCAN_KEY"] = key
    return subprocess.run(
        [trustscan_path(), "--lang", lang, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=120,
        preexec_fn=permissive_umask,
    )


@dataclass(frozen=True)
class Demo:
    """What `trustscan demo --lang en` printed, and the folder it wrote (`demo` fixture).

    The folder is shared by every test of the run: read it, never write to it.
    """

    returncode: int
    stdout: str
    stderr: str
    folder: Path  # trustscan-demo/: demo.db, demo.key, report.html, tables/


def with_demo(demo: Demo, tmp_path: Path) -> None:
    """A private copy of the demo's database as `d/`, and a config `c.toml` pointing at it."""
    assert demo.returncode == 0, demo.stderr
    shutil.copytree(demo.folder, tmp_path / "d")
    (tmp_path / "c.toml").write_text(
        '[database]\npath = "d/demo.db"\nkey_file = "d/demo.key"\n', encoding="utf-8"
    )
