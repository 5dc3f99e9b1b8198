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
    """Scored answers with reverse items mirrored: points + 1 - value (NaN stays NaN).

    The item metadata is looked up per category, not merged per row: millions of
    answers share a few dozen items.
    """
    items = item_table(survey).set_index("item")
    scored = answers[answers["item"].isin(items.index)].copy()
    item = scored["item"].astype("category")
    rows = items.index.get_indexer(item.cat.categories)[item.cat.codes.to_numpy()]
    value = scored["value"].to_numpy(dtype="float64")
    reverse = items["reverse"].to_numpy(dtype=bool)[rows]
    points = items["points"].to_numpy(dtype="float64")[rows]
    dimensions = pd.Categorical(items["dimension"].to_numpy())
    scored["dimension"] = pd.Categorical.from_codes(dimensions.codes[rows], dimensions.categories)
    scored["score"] = np.where(reverse, points + 1 - value, value)
    return scored


def dimension_scores(
    answers: pd.DataFrame, survey: Survey, scored: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per response (and target): mean of answered items when at least half were answered.

    Pass `scored` (from `item_scores`) to avoid scoring the same answers twice.
    """
    scored = item_scores(answers, survey) if scored is None else scored
    scored = scored[scored["dimension"] != ""]
    groups = scored.groupby(["response", "dimension", "target"], observed=True, sort=False)
    table = groups["score"].agg(asked="size", answered="count", score="mean")
    table = table[table["answered"] * 2 >= table["asked"]].reset_index()
    people = scored.drop_duplicates("response").set_index("response")[["wave", "org", "role"]]
    table = table.join(people, on="response")
    return table[["wave", "org", "role", "response", "dimension", "target", "score"]]
