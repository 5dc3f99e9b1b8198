"""Key findings name the value they claim, and claim only what the family's tests support.

Each test builds a small table whose answer is known, with a decoy on the other side (a
larger gap that is not significant, a hidden cell, an untested pair), so a finding that
picks the wrong row or says more than its test fails.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.report import Context, findings

CTX = Context(
    k=5,
    k_comments=5,
    lang="en",
    partnership="P",
    orgs={"a": "Alpha", "b": "Beta", "c": "Gamma", "d": "Delta"},
    roles={},
)
DIMS = {"x": "Trust", "y": "Goodwill", "z": "Influence", "w": "Hidden"}
NO_UNSCORED = pd.DataFrame(columns=["wave", "org", "dimension"])


def contrast(org: str, high: str, low: str, **values: object) -> dict[str, object]:
    """One row of `tables.contrasts`, as the family left it."""
    row: dict[str, object] = {
        "wave": 1,
        "org": org,
        "high": high,
        "low": low,
        "mean_high": 4.5,
        "mean_low": 2.0,
        "n": 12,
        "diff": 2.5,
        "dz": 1.25,
        "spread": True,
        "tested": True,
        "significant": True,
    }
    return row | values


def test_strongest_is_named_only_where_the_paired_test_is_significant() -> None:
    """Alpha's significant contrast names strongest and weakest with n and d_z; Beta's
    larger but non-significant gap says no dimension stands out, with its range."""
    table = pd.DataFrame(
        [
            contrast("a", "y", "x"),
            contrast(
                "b", "x", "z", mean_high=4.9, mean_low=1.1, n=6, diff=3.8, dz=0.6, significant=False
            ),
        ]
    )
    assert findings.strengths(table, NO_UNSCORED, CTX, DIMS, {"a": 3, "b": 2}) == [
        "Alpha: strongest on Goodwill (4.5), weakest on Trust (2.0); the difference within "
        "the same 12 respondents is 2.50 (paired, d_z = 1.25), significant after Holm over "
        "the 3 dimensions.",
        "Beta: no dimension stands out; the 2 dimensions with scores range from 1.1 "
        "(Influence) to 4.9 (Trust), a difference within the same 6 respondents of 3.80 "
        "(paired, d_z = 0.60) that is not significant after Holm.",
    ]


def test_a_tie_at_the_top_names_both_dimensions() -> None:
    """Two dimensions share the highest mean: both are named, not the first alone."""
    table = pd.DataFrame([contrast("a", "x y", "z")])
    [sentence] = findings.strengths(table, NO_UNSCORED, CTX, DIMS, {"a": 3})
    assert sentence.startswith("Alpha: strongest on Trust and Goodwill (4.5), weakest on Influence")


def test_everyone_giving_the_same_difference_is_said_plainly() -> None:
    """No spread in the differences: a fact about every respondent, no p, no d_z."""
    table = pd.DataFrame(
        [
            contrast(
                "a", "y", "x", diff=1.0, dz=math.nan, spread=False, tested=False, significant=False
            )
        ]
    )
    [sentence] = findings.strengths(table, NO_UNSCORED, CTX, DIMS, {"a": 2})
    assert (
        "each of the 12 respondents who answered both gave Goodwill exactly 1.00 more" in sentence
    )
    assert "significant" not in sentence and "d_z" not in sentence


def test_the_same_score_on_both_from_everyone_is_no_difference() -> None:
    """Everyone who answered both gave them the same score (no spread, difference 0):
    nothing stands out, and no d_z is printed as if it were an effect of 0."""
    table = pd.DataFrame(
        [contrast("a", "y", "x", diff=0.0, dz=math.nan, spread=False, tested=False)]
    )
    assert findings.strengths(table, NO_UNSCORED, CTX, DIMS, {"a": 2}) == [
        "Alpha: no dimension stands out; each of the 12 respondents who answered both gave "
        "Goodwill and Trust the same score (over all respondents 4.5 and 2.0)."
    ]


def test_a_pair_too_few_answered_both_of_is_not_compared() -> None:
    """Fewer than k with both scores: the range is given, no strongest, no test result."""
    table = pd.DataFrame(
        [contrast("a", "y", "x", n=math.nan, dz=math.nan, tested=False, significant=False)]
    )
    assert findings.strengths(table, NO_UNSCORED, CTX, DIMS, {"a": 2}) == [
        "Alpha: no dimension stands out; the 2 dimensions with scores range from 2.0 (Trust) "
        "to 4.5 (Goodwill); fewer than 5 respondents answered both, so they are not compared."
    ]


def test_a_dimension_answered_dont_know_only_is_named_and_not_compared() -> None:
    """Influence without a score is named; the sentence after it counts the 2 compared."""
    table = pd.DataFrame([contrast("a", "y", "x", significant=False, dz=0.1, diff=0.2)])
    gone = pd.DataFrame({"wave": [1], "org": ["a"], "dimension": ["z"]})
    found = findings.strengths(table, gone, CTX, DIMS, {"a": 2})
    assert found[0] == (
        'Alpha: Influence was answered with "don\'t know" only: no score, not compared.'
    )
    assert "the 2 dimensions with scores" in found[1] and "stands out" in found[1]


def test_equal_means_say_so() -> None:
    table = pd.DataFrame([contrast("a", "x y", "x y", mean_high=3.0, mean_low=3.0)])
    assert findings.strengths(table, NO_UNSCORED, CTX, DIMS, {"a": 2}) == [
        "Alpha: the 2 dimensions with scores have the same mean (3.0)."
    ]


def pairs(rows: list[tuple[str, str, float, float, bool, bool]]) -> pd.DataFrame:
    """`stats.directions` rows: org, target, A→B, B→A, significant, spread (n 10 and 8)."""
    table = pd.DataFrame(
        rows, columns=["org", "target", "mean_to", "mean_from", "significant", "spread"]
    )
    table["diff"] = table["mean_to"] - table["mean_from"]
    return table.assign(n_to=10, n_from=8, g=table["diff"] / 0.8)


def test_most_one_sided_is_the_largest_significant_gap_not_the_largest_gap() -> None:
    """Alpha↔Gamma (2.0, significant) is named; Beta↔Gamma's 3.0 is not significant."""
    table = pairs(
        [
            ("a", "b", 3.0, 3.5, True, True),
            ("a", "c", 4.5, 2.5, True, True),
            ("b", "c", 1.0, 4.0, False, True),
        ]
    )
    assert findings.one_sided(table, CTX) == [
        "Most one-sided trust relation: Alpha trusts Gamma 4.5 (n = 10), Gamma trusts Alpha "
        "2.5 (n = 8); a difference of 2.00 (Welch, Hedges' g = 2.50), significant after Holm."
    ]


