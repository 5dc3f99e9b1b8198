"""Trust as a network: the trust matrix read as a directed, weighted graph.

Every measure is computed from the shown cells of the masked trust matrix alone (a
hidden cell is no edge), so answers inside hidden cells move none of them:

* in-strength (how much the others trust an organisation) and out-strength (how much
  it trusts the others): the mean of its shown incoming and outgoing cells;
* reciprocity per pair (A → B against B → A: Welch, with its interval) is the table
  `reciprocity_tests` of `tables`, tested in its measurement's Holm family; the picture
  marks the pairs it finds one-sided;
* density: the share of shown relations with trust at or above the scale's "agree";
* familiarity: the share of "don't know" per pair over the per-partner questions, a map
  of who does not know whom ("we don't know them" asks for another intervention than
  "we distrust them").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.model import Survey

from .. import suppression
from .tables import in_shown_groups

STRENGTH = ["wave", "org", "in_strength", "in_cells", "out_strength", "out_cells"]
DENSITY = ["wave", "orgs", "relations", "shown", "strong", "density", "mean"]
FAMILIARITY = ["wave", "org", "target", "n", "dont_know", "hidden"]


def strengths(matrix: pd.DataFrame) -> pd.DataFrame:
    """In- and out-strength per (wave, organisation) over the shown cells, with their counts."""
    shown = matrix.loc[matrix["mean"].notna().to_numpy(), ["wave", "org", "target", "mean"]]
    shown = shown.astype({"org": str, "target": str})
    out = shown.groupby(["wave", "org"])["mean"].agg(out_strength="mean", out_cells="count")
    into = shown.groupby(["wave", "target"])["mean"].agg(in_strength="mean", in_cells="count")
    orgs = matrix[["wave", "org"]].astype({"org": str})
    orgs = pd.concat(
        [orgs, matrix[["wave", "target"]].astype(str).rename(columns={"target": "org"})]
    ).astype({"wave": matrix["wave"].dtype})
    table = orgs.drop_duplicates().sort_values(["wave", "org"]).reset_index(drop=True)
    table = table.merge(out.reset_index(), on=["wave", "org"], how="left")
    table = table.merge(
        into.reset_index().rename(columns={"target": "org"}), on=["wave", "org"], how="left"
    )
    for column in ("in_cells", "out_cells"):
        table[column] = table[column].fillna(0).astype("int64")
    return table[STRENGTH]


def density(matrix: pd.DataFrame, orgs: int, strong: float) -> pd.DataFrame:
    """Per wave: relations possible among `orgs`, shown, strong (mean ≥ `strong`), their share.

    `density` is strong over shown (a hidden relation is unknown, not absent); `mean`
    the mean trust over the shown relations.
    """
    rows = []
    for wave, group in matrix.groupby("wave", sort=True):
        means = group["mean"].dropna().to_numpy(dtype="float64")
        strong_count = int((means >= strong).sum())
        rows.append(
            {
                "wave": wave,
                "orgs": orgs,
                "relations": orgs * (orgs - 1),
                "shown": len(means),
                "strong": strong_count,
                "density": strong_count / len(means) if len(means) else np.nan,
                "mean": float(means.mean()) if len(means) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=DENSITY)


def familiarity(
    answers: pd.DataFrame, survey: Survey, groups: pd.DataFrame, k: int
) -> pd.DataFrame:
    """The share (%) of "don't know" per (wave, org, target) over the per-partner questions.

    `n` counts the respondents of the organisation asked about the target; a pair asked
    of fewer than k is hidden, with complementary suppression over the organisation's
    targets: a hidden pair's share and count are blank. A per-partner question for some
    roles counts only where those roles' groups are shown (`in_shown_groups`): the
    share's denominator would otherwise carry a hidden group's size.
    """
    questions = [q for q in survey.questions if q.per_partner and q.answerable]
    if not questions:
        return pd.DataFrame(columns=FAMILIARITY)
    frame = answers[answers["item"].isin([q.id for q in questions]).to_numpy()]
    frame = frame[(frame["target"].astype(str) != "").to_numpy()]
    keys = ["wave", "org", "target"]
    plain = {"org": str, "target": str}
    asked = frame[keys].astype(plain).drop_duplicates()  # every pair keeps its row
    frame = frame[in_shown_groups(frame, survey, groups)]
    if frame.empty:
        return pd.DataFrame(columns=FAMILIARITY)
    unknown = frame["value"].isna().to_numpy() & frame["choice"].isna().to_numpy()
    frame = frame.astype(plain).assign(unknown=unknown)
    grouped = frame.groupby(keys)
    table = pd.concat(
        [grouped["response"].nunique().rename("n"), grouped["unknown"].mean().rename("share")],
        axis=1,
    ).reset_index()
    table = suppression.suppress(table, k, by=["wave", "org"])
    table = asked.merge(table, on=keys, how="left").sort_values(keys, kind="stable")
    table["hidden"] = table["hidden"].fillna(True).astype(bool)  # asked only of hidden groups
    hidden = table["hidden"].to_numpy(dtype=bool)
    table["dont_know"] = np.where(hidden, np.nan, table["share"].to_numpy() * 100)
    table["n"] = table["n"].where(~hidden)
    return table[FAMILIARITY].reset_index(drop=True)
