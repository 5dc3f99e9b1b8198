"""The report: suppressed tables, charts, key findings in plain language, one HTML file.

The package splits the work: `tables` computes the suppressed tables from the answer
frames (no wording), `findings` words what they show (the words are the catalogue's `report.*`, see
`surveys.i18n`), `build`
puts the sections together in order, `html` renders the page. Every table passes
through `suppression` before a chart or a sentence is made from it, and every test and
pooled statistic uses the shown cells only: answers inside hidden cells change no output
(DESIGN §4.7). The changes shown on one page are one Holm family (`one_family`).
"""

from __future__ import annotations

from .build import ALPHA, FAMILY, build_report, one_family
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
    "build_report",
    "one_family",
    "render_html",
]
