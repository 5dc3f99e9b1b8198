"""The report on paper: the HTML page with a cover, printed to A4 PDF by the warm browser.

The page itself carries the print rules (page.css: a page break before every section,
no chart toolbar, no heading left alone at a page's foot); this module adds the cover
— partnership, surveys, measurements, date, "confidential" — which only paper shows,
and a footer with the page number. Nothing here computes a number.

The same page on the same cover prints to the same bytes (`settle`), so two PDFs can be
compared byte for byte (tests/analysis/test_hidden_answers_paper.py does, to show no
hidden answer moves a printed number).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from surveys.i18n import date, t

from .png import PngRenderer
from .report.model import Report

# What Chromium (Skia) writes that depends on the clock or on the tab's history: the
# document's dates, and the DOM node ids naming the elements of the tagged-PDF tree.
PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \((D:[^)]*)\)")
NODE_ID = re.compile(rb"\(node(\d{8})\)")

# The chart config the HTML page gives every figure (html.py), as plotly writes it out.
INTERACTIVE = '{"displaylogo": false, "responsive": true}'


@dataclass(frozen=True, slots=True)
class Cover:
    """What the first page of the PDF and the title slide say."""

    partnership: str
    surveys: tuple[str, ...]
    measurements: tuple[str, ...]
    day: dt.date

    @classmethod
    def of(cls, reports: Sequence[Report], partnership: str, day: dt.date) -> Cover:
        """The cover of the reports that go out together (measurements in report order).

        `day` comes from the partnership's clock: a report dated by the machine would
        carry another day than the one its facilitator lives in around midnight.
        """
        lang = reports[0].lang if reports else "nl"
        return cls(
            partnership=partnership,
            surveys=tuple(r.survey.title.get(lang) for r in reports),
            measurements=tuple(name for r in reports for name in r.wave_names.values()),
            day=day,
        )

    def html(self, lang: str) -> str:
        """The cover as an HTML block; page.css hides it on screen and gives it a page."""

        def item(key: str, values: Sequence[str]) -> str:
            shown = "<br>".join(html.escape(v) for v in values)
            return f"<dt>{t(key, lang)}</dt><dd>{shown}</dd>"

        return (
            "<section class='cover'>"
            f"<p class='partnership'>{html.escape(self.partnership)}</p>"
            f"<p class='subject'>{t('report.title', lang)}</p><dl>"
            + item("paper.surveys", self.surveys)
            + item("paper.measurements", self.measurements)
            + item("paper.date", [date(self.day, lang)])
            + f"</dl><p class='confidential'>{t('paper.confidential', lang)}</p></section>"
        )

    def footer(self, lang: str) -> str:
        """The line at the foot of every printed page (the page number follows it)."""
        return t("paper.footer", lang, partnership=self.partnership)


def with_cover(page: str, cover: Cover, lang: str) -> str:
    """The page with the cover as the first thing in its body."""
    head, body, rest = page.partition("<body>")
    if not body:
        raise ValueError("not a report page: it has no <body>")
    return f"{head}{body}\n{cover.html(lang)}{rest}"


def static(page: str) -> str:
    """The page with its charts drawn as still pictures: paper has no hover, zoom or toolbar,
    and a still chart draws faster (a page whose charts have another config is unchanged)."""
    return page.replace(INTERACTIVE, INTERACTIVE[:-1] + ', "staticPlot": true}')


async def pdf(page: str, cover: Cover, lang: str, renderer: PngRenderer) -> bytes:
    """The page, with its cover, as A4 PDF bytes (the renderer's browser prints it)."""
    printed = await renderer.pdf(static(with_cover(page, cover, lang)), footer=cover.footer(lang))
    return settle(printed, cover.day)


def settle(data: bytes, day: dt.date) -> bytes:
    """Chromium's PDF with the clock and the tab's history taken out, nothing else changed.

    Skia dates the document (/CreationDate, /ModDate) to the second; these become the
    cover's day at midnight. Its tagged-PDF tree names elements by DOM node id
    ("(node00001375)"), which counts on over every page the warm print tab has shown;
    these are numbered afresh from 1, in the same order, so the /IDTree stays sorted.
    Every replacement has the original's length, so the cross-reference offsets hold.
    Skia writes no trailer /ID; the page content is already deterministic.
    """
    stamp = f"D:{day:%Y%m%d}000000Z".encode()

    def dated(match: re.Match[bytes]) -> bytes:
        old = match.group(2)
        if len(stamp) > len(old):  # not Skia's full date: leave it
            return match.group(0)
        return b"/%s (%s)%s" % (match.group(1), stamp, b" " * (len(old) - len(stamp)))

    ids = sorted(set(NODE_ID.findall(data)))
    renumbered = {old: b"%08d" % i for i, old in enumerate(ids, start=1)}
    data = NODE_ID.sub(lambda m: b"(node%s)" % renumbered[m.group(1)], data)
    return PDF_DATE.sub(dated, data)
