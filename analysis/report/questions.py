"""Every question asked, reported: the numbers behind the questions the profile leaves out.

The profile, the matrix and the statements cover the scale items; this module computes
the rest, suppressed by the same rules: the further matrix dimensions (goodwill beside
trust), the answers per option of choice, multi and NPS questions (with the NPS score),
the points per aspect of allocate questions, and an index of every question with the
table that reports it. How a type is reported is one table (`REPORTED`), keyed by the
type's name like the adapters' tables, never by a built-in survey's question ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.model import Question, Survey

from .. import stats, suppression
from .tables import SCORES, Shape, in_cells, in_shown_groups, matrix

SHARES = ["wave", "org", "question", "option", "n", "share", "hidden", "hidden_reason"]
NPS = ["wave", "org", "question", "n", "mean", "detractors", "passives", "promoters", "score"]
ASPECTS = ["wave", "org", "question", "option", "mean", "hidden", "hidden_reason"]
INDEX = ["question", "type", "label", "table"]
PROMOTER, PASSIVE = 9, 7  # NPS: 9–10 promote, 7–8 are passive, 0–6 detract


@dataclass(frozen=True, slots=True)
class Reported:
    """How a question type is reported: the table that holds it, the kind of answer rows.

    `rows`: "value" (the number is the option: NPS points), "choice" (the chosen option
    in the `choice` column), "part" (one row per chosen option in `target`, multi) or
    "" (reported elsewhere: scores, culture, ranks, comments, or nothing to report).
    """

    table: str
    rows: str = ""


# one entry per question type (tests/test_question_types.py checks it is complete)
REPORTED: Mapping[str, Reported] = {
    "likert": Reported("item_distribution"),  # per partner: the matrix of its dimension
    "nps": Reported("nps", "value"),
    "choice": Reported("answer_shares", "choice"),
    "multi": Reported("answer_shares", "part"),
    "allocate": Reported("culture_aspects"),
    "ranking": Reported("mean_rank"),
    "text": Reported("comments"),
    "info": Reported(""),
}


def matrix_table(shape: Shape, dimension: str) -> str:
    """The table of a matrix dimension: the first is the trust matrix, the others `matrices`."""
    return "trust_matrix" if dimension == shape.matrix else "matrices"


def table_of(question: Question, survey: Survey, shape: Shape) -> str:
    """The table that reports `question` ('' for a statement without an answer)."""
    dimension = survey.dimension(question.dimension)
    if question.per_partner and dimension is not None and dimension.kind == "matrix":
        return matrix_table(shape, dimension.id)
    return REPORTED[question.type].table


def index(survey: Survey, shape: Shape, lang: str) -> pd.DataFrame:
    """Every answerable question, its type, its label in `lang` and where it is reported."""
    rows = [
        {
            "question": q.id,
            "type": q.type,
            "label": (q.label or q.text).get(lang),
            "table": table_of(q, survey, shape),
        }
        for q in survey.questions
        if q.answerable
    ]
    return pd.DataFrame(rows, columns=INDEX)


def further_matrices(scores: pd.DataFrame, survey: Survey, shape: Shape, k: int) -> pd.DataFrame:
    """Every matrix dimension after the first (goodwill beside trust), masked, with reciprocity.

    One table with a `dimension` column. Each cell is suppressed like the trust matrix's:
    rated by fewer than k respondents it is hidden, and its reverse shows no mean beside
    a shown one.
    """
    found = []
    for dimension in survey.dimensions_of("matrix"):
        if dimension.id == shape.matrix:
            continue
        rows = scores[(scores["dimension"] == dimension.id).to_numpy()]
        if not len(rows):
            continue
        table = stats.reciprocity(suppression.mask(matrix(rows, dimension.id, k), SCORES))
        found.append(table.assign(dimension=dimension.id))
    if not found:
        return pd.DataFrame()
    table = pd.concat(found, ignore_index=True)
    return table[["wave", "dimension", *[c for c in table if c not in ("wave", "dimension")]]]


def answer_shares(
    answers: pd.DataFrame, survey: Survey, whole: pd.DataFrame, groups: pd.DataFrame, k: int
) -> pd.DataFrame:
    """The share of respondents per option of every choice, multi and NPS question.

    Per (wave, org, question): `n` answered (don't know left out) and per option the
    share (%) that chose it. Only organisations shown whole, and for a question for some
    roles only where those roles' groups are shown (`in_shown_groups`: shares give their
    n, and n would give a hidden group's size); a count below k is hidden (no total over
    organisations is published, so no second cell needs to be), and any other
    organisation that answered keeps its rows, hidden: every figure blank.
    """
    questions = [q for q in survey.questions if REPORTED[q.type].rows and not q.per_partner]
    if not questions:
        return pd.DataFrame(columns=SHARES)
    frame = answers[answers["item"].isin([q.id for q in questions]).to_numpy()]
    frame = frame.assign(org=frame["org"].astype(str), item=frame["item"].astype(str))
    answered, chosen = _answered_and_chosen(frame, questions)
    if answered.empty:
        return pd.DataFrame(columns=SHARES)
    counted_people = answered.groupby(["wave", "org", "item"])["response"].nunique()
    sizes: pd.DataFrame = counted_people.rename("n").reset_index()
    inside = in_cells(sizes, whole, ["wave", "org"]) & in_shown_groups(sizes, survey, groups)
    sizes = pd.concat(
        [
            suppression.primary(sizes[inside], k),  # no total over organisations
            suppression.inherited(sizes[~inside], k),
        ]
    )
    counts = chosen.groupby(["wave", "org", "item", "option"]).size().rename("count")
    options = pd.DataFrame(
        [
            (q.id, _option_values(q)[i], i, order)
            for order, q in enumerate(questions)
            for i in range(len(_option_values(q)))
        ],
        columns=["item", "option", "place", "order"],
    )
    table = sizes.merge(options, on="item").merge(
        counts.reset_index(), on=["wave", "org", "item", "option"], how="left"
    )
    share = table["count"].fillna(0).to_numpy() / table["n"].to_numpy() * 100
    table["share"] = np.where(table["hidden"].to_numpy(dtype=bool), np.nan, share)
    table = table.sort_values(["wave", "order", "org", "place"], kind="stable")
    table = table.rename(columns={"item": "question"})
    table["n"] = table["n"].where(~table["hidden"].to_numpy(dtype=bool))
    return table[SHARES].reset_index(drop=True)


def _option_values(question: Question) -> list[str]:
    """The options in order: the declared ones, or the points 0–10 of an NPS question."""
    if REPORTED[question.type].rows == "value":
        return [str(p) for p in range(question.points)]
    return [o.value for o in question.options]


def _answered_and_chosen(
    frame: pd.DataFrame, questions: list[Question]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who answered each question (not don't know), and one row per option they chose."""
    keys = ["wave", "org", "response", "item"]
    rows = {q.id: REPORTED[q.type].rows for q in questions}
    kind = frame["item"].map(rows).to_numpy()
    value = frame["value"].to_numpy(dtype="float64")
    choice = frame["choice"].astype(object).to_numpy()
    has_choice = pd.notna(choice)
    target = frame["target"].astype(str).to_numpy()
    is_value, is_choice, is_part = kind == "value", kind == "choice", kind == "part"
    answered_rows = (is_value | is_part) & ~np.isnan(value) | is_choice & has_choice
    answered = frame.loc[answered_rows, keys]
    options = np.where(
        is_value, np.char.mod("%d", np.nan_to_num(value, nan=-1).astype("int64")), ""
    ).astype(object)
    options = np.where(is_choice, choice, options)
    options = np.where(is_part, target, options)
    picked = (
        (is_value & ~np.isnan(value))
        | (is_choice & has_choice)
        | (is_part & (value == 1) & (target != ""))
    )
    chosen = frame.loc[picked, keys].assign(option=options[picked].astype(str))
    return answered, chosen


