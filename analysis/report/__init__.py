"""The report: suppressed tables, charts, key findings in plain language, one HTML file.

The package splits the work: `tables` computes the suppressed tables from the answer
frames (no wording), `findings` words what they show (the words are the catalogue's `report.*`, see
`surveys.i18n`), `build`
puts the sections together in order, `html` renders the page. Every table passes
through `suppression` before a chart or a sentence is made from it, and every test and
pooled statistic uses the shown cells only: answers inside hidden cells change no output
(DESIGN §4.7). Every test belongs to the family of its survey and measurement
(`families`), never to the page it is shown on (`adjust_families`).
"""

from __future__ import annotations

from .build import adjust_families, build_report
from .families import ALPHA, FAMILY
from .html import PAGE, render_html
from .model import KEY_CHARTS, Context, HeadcountFlag, Report

__all__ = [
    "ALPHA",
    "FAMILY",
    "KEY_CHARTS",
    "PAGE",
    "Context",
    "HeadcountFlag",
    "Report",
    "adjust_families",
    "build_report",
    "render_html",
]
