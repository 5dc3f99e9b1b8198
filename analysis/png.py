"""Charts as PNG: kaleido driving the system Chromium, one browser for many charts.

MathJax is off and plotly.js comes from the installed plotly package, so nothing is
fetched from the network. This module imports neither pandas nor kaleido up front: the
bot loads it to start the browser before the heavier analysis modules are imported.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLYJS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PNG_WIDTH = 1000
RENDER_TIMEOUT = 90  # seconds for one chart


class ExportError(RuntimeError):
    """PNG export is impossible here (no Chromium, or it failed to start)."""


class PngRenderer:
    """One headless Chromium kept open for many charts: starting it costs about 2 s.

    The bot keeps one for its lifetime (opened on the first `/report`); the CLI uses one
    per run. A browser that crashed is started afresh on the next call.
    """

    def __init__(self, width: int = PNG_WIDTH) -> None:
        self.width = width
        self._browser: Any = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Start the browser unless it runs already (safe to call concurrently)."""
        async with self._lock:
            if self._browser is not None:
                return
            import kaleido

            with _translated():
                browser = kaleido.Kaleido(
                    n=1, timeout=RENDER_TIMEOUT, mathjax=False, plotlyjs=str(PLOTLYJS)
                )
                await browser.open()
            self._browser = browser

    async def render(self, figures: Sequence[go.Figure]) -> list[bytes]:
        """PNG bytes per figure, in order."""
        if not figures:
            return []
        await self.open()
        try:
            with _translated():
                return [
                    await self._browser.calc_fig(
                        fig,
                        opts={
                            "format": "png",
                            "width": self.width,
                            "height": int(fig.layout.height or 480),
                            "scale": 1,
                        },
                    )
                    for fig in figures
                ]
        except ExportError:
            await self.close()  # the next call starts a fresh browser
            raise

    async def close(self) -> None:
        async with self._lock:
            browser, self._browser = self._browser, None
            if browser is not None:
                with contextlib.suppress(Exception):
                    await browser.close()

    async def __aenter__(self) -> PngRenderer:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Kaleido's and choreographer's many exception types become one ExportError."""
    try:
        yield
    except (TimeoutError, OSError, RuntimeError) as exc:
        raise ExportError(f"PNG export needs Chromium (apt-get install chromium): {exc}") from exc
    except Exception as exc:  # choreographer raises its own types when no browser is found
        raise ExportError(f"PNG export failed: {type(exc).__name__}: {exc}") from exc


async def figures_to_png(figures: Sequence[go.Figure], width: int = PNG_WIDTH) -> list[bytes]:
    """PNG bytes per figure, rendered by one headless Chromium started for this call."""
    if not figures:
        return []
    async with PngRenderer(width) as renderer:
        return await renderer.render(figures)
