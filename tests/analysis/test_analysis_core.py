"""Scoring, suppression and statistics: the rules hold and the numbers match references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from analysis import scoring, stats, suppression
from analysis.data import answers_frame
from surveys.loader import load_builtin
from tests.support.budget import examples

RNG = np.random.default_rng(42)


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Answers of responses 1 and 2 (org a, staff, wave 1), shaped as the store returns them."""
    return answers_frame((1, "a", "staff", *row) for row in rows)


def test_reverse_items_are_mirrored_and_dont_know_is_missing() -> None:
    """A reverse-coded 2 scores 4 on a 5-point scale; don't know stays missing."""
    trust = load_builtin("trust")
    rows = [(1, "v_commitments", "", 4), (1, "v_hidden", "", 2), (1, "v_open", "", None)]
    scored = scoring.item_scores(frame(rows), trust).set_index("item")["score"]
    assert scored["v_commitments"] == 4 and scored["v_hidden"] == 4
    assert np.isnan(scored["v_open"])


def test_dimension_score_needs_half_of_the_items_answered() -> None:
    """Two of four answered gives a score; one of four does not."""
    trust = load_builtin("trust")
    base = [("v_commitments", 4), ("v_competence", 2), ("v_open", None), ("v_predictable", None)]
    rows = [(1, item, "", v) for item, v in base]
    rows += [(2, item, "", v if i == 0 else None) for i, (item, v) in enumerate(base)]
    scores = scoring.dimension_scores(frame(rows), trust)
    vertrouwen = scores[scores["dimension"] == "vertrouwen"]
    assert list(vertrouwen["score"]) == [3.0]


def test_per_partner_scores_keep_their_target() -> None:
    """partner_trust yields one score per response and target organisation."""
    trust = load_builtin("trust")
    scores = scoring.dimension_scores(
        frame([(1, "p_trust", "b", 5), (1, "p_trust", "c", 2)]), trust
    )
    assert sorted(zip(scores["target"], scores["score"], strict=True)) == [("b", 5.0), ("c", 2.0)]


def test_describe_matches_scipy() -> None:
    """n, mean, SD and the t interval agree with scipy to 1e-9."""
    values = RNG.normal(3.4, 0.8, 37)
    table = stats.describe(pd.DataFrame({"g": "x", "v": values}), "v", ["g"]).iloc[0]
    low, high = sps.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sps.sem(values))
    assert table["n"] == 37
    assert table["mean"] == pytest.approx(values.mean(), abs=1e-9)
    assert table["sd"] == pytest.approx(values.std(ddof=1), abs=1e-9)
    assert (table["ci_low"], table["ci_high"]) == (
        pytest.approx(low, abs=1e-9),
        pytest.approx(high, abs=1e-9),
    )


