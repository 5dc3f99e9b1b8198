"""Odd groups the report must handle and explain, each from a small fixture (issue 18).

An organisation that answered "don't know" to every statement of a dimension, everyone
moving by the same amount between two waves (no spread in either), a dimension of one
statement, an interval without width, and a permutation p below what its permutations
can resolve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import WaveData
from analysis.report import Context, Report, build_report, render_html
from surveys.store import OrgCount, Wave

from .test_report_properties import ORGS, ROLES, TRUST, synthetic

SCALE = [d.id for d in TRUST.dimensions_of("scale")]
DIMENSION = {q.id: q.dimension for q in TRUST.questions}
SIZES = {("north", "staff"): 8, ("south", "staff"): 7, ("east", "staff"): 9, ("west", "staff"): 6}


def context(k: int = 5) -> Context:
    return Context(
        k=k,
        k_comments=10,
        lang="en",
        partnership="p",
        orgs={o: o for o in ORGS},
        roles={r: r for r in ROLES},
    )


def build(frame: pd.DataFrame, waves: int = 1, k: int = 5) -> Report:
    """A report of `frame`'s closed waves 1..`waves`."""
    closed = tuple(
        Wave(w, "trust", f"w{w}", "closed", None, None, None, f"2026-0{w}-01", ORGS)
        for w in range(1, waves + 1)
    )
    comments = pd.DataFrame(columns=["wave", "org", "item", "target", "text"])
    counts = {
        w: [
            OrgCount(
                o, int(frame.loc[frame["wave"] == w].query("org == @o")["response"].nunique()), 0
            )
            for o in ORGS
        ]
        for w in range(1, waves + 1)
    }
    return build_report(TRUST, WaveData(frame, comments, closed), counts, context(k))


def of_dimension(frame: pd.DataFrame, org: str, dimension: str) -> np.ndarray:
    items = frame["item"].astype(str).map(DIMENSION)
    return ((frame["org"] == org) & (items == dimension)).to_numpy()


def test_an_organisation_answering_dont_know_to_a_whole_dimension_is_noted_not_a_crash() -> None:
    """North answered "don't know" to every statement of the first dimension: the report is
    built (it used to raise "Boolean array expected"), north has no score there, and a
    finding says why."""
    frame = synthetic(SIZES, 1)
    frame.loc[of_dimension(frame, "north", SCALE[0]), "value"] = np.nan
    report = build(frame)
    scores = report.tables["dimension_scores"]
    north = scores[(scores["org"] == "north").to_numpy()]
    assert SCALE[0] not in set(north["dimension"].astype(str))
    assert set(north["dimension"].astype(str)) == set(SCALE[1:])
    assert not north["hidden"].any()  # its other dimensions are shown
    dont_know = [f for f in report.findings if "north" in f and "don't know" in f]
    assert dont_know, report.findings
    reliability = report.tables["reliability"]
    assert reliability["hidden"].dtype == bool
    assert "don&#x27;t know" in render_html([report], context()) or "don't know" in render_html(
        [report], context()
    )


def test_every_organisation_answering_dont_know_to_a_dimension_keeps_the_report() -> None:
    """Nobody scored the first dimension: the reliability table says "don't know" for it
    instead of an alpha, and the other dimensions are reported as usual."""
    frame = synthetic(SIZES, 2)
    for org in ORGS:
        frame.loc[of_dimension(frame, org, SCALE[0]), "value"] = np.nan
    report = build(frame)
    reliability = report.tables["reliability"]
    row = reliability[(reliability["dimension"].astype(str) == SCALE[0]).to_numpy()]
    assert list(row["note"]) == ["dont_know"]
    assert reliability["hidden"].dtype == bool
    shown = report.tables["dimension_scores"]
    assert set(shown["dimension"].astype(str)) == set(SCALE[1:])


def test_everyone_moving_from_3_to_4_is_said_not_tested_and_its_flat_interval_explained() -> None:
    """Every one of north's 8 answered 3 to every statement in wave 1 and 4 in wave 2 (SD 0
    both times): no t, df or p, no member of the family; the finding says everyone moved
    from 3 to 4, and a note says why the interval has no width. Nothing crashes."""
    first = synthetic(SIZES, 7)
    second = synthetic(SIZES, 8).assign(wave=2)
    second["response"] += 10_000
    frame = pd.concat([first.astype(object), second.astype(object)], ignore_index=True)
    for column in ("org", "role", "item", "target", "choice"):
        frame[column] = frame[column].astype("category")
    frame = frame.astype({"wave": "int64", "response": "int64", "value": "float64"})
    north = (frame["org"] == "north").to_numpy() & (frame["target"].astype(str) == "").to_numpy()
    reverse = frame["item"].astype(str).isin([q.id for q in TRUST.questions if q.reverse])
    frame.loc[north & (frame["wave"] == 1).to_numpy(), "value"] = 3.0
    frame.loc[north & (frame["wave"] == 2).to_numpy(), "value"] = 4.0
    frame.loc[north & (frame["wave"] == 2).to_numpy() & reverse.to_numpy(), "value"] = 2.0
    report = build(frame, waves=2)
    changes = report.tables["changes"]
    mine = changes[(changes["org"] == "north").to_numpy()]
    assert len(mine) == len(SCALE) and not mine["spread"].any()
    assert mine["p"].isna().all() and mine["p_holm"].isna().all()
    assert not mine["significant"].any()
    moved = [f for f in report.findings if f.startswith("north on ")]
    assert moved and all("(3.0, then 4.0; n = 8 and 8)" in f for f in moved), report.findings
    flat = [n for n in report.notes if n.startswith("north on ") and "no width" in n]
    assert len(flat) == len(SCALE)
    render_html([report], context())  # the page renders
