"""Fixtures shared by the analysis tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveys.store import Store
from tests.support.clock import CLOCK


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "r.db", bytes(32), clock=CLOCK)
    yield s
    await s.close()
