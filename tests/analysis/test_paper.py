"""Paper, slides and captions: the report when it leaves the page.

The PDF is read back with pypdf, the deck opened with python-pptx; the notes and
captions are checked against numbers worked out by hand from the groups put in.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from analysis import paper, slides
from analysis.captions import album, chart_notes, one_line, supported
from analysis.png import ALBUM_SCALE, ALBUM_WIDTH
from analysis.report import Report
from tests.support.clock import CLOCK

from .conftest import Browser
from .test_report import report, reported, wave_with
from .test_report_in_browser import needs_browser

DAY = dt.date(2026, 11, 27)


def headings(page: str, level: int) -> list[str]:
    """The text of every heading of one level, in page order."""
    found = re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", page, flags=re.S)
    return [one_line(re.sub(r"&[a-z]+;", " ", h)) for h in found]


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def two_waves_and_culture(store) -> None:
    """Trust twice (east too small in the first: hidden), culture once, three partners."""
    await wave_with(store, {"north": 11, "south": 9, "east": 3}, 1)
    await wave_with(store, {"north": 11, "south": 9, "east": 7}, 2)
    await wave_with(store, {"north": 8, "south": 6, "east": 5}, 3, survey="culture")


async def one_wave(store) -> None:
    """One trust measurement of two partners, both shown."""
    await wave_with(store, {"north": 8, "south": 7}, 1)


Reported = tuple[str, list[Report]]


@pytest.fixture(scope="module")
def two_waves(tmp_path_factory: pytest.TempPathFactory) -> Reported:
    """The English page and reports of `two_waves_and_culture` (the tests only read them)."""
    return reported(tmp_path_factory, "paper-two-waves", two_waves_and_culture)


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Reported:
    """The English page and report of `one_wave` (the tests only read them)."""
    return reported(tmp_path_factory, "paper-one-wave", one_wave)


def test_captions_say_survey_measurement_what_and_shown_n(two_waves: Reported) -> None:
    """n counts the shown groups only: east (3) is hidden in the first wave, alone."""
    _, [trust, culture] = two_waves
    notes = {note.name: note for note in reversed(chart_notes(trust))}  # first of each kind
    profile = notes["profile"]
    assert (profile.survey, profile.measurement, profile.n) == (
        trust.survey.title.get("en"),
        "trust 2",
        "27",  # 11 + 9 + 7, everyone shown in the second wave
    )
    trend = notes["trend"]
    assert trend.measurement == "trust 1 – trust 2"
    # wave 1: east has 3 < 5 and is hidden; no total holds it, so north and south show
    assert trend.n == "20 (trust 1), 27 (trust 2)"
    caption = profile.caption("en")
    assert caption.splitlines() == [
        f"{trust.survey.title.get('en')} · trust 2",
        profile.what,
        "n = 27",
    ]
    assert "smaller than 5" in profile.method and "95%" in profile.method
    kites = [n for n in chart_notes(culture) if n.name == "culture"]
    assert sorted(k.n for k in kites) == ["5", "6", "8"]


def test_the_album_shows_every_culture_partner_in_one_picture(two_waves: Reported) -> None:
    """The culture kites of all three partners become one captioned picture in the album."""
    _, reports = two_waves
    photos = album(reports)
    kites = [p for p in photos if p.name == "culture"]
    assert len(kites) == 1
    titles = {a.text for a in kites[0].figure.layout.annotations}
    assert {"north", "south", "east"} <= titles
    polar = [trace for trace in kites[0].figure.data if trace.type == "scatterpolar"]
    assert len(polar) == 2 * 3  # now and preferred per partner
    assert kites[0].n == "19"
    assert len({p.caption("en") for p in photos}) == len(photos)  # no two captions alike


def test_a_finding_belongs_to_the_chart_whose_template_words_it() -> None:
    """Matching by the catalogue's templates: the right kind, about the chart's subject."""
    from surveys.i18n import t

    no_change = t("report.no_change", "en")
    findings = [no_change, "something else entirely"]
    assert supported(findings, "trend", "en", "Trust") == [no_change]
    assert supported(findings, "profile", "en") == []


def fake_png(width: int = 800, height: int = 500) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


def test_the_deck_has_a_title_slide_and_one_slide_per_chart(two_waves: Reported) -> None:
    """python-pptx opens it: title slide, a slide per chart, its finding or title, notes."""
    _, reports = two_waves
    notes = [n for r in reports for n in chart_notes(r)]
    cover = paper.Cover.of(reports, "Samenwerking Noord", DAY)
    data = slides.build_deck(cover, notes, [fake_png() for _ in notes], "en")
    deck = Presentation(io.BytesIO(data))
    assert len(deck.slides) == 1 + len(notes)
    first = deck.slides[0]
    assert first.shapes.title.text == "Samenwerking Noord"
    assert "Confidential" in first.placeholders[1].text and "trust 2" in first.placeholders[1].text
    for slide, note in zip(list(deck.slides)[1:], notes, strict=True):
        assert slide.shapes.title.text == note.title
        assert sum(1 for s in slide.shapes if s.shape_type == 13) == 1  # one picture
        text = slide.notes_slide.notes_text_frame.text
        assert f"n = {note.n}" in text and note.method in text
        picture = next(s for s in slide.shapes if s.shape_type == 13)
        assert picture.left >= 0 and picture.left + picture.width <= deck.slide_width
    findings = reports[0].findings + reports[1].findings
    titled = [n for n in notes if len(n.findings) == 1]  # one finding: it is the title
    assert titled and all(n.title == n.findings[0] and n.title in findings for n in titled)
    several = [n for n in notes if len(n.findings) > 1]  # several: the chart's own title
    assert all(n.title == n.what for n in several)


def test_the_deck_refuses_pictures_that_do_not_match_the_charts() -> None:
    cover = paper.Cover(partnership="P", surveys=(), measurements=(), day=DAY)
    with pytest.raises(ValueError, match="0 charts but 1 pictures"):
        slides.build_deck(cover, [], [fake_png()], "en")


def test_the_cover_goes_first_in_the_body() -> None:
    cover = paper.Cover("Samenwerking <Noord>", ("Trust scan",), ("trust 1",), DAY)
    page = paper.with_cover("<html><body><h1>x</h1></body></html>", cover, "nl")
    assert page.index("class='cover'") < page.index("<h1>")
    assert "Samenwerking &lt;Noord&gt;" in page and "Vertrouwelijk" in page
    assert "27-11-2026" in page or "27 november 2026" in page or "2026" in page
    with pytest.raises(ValueError):
        paper.with_cover("no body here", cover, "nl")


@needs_browser
def test_the_pdf_has_a_cover_and_each_section_on_a_page_of_its_own(
    two_waves: Reported, browser: Browser, tmp_path: Path
) -> None:
    """pypdf reads it back: the cover, a page break before every section, no heading orphaned."""
    page, reports = two_waves
    cover = paper.Cover.of(reports, "Samenwerking Noord", DAY)
    data = browser.run(paper.pdf(page, cover, "en", browser.renderer))
    (tmp_path / "report.pdf").write_bytes(data)  # kept as an artefact of the test run
    pages = [lines_of(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]
    front = " ".join(pages[0])
    for words in ("Samenwerking Noord", "Confidential", "trust 1", "trust 2", "culture 1"):
        assert words in front
    assert "2026" in front
    sections = headings(page, 2)
    assert len(sections) >= 4
    footer = cover.footer("en")
    starts = [
        next((line for line in lines if footer not in line and "/" not in line), "")
        for lines in pages
    ]
    at = [starts.index(s) for s in sections]  # each section opens a page …
    assert at == sorted(at) and len(set(at)) == len(at)  # … in order, one page each
    assert len(pages) >= len(sections) + 1
    small = set(headings(page, 3) + headings(page, 4)) - {""}
    for lines in pages:
        body = [line for line in lines if footer not in line]
        assert not body or body[-1] not in small  # no heading alone at a page's foot
        assert any(footer in line for line in lines)  # every page says it is confidential


@needs_browser
def test_album_pngs_are_drawn_at_twice_a_phone_friendly_width(
    one: Reported, browser: Browser
) -> None:
    """1080 px wide: the 14 px chart font shows at about 10 pt in a 390 pt wide viewer."""
    _, reports = one
    photos = album(reports)
    pngs = browser.run(
        browser.renderer.render([p.figure for p in photos], width=ALBUM_WIDTH, scale=ALBUM_SCALE)
    )
    sizes = [Image.open(io.BytesIO(png)).size for png in pngs]
    assert all(width == 1080 for width, _ in sizes)
    font = min(p.figure.layout.font.size for p in photos)
    assert font * 390 / ALBUM_WIDTH >= 10  # px as the viewer shows them


@needs_browser
def test_the_deck_through_the_browser_opens(one: Reported, browser: Browser) -> None:
    """The real deck: every chart drawn to a PNG picture on its slide."""
    _, reports = one
    cover = paper.Cover.of(reports, "P", DAY)
    data = browser.run(slides.deck(reports, cover, "en", browser.renderer))
    deck = Presentation(io.BytesIO(data))
    assert len(deck.slides) == 1 + sum(len(r.figures) for r in reports)
    blob = next(s for s in deck.slides[1].shapes if s.shape_type == 13).image.blob
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_printed_page_draws_every_chart_still(one: Reported) -> None:
    """Paper gets still charts (no toolbar, no hover): every figure's config is switched."""
    page, [trust] = one
    printed = paper.static(page)
    assert page.count(paper.INTERACTIVE) == len(trust.figures) >= 3
    assert printed.count('"staticPlot": true}') == len(trust.figures)


