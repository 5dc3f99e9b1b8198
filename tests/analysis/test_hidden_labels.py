"""A hidden cell says why it is hidden, and the reason never gives a count away (issue 18).

"fewer than k" for a cell below k, "hidden to protect a smaller group" for one hidden
beside it, "hidden" alone where the reason would narrow a hidden count: in charts (each
reason named once, in the legend, never piled on the marks), in the page's tables, in the
`--org` partner page and in the methods' count of hidden cells.
"""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from analysis import paper, suppression
from analysis.derivability import exposed
from analysis.report import Report, render_html
from analysis.report import labels as report_labels
from analysis.report.published import facts
from analysis.report.tables import SCORES
from tests.analysis.conftest import Browser, browser  # noqa: F401 (a fixture)
from tests.support.clock import CLOCK

from .test_derivability import report_of
from .test_odd_groups import build, context
from .test_report_properties import synthetic

PROTECT_TEXT = "hidden to protect a smaller group"


def two_waves(sizes: dict[tuple[str, str], int]) -> pd.DataFrame:
    """The same group sizes in waves 1 and 2."""
    first = synthetic(sizes, 3)
    second = synthetic(sizes, 4).assign(wave=2)
    second["response"] += 10_000
    frame = pd.concat([first.astype(object), second.astype(object)], ignore_index=True)
    for column in ("org", "role", "item", "target", "choice"):
        frame[column] = frame[column].astype("category")
    return frame.astype({"wave": "int64", "response": "int64", "value": "float64"})


SIZES = {("north", "staff"): 3, ("south", "staff"): 7, ("east", "staff"): 9, ("west", "staff"): 6}


def legend_names(figure: object) -> list[str]:
    return [t.name for t in figure.data if t.showlegend is not False and t.name]  # type: ignore[attr-defined]


def test_charts_name_each_reason_once_and_pile_no_label_on_the_marks() -> None:
    """North (3 people, k = 5) is hidden in the profile and both trend waves: one legend
    entry 'fewer than 5' per chart, no 'n < 5' anywhere, no text on the grey marks."""
    report = build(two_waves(SIZES), waves=2)
    figures = dict(report.figures)  # the last of a name: one trend is enough
    profile = figures["profile"]
    hidden = [t for t in profile.data if t.marker.color == "#BBBBBB"]
    assert len(hidden) == 3  # one grey bar per dimension, none with text
    assert all(t.text is None for t in hidden)
    assert legend_names(profile).count("fewer than 5") == 1
    trend = figures["trend"]
    marks = [t for t in trend.data if t.marker.color == "#BBBBBB"]
    assert [t.mode for t in marks] == ["markers"] and len(marks[0].x) == 2
    assert legend_names(trend).count("fewer than 5") == 1
    for _, figure in report.figures:
        assert "n < 5" not in figure.to_json() and "n \\u003c 5" not in figure.to_json()


def protected(report: Report, org: str) -> Report:
    """The report as if `org` were hidden to protect a smaller group in the profile (what
    a complementary cell prints), its figures blank."""
    scores = report.tables["dimension_scores"]
    mine = (scores["org"] == org).to_numpy()
    scores = scores.assign(hidden=scores["hidden"] | mine)
    scores["hidden_reason"] = scores["hidden_reason"].where(~mine, suppression.PROTECT)
    report.tables["dimension_scores"] = suppression.mask(scores, SCORES)
    report.forget_figures()
    return report


def test_the_page_and_the_partner_page_give_each_reason() -> None:
    """North (too small) reads 'fewer than 5' and never 'to protect'; West, marked as
    protecting a smaller group, reads that and never 'fewer than 5', on the full page and
    on its own `--org` page."""
    report = protected(build(synthetic(SIZES, 5)), "west")
    ctx = context()
    north = render_html([report], ctx, org="north")
    west = render_html([report], ctx, org="west")
    assert "fewer than 5" in north and PROTECT_TEXT not in north
    scores = west[: west.index("</table>", west.index(PROTECT_TEXT))]  # its scores' table
    assert "fewer than 5" not in scores[scores.rindex("<table") :]
    assert "n &lt; 5" not in north + west
    page = render_html([report], ctx)
    assert "n &lt; 5" not in page


def test_a_reason_beside_a_published_total_is_withheld_because_it_would_pin_a_count() -> None:
    """North: 6 staff, 5 managers, 1 council member (12, a public count). The council is
    hidden, the managers with it. Printed honestly ('fewer than 5', 'to protect', so at
    least 5) the check finds the council member: 12 − 6 − 5 = 1. The report prints
    'hidden' for both, and the check finds nothing."""
    sizes = {("north", "staff"): 6, ("north", "manager"): 5, ("north", "council"): 1}
    sizes |= {("south", "staff"): 7, ("east", "staff"): 8, ("west", "staff"): 9}
    report = report_of(sizes, 5)
    groups = report.tables["group_sizes"]
    north = groups[(groups["org"] == "north").to_numpy()].set_index("role")
    assert list(north.loc[["manager", "council"], "hidden_reason"]) == ["withheld"] * 2
    assert exposed(facts([report], 5)) == []
    honest = north["hidden"].map({True: "", False: ""})
    honest["council"], honest["manager"] = suppression.SMALL, suppression.PROTECT
    mine = (groups["org"] == "north").to_numpy()
    reasons = groups["hidden_reason"].copy()
    reasons[mine] = honest.reindex(groups.loc[mine, "role"]).to_numpy()
    report.tables["group_sizes"] = groups.assign(hidden_reason=reasons)
    found = {e.cell: e.values for e in exposed(facts([report], 5))}
    assert found[("trust", "people", 1, "north", "council")] == (1,)
    page = render_html([report_of(sizes, 5)], context())
    assert "hidden" in page


def test_the_methods_count_the_hidden_cells_and_say_why() -> None:
    """North (3) is hidden on its three dimensions and nothing else of the profile is."""
    report = build(synthetic(SIZES, 6))
    found = report_labels.count(report)
    scores = report.tables["dimension_scores"]
    assert found.small >= int(scores["hidden"].sum()) == 3
    assert found.protect == 0  # no second cell hidden where no total is published
    line = report_labels.methods(report, 5, "en")
    assert line.startswith(f"Hidden in this report: {found.hidden} of {found.cells} cells.")
    assert line in json.dumps(render_html([report], context()), ensure_ascii=False).replace(
        "\\", ""
    ) or line.replace("'", "&#x27;") in render_html([report], context())


@pytest.mark.needs_chromium
def test_the_printed_report_gives_each_reason(browser: Browser) -> None:  # noqa: F811
    """The PDF (printed from the page, in the run's warm browser) says why each hidden cell
    is hidden, in the same words, and never 'n < 5'."""
    report = protected(build(synthetic(SIZES, 5)), "west")
    page = render_html([report], context())
    cover = paper.Cover.of([report], "P", CLOCK.today())
    pdf = browser.run(paper.pdf(page, cover, "en", browser.renderer))
    text = re.sub(r"\s+", "", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "fewerthan5" in text
    assert re.sub(r"\s+", "", PROTECT_TEXT) in text
    assert "n<5" not in text