def test_no_significant_direction_says_no_relation_is_one_sided() -> None:
    """None significant: the largest gap is named as not significant, never 'most one-sided'."""
    table = pairs([("a", "b", 3.0, 3.5, False, True), ("b", "c", 1.0, 4.0, False, True)])
    assert findings.one_sided(table, CTX) == [
        "No trust relation is clearly one-sided: the largest gap, Beta in Gamma 1.0 (n = 10) "
        "against Gamma in Beta 4.0 (n = 8), Hedges' g = -3.75, is not significant after Holm."
    ]


def test_directions_without_spread_are_a_fact_not_a_test() -> None:
    """Each side answered alike (3 against 5): said plainly, not called significant."""
    table = pairs([("a", "b", 3.0, 5.0, False, False), ("b", "c", 3.0, 3.4, False, True)])
    [sentence] = findings.one_sided(table, CTX)
    assert sentence.startswith("Alpha trusts Beta 3.0 (n = 10), Beta trusts Alpha 5.0 (n = 8)")
    assert "everyone gave the same answer" in sentence and "significant" not in sentence


def changes_table(rows: list[tuple[str, str, float, float, bool]], key: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["org", key, "mean_before", "mean_after", "significant"])
    table["diff"] = table["mean_after"] - table["mean_before"]
    table["g"] = table["diff"] / 0.5
    return table.assign(n_before=9, n_after=11, spread=True)


