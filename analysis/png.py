"""Charts as PNG and pages as PDF: kaleido driving the system Chromium, one browser for all.

MathJax is off and plotly.js comes from the installed plotly package, so nothing is
fetched from the network. This module imports neither pandas nor kaleido up front: the
bot loads it to start the browser before the heavier analysis modules are imported.
The same warm browser prints the report page to PDF (`PngRenderer.pdf`) and shows it
at a phone's width (`PngRenderer.view`), each in a tab of its own. Kaleido starts the
browser; the charts are drawn in its tab by plotly.js directly, all in one call, so the
tab is never reloaded between charts (kaleido's `calc_fig` reloads it after each one).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLYJS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLYJS_INLINE = "<script>/**\n* plotly.js"  # how plotly's to_html starts the inlined library
PNG_WIDTH = 1000
RENDER_TIMEOUT = 90  # seconds for one chart, or for one page to load and draw
# A chat album's charts: laid out 540 px wide and drawn at 2x, so Telegram's viewer (about
# 390 pt across on a phone) shows the 14 px chart font at about 10 pt.
ALBUM_WIDTH = 540
ALBUM_SCALE = 2
PHONE_WIDTH = 390
# A4 at 96 px per inch less 12 mm margins left and right: the width the charts are laid
# out at before printing, so that no chart is wider than the paper.
PRINT_WIDTH = 703
PRINT_HEIGHT = 1000
# Chromium binds a unix socket under $TMPDIR (…/.org.chromium.Chromium.XXXXXX/SingletonSocket,
# about 50 characters more); a socket path has room for 107. Under a longer temporary
# folder the browser exits at once, so it then gets a short private one under /tmp.
SOCKET_ROOM = 50
SHORT_TEMP_ROOTS = ("/tmp", "/dev/shm", "/var/tmp")
SCROLL_WIDTH = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
# Resolves once every plotly chart on the page has drawn its SVG, two frames later.
DRAWN = """new Promise(done => {
  const ready = () => [...document.querySelectorAll('.js-plotly-plot')]
    .every(p => p.querySelector('.main-svg'));
  const wait = () => ready()
    ? requestAnimationFrame(() => requestAnimationFrame(() => done(true)))
    : setTimeout(wait, 20);
  wait();
})"""

# Draws figures to PNG one after another in a tab with plotly.js loaded, as kaleido's
# scope does (`plotGlPixelRatio` and all), and gives back their base64 data.
TO_PNG = """async (figures, opts) => {
  const out = [];
  for (const f of figures) {
    const config = Object.assign({plotGlPixelRatio: opts.scale * 2}, f.config || {});
    out.push(await Plotly.toImage({data: f.data, layout: f.layout, config: config}, {
      format: 'png', width: opts.width, height: (f.layout && f.layout.height) || 480,
      scale: opts.scale, imageDataOnly: true}));
  }
  return out;
}"""


class ExportError(RuntimeError):
    """PNG export is impossible here (no Chromium, or it failed to start)."""


@dataclass(frozen=True, slots=True)
class PageView:
    """A page as a browser of some width shows it: its widest extent and a screenshot."""

    width: int  # the viewport's CSS px
    scroll_width: int  # the document's widest extent in CSS px; above `width` = overflow
    png: bytes
    probe: Any = None  # what the caller's JavaScript probe returned


class PngRenderer:
    """One headless Chromium kept open for many charts: starting it costs about 2 s.

    The bot keeps one for its lifetime (opened on the first `/report`); the CLI uses one
    per run. A browser that crashed is started afresh on the next call.
    """

    def __init__(self, width: int = PNG_WIDTH) -> None:
        self.width = width
        self._browser: Any = None
        self._lock = asyncio.Lock()
        self._printing = asyncio.Lock()  # one page at a time in the print tab
        self._charting = asyncio.Lock()  # one album at a time in the chart tab
        self._tabs: dict[str, Any] = {}  # the print and chart tabs, plotly.js loaded
        self._folder: Path | None = None  # their blank page

    async def open(self) -> None:
        """Start the browser unless it runs already (safe to call concurrently)."""
        async with self._lock:
            if self._browser is not None:
                return
            import kaleido

            shell = self._shell()
            with _translated(), _browser_temp(shell.parent):
                # kaleido's one tab opens on the shell and becomes the chart tab
                browser = kaleido.Kaleido(
                    n=1,
                    timeout=RENDER_TIMEOUT,
                    page_generator=str(shell),  # plotly.js from here, no MathJax
                    tmp_dir=str(shell.parent),  # the profile, beside the shell
                )
                await browser.open()
            self._browser = browser
            self._tabs["chart"] = next(iter(browser.tabs.values()))

    async def render(
        self, figures: Sequence[go.Figure], *, width: int | None = None, scale: float = 1
    ) -> list[bytes]:
        """PNG bytes per figure, in order, laid out `width` px wide and drawn at `scale`.

        All figures go in one DevTools call to a tab that keeps plotly.js compiled, where
        plotly draws them one by one (`Plotly.toImage`, as kaleido does). Kaleido's own
        `calc_fig` reloads its tab, and so recompiles plotly.js, after every chart: about
        0.15 s a chart saved.
        """
        if not figures:
            return []
        await self.open()
        figs = "[" + ",".join(fig.to_json(validate=False) for fig in figures) + "]"
        expression = (
            f"({TO_PNG})({figs}, {json.dumps({'width': width or self.width, 'scale': scale})})"
        )
        async with self._charting:
            try:
                with _translated():
                    tab = await self._shell_tab("chart")  # kaleido's, unless it crashed
                    pngs = await asyncio.wait_for(
                        _evaluate(tab, expression, awaited=True), RENDER_TIMEOUT * len(figures)
                    )
            except ExportError:
                await self.close()  # the next call starts a fresh browser and tab
                raise
        return [base64.b64decode(png) for png in pngs]

    async def pdf(self, page: str, footer: str = "") -> bytes:
        """The HTML page printed to PDF (A4, the page's print CSS, `footer` and page numbers).

        One print tab stays open with plotly.js already compiled (about 0.4 s a page
        saved): the page, less its inlined plotly.js, is written into it. Its charts are
        laid out at the paper's width (print media, `PRINT_WIDTH`), so plotly sizes them
        for the page instead of the screen. One page at a time goes through the tab.
        """
        await self.open()
        async with self._printing:
            try:
                with _translated():
                    tab = await self._print_tab()
                    await _command(tab, "Page.bringToFront")  # a tab behind draws no frames
                    await _write(tab, without_plotlyjs(page))
                    result = await _command(tab, "Page.printToPDF", _print_options(footer))
            except ExportError:
                await self.close()  # the next call starts a fresh browser and tab
                raise
        return base64.b64decode(result["data"])

    async def warm(self) -> None:
        """Start the browser and ready the print tab, while the caller computes the page."""
        await self.open()
        async with self._printing:
            with _translated():
                await self._print_tab()

    async def _print_tab(self) -> Any:
        """The print tab, opened on a blank page that has loaded plotly.js (once)."""
        return await self._shell_tab("print", PRINT_WIDTH, media="print")

    def _shell(self) -> Path:
        """The blank page that loads plotly.js, in a private temporary folder."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="trustscan-", dir=_short_temp_root()))
        shell = self._folder / "shell.html"
        shell.write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<script src='{PLOTLYJS.as_uri()}'></script></head>"
            "<body style='margin: 0; padding: 0'></body></html>",
            encoding="utf-8",
        )
        return shell

    async def _shell_tab(self, name: str, width: int = PNG_WIDTH, *, media: str = "") -> Any:
        """A tab of its own, opened once on the shell: plotly.js compiled once per tab."""
        if name not in self._tabs:
            tab = await self._browser.create_tab("")
            await _load(
                tab,
                self._shell().as_uri(),
                width,
                PRINT_HEIGHT,
                media=media,
                mobile=False,
                drawn=False,
            )
            self._tabs[name] = tab
        return self._tabs[name]

    async def view(
        self, page: str, width: int = PHONE_WIDTH, height: int = 844, probe: str = "null"
    ) -> PageView:
        """The page on a phone `width` CSS px wide: how wide it really is, and a screenshot.

        `probe`, a JavaScript expression, is evaluated on the drawn page; its JSON value
        comes back as `PageView.probe` (a test measures what it needs with it).
        """
        async with self._page(page, width, height, mobile=True) as tab:
            found = await _evaluate(tab, f"[{SCROLL_WIDTH}, {probe}]")
            shot = await _command(
                tab, "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
            )
        return PageView(width, int(found[0]), base64.b64decode(shot["data"]), found[1])

    @contextlib.asynccontextmanager
    async def _page(
        self, page: str, width: int, height: int, *, media: str = "", mobile: bool = False
    ) -> AsyncIterator[Any]:
        """A tab of its own with the page loaded at `width` and every chart drawn.

        The page goes through a file in a private temporary folder (0700): a report of
        several MB is more than one DevTools message comfortably carries.
        """
        await self.open()
        folder = Path(tempfile.mkdtemp(prefix="trustscan-page-"))
        path = folder / "page.html"
        path.write_text(page, encoding="utf-8")
        tab: Any = None
        try:
            with _translated():
                tab = await self._browser.create_tab("")
                await _load(tab, path.as_uri(), width, height, media=media, mobile=mobile)
                yield tab
        except ExportError:
            await self.close()
            raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if tab is not None and self._browser is not None:
                with contextlib.suppress(Exception):
                    await self._browser.close_tab(tab.target_id)

    async def close(self) -> None:
        async with self._lock:
            browser, self._browser = self._browser, None
            self._tabs = {}
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None
            if browser is not None:
                with contextlib.suppress(Exception):
                    await browser.close()

    async def __aenter__(self) -> PngRenderer:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _load(
    tab: Any, url: str, width: int, height: int, *, media: str, mobile: bool, drawn: bool = True
) -> None:
    """Size the tab, choose the media, open `url`, wait until every chart is `drawn`.

    Waiting for the drawing needs frames, which a tab behind another never gets: a page
    without charts (the shell of the print and chart tabs) is loaded without that wait.
    """
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    await _command(tab, "Emulation.setDeviceMetricsOverride", metrics)
    if media:
        await _command(tab, "Emulation.setEmulatedMedia", {"media": media})
    await _command(tab, "Page.enable")
    loaded = tab.subscribe_once("Page.loadEventFired")
    await _command(tab, "Page.navigate", {"url": url})
    await asyncio.wait_for(loaded, RENDER_TIMEOUT)
    if drawn:
        wait = {"expression": DRAWN, "awaitPromise": True, "returnByValue": True}
        await asyncio.wait_for(_command(tab, "Runtime.evaluate", wait), RENDER_TIMEOUT)


