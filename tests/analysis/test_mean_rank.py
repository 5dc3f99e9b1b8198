"""The mean-rank table of ranking questions: hand-computed, suppressed, exported.

Any type that declares `per_option` gets such a table under that name; ranking's is
"mean_rank". Means come from the organisations shown whole; the others keep their
rows, saying why ('fewer than k').
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from analysis.data import WaveData
from analysis.report import Context, Report, build_report, render_html
from surveys.loader import parse_survey
from surveys.store import Wave
from tests.support.budget import examples
from trustscan.reporting import write_csv, write_xlsx

SURVEY = parse_survey(
    """
id = "rk"
languages = ["nl", "en"]
title = { nl = "Volgorde", en = "Order" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4", "5"] }

[[dimensions]]
id = "d"
label = { nl = "D", en = "D" }

[[questions]]
id = "l1"
type = "likert"
scale = "agree5"
dimension = "d"
text = { nl = "Stelling", en = "Statement" }

[[questions]]
id = "goals"
type = "ranking"
required = false
text = { nl = "Zet de doelen op volgorde", en = "Put the goals in order" }
options = [{ value = "cost", label = { nl = "Kosten", en = "Cost" } },
           { value = "quality", label = { nl = "Kwaliteit", en = "Quality" } },
           { value = "clients", label = { nl = "Klanten", en = "Clients" } }]
""",
    "rk.toml",
)
OPTIONS = ("cost", "quality", "clients")
NAMES = {"a": "Aa", "b": "Bb", "c": "Cc", "d": "Dd"}
CTX = Context(k=3, k_comments=3, lang="en", partnership="P", orgs=NAMES, roles={})
WAVE = Wave(1, "rk", "spring", "closed", None, None, None, "2026-01-01", tuple(NAMES))

Ranks = tuple[int, ...] | None  # None: skipped the ranking (it is optional here)


def data_of(people: dict[str, list[Ranks]]) -> WaveData:
    """One closed wave: everyone answers the statement, and ranks the goals as given."""
    rows, response = [], 0
    for org, rankings in people.items():
        for ranks in rankings:
            response += 1
            rows.append((1, org, "staff", response, "l1", "", 3.0, None))
            for option, rank in zip(OPTIONS, ranks or (), strict=False):
                rows.append((1, org, "staff", response, "goals", option, float(rank), None))
    frame = pd.DataFrame(
        rows, columns=["wave", "org", "role", "response", "item", "target", "value", "choice"]
    )
    for column in ("org", "role", "item", "target", "choice"):
        frame[column] = frame[column].astype("category")
    comments = pd.DataFrame(columns=["wave", "org", "item", "target", "text"])
    return WaveData(frame, comments, (WAVE,))


def report_of(people: dict[str, list[Ranks]]) -> Report:
    return build_report(SURVEY, data_of(people), {1: []}, CTX)


# a: 5 people, b: 4, c: 3, shown; d (1) is hidden, and no other with it: no published
# total holds d's one answer (issue 18)
PEOPLE: dict[str, list[Ranks]] = {
    "a": [(1, 2, 3)] * 3 + [(2, 1, 3)] * 2,
    "b": [(3, 2, 1), (3, 1, 2), (2, 3, 1), (3, 2, 1)],
    "c": [(1, 2, 3), (1, 3, 2), (2, 1, 3)],
    "d": [(3, 1, 2)],
}


def cells(table: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float, bool]]:
    return {
        (row.org, row.option): (row.n, row.mean, row.hidden)
        for row in table.itertuples(index=False)
    }


def test_mean_rank_per_option_and_organisation_by_hand() -> None:
    """a ranks cost 1,1,1,2,2 → 1.4, quality 2,2,2,1,1 → 1.6, clients 3 → 3; b likewise."""
    table = report_of(PEOPLE).tables["mean_rank"]
    assert list(table.columns) == [
        *["wave", "org", "question", "option", "n", "mean", "hidden", "hidden_reason"]
    ]
    assert list(table["option"][:3]) == list(OPTIONS)  # option order, not alphabetical
    got = cells(table)
    assert got[("a", "cost")] == (5, 1.4, False)
    assert got[("a", "quality")] == (5, 1.6, False)
    assert got[("a", "clients")] == (5, 3.0, False)
    assert got[("b", "cost")] == (4, 2.75, False)
    assert got[("b", "quality")] == (4, 2.0, False)
    assert got[("b", "clients")] == (4, 1.25, False)
    assert got[("c", "cost")][:2] == (3, 4 / 3) and not got[("c", "cost")][2]
    for option in OPTIONS:  # d: not shown whole: kept, hidden, nothing of its shown
        n, mean, hidden = got[("d", option)]
        assert hidden and n != n and mean != mean


def test_too_few_rankings_in_a_shown_organisation_hide_it_alone() -> None:
    """Shown whole, but only 2 of b's people ranked: b is hidden, and no other with it: no
    total over the organisations is published, so its count follows from nothing."""
    people = {**PEOPLE, "b": [(3, 2, 1), (3, 1, 2), None, None], "e": [(1, 2, 3)] * 6}
    table = report_of(people).tables["mean_rank"]
    shown = table.loc[~table["hidden"], "org"]
    assert set(shown) == {"a", "c", "e"}
    assert table.loc[table["hidden"], ["n", "mean"]].isna().all(axis=None)
    assert set(table.loc[table["hidden"], "org"]) == {"b", "d"}
    assert set(table.loc[table["hidden"], "hidden_reason"]) == {"small"}


@settings(max_examples=examples(25))
@given(
    ranks=st.lists(st.permutations([1, 2, 3]).map(tuple), min_size=4, max_size=4),
    order=st.permutations(list(PEOPLE)),
)
def test_hidden_organisations_ranks_move_no_shown_number(ranks, order) -> None:
    """Any ranks of d (hidden), in any order of storing: the same table and page."""
    before = report_of(PEOPLE)
    changed = {**PEOPLE, "d": ranks[3:]}
    after = report_of({org: changed[org] for org in order})
    pd.testing.assert_frame_equal(before.tables["mean_rank"], after.tables["mean_rank"])
    assert render_html([before], CTX) == render_html([after], CTX)


def test_the_page_shows_labels_names_and_n_below_k() -> None:
    """The HTML table names the options and organisations; hidden ones say 'fewer than 3'."""
    page = render_html([report_of(PEOPLE)], CTX)
    start = page.index("Order: average place")
    part = page[start : page.index("</table>", start)]
    assert "Put the goals in order" in part and "Measurement: spring" in part
    for text in ("Cost", "Quality", "Clients", "Aa", "Bb", "Cc", "Dd", "1.40", "2.75"):
        assert text in part, text
    assert part.count("fewer than 3") == 4  # d: three options and the count
    dutch = render_html([build_report(SURVEY, data_of(PEOPLE), {1: []}, _in("nl"))], _in("nl"))
    assert "Kwaliteit" in dutch and "1,40" in dutch


def _in(lang: str) -> Context:
    return Context(k=3, k_comments=3, lang=lang, partnership="P", orgs=NAMES, roles={})


def test_the_table_is_in_the_csv_and_xlsx_export(tmp_path: Path) -> None:
    """`rk_mean_rank` is exported like every table: hidden cells empty, marked hidden."""
    report = report_of(PEOPLE)
    written = write_csv([report], tmp_path / "csv")
    path = tmp_path / "csv" / "rk_mean_rank.csv"
    assert path in written
    csv = pd.read_csv(path)
    columns = ["wave", "org", "question", "option", "n", "mean", "hidden", "hidden_reason"]
    assert list(csv.columns) == columns
    row = csv[(csv["org"] == "a") & (csv["option"] == "quality")].iloc[0]
    assert (row["n"], row["mean"], row["hidden"]) == (5, 1.6, False)
    small = csv["org"].isin(["d"])
    assert csv.loc[small, ["n", "mean"]].isna().all(axis=None) and csv.loc[small, "hidden"].all()
    book = load_workbook(write_xlsx([report], tmp_path / "report.xlsx"))
    sheet = book["rk_mean_rank"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(columns)
    assert (1, "a", "goals", "quality", 5, 1.6, False, None) in rows
