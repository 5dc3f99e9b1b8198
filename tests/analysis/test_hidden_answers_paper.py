"""Hidden answers and hidden group sizes move no printed or projected number: the PDF and
the slide deck (issues 10 and 17).

test_hidden_answers.py shows that two stores differing only in the answers inside hidden
cells give the same page, charts, XLSX, CSV and findings. This file takes the same two
stores to paper: the PDF Chromium prints and the deck python-pptx writes must be the same
bytes too. Both are made deterministic by the product itself (paper.settle, slides.settle),
so the comparison is of the bytes a facilitator would send, not of a normalised copy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pptx import Presentation
from pypdf import PdfReader

from analysis import paper, slides
from analysis.captions import chart_notes
from analysis.data import load_waves
from analysis.report import Report
from surveys.store import Store
from tests.support.budget import examples
from tests.support.clock import CLOCK

from .conftest import Browser
from .test_hidden_answers import (
    FIXED_K,
    Plan,
    build,
    config_of,
    fixed_stores,
    hidden_cells,
    plans,
    reports_of,
)
from .test_hidden_sizes import FIXED, config_for
from .test_paper import fake_png
from .test_report_in_browser import needs_browser

DAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="session")
def printer(browser: Browser) -> Browser:
    """The run's one event loop and warm browser for every example (starting one costs
    about 2 s); the second PDF of a pair comes from a print tab that has shown others."""
    return browser


def on_paper(printer: Browser, page: str, reports: list[Report]) -> dict[str, bytes]:
    """The PDF and the deck of one store's reports, as `trustscan report` makes them."""
    cover = paper.Cover.of(reports, "Samenwerking Noord", DAY)
    return {
        "pdf": printer.run(paper.pdf(page, cover, "en", printer.renderer)),
        "pptx": printer.run(slides.deck(reports, cover, "en", printer.renderer)),
    }


def differing_waves(first: Path, second: Path) -> set[int]:
    """The waves in which the two stores hold different answer values (same people)."""

    async def values(path: Path) -> pd.Series:
        async with await Store.open(path, bytes(32), clock=CLOCK) as store:
            data = await load_waves(store, [w.id for w in await store.waves()])
        frame = data.answers.astype({c: str for c in ("org", "role", "item", "target")})
        return frame.groupby(["wave", "org", "role", "item", "target"])["value"].sum()

    a, b = asyncio.run(values(first)), asyncio.run(values(second))
    assert a.index.equals(b.index)  # the same questions answered by the same groups
    return set(a.compare(b).index.get_level_values("wave"))


@needs_browser
def test_answers_inside_hidden_cells_move_no_pdf_or_slide(
    tmp_path_factory: pytest.TempPathFactory, printer: Browser
) -> None:
    """Two stores that differ only inside hidden cells print the same PDF bytes and write
    the same deck bytes (the second PDF comes from a print tab that has shown others)."""
    a, b = fixed_stores(tmp_path_factory)  # filled once for this and test_hidden_answers.py
    config = config_of(FIXED_K)
    first = on_paper(printer, *printer.run(reports_of(a, config)))
    page, reports = printer.run(reports_of(b, config))
    second = on_paper(printer, page, reports)
    # not vacuous: answers of every wave differ between the stores
    assert differing_waves(a, b) == {1, 2, 3, 4, 5}
    assert len(PdfReader(io.BytesIO(first["pdf"])).pages) > len(reports)
    charts = sum(len(chart_notes(r)) for r in reports)
    assert len(Presentation(io.BytesIO(first["pptx"])).slides) == 1 + charts
    for name in first:
        assert first[name] == second[name], name


@needs_browser
@settings(max_examples=examples(2, floor=1))
@given(plan=plans(), k=st.integers(3, 6))
def test_answers_inside_hidden_cells_of_any_partnership_move_no_pdf_or_slide(
    tmp_path_factory: pytest.TempPathFactory, printer: Browser, plan: Plan, k: int
) -> None:
    """The same for generated partnerships and k (a test of its own, so that the test
    processes share the work)."""
    first, second = on_paper_twice(tmp_path_factory, printer, plan, k)
    for name in first:
        assert first[name] == second[name], name