def test_cronbach_alpha_matches_the_textbook_formula() -> None:
    """Alpha equals k/(k-1)·(1 − Σ item variances / total variance) on known data."""
    data = pd.DataFrame(
        {"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3], "c": [1, 3, 3, 4, 5, 2]}, dtype=float
    )
    k = 3
    expected = k / (k - 1) * (1 - data.var(ddof=1).sum() / data.sum(axis=1).var(ddof=1))
    assert stats.cronbach_alpha(data) == pytest.approx(expected, abs=1e-12)
    # the same through the covariance matrix: k/(k-1)·(1 − trace(C)/sum(C))
    cov = np.cov(data.to_numpy().T)
    assert stats.cronbach_alpha(data) == pytest.approx(
        k / (k - 1) * (1 - np.trace(cov) / cov.sum()), abs=1e-12
    )
    assert stats.cronbach_alpha(data) == pytest.approx(0.9317647059, abs=1e-9)


def test_welch_hedges_and_holm_match_references() -> None:
    """Welch's t and p from scipy, Hedges' g and Holm by their definitions."""
    a, b = RNG.normal(3.0, 0.7, 25), RNG.normal(3.5, 0.9, 31)
    scores = pd.DataFrame(
        {"wave": [1] * 25 + [2] * 31, "org": "x", "dimension": "d", "score": np.concatenate([a, b])}
    )
    row = stats.wave_changes(scores, 1, 2).iloc[0]
    ref = sps.ttest_ind(b, a, equal_var=False)
    assert row["t"] == pytest.approx(ref.statistic, abs=1e-9)
    assert row["p"] == pytest.approx(ref.pvalue, abs=1e-9)
    sp = np.sqrt((24 * a.var(ddof=1) + 30 * b.var(ddof=1)) / 54)
    g = (b.mean() - a.mean()) / sp * (1 - 3 / (4 * 56 - 9))
    assert row["g"] == pytest.approx(g, abs=1e-9)
    assert list(stats.holm([0.01, 0.04, 0.03, 0.2])) == pytest.approx([0.04, 0.09, 0.09, 0.2])


def test_culture_distance_counts_points_to_move() -> None:
    """Half the summed absolute differences between two 'now' profiles."""
    profiles = pd.DataFrame(
        {
            "wave": 1,
            "org": ["a"] * 4 + ["b"] * 4,
            "type": ["clan", "adhocracy", "market", "hierarchy"] * 2,
            "now": [40, 20, 20, 20, 10, 20, 30, 40],
        }
    )
    distance = stats.culture_distance(profiles).set_index(["org", "other"])["distance"]
    assert distance[("a", "b")] == 30 and distance[("a", "a")] == 0


def test_trust_matrix_shows_direction_and_asymmetry() -> None:
    """A→B and B→A are separate cells; asymmetry is their difference."""
    scores = pd.DataFrame(
        {
            "wave": 1,
            "dimension": "partner_trust",
            "org": ["a"] * 3 + ["b"] * 3,
            "target": ["b"] * 3 + ["a"] * 3,
            "score": [4, 5, 4.5, 2, 2.5, 3],
        }
    )
    matrix = stats.reciprocity(stats.trust_matrix(scores, "partner_trust")).set_index(
        ["org", "target"]
    )
    assert matrix.loc[("a", "b"), "mean"] == pytest.approx(4.5)
    assert matrix.loc[("a", "b"), "asymmetry"] == pytest.approx(2.0)


# -- suppression --------------------------------------------------------------------------


@settings(max_examples=examples(300))
@given(sizes=st.lists(st.integers(0, 30), min_size=1, max_size=8), k=st.integers(3, 10))
def test_no_hidden_cell_can_be_recovered_from_shown_cells(sizes: list[int], k: int) -> None:
    """Shown cells have n ≥ k; hidden cells jointly hold ≥ k (or everything is hidden)."""
    table = pd.DataFrame({"org": "x", "role": [f"r{i}" for i in range(len(sizes))], "n": sizes})
    result = suppression.suppress(table, k, by=["org"])
    shown, hidden = result[~result["hidden"]], result[result["hidden"]]
    assert (shown["n"] >= k).all()
    if len(hidden):
        assert hidden["n"].sum() >= k or len(shown) == 0
    # secondary suppression takes the smallest shown cells first: every shown cell is at
    # least as large as every cell hidden only to protect another
    secondary = hidden[hidden["n"] >= k]
    if len(shown) and len(secondary):
        assert shown["n"].min() >= secondary["n"].max()


def test_suppression_refuses_k_below_three() -> None:
    """k may never be below 3."""
    with pytest.raises(suppression.SuppressionError):
        suppression.suppress(pd.DataFrame({"n": [5]}), 2, by=[])


def test_comments_only_for_large_groups_and_shuffled() -> None:
    """Comments of groups below the threshold never appear; the order is shuffled."""
    comments = pd.DataFrame(
        {
            "wave": 1,
            "org": ["big"] * 20 + ["small"] * 3,
            "item": "t",
            "target": "",
            "text": [f"c{i}" for i in range(23)],
        }
    )
    sizes = pd.Series({(1, "big"): 40, (1, "small"): 9})
    shown = suppression.comments_to_show(comments, sizes, 10, seed=1)
    assert set(shown["org"]) == {"big"} and len(shown) == 20
    assert list(shown["text"]) != [f"c{i}" for i in range(20)]


def test_only_closed_waves_release_results() -> None:
    """An open wave yields no results, only counts."""

    class W:
        def __init__(self, status: str) -> None:
            self.status = status

    assert [w.status for w in suppression.releasable([W("open"), W("closed")])] == ["closed"]


# -- the fast paths agree with plain pandas and scipy ---------------------------------------


def random_answers(rng: np.random.Generator, responses: int, items: list[str]) -> pd.DataFrame:
    """Answers of `responses` people in two waves and three organisations, 10 % missing."""
    records = []
    for r in range(responses):
        wave, org = 1 + r % 2, "abc"[r % 3]
        base = rng.normal(3.2 + 0.3 * (org == "b") + 0.2 * wave, 0.6)
        for item in items:
            value = None if rng.random() < 0.1 else int(np.clip(round(rng.normal(base, 1)), 1, 5))
            records.append((wave, org, "staff", r, item, "", value))
    return answers_frame(records)


@settings(max_examples=examples(25))
@given(seed=st.integers(0, 10_000), responses=st.integers(1, 60))
def test_dimension_scores_match_a_plain_groupby(seed: int, responses: int) -> None:
    """The bincount path gives the mean of answered items where at least half are answered."""
    trust = load_builtin("trust")
    items = [q.id for q in trust.questions if q.dimension in ("vertrouwen", "gunnen")]
    answers = random_answers(np.random.default_rng(seed), responses, items)
    scored = scoring.item_scores(answers, trust)
    grouped = scored.groupby(["response", "dimension"], observed=True)["score"]
    reference = grouped.agg(asked="size", answered="count", score="mean")
    reference = reference[reference["answered"] * 2 >= reference["asked"]]["score"]
    fast = scoring.dimension_scores(answers, trust).set_index(["response", "dimension"])["score"]
    assert len(fast) == len(reference)
    for key, value in reference.items():
        assert fast[key] == pytest.approx(value, abs=1e-12)


def test_reliability_matches_alpha_of_the_pivoted_items() -> None:
    """Alpha per wave and dimension from long scores equals alpha of that wave's wide table."""
    trust = load_builtin("trust")
    items = [q.id for q in trust.questions if q.dimension in ("vertrouwen", "gunnen")]
    scored = scoring.item_scores(random_answers(np.random.default_rng(5), 300, items), trust)
    table = stats.reliability(scored).set_index(["wave", "dimension"])
    assert len(table) == 4  # two waves × two dimensions, never pooled
    for wave in (1, 2):
        for dimension in ("vertrouwen", "gunnen"):
            part = scored[(scored["dimension"] == dimension) & (scored["wave"] == wave)]
            wide = part.pivot_table(index="response", columns="item", values="score", observed=True)
            row = table.loc[(wave, dimension)]
            assert row["alpha"] == pytest.approx(stats.cronbach_alpha(wide), abs=1e-12)
            assert row["n"] == len(wide.dropna())
            assert row["items"] == wide.shape[1]
            assert row["computed"]


def test_reliability_uses_the_items_everyone_was_asked() -> None:
    """Role-specific statements drop out of a wave's alpha; one common statement: no alpha."""
    evaluation = load_builtin("evaluation")
    sturing = [q for q in evaluation.questions if q.dimension == "sturing"]
    common = [q.id for q in sturing if not q.roles]
    rng = np.random.default_rng(11)
    records = []
    for response in range(40):
        role = "administrator" if response % 4 == 0 else "staff"
        for q in sturing:
            if q.roles and role not in q.roles:
                continue
            records.append((1, "a", role, response, q.id, "", int(rng.integers(1, 6))))
        # wave 2: only one statement asked of everyone
        records.append((2, "a", role, 1000 + response, common[0], "", int(rng.integers(1, 6))))
        if role == "administrator":
            records.append((2, "a", role, 1000 + response, common[1], "", 3))
    scored = scoring.item_scores(answers_frame(records), evaluation)
    table = stats.reliability(scored).set_index("wave")
    wide = scored[scored["wave"] == 1].pivot_table(
        index="response", columns="item", values="score", observed=True
    )[common]
    assert table.loc[1, "items"] == len(common) == 3
    assert table.loc[1, "alpha"] == pytest.approx(stats.cronbach_alpha(wide), abs=1e-12)
    assert table.loc[2, "items"] == 1 and not table.loc[2, "computed"]
    assert np.isnan(table.loc[2, "alpha"])


def test_wave_changes_match_scipy_for_every_group() -> None:
    """Per organisation × dimension: Welch's t, df and p as scipy; groups below two skipped."""
    rng = np.random.default_rng(9)
    rows = []
    for org, n_before, n_after in (("a", 20, 30), ("b", 12, 9), ("c", 1, 14)):
        for dim in ("x", "y"):
            for wave, n in ((1, n_before), (2, n_after)):
                shift = 0.4 * (wave == 2) * (org == "a")
                for v in rng.normal(3 + shift, 0.8, n):
                    rows.append({"wave": wave, "org": org, "dimension": dim, "score": v})
    scores = pd.DataFrame(rows)
    table = stats.wave_changes(scores, 1, 2)
    assert sorted(set(table["org"])) == ["a", "b"]  # c has one response before
    for row in table.itertuples():
        part = scores[(scores["org"] == row.org) & (scores["dimension"] == row.dimension)]
        a = part.loc[part["wave"] == 1, "score"].to_numpy()
        b = part.loc[part["wave"] == 2, "score"].to_numpy()
        ref = sps.ttest_ind(b, a, equal_var=False)
        assert row.t == pytest.approx(ref.statistic, abs=1e-9)
        assert row.df == pytest.approx(ref.df, abs=1e-9)
        assert row.p == pytest.approx(ref.pvalue, abs=1e-9)
        assert row.g == pytest.approx(stats.hedges_g(a, b), abs=1e-12)
    assert list(table["p_holm"]) == pytest.approx(list(stats.holm(table["p"].to_list())))


def test_culture_profiles_average_points_per_type() -> None:
    """Mean points per type over aspects and respondents, now and preferred, and the gap."""
    culture = load_builtin("culture")
    items = {q.id: q.dimension for q in culture.questions if q.type == "allocate"}
    rng = np.random.default_rng(3)
    types = ["clan", "adhocracy", "market", "hierarchy"]
    records, expected = [], {}
    for response in range(8):
        for item, frame in items.items():
            points = rng.multinomial(20, [0.4, 0.2, 0.2, 0.2]) * 5  # steps of 5, total 100
            for kind, p in zip(types, points, strict=True):
                records.append((1, "a", "staff", response, item, kind, int(p)))
                expected.setdefault((frame, kind), []).append(p)
    profiles = stats.culture_profiles(
        answers_frame(records), now="culture_now", preferred="culture_preferred", dimensions=items
    )
    profiles = profiles.set_index("type")
    for kind in types:
        now = np.mean(expected[("culture_now", kind)])
        preferred = np.mean(expected[("culture_preferred", kind)])
        assert profiles.loc[kind, "now"] == pytest.approx(now, abs=1e-9)
        assert profiles.loc[kind, "preferred"] == pytest.approx(preferred, abs=1e-9)
        assert profiles.loc[kind, "gap"] == pytest.approx(preferred - now, abs=1e-9)
    assert profiles["now"].sum() == pytest.approx(100) and (profiles["n"] == 8).all()
