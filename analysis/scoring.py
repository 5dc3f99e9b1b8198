"""Scores from answers: reverse items mirrored, don't know as missing, dimension means.

A respondent's dimension score is the mean of the items they answered in that
dimension, provided they answered at least half of the items they were asked
(asked = stored, don't-know included). Per-partner items keep their target, so
`partner_trust` yields one score per respondent and target organisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.model import Survey

SCORED_TYPES = ("likert", "nps")


def item_table(survey: Survey) -> pd.DataFrame:
    """One row per scored question: item, dimension, reverse, points, label per language."""
    rows = [
        {
            "item": q.id,
            "dimension": q.dimension or "",
            "reverse": q.reverse,
            "points": q.points,
            "type": q.type,
            "per_partner": q.per_partner,
            "label_nl": (q.label or q.text).nl,
            "label_en": (q.label or q.text).en,
        }
        for q in survey.questions
        if q.type in SCORED_TYPES
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "item",
            "dimension",
            "reverse",
            "points",
            "type",
            "per_partner",
            "label_nl",
            "label_en",
        ],
    )


def item_scores(answers: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Scored answers with reverse items mirrored: points + 1 - value (NaN stays NaN)."""
    items = item_table(survey)
    scored = answers[answers["item"].isin(items["item"])].merge(
        items[["item", "dimension", "reverse", "points"]], on="item", how="left"
    )
    value = scored["value"].to_numpy(dtype="float64")
    reverse = scored["reverse"].to_numpy(dtype=bool)
    points = scored["points"].to_numpy(dtype="float64")
    scored["score"] = np.where(reverse, points + 1 - value, value)
    return scored.drop(columns=["reverse", "points"])


def dimension_scores(answers: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Per response (and target): mean of answered items when at least half were answered."""
    scored = item_scores(answers, survey)
    scored = scored[scored["dimension"] != ""]
    keys = ["wave", "org", "role", "response", "dimension", "target"]
    grouped = scored.groupby(keys, observed=True, sort=False)["score"].agg(
        asked="size", answered="count", score="mean"
    )
    grouped = grouped[grouped["answered"] * 2 >= grouped["asked"]]
    return grouped.reset_index()[[*keys, "score"]]