async def _evaluate(tab: Any, expression: str, *, awaited: bool = False) -> Any:
    """The JSON value of a JavaScript expression evaluated in the tab (`awaited`: a promise's)."""
    params = {"expression": expression, "returnByValue": True, "awaitPromise": awaited}
    result = await _command(tab, "Runtime.evaluate", params)
    return result["result"].get("value")


async def _command(tab: Any, method: str, params: dict[str, Any] | None = None) -> Any:
    """One DevTools command; its result, or an ExportError with the browser's message."""
    response = await tab.send_command(method, params=params or {})
    if "error" in response:
        raise ExportError(f"{method} failed: {response['error']}")
    result = response.get("result", {})
    if "exceptionDetails" in result:
        raise ExportError(f"{method} failed: {result['exceptionDetails']}")
    return result


def without_plotlyjs(page: str) -> str:
    """The page less its inlined plotly.js (the print tab has it); unchanged if none."""
    start = page.find(PLOTLYJS_INLINE)
    if start < 0:
        return page
    end = page.index("</script>", start)  # a script's text never holds "</script>"
    return page[:start] + page[end + len("</script>") :]


async def _write(tab: Any, page: str) -> None:
    """Replace the tab's document by `page` (its scripts run; plotly.js stays loaded)."""
    write = (
        "(page => { document.querySelectorAll('.js-plotly-plot').forEach(p => Plotly.purge(p));"
        " document.open(); document.write(page); document.close(); return true; })"
        f"({json.dumps(page)})"
    )
    await asyncio.wait_for(_evaluate(tab, write), RENDER_TIMEOUT)
    drawn = {"expression": DRAWN, "awaitPromise": True, "returnByValue": True}
    await asyncio.wait_for(_command(tab, "Runtime.evaluate", drawn), RENDER_TIMEOUT)