def test_largest_change_is_the_largest_significant_one_in_size() -> None:
    """A fall of 1.5 beats a rise of 0.5; a larger but non-significant change is not named."""
    dimensions = changes_table(
        [("a", "x", 3.0, 3.5, True), ("b", "y", 4.0, 2.5, True), ("c", "z", 1.0, 4.0, False)],
        "dimension",
    )
    pairs = changes_table(
        [("a", "b", 2.0, 2.4, True), ("b", "c", 4.0, 2.0, True), ("c", "a", 1.0, 5.0, False)],
        "target",
    )
    assert findings.changes(pairs, dimensions, CTX, DIMS) == [
        "Largest change in trust between partners: Beta in Gamma, from 4.0 (n = 9) to 2.0 "
        "(n = 11), significant after Holm, Hedges' g = -4.00.",
        "Largest significant change since the previous measurement: Beta on Goodwill, "
        "from 4.00 (n = 9) to 2.50 (n = 11), Hedges' g = -3.00.",
    ]


def test_no_significant_change_says_so_once() -> None:
    """Only non-significant changes (or none tested): the one 'none is significant' sentence."""
    dimensions = changes_table([("a", "x", 1.0, 5.0, False)], "dimension")
    expected = [
        "None of the differences with the previous measurement is statistically "
        "significant (after Holm correction)."
    ]
    assert findings.changes(None, dimensions, CTX, DIMS) == expected
    assert findings.changes(pd.DataFrame(), None, CTX, DIMS) == expected


def test_a_change_everyone_gave_is_said_and_not_counted_as_tested() -> None:
    """Both waves without spread (3 → 4): its own sentence; 'none' speaks of tested ones."""
    dimensions = changes_table(
        [("a", "x", 3.0, 4.0, False), ("b", "y", 3.0, 3.2, False)], "dimension"
    )
    dimensions.loc[0, ["spread", "g"]] = [False, math.nan]
    assert findings.changes(None, dimensions, CTX, DIMS) == [
        "None of the differences with the previous measurement that could be tested is "
        "statistically significant (after Holm correction).",
        "Alpha on Trust: everyone answered the same in both measurements (3.0, then 4.0; "
        "n = 9 and 11): a change every respondent gave, not tested.",
    ]


def test_hidden_organisations_are_named_with_their_reason() -> None:
    """Too small, or hidden only to protect a smaller one: never the same words."""
    hidden = pd.DataFrame({"org": ["c", "b"], "reason": ["small", "protect"]})
    assert findings.hidden(hidden, CTX) == [
        "Gamma: too few respondents to show.",
        "Beta: hidden to protect a smaller group.",
    ]


def test_zero_width_intervals_get_a_remark() -> None:
    """Only the shown cell without spread; a hidden one and one with spread stay silent."""
    cells = pd.DataFrame(
        {
            "org": ["a", "b", "c"],
            "dimension": ["x", "y", "x"],
            "n": [7, 8, 3],
            "mean": [4.0, 3.5, 2.0],
            "sd": [0.0, 0.5, 0.0],
            "hidden": [False, False, True],
        }
    )
    assert findings.zero_width(cells, CTX, DIMS) == [
        "Alpha on Trust: all 7 respondents answered the same (4.0), so the interval has no width."
    ]


def test_most_distant_cultures_are_the_largest_distance() -> None:
    """Of three pairs, Alpha–Gamma (30 points) is named, not the closest pair, with both n."""
    rows = [("a", "b", 10.0), ("a", "c", 30.0), ("b", "c", 20.0)]
    both = rows + [(o, a, d) for a, o, d in rows] + [(o, o, 0.0) for o in "abc"]
    table = pd.DataFrame(both, columns=["org", "other", "distance"])
    assert findings.distance(table, CTX, {"a": 6, "b": 7, "c": 8}) == [
        "The cultures of Alpha and Gamma differ most: 30 of the 100 points would have to "
        "move (n = 6 and 8)."
    ]


def test_largest_culture_wish_is_the_largest_gap_in_size() -> None:
    """A wish of −15 points beats +10; the type is named by the definition's label."""
    shown = pd.DataFrame(
        {
            "org": ["a", "a", "b", "b"],
            "type": ["clan", "market", "clan", "market"],
            "gap": [10.0, -4.0, 2.0, -15.0],
            "n": [6, 6, 9, 9],
        }
    )
    types = {"clan": "Clan", "market": "Market"}
    sizes = findings.sizes_of(shown)
    assert findings.culture_gap(shown, CTX, types, sizes) == [
        "Largest culture wish: Beta wants less Market (-15 points, n = 9)."
    ]
