"""Every question of the built-in surveys is reported, in the HTML page and in the XLSX.

Checked by question, from the definitions (never a list of ids written here), and by
value: the goodwill matrix, an NPS score and a choice's shares are recomputed by hand
from the stored answers.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.data import answers_frame
from analysis.export import xlsx_bytes
from analysis.report.questions import answer_shares
from analysis.report.tables import group_decision
from surveys.loader import parse_survey
from trustscan.reporting import write_xlsx

from .reporting_support import Built, built_from_shared, people
from .test_hidden_answers import CONFIG

SIZES = {"dijkhoven": 12, "veenstede": 9, "brugwoude": 8, "lindermeer": 2}
LATER = {"dijkhoven": 11, "veenstede": 8, "brugwoude": 9, "lindermeer": 3}


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Two waves of the trust and evaluation scans, one of the culture scan; one small partner."""
    plan = {
        "trust": [people("trust", 1, SIZES), people("trust", 2, LATER)],
        "evaluation": [people("evaluation", 1, SIZES), people("evaluation", 2, LATER)],
        "culture": [people("culture", 1, SIZES)],
    }
    return built_from_shared(tmp_path_factory, "every-question", plan, CONFIG)


def workbook(scans: Built) -> dict[str, pd.DataFrame]:
    """The XLSX a facilitator exports, read back sheet by sheet."""
    tables = {f"{r.survey.id}_{n}": t for r in scans.reports for n, t in r.tables.items()}
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(tables)), read_only=True)
    sheets = {}
    for sheet in book.worksheets:
        rows = list(sheet.values)
        sheets[sheet.title] = pd.DataFrame(rows[1:], columns=rows[0])
    return sheets


def test_every_question_appears_in_the_page(scans: Built) -> None:
    """Each answerable question of the three built-ins is named on the page, with its data."""
    page = html.unescape(scans.page)
    for report in scans.reports:
        for q in report.survey.questions:
            if not q.answerable:
                continue
            shown = (q.label or q.text).get("en")
            assert shown in page or shown.replace('"', '\\"') in page, (report.survey.id, q.id)


def test_every_question_appears_in_the_workbook(scans: Built) -> None:
    """The workbook lists every question and holds rows for it in the sheet it names."""
    sheets = workbook(scans)
    for report in scans.reports:
        survey = report.survey
        index = sheets[f"{survey.id}_questions"].set_index("question")
        asked = [q for q in survey.questions if q.answerable]
        assert list(index.index) == [q.id for q in asked]
        for q in asked:
            table = index.loc[q.id, "table"]
            if table == "comments":  # free text: on the page only, never in an export
                continue
            sheet = sheets[f"{survey.id}_{table}"[:31]]
            if q.per_partner:
                dimension = survey.dimension(q.dimension)
                assert dimension is not None and dimension.kind == "matrix"
                if "dimension" in sheet:
                    sheet = sheet[sheet["dimension"] == dimension.id]
                assert sheet["mean"].notna().any(), q.id
            else:
                column = "item" if "item" in sheet else "question"
                assert (sheet[column] == q.id).any(), (survey.id, q.id, table)


def test_hidden_rows_stay_in_the_workbook_blank_and_marked(scans: Built) -> None:
    """Lindermeer (2, then 3) keeps its rows in every sheet that has a hidden column:
    marked hidden, every figure blank (issue 17: hidden means blank everywhere)."""
    sheets = workbook(scans)
    marked = 0
    for name, sheet in sheets.items():
        if "hidden" not in sheet or not sheet["hidden"].any():
            continue
        rows = sheet[sheet["hidden"].astype(bool)]
        figures = rows.drop(
            columns=["wave", "items", "hidden", "hidden_reason", "computed", "low", "note"],
            errors="ignore",
        ).select_dtypes("number")
        assert figures.isna().all(axis=None), name
        marked += 1
        if "org" in sheet:
            assert "lindermeer" in set(sheet["org"]), name
    assert marked >= 8  # scores, roles, matrices, answers, NPS, ranks, group sizes, …


def test_goodwill_is_a_matrix_beside_trust(scans: Built) -> None:
    """The second per-partner dimension is its own directed matrix, mean by hand."""
    trust = scans.report("trust")
    goodwill = trust.tables["matrices"]
    assert set(goodwill["dimension"]) == {"partner_goodwill"}
    assert [n for n, _ in trust.charts].count("matrix") == 2
    answers = scans.answers
    rated = answers[
        (answers["survey"] == "trust")
        & (answers["item"] == "p_goodwill")
        & (answers["org"] == "dijkhoven")
        & (answers["target"] == "veenstede")
    ].dropna(subset=["value"])
    wave = int(rated["wave"].max())
    rated = rated[rated["wave"] == wave]
    cell = goodwill[
        (goodwill["wave"] == wave)
        & (goodwill["org"] == "dijkhoven")
        & (goodwill["target"] == "veenstede")
    ].iloc[0]
    assert cell["n"] == len(rated) and cell["mean"] == pytest.approx(rated["value"].mean())
    small = goodwill[goodwill["org"] == "lindermeer"]
    assert small["hidden"].all() and small["mean"].isna().all()


