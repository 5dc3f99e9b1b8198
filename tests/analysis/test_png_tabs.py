"""The warm browser's two tabs: charts to PNG in one call, the page to PDF, side by side.

A tab behind another gets no animation frames, so anything in it that waits for a frame
hangs until the render timeout; these tests fail (by timing out) when that comes back.
"""

from __future__ import annotations

import asyncio
import struct

import plotly.graph_objects as go

from analysis.png import PngRenderer

from .test_report_in_browser import needs_browser

PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><h1>Rapport</h1>"
    "<div id='c' class='js-plotly-plot'></div><script>"
    "Plotly.newPlot('c', [{type: 'bar', x: [1, 2], y: [3, 4]}], {height: 300})</script>"
    "</body></html>"
)


def size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its IHDR chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def bars(height: int) -> go.Figure:
    return go.Figure(go.Bar(x=["a", "b"], y=[3, 4]), layout={"height": height})


@needs_browser
async def test_album_and_pdf_rendered_side_by_side_while_the_browser_warms() -> None:
    """Warming, the album's charts and the PDF all at once: none waits for a frame it never gets.

    Every PNG is laid out at the asked width and height, drawn at the asked scale.
    """
    async with PngRenderer() as renderer:
        warming, pngs, pdf = await asyncio.wait_for(
            asyncio.gather(
                renderer.warm(),
                renderer.render([bars(300), bars(420)], width=540, scale=2),
                renderer.pdf(PAGE, footer="Partnerschap"),
            ),
            30,
        )
        assert warming is None
        assert [size(p) for p in pngs] == [(1080, 600), (1080, 840)]
        assert pdf[:5] == b"%PDF-"
        # again, the tabs warm: the same pictures, and a figure without a height is 480 high
        again = await asyncio.wait_for(renderer.render([bars(300), go.Figure()], scale=1), 30)
        assert size(again[0]) == (1000, 300) and size(again[1]) == (1000, 480)
        assert (await renderer.render([])) == []


@needs_browser
async def test_a_closed_browser_starts_afresh_with_its_chart_tab() -> None:
    """After close (as after a crash) the next render opens a new browser and chart tab."""
    renderer = PngRenderer()
    try:
        [first] = await asyncio.wait_for(renderer.render([bars(200)]), 30)
        await renderer.close()
        [second] = await asyncio.wait_for(renderer.render([bars(200)]), 30)
        assert size(first) == size(second) == (1000, 200)
    finally:
        await renderer.close()