async def test_a_hidden_group_moves_no_caption_or_note(tmp_path: Path) -> None:
    """East (3 or 4 people, hidden either way) changes no n, caption or speaker note."""
    from surveys.store import Store

    seen = []
    for east in (3, 4):
        store = await Store.open(tmp_path / f"east{east}.db", bytes(32), clock=CLOCK)
        try:
            await wave_with(store, {"north": 11, "south": 9, "east": east}, 1)
            _, [trust] = await report(store)
        finally:
            await store.close()
        notes = [n for n in chart_notes(trust) if n.name != "counts"]  # counts: public anyway
        seen.append([(n.caption("en"), n.notes("en"), n.title) for n in notes])
    assert seen[0] == seen[1]
    assert any("n = 20" in caption for caption, _, _ in seen[0])  # north and south shown


async def test_captions_and_notes_count_no_hidden_group(store) -> None:
    """East (3) is hidden in the latest measurement, alone (issue 18: no published total
    holds it): every caption, slide note and album caption counts north's 11 and south's
    9. Only the response counts, published anyway, count all 23 (issue 15)."""
    await wave_with(store, {"north": 11, "south": 9, "east": 3}, 1)
    _, [trust] = await report(store)
    scores = trust.tables["dimension_scores"]
    assert set(scores.loc[scores["hidden"], "org"]) == {"east"}
    notes = chart_notes(trust)
    assert {n.name for n in notes} >= {"counts", "profile", "matrix", "items"}
    for note in [*notes, *album([trust])]:
        n = "23" if note.name == "counts" else "20"
        assert note.n == n, note.name
        assert f"n = {n}" in note.caption("en").splitlines(), note.name
        assert f"n = {n}" in note.notes("en").splitlines(), note.name