def test_nps_score_and_choice_shares_by_hand(scans: Built) -> None:
    """NPS = % promoters − % detractors; a choice's share = chosen / answered, per partner."""
    evaluation = scans.report("evaluation")
    answers = scans.answers[scans.answers["survey"] == "evaluation"]
    wave = int(answers["wave"].max())
    mine = answers[(answers["wave"] == wave) & (answers["org"] == "dijkhoven")]
    points = mine.loc[mine["item"] == "nps_recommend", "value"].dropna()
    nps = evaluation.tables["nps"]
    row = nps[(nps["wave"] == wave) & (nps["org"] == "dijkhoven")].iloc[0]
    promoters, detractors = (points >= 9).mean() * 100, (points <= 6).mean() * 100
    assert row["score"] == pytest.approx(promoters - detractors)
    assert row["mean"] == pytest.approx(points.mean())
    chosen = mine.loc[mine["item"] == "c_future", "choice"].dropna().astype(str)
    shares = evaluation.tables["answer_shares"]
    ours = shares[
        (shares["wave"] == wave)
        & (shares["org"] == "dijkhoven")
        & (shares["question"] == "c_future")
    ].set_index("option")["share"]
    for option in ("expand", "same", "reduce", "end"):  # "end": ending the partnership
        assert ours[option] == pytest.approx((chosen == option).mean() * 100), option
    hidden = shares[(shares["org"] == "lindermeer")]
    assert hidden["hidden"].all() and hidden["share"].isna().all()
    assert "be ended" in html.unescape(scans.page)


def test_a_trend_for_every_dimension(scans: Built) -> None:
    """Two waves: one trend chart per scale dimension, not only the first three."""
    for survey in ("trust", "evaluation"):
        report = scans.report(survey)
        scale = [d for d in report.survey.dimensions if d.kind == "scale"]
        trends = [f for n, f in report.figures if n == "trend"]
        assert len(trends) == len(scale) > 3 or survey == "trust"
        for dimension, figure in zip(scale, trends, strict=True):
            title = figure.layout.title.text.replace("<br>", " ")  # wrapped for a phone
            assert dimension.label.get("en") in title


def test_the_ranking_renders_as_mean_rank(scans: Built) -> None:
    """The ranking question shows its options' mean places per organisation on the page."""
    ranks = scans.report("evaluation").tables["mean_rank"]
    shown = ranks[~ranks["hidden"]]
    assert len(shown) and shown["mean"].between(1, 4).all()
    assert "Goals in order of importance" in scans.page


def test_culture_aspects_are_each_allocate_question(scans: Built) -> None:
    """Every allocate question has its mean points per type for the shown organisations."""
    aspects = scans.report("culture").tables["culture_aspects"]
    answers = scans.answers[scans.answers["survey"] == "culture"]
    mine = answers[(answers["item"] == "now_glue") & (answers["org"] == "veenstede")]
    clan = mine.loc[mine["target"] == "clan", "value"]
    row = aspects[
        (aspects["org"] == "veenstede")
        & (aspects["question"] == "now_glue")
        & (aspects["option"] == "clan")
    ].iloc[0]
    assert row["mean"] == pytest.approx(clan.mean())
    assert aspects.loc[aspects["org"] == "lindermeer", "mean"].isna().all()


def test_workbook_is_written(tmp_path: Path, scans: Built) -> None:
    """The sheets of the new tables are in the file a facilitator writes."""
    path = write_xlsx(scans.reports, tmp_path / "t.xlsx")
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    for name in (
        "trust_matrices",
        "evaluation_nps",
        "evaluation_answer_shares",
        "trust_familiarity",
    ):
        assert name in names


MULTI = """
id = "multi"
languages = ["en"]
title = { en = "Multi" }

[[questions]]
id = "pick"
type = "multi"
min = 0
max = 2
options = [{ value = "a", label = { en = "A" } }, { value = "b", label = { en = "B" } }]
text = { en = "Pick" }
"""


def test_multi_shares_count_people_not_rows() -> None:
    """Several options per person: each share is over the people who answered, and a
    person who chose none counts in n; an organisation not shown whole stays hidden."""
    survey = parse_survey(MULTI, "multi.toml")
    records = []
    for person, chosen in enumerate([("a", "b"), ("a",), ("a",), (), ("b",)]):
        for option in chosen or ("",):
            records.append((1, "x", "staff", person, "pick", option, 1 if chosen else 0))
    records += [(1, "y", "staff", 10 + p, "pick", "a", 1) for p in range(5)]
    whole = pd.DataFrame({"wave": [1], "org": ["x"]})
    frame = answers_frame(records)
    groups = group_decision(frame.drop_duplicates("response")[["wave", "org", "role"]], k=5)
    table = answer_shares(frame, survey, whole, groups, k=5)
    x = table[table["org"] == "x"].set_index("option")
    assert x.loc["a", "n"] == 5 and x.loc["a", "share"] == pytest.approx(60)
    assert x.loc["b", "share"] == pytest.approx(40)
    assert table.loc[table["org"] == "y", "hidden"].all()


def test_answers_per_option_and_nps_say_why_a_partner_is_hidden(scans: Built) -> None:
    """Lindermeer (2, then 3 people; k = 5) is hidden in the evaluation scan's answers per
    option and NPS: each hidden row gives 'fewer than 5' as its reason, in the tables and
    on the page, and nothing reads 'n < 5'."""
    from analysis.charts import hidden_label

    evaluation = next(r for r in scans.reports if r.survey.id == "evaluation")
    for name in ("answer_shares", "nps"):
        table = evaluation.tables[name]
        small = table[(table["org"] == "lindermeer").to_numpy()]
        assert len(small) and small["hidden"].all(), name
        assert set(small["hidden_reason"].astype(str)) == {"small"}, name
        assert not table.loc[~table["hidden"].astype(bool), "hidden_reason"].astype(str).any()
    page = html.unescape(scans.page)
    assert hidden_label("small", 5, evaluation.lang) in page
    assert "n < 5" not in page