def _print_options(footer: str) -> dict[str, Any]:
    """Chromium's printToPDF options: the page's own size (A4), backgrounds, the footer."""
    return {
        "printBackground": True,
        "preferCSSPageSize": True,
        "displayHeaderFooter": bool(footer),
        "headerTemplate": "<span></span>",
        "footerTemplate": _footer(footer),
        "transferMode": "ReturnAsBase64",
    }


def _footer(text: str) -> str:
    """Chromium's footer template: `text` and the page number, small and grey."""
    return (
        "<div style='font: 8px Arial, sans-serif; color: #555; width: 100%; "
        "padding: 0 12mm; display: flex; justify-content: space-between'>"
        f"<span>{html.escape(text)}</span>"
        "<span><span class='pageNumber'></span> / <span class='totalPages'></span></span></div>"
    )


def _short_temp_root() -> str | None:
    """Where the browser's private folder goes: the usual temporary folder, unless its
    path is too long for Chromium's socket; then the first short one that is writable."""
    if len(tempfile.gettempdir()) <= SOCKET_ROOM:
        return None
    return next((r for r in SHORT_TEMP_ROOTS if os.access(r, os.W_OK | os.X_OK)), None)


@contextlib.contextmanager
def _browser_temp(folder: Path) -> Iterator[None]:
    """Start the browser with `folder` as its TMPDIR (the environment it inherits), so
    its socket path stays short whatever TMPDIR the user runs trustscan with."""
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Kaleido's and choreographer's many exception types become one ExportError."""
    try:
        yield
    except (TimeoutError, OSError, RuntimeError) as exc:
        raise ExportError(f"PNG export needs Chromium (apt-get install chromium): {exc}") from exc
    except Exception as exc:  # choreographer raises its own types when no browser is found
        raise ExportError(f"PNG export failed: {type(exc).__name__}: {exc}") from exc


async def figures_to_png(
    figures: Sequence[go.Figure], width: int = PNG_WIDTH, scale: float = 1
) -> list[bytes]:
    """PNG bytes per figure, rendered by one headless Chromium started for this call."""
    if not figures:
        return []
    async with PngRenderer(width) as renderer:
        return await renderer.render(figures, scale=scale)
