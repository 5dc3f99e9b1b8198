"""Operator mistakes through the installed command: one sentence, exit 1, no traceback.

A config file that is not UTF-8, is binary or is a folder; a database file or folder
this user may not write, for `wave list`, `invite` and `run`. As root the permission
bits would not bind, so the command then runs without the capabilities that override
them (`setpriv`), like any other user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.shared import built_once

from .command import KEY, trustscan_path

# root without the capabilities that ignore permission bits, so read-only means read-only
AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def command(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSCAN_")}
    env["TRUSTSCAN_KEY"] = KEY
    env["TRUSTSCAN_TOKEN"] = "123:fake"  # `run` gets as far as the database
    prefix = AS_A_USER if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, trustscan_path(), "--lang", "en", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=folder,
        env=env,
        timeout=120,
    )


def assert_one_sentence(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 1, a single line on stderr starting `trustscan:` naming `words`, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trustscan: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


needs_setpriv = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root, read-only needs setpriv to drop the override capabilities",
)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("latin1.toml", 'partnership = "Caf\xe9"\n'.encode("latin-1"), "not a UTF-8 text file"),
        ("binary.toml", bytes(range(256)) * 4, "not a UTF-8 text file"),
        ("zeros.toml", b"\x00" * 64, "TOML syntax error"),
    ],
)
def test_a_config_that_is_no_text_is_named_in_one_sentence(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    (tmp_path / name).write_bytes(content)
    result = command(tmp_path, "--config", name, "wave", "list")
    assert_one_sentence(result, name, says)
    assert not (tmp_path / "trustscan.db").exists()  # nothing was created on a bad config


def test_a_config_that_is_a_folder_is_named_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    result = command(tmp_path, "--config", "config.toml", "wave", "list")
    assert_one_sentence(result, "config.toml", "is a folder", ".toml file")


@pytest.fixture(scope="session")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one open wave (`wave open trust`), made once for the whole run;
    each test writes a copy of it where its config looks."""

    def wave_open(folder: Path) -> None:
        assert command(folder, "wave", "open", "trust").returncode == 0

    return built_once(tmp_path_factory, "opened", wave_open) / "trustscan.db"


@needs_setpriv
@pytest.mark.parametrize("args", [("wave", "list"), ("invite", "--survey", "trust"), ("run",)])
def test_a_read_only_database_file_is_one_sentence(
    tmp_path: Path, opened: Path, args: tuple[str, ...]
) -> None:
    database = tmp_path / "trustscan.db"
    shutil.copy2(opened, database)
    database.chmod(0o400)
    before = database.read_bytes()
    result = command(tmp_path, *args)
    assert_one_sentence(result, str(database), "read-only", "chmod u+w")
    assert database.stat().st_mode & 0o777 == 0o400  # not made writable behind one's back
    assert database.read_bytes() == before


@needs_setpriv
@pytest.mark.parametrize("args", [("wave", "list"), ("invite", "--survey", "trust"), ("run",)])
def test_a_read_only_database_folder_is_one_sentence(
    tmp_path: Path, opened: Path, args: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "c.toml").write_text(
        '[database]\npath = "data/trustscan.db"\nkey_file = "trustscan.key"\n', encoding="utf-8"
    )
    shutil.copy2(opened, data / "trustscan.db")
    data.chmod(0o500)
    try:
        result = command(tmp_path, "--config", "c.toml", *args)
    finally:
        data.chmod(0o700)
    assert_one_sentence(result, str(data.resolve()), "read-only", "writable")


def test_a_database_path_that_is_a_folder_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "trustscan.db").mkdir()
    result = command(tmp_path, "wave", "list")
    assert_one_sentence(result, "trustscan.db", "is a folder", "[database] path")
