"""Key findings name the value they claim: the largest where they say largest, shown cells only.

Each test builds a small table whose answer is known, with a decoy on the other side
(the smallest, or a larger value in a hidden cell or a non-significant change), so a
finding that picks the wrong row fails.
"""

from __future__ import annotations

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


def test_strongest_and_weakest_dimension_are_the_largest_and_smallest_shown_mean() -> None:
    """Alpha: strongest on Goodwill (4.5), weakest on Trust (2.0); a hidden 4.9 is ignored."""
    profile = pd.DataFrame(
        {
            "org": ["a", "a", "a", "a"],
            "dimension": ["x", "y", "z", "w"],
            "mean": [2.0, 4.5, 3.0, 4.9],
            "hidden": [False, False, False, True],
        }
    )
    assert findings.strengths(profile, CTX, DIMS) == [
        "Alpha: strongest on Goodwill (4.5), weakest on Trust (2.0)."
    ]


def test_dimensions_close_together_name_no_strongest() -> None:
    """A spread below EVEN gives the 'all close together' sentence with their mean."""
    profile = pd.DataFrame(
        {"org": ["b", "b"], "dimension": ["x", "y"], "mean": [3.0, 3.04], "hidden": False}
    )
    assert findings.strengths(profile, CTX, DIMS) == [
        "Beta: all dimensions lie close together (around 3.0)."
    ]


def test_most_one_sided_pair_is_the_largest_gap_between_shown_directions() -> None:
    """Alpha↔Gamma differ by 2.0 (more than the 0.5 and 1.0 pairs); a hidden cell is skipped."""
    cells = [
        ("a", "b", 3.0, False),
        ("b", "a", 3.5, False),
        ("a", "c", 4.5, False),
        ("c", "a", 2.5, False),
        ("b", "c", 3.0, False),
        ("c", "b", 4.0, False),
        ("a", "d", 5.0, True),  # hidden: would be the largest gap (4.0)
        ("d", "a", 1.0, False),
    ]
    matrix = pd.DataFrame(cells, columns=["org", "target", "mean", "hidden"])
    assert findings.one_sided(matrix, CTX) == [
        "Most one-sided trust relation: Alpha trusts Gamma 4.5, Gamma trusts Alpha 2.5."
    ]


def changes_table(rows: list[tuple[str, str, float, float, bool]], key: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["org", key, "mean_before", "mean_after", "significant"])
    table["diff"] = table["mean_after"] - table["mean_before"]
    table["g"] = table["diff"] / 0.5
    return table


def test_largest_change_is_the_largest_significant_one_in_size() -> None:
    """A fall of 1.5 beats a rise of 0.5; a larger but non-significant change is not named."""
    dimensions = changes_table(
        [
            ("a", "x", 3.0, 3.5, True),
            ("b", "y", 4.0, 2.5, True),
            ("c", "z", 1.0, 4.0, False),
        ],
        "dimension",
    )
    pairs = changes_table(
        [("a", "b", 2.0, 2.4, True), ("b", "c", 4.0, 2.0, True), ("c", "a", 1.0, 5.0, False)],
        "target",
    )
    assert findings.changes(pairs, dimensions, CTX, DIMS) == [
        "Largest change in trust between partners: Beta in Gamma, from 4.0 to 2.0 "
        "(significant, Hedges' g = -4.00).",
        "Largest significant change since the previous measurement: Beta on Goodwill, "
        "from 4.00 to 2.50 (Hedges' g = -3.00).",
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


def test_most_distant_cultures_are_the_largest_distance() -> None:
    """Of three pairs, Alpha–Gamma (30 points) is named, not the closest pair."""
    rows = [("a", "b", 10.0), ("a", "c", 30.0), ("b", "c", 20.0)]
    both = rows + [(o, a, d) for a, o, d in rows] + [(o, o, 0.0) for o in "abc"]
    table = pd.DataFrame(both, columns=["org", "other", "distance"])
    assert findings.distance(table, CTX) == [
        "The cultures of Alpha and Gamma differ most: 30 of the 100 points would have to move."
    ]


def test_largest_culture_wish_is_the_largest_gap_in_size() -> None:
    """A wish of −15 points beats +10; the type is named by the definition's label."""
    shown = pd.DataFrame(
        {
            "org": ["a", "a", "b", "b"],
            "type": ["clan", "market", "clan", "market"],
            "gap": [10.0, -4.0, 2.0, -15.0],
        }
    )
    types = {"clan": "Clan", "market": "Market"}
    assert findings.culture_gap(shown, CTX, types) == [
        "Largest culture wish: Beta wants less Market (-15 points)."
    ]
