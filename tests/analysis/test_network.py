"""Trust as a network: the measures against a hand computation on a tiny case.

Three organisations a, b, c; the cell c → a is hidden. In- and out-strength, density
and the don't-know map are worked out by hand below; reciprocity is checked against
scipy's Welch test on the people's own scores, through a whole report.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analysis import charts
from analysis.data import answers_frame
from analysis.report import network
from analysis.report.tables import group_decision
from surveys.loader import load_builtin

from .reporting_support import built, people
from .test_hidden_answers import CONFIG


def masked_matrix() -> pd.DataFrame:
    """A masked trust matrix: a→b 4.0, b→a 2.0, a→c 3.0, c→a hidden, b→c 4.5, c→b 3.5."""
    rows = [
        ("a", "b", 5, 4.0, False),
        ("b", "a", 6, 2.0, False),
        ("a", "c", 5, 3.0, False),
        ("c", "a", None, None, True),
        ("b", "c", 7, 4.5, False),
        ("c", "b", 5, 3.5, False),
    ]
    return pd.DataFrame(
        [(1, o, t, n, m, 0.5, bool(h)) for o, t, n, m, h in rows],
        columns=["wave", "org", "target", "n", "mean", "sd", "hidden"],
    ).astype({"mean": "float64", "n": "float64"})


def test_strengths_by_hand() -> None:
    """In-strength: mean of the shown cells towards an organisation; out: of its own."""
    table = network.strengths(masked_matrix()).set_index("org")
    assert table.loc["a", "in_strength"] == pytest.approx(2.0)  # b→a only: c→a is hidden
    assert table.loc["a", "in_cells"] == 1
    assert table.loc["a", "out_strength"] == pytest.approx((4.0 + 3.0) / 2)
    assert table.loc["b", "in_strength"] == pytest.approx((4.0 + 3.5) / 2)
    assert table.loc["c", "in_strength"] == pytest.approx((3.0 + 4.5) / 2)
    assert table.loc["c", "out_strength"] == pytest.approx(3.5)  # its hidden cell left out
    assert table.loc["c", "out_cells"] == 1


def test_density_by_hand() -> None:
    """Density: the shown relations with trust ≥ 'agree' (4) over the shown relations."""
    row = network.density(masked_matrix(), orgs=3, strong=4).iloc[0]
    assert (row["relations"], row["shown"], row["strong"]) == (6, 5, 2)  # 4.0 and 4.5
    assert row["density"] == pytest.approx(2 / 5)
    assert row["mean"] == pytest.approx((4.0 + 2.0 + 3.0 + 4.5 + 3.5) / 5)


def test_who_doesnt_know_whom_by_hand() -> None:
    """The share of don't-know answers per pair over the per-partner questions; a pair asked
    of fewer than k people is hidden."""
    survey = load_builtin("trust")
    records = []
    response = 0
    for org, count, unknown in (("a", 5, 3), ("c", 3, 0)):
        for person in range(count):
            response += 1
            for item in ("p_trust", "p_goodwill"):
                for target in ("a", "b", "c"):
                    if target == org:
                        continue
                    # a's first three people do not know b on either question
                    dont_know = org == "a" and target == "b" and person < unknown
                    value = None if dont_know else 4
                    records.append((1, org, "staff", response, item, target, value))
    frame = answers_frame(records)
    groups = group_decision(frame.drop_duplicates("response")[["wave", "org", "role"]], k=5)
    table = network.familiarity(frame, survey, groups, k=5).set_index(["org", "target"])
    assert table.loc[("a", "b"), "dont_know"] == pytest.approx(6 / 10 * 100)
    assert table.loc[("a", "b"), "n"] == 5
    assert table.loc[("a", "c"), "dont_know"] == 0
    assert table.loc[("c", "a"), "hidden"] and math.isnan(table.loc[("c", "a"), "dont_know"])


def test_the_network_picture_draws_shown_relations_and_marks_one_sided_pairs() -> None:
    """An arrow per shown cell (none for the hidden one); a significant pair in orange, ◆."""
    pairs = pd.DataFrame({"org": ["a"], "target": ["b"], "significant": [True]})
    figure = charts.trust_network(masked_matrix(), pairs, lang="en", k=5, names={"a": "Aa"})
    arrows = [a for a in figure.layout.annotations if a.showarrow]
    assert len(arrows) == 5
    orange = [a for a in arrows if a.arrowcolor == charts.PALETTE[5]]
    assert len(orange) == 2  # a→b and b→a
    labels = [a.text for a in figure.layout.annotations if not a.showarrow]
    assert "4.0 ◆" in labels and "2.0 ◆" in labels and "4.5" in labels
    widths = sorted(a.arrowwidth for a in arrows)  # thicker for more trust: 1 + 5 (m − 1) / 4
    assert widths == pytest.approx(sorted(1 + 5 * (m - 1) / 4 for m in (4, 2, 3, 4.5, 3.5)))
    assert any("1 relations hidden" in (trace.name or "") for trace in figure.data)


def test_reciprocity_against_scipy_in_a_report(tmp_path) -> None:
    """Per pair with both directions shown: the difference, its 95 % Welch interval and p
    as scipy's Welch test of the two groups' scores gives them."""
    sizes = {"dijkhoven": 9, "veenstede": 7, "brugwoude": 6, "lindermeer": 2}
    result = asyncio.run(built(tmp_path / "r.db", {"trust": [people("trust", 1, sizes)]}, CONFIG))
    trust = result.report("trust")
    pairs = trust.tables["reciprocity_tests"]
    assert {"lindermeer"}.isdisjoint(set(pairs["org"]) | set(pairs["target"]))  # hidden
    answers = result.answers[result.answers["item"] == "p_trust"].dropna(subset=["value"])
    for row in pairs.itertuples():
        to = answers[(answers["org"] == row.org) & (answers["target"] == row.target)]["value"]
        back = answers[(answers["org"] == row.target) & (answers["target"] == row.org)]["value"]
        test = scipy_stats.ttest_ind(to, back, equal_var=False)
        assert row.diff == pytest.approx(to.mean() - back.mean())
        assert row.p == pytest.approx(test.pvalue)
        interval = test.confidence_interval(0.95)
        assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high))
    strength = trust.tables["strength"].set_index("org")
    matrix = trust.tables["trust_matrix"]
    shown = matrix[matrix["mean"].notna()]
    towards = shown[shown["target"] == "dijkhoven"]["mean"]
    assert strength.loc["dijkhoven", "in_strength"] == pytest.approx(np.mean(towards))
    assert "network" in [name for name, _ in trust.charts]
    assert "Trust as a network" in result.page


def test_the_heatmap_marks_the_tested_pairs_not_a_fixed_distance() -> None:
    """With the reciprocity tests, ◆ marks the significant pair only: a→b against b→a differ
    by 2.0 but are not significant, b↔c by 1.0 and are."""
    pairs = pd.DataFrame({"org": ["a", "b"], "target": ["b", "c"], "significant": [False, True]})
    figure = charts.trust_heatmap(masked_matrix(), lang="en", k=5, names={}, pairs=pairs)
    text = figure.data[0].text  # rows a, b, c; columns a, b, c
    assert text[0][1] == "4.0" and text[1][0] == "2.0"
    assert text[1][2] == "4.5 ◆" and text[2][1] == "3.5 ◆"
    untested = charts.trust_heatmap(masked_matrix(), lang="en", k=5, names={}, pairs=pairs[:0])
    assert not any("◆" in cell for row in untested.data[0].text for cell in row)