def nps_scores(shares: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """The NPS of every shown (wave, org, question): promoters (9–10) minus detractors (0–6).

    Derived from the shown shares alone, so it is hidden exactly where they are.
    """
    ids = [q.id for q in survey.questions if REPORTED[q.type].rows == "value"]
    frame = shares[shares["question"].isin(ids).to_numpy()]
    if frame.empty:
        return pd.DataFrame(columns=[*NPS, "hidden", "hidden_reason"])
    point = frame["option"].astype(int).to_numpy()
    share = frame["share"].to_numpy(dtype="float64")
    keys = ["wave", "org", "question"]
    parts = frame[keys].assign(
        detractors=np.where(point < PASSIVE, share, 0.0),
        passives=np.where((point >= PASSIVE) & (point < PROMOTER), share, 0.0),
        promoters=np.where(point >= PROMOTER, share, 0.0),
        weighted=point * share / 100,
    )
    table = parts.groupby(keys, sort=False).sum().reset_index()
    first = frame.drop_duplicates(keys)[[*keys, "n", "hidden", "hidden_reason"]]
    table = first.merge(table, on=keys)
    hidden = table["hidden"].to_numpy(dtype=bool)
    for column in ("detractors", "passives", "promoters", "weighted"):
        table[column] = table[column].where(~hidden)
    table["score"] = table["promoters"] - table["detractors"]
    table = table.rename(columns={"weighted": "mean"})
    return table[[*NPS, "hidden", "hidden_reason"]].reset_index(drop=True)


def culture_aspects(answers: pd.DataFrame, shape: Shape, profiles: pd.DataFrame) -> pd.DataFrame:
    """Mean points per type on each allocate question (aspect), per shown culture profile.

    The organisations whose culture profile is hidden keep their rows, hidden: the
    aspects are parts of the profile and take its decision.
    """
    frame = answers[answers["item"].isin(list(shape.allocate)).to_numpy()]
    if frame.empty or profiles.empty:
        return pd.DataFrame(columns=ASPECTS)
    decided = profiles.groupby(["wave", "org"], observed=True)["hidden"].any().reset_index()
    small = profiles["hidden_reason"] == suppression.SMALL  # any type below k: the profile is
    small = small.groupby([profiles["wave"], profiles["org"]], observed=True).any()
    decided["hidden_reason"] = np.where(
        decided["hidden"],
        np.where(
            small.reindex(pd.MultiIndex.from_frame(decided[["wave", "org"]])).to_numpy(),
            suppression.SMALL,
            suppression.PROTECT,
        ),
        "",
    )
    shown = decided.loc[~decided["hidden"], ["wave", "org"]]
    table = stats.describe(
        frame[in_cells(frame, shown, ["wave", "org"])], "value", ["wave", "org", "item", "target"]
    )
    table = table[["wave", "org", "item", "target", "mean"]].astype(
        {"org": str, "item": str, "target": str}
    )
    cells = pd.DataFrame(
        [(q, t, i, j) for i, q in enumerate(shape.allocate) for j, t in enumerate(shape.types)],
        columns=["item", "target", "order", "place"],
    )
    grid = decided.astype({"org": str}).merge(cells, how="cross")
    table = grid.merge(table, on=["wave", "org", "item", "target"], how="left")
    table = table.sort_values(["wave", "order", "org", "place"], kind="stable")
    table = table.rename(columns={"item": "question", "target": "option"})
    return table[ASPECTS].reset_index(drop=True)
