"""Charts mark what is hidden instead of dropping it, and point at one-sided trust."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import charts


def test_role_gap_keeps_a_hidden_role_as_a_grey_mark() -> None:
    """A role below k still appears, without a score, named once in the legend with why:
    'minder dan 5'; a role hidden to protect it says so, not 'fewer than 5'."""
    table = pd.DataFrame(
        {
            "role": ["staff", "staff", "council", "council", "manager", "manager"],
            "dimension": ["vertrouwen", "gunnen"] * 3,
            "mean": [3.5, 3.2, None, None, None, None],
            "hidden": [False, False, True, True, True, True],
            "hidden_reason": ["", "", "small", "small", "protect", "protect"],
        }
    )
    fig = charts.role_gap(
        table, lang="nl", k=5, roles={"council": "Raadslid"}, dimensions={"gunnen": "Gunnen"}
    )
    marks = [t for t in fig.data if t.marker.color == charts.HIDDEN]
    assert [m.name for m in marks] == [
        "Raadslid (minder dan 5)",
        "manager (verborgen om een kleinere groep te beschermen)",
    ]
    assert list(marks[0].y) == ["vertrouwen", "Gunnen"]
    assert all(m.mode == "markers" for m in marks)  # no text piled on the marks


def test_trust_heatmap_marks_one_sided_pairs_and_hidden_cells() -> None:
    """A pair the tests find one-sided is marked ◆ both ways; a wide gap the tests do not
    support (a and c) is not; a hidden cell reads 'n < k'."""
    matrix = pd.DataFrame(
        {
            "org": ["a", "b", "a", "c", "b", "c"],
            "target": ["b", "a", "c", "a", "c", "b"],
            "mean": [4.5, 2.5, 3.0, None, 4.8, 2.0],
            "hidden": [False, False, False, True, False, False],
        }
    )
    pairs = pd.DataFrame({"org": ["a", "b"], "target": ["b", "c"], "significant": [True, False]})
    fig = charts.trust_heatmap(matrix, lang="en", k=5, names={}, pairs=pairs)
    text = fig.data[0].text  # rows and columns: a, b, c
    assert text[0][1] == "4.5 ◆" and text[1][0] == "2.5 ◆"
    assert text[1][2] == "4.8" and text[2][1] == "2.0"  # 2.8 apart, not supported: no ◆
    assert text[0][2] == "3.0" and text[2][0] == "hidden"  # no reason given: none claimed
    reasons = matrix.assign(hidden_reason=["", "", "", "small", "", ""])
    fig = charts.trust_heatmap(reasons, lang="en", k=5, names={}, pairs=pairs)
    assert fig.data[0].text[2][0] == "fewer than 5"


def test_diverging_items_keep_a_hidden_item_labelled() -> None:
    """An item with fewer than k answers keeps its row, labelled, with no bars."""
    shares = pd.DataFrame(
        {1: [10.0, None], 2: [20.0, None], 3: [30.0, None], 4: [30.0, None], 5: [10.0, None]},
        index=pd.Index(["q1", "q2"], name="item"),
    )
    fig = charts.diverging_items(
        shares, lang="en", items={"q1": "One", "q2": "Two"}, scale=list("12345"), k=5
    )
    assert list(fig.data[0].y) == ["One", "Two (fewer than 5)"]
    negative = [t for t in fig.data if (pd.Series(t.x).dropna() < 0).any()]
    assert [t.name for t in negative][-1] == "1"  # strongly disagree outermost


def test_distance_heatmap_marks_hidden_organisations() -> None:
    """Organisations without a shown profile get a row and a column saying why."""
    distance = pd.DataFrame(
        {
            "wave": 1,
            "org": ["a", "a", "b", "b"],
            "other": ["a", "b", "a", "b"],
            "distance": [0.0, 12.0, 12.0, 0.0],
        }
    )
    hidden = {"c": "small"}
    fig = charts.distance_heatmap(distance, lang="nl", names={"c": "C"}, hidden=hidden, k=5)
    assert list(fig.data[0].y) == ["a", "b", "C"]
    assert fig.data[0].text[2] == ["minder dan 5"] * 3 and fig.data[0].text[0][1] == "12"


def test_every_chart_carries_the_white_template_as_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The template copied once (`charts._white`) gives the same figure bytes, in the same
    order, as `template="plotly_white"` would, figure after figure."""
    table = pd.DataFrame(
        {
            "role": ["staff", "council"],
            "dimension": ["vertrouwen", "vertrouwen"],
            "mean": [3.5, None],
            "hidden": [False, True],
        }
    )

    def chart() -> go.Figure:
        return charts.role_gap(table, lang="nl", k=5, roles={}, dimensions={})

    ours = [chart().to_json() for _ in range(2)]
    with monkeypatch.context() as patch:
        patch.setattr(charts, "_white", lambda fig: fig.update_layout(template="plotly_white"))
        by_name = chart().to_json()
    assert ours == [by_name, by_name]
    assert chart().layout.template.layout.plot_bgcolor == "white"
