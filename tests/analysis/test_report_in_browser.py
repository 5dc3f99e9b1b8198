"""The HTML report opened in headless Chromium: charts drawn, no console errors, a screenshot."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.png import figures_to_png

from .conftest import Browser
from .test_report import report, reported, wave_with

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.needs_chromium  # skipped loudly without it (tests/conftest.py)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",
]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "CI must install chromium"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_browser
async def test_report_shows_its_charts_without_console_errors(store, tmp_path: Path) -> None:
    """Every chart of the report is drawn as SVG, the console stays clean, a screenshot exists."""
    await wave_with(store, {"north": 12, "south": 9, "east": 3}, 1)
    await wave_with(store, {"north": 11, "south": 10, "east": 4}, 2)
    page, [trust] = await report(store)
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
    # one browser: the DOM once the page has settled, and a screenshot of it
    dom = chromium(
        tmp_path, "--dump-dom", f"--screenshot={shot}", "--window-size=1200,2000", path.as_uri()
    )
    assert dom.stdout.count('class="main-svg"') >= len(trust.figures)
    errors = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]
    assert errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@needs_browser
async def test_charts_export_as_png_with_one_browser(store) -> None:
    """kaleido renders every chart of a report to PNG through the system Chromium."""
    await wave_with(store, {"north": 8, "south": 7}, random.randrange(1000))
    _, [trust] = await report(store)
    pngs = await figures_to_png([fig for _, fig in trust.figures])
    assert len(pngs) == len(trust.figures)
    assert all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


# Per chart on the page: does the legend cover the title or the x-axis title, is the title
# cut off at the chart's edge, is the chart wider than the screen?
CHART_TROUBLE = """[...document.querySelectorAll('.js-plotly-plot')].map((plot, i) => {
  const box = s => {
    const e = plot.querySelector(s); return e ? e.getBoundingClientRect() : null;
  };
  const meets = (a, b) => !!a && !!b && a.width > 0 && b.width > 0 &&
    !(a.bottom <= b.top || b.bottom <= a.top || a.right <= b.left || b.right <= a.left);
  const title = box('.gtitle'), legend = box('.legend'), svg = box('.main-svg');
  return {i, title: plot.querySelector('.gtitle')?.textContent,
          covered: meets(title, legend) || meets(legend, box('.g-xtitle')),
          cut: !!title && !!svg && (title.right > svg.right + 1 || title.left < svg.left - 1),
          wide: !!svg && svg.width > window.innerWidth};
}).filter(c => c.covered || c.cut || c.wide)"""


async def trust_twice_and_culture(store) -> None:
    await wave_with(store, {"north": 12, "south": 9, "east": 3}, 1)
    await wave_with(store, {"north": 11, "south": 10, "east": 6}, 2)
    await wave_with(store, {"north": 8, "south": 6, "east": 5}, 3, survey="culture")


@needs_browser
def test_the_page_fits_a_390_px_phone(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """At 390 px nothing is wider than the screen; no legend covers a title; no title is cut."""
    # Dutch: the longest chart titles
    page, _ = reported(tmp_path_factory, "phone", trust_twice_and_culture, lang="nl")
    phone = browser.run(browser.renderer.view(page, width=390, probe=CHART_TROUBLE))
    shot = tmp_path / "phone-390.png"  # kept as the test's artefact
    shot.write_bytes(phone.png)
    assert phone.scroll_width <= 390, f"the page is {phone.scroll_width} px wide at 390 px"
    assert phone.probe == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
