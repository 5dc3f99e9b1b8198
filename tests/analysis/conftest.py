"""Fixtures shared by the analysis tests: a store of the test's own, one warm browser."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from analysis.png import PngRenderer
from surveys.store import Store
from tests.support.clock import CLOCK

T = TypeVar("T")


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "r.db", bytes(32), clock=CLOCK)
    yield s
    await s.close()


@dataclass(frozen=True)
class Browser:
    """One event loop and one warm `PngRenderer` in it, for the tests that print a PDF,
    draw PNGs or view a page without being about the browser's own life (starting one
    costs about 2 s). A test runs its renderer work with `run`; the renderer belongs to
    this loop, so such a test is a plain function, not a coroutine."""

    runner: asyncio.Runner
    renderer: PngRenderer

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(work)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with asyncio.Runner() as runner:
        renderer = PngRenderer()
        runner.run(renderer.open())
        try:
            yield Browser(runner, renderer)
        finally:
            runner.run(renderer.close())