def on_paper_twice(
    tmp_path_factory: pytest.TempPathFactory, printer: Browser, plan: Plan, k: int
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The PDF and deck of a store, and of the store with its hidden answers changed."""
    config = config_of(k)
    folder = tmp_path_factory.mktemp("paper")
    page, reports = printer.run(build(folder / "a.db", plan, config))
    first = on_paper(printer, page, reports)
    hidden = hidden_cells(reports)
    page, reports = printer.run(build(folder / "b.db", plan, config, hidden))
    return first, on_paper(printer, page, reports)


@needs_browser
def test_hidden_group_sizes_move_no_pdf_or_slide(tmp_path: Path, printer: Browser) -> None:
    """The fixed case of test_hidden_sizes.py on paper: 2 against 4 people of a hidden
    organisation, 1 against 4 managers hidden inside a shown one, the same PDF and deck
    (the evaluation alone, which has both: half the charts to print)."""
    config = config_for(FIXED.k)
    printed = []
    for store in (0, 1):
        plan = {"evaluation": FIXED.plan(store)["evaluation"]}
        page, reports = printer.run(build(tmp_path / f"{store}.db", plan, config))
        printed.append(on_paper(printer, page, reports))
    first, second = printed
    for name in first:
        assert first[name] == second[name], name


def test_a_deck_says_nothing_of_when_or_where_it_was_saved() -> None:
    """Every member of the package and every document date is the cover's day; the
    template's author and dates are gone."""
    cover = paper.Cover("Samenwerking Noord", ("Trust scan",), ("trust 1",), DAY)
    data = slides.build_deck(cover, [], [], "en")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {m.date_time for m in package.infolist()} == {(2026, 11, 27, 0, 0, 0)}
    props = Presentation(io.BytesIO(data)).core_properties
    midnight = dt.datetime(2026, 11, 27)
    assert (props.created, props.modified, props.last_printed) == (midnight,) * 3
    assert (props.title, props.author, props.last_modified_by) == ("Samenwerking Noord", "", "")
    assert props.revision == 1


def test_settling_a_package_keeps_its_members_and_their_order() -> None:
    cover = paper.Cover("P", (), (), DAY)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("b.xml", "<b/>")
        package.writestr("a.png", fake_png(8, 8))
    settled = slides.settle(out.getvalue(), cover.day)
    with zipfile.ZipFile(io.BytesIO(settled)) as package:
        assert [m.filename for m in package.infolist()] == ["b.xml", "a.png"]
        assert package.read("a.png") == fake_png(8, 8) and package.read("b.xml") == b"<b/>"
    assert slides.settle(settled, cover.day) == settled


def test_settling_a_pdf_fixes_its_dates_and_node_ids_in_place() -> None:
    """Same length (the offsets of the cross-reference table hold), dates from the day,
    node ids renumbered in their order so the sorted /IDTree stays sorted."""
    printed = (
        b"<</CreationDate (D:20261129075126+00'00')\n/ModDate (D:20261129075126+00'00')>>\n"
        b"<</S /P /ID (node00001613)>> <</S /P /ID (node00001375)>>\n"
        b"/Names [(node00001375) 5 0 R (node00001613) 6 0 R] (node1375) /ModDate (D:2026)"
    )
    settled = paper.settle(printed, DAY)
    assert len(settled) == len(printed)
    assert settled == (
        b"<</CreationDate (D:20261127000000Z)      \n/ModDate (D:20261127000000Z)      >>\n"
        b"<</S /P /ID (node00000002)>> <</S /P /ID (node00000001)>>\n"
        b"/Names [(node00000001) 5 0 R (node00000002) 6 0 R] (node1375) /ModDate (D:2026)"
    )
