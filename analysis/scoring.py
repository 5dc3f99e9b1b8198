"""Scores from answers: reverse items mirrored, don't know as missing, dimension means.

A respondent's dimension score is the mean of the items they answered in that
dimension, provided they answered at least half of the items they were asked
(asked = stored, don't-know included). Per-partner items keep their target, so a
matrix dimension yields one score per respondent and target organisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.model import Survey
from surveys.qtypes import QUESTION_TYPES

# the types whose values are scale points (declared by each type)
SCORED_TYPES = tuple(name for name, qtype in QUESTION_TYPES.items() if qtype.scored)


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
            **{f"label_{lang}": (q.label or q.text).get(lang) for lang in survey.languages},
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
            *(f"label_{lang}" for lang in survey.languages),
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

    Pass `scored` (from `item_scores`) to avoid scoring the same answers twice. The
    groups are counted with one integer key and `bincount`: a response × dimension ×
    target groupby over millions of rows is the slowest step of a report otherwise.
    """
    scored = item_scores(answers, survey) if scored is None else scored
    scored = scored[(scored["dimension"] != "").to_numpy()]
    columns = ["wave", "org", "role", "response", "dimension", "target"]
    if scored.empty:
        return scored[columns].assign(score=pd.Series(dtype="float64"))
    dimension = scored["dimension"].cat
    target = scored["target"].astype("category").cat
    width = len(target.categories) + 1
    key = (
        scored["response"].to_numpy(dtype="int64") * (len(dimension.categories) + 1)
        + dimension.codes.to_numpy()
    ) * width + target.codes.to_numpy()
    group, _ = pd.factorize(key)
    score = scored["score"].to_numpy(dtype="float64")
    answered = ~np.isnan(score)
    asked = np.bincount(group, minlength=group.max(initial=-1) + 1)
    count = np.bincount(group, weights=answered, minlength=len(asked))
    total = np.bincount(group, weights=np.where(answered, score, 0.0), minlength=len(asked))
    # factorize numbers groups in order of appearance: a group starts where the code
    # exceeds every code before it
    seen = np.maximum.accumulate(np.concatenate([[-1], group[:-1]]))
    first = np.flatnonzero(group > seen)
    keep = count * 2 >= asked
    table = scored.iloc[first[keep]][columns].reset_index(drop=True)
    table["score"] = total[keep] / count[keep]
    return table
