"""The report as a slide deck for the workshop (python-pptx): a title slide, a slide per chart.

Each chart slide carries the chart as a picture, the finding it supports as its title
(the chart's own title when it supports none or several), and speaker notes with the
measurement, n, the method and the findings. The numbers are the report's: suppressed
cells stay hidden in the pictures exactly as on the page.

The same report on the same cover gives the same bytes (`settle`): nothing in the file
says when or on which machine it was saved, so two decks can be compared byte for byte
(tests/analysis/test_hidden_answers_paper.py does, to show no hidden answer moves a slide).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence

from pptx import Presentation
from pptx.presentation import Presentation as Deck
from pptx.shapes.picture import Picture
from pptx.util import Emu, Inches, Pt

from surveys.i18n import date, t

from .captions import ChartNote, chart_notes
from .paper import Cover
from .png import PngRenderer
from .report.model import Report

SLIDE_WIDTH = Inches(13.333)  # 16:9
SLIDE_HEIGHT = Inches(7.5)
MARGIN = Inches(0.4)
TITLE_HEIGHT = Inches(1.1)
PICTURE_WIDTH_PX = 1000  # the chart's layout width; drawn at 2x for a sharp projection
PICTURE_SCALE = 2
TITLE_LAYOUT, TITLE_ONLY_LAYOUT = 0, 5  # in python-pptx's default template


async def deck(reports: Sequence[Report], cover: Cover, lang: str, renderer: PngRenderer) -> bytes:
    """The .pptx bytes: the title slide, then every chart of every report in order."""
    notes = [note for report in reports for note in chart_notes(report)]
    pngs = await renderer.render(
        [note.figure for note in notes], width=PICTURE_WIDTH_PX, scale=PICTURE_SCALE
    )
    return build_deck(cover, notes, pngs, lang)


def build_deck(cover: Cover, notes: Sequence[ChartNote], pngs: Sequence[bytes], lang: str) -> bytes:
    """The deck from charts already drawn as PNG (one per note, same order)."""
    if len(notes) != len(pngs):
        raise ValueError(f"{len(notes)} charts but {len(pngs)} pictures")
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    _title_slide(deck, cover, lang)
    for note, png in zip(notes, pngs, strict=True):
        _chart_slide(deck, note, png, lang)
    _stamp(deck, cover)
    out = io.BytesIO()
    deck.save(out)
    return settle(out.getvalue(), cover.day)


def _stamp(deck: Deck, cover: Cover) -> None:
    """Document properties from the cover, not from the template or the clock.

    python-pptx's template says it was written in 2013 by its author; a deck about a
    partnership says the partnership and the cover's date (the date the report shows).
    """
    props = deck.core_properties
    moment = dt.datetime.combine(cover.day, dt.time())
    props.title, props.author, props.last_modified_by = cover.partnership, "", ""
    props.created = props.modified = props.last_printed = moment
    props.revision = 1


def settle(data: bytes, day: dt.date) -> bytes:
    """The package with every member dated `day` at midnight, in the same order.

    python-pptx writes each member with the clock's time, so two saves of one deck a
    second apart differ; a package dated by its report does not.
    """
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=stamp)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            target.writestr(info, source.read(member))
    return out.getvalue()


def _title_slide(deck: Deck, cover: Cover, lang: str) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_LAYOUT])
    slide.shapes.title.text = cover.partnership
    lines = [
        t("report.title", lang),
        ", ".join(cover.surveys),
        ", ".join(cover.measurements),
        date(cover.day, lang),
        t("paper.confidential", lang),
    ]
    slide.placeholders[1].text = "\n".join(line for line in lines if line)


def _chart_slide(deck: Deck, note: ChartNote, png: bytes, lang: str) -> None:
    """Title on top, the chart as large as fits below it, notes for the speaker."""
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
    title = slide.shapes.title
    title.left, title.top = MARGIN, Inches(0.2)
    title.width, title.height = SLIDE_WIDTH - 2 * MARGIN, TITLE_HEIGHT
    title.text = note.title
    for paragraph in title.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(24 if len(note.title) < 70 else 18)
    picture = slide.shapes.add_picture(io.BytesIO(png), MARGIN, TITLE_HEIGHT + Inches(0.3))
    _fit(picture, SLIDE_WIDTH - 2 * MARGIN, SLIDE_HEIGHT - TITLE_HEIGHT - Inches(0.5))
    slide.notes_slide.notes_text_frame.text = note.notes(lang)


def _fit(picture: Picture, width: int, height: int) -> None:
    """Scale a picture to fit the box, keeping its proportions, centred across the slide."""
    ratio = min(width / picture.width, height / picture.height)
    picture.width = Emu(int(picture.width * ratio))
    picture.height = Emu(int(picture.height * ratio))
    picture.left = Emu(int((SLIDE_WIDTH - picture.width) / 2))
