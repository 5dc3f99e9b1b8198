"""Suite-wide settings: the Hypothesis profiles and the Chromium census.

Profiles (see tests/support/budget.py): "fast" for `make test` (the default), "deep" for
`make test-deep` (`--hypothesis-profile=deep`). Tests that need the system Chromium take
the `needs_chromium` mark; when it is missing they skip, and the summary says how many
skipped for that reason, in capitals, so a green run without PDF/PNG is never mistaken for
a full one.

Temporary folders (`tmp_path`, and those of the commands and browsers the tests start)
are in memory where there is a RAM disk (Linux: /dev/shm), unless TMPDIR names a folder:
the tests read what the files hold, never whether it reached the platters, and on a
shared disk the fsync of every stored answer cost more than building the stores did.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.budget import DEEP

COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("fast", max_examples=DEEP // 10, **COMMON)
settings.register_profile("deep", max_examples=DEEP, **COMMON)
settings.load_profile("fast")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "needs the system Chromium (apt-get install chromium)"


RAM_DISK = Path("/dev/shm")
RAM_NEEDED = 2 * 1024**3  # bytes free on the RAM disk before the tests use it (a container's
# /dev/shm is often 64 MB: the suite's databases, PDFs and Chromium would not fit)


def temporary_folders_in_memory() -> None:
    """TMPDIR is the RAM disk, for this process and the ones it starts (see above)."""
    if os.environ.get("TMPDIR") or not (RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK)):
        return
    if shutil.disk_usage(RAM_DISK).free < RAM_NEEDED:
        return
    os.environ["TMPDIR"] = str(RAM_DISK)
    tempfile.tempdir = None  # asked again: pytest's base folder follows


def pytest_configure(config: pytest.Config) -> None:
    temporary_folders_in_memory()
    config.addinivalue_line(
        "markers", "needs_chromium: PDF, PNG or page tests that drive the system Chromium"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM or os.environ.get("CI"):  # CI installs it (.ci/run): there they must run
        return
    for item in items:
        if item.get_closest_marker("needs_chromium"):
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if isinstance(r.longrepr, tuple) and NO_CHROMIUM in str(r.longrepr[2])
    ]
    if skipped:
        terminalreporter.write_sep(
            "!",
            f"{len(skipped)} TESTS SKIPPED: NO CHROMIUM. PDF, PNG and page checks did not run; "
            "install it (apt-get install chromium) and run make test again",
            red=True,
            bold=True,
        )
