"""The report's numbers: suppressed tables computed from the answer frames, no wording.

What is shown is decided first, from group sizes alone (`profile`, `whole_orgs`); every
test, pooled statistic and breakdown after that is computed from the shown cells only
(`in_cells`), so answers inside hidden cells cannot move a shown number (DESIGN §4.7).
What to compute comes from the definition's declared dimension kinds (`Shape`), never
from the ids of the built-in surveys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.model import Question, Scale, Survey, Text
from surveys.qtypes import QUESTION_TYPES
from surveys.store import OrgCount, Wave

from .. import scoring, stats, suppression
from ..data import WaveData

SCORES = ["mean", "sd", "ci_low", "ci_high"]  # what a hidden score cell loses


@dataclass(frozen=True)
class Shape:
    """What the definition declares the report should draw, read once per survey.

    `scale`: the dimensions of the profile, roles and trends (survey order); `matrix`:
    the per-partner dimension drawn as the trust matrix (the first of kind "matrix");
    `now`/`preferred`: the compared pair of profile dimensions with `allocate` mapping
    their items to them and `types` naming their options, in order.
    """

    scale: list[str]
    matrix: str | None
    now: str | None
    preferred: str | None
    allocate: dict[str, str]
    types: dict[str, Text]  # option value → its label in every language

    @classmethod
    def of(cls, survey: Survey) -> Shape:
        matrix = survey.dimensions_of("matrix")
        pairs = survey.profile_pairs()
        now, preferred = pairs[0] if pairs else (None, None)
        ids = {now.id, preferred.id} if now and preferred else set()
        allocate = {
            q.id: q.dimension
            for q in survey.questions
            if QUESTION_TYPES[q.type].makes_profile and q.dimension and q.dimension in ids
        }
        labels = survey.option_labels(now, preferred) if now and preferred else {}
        return cls(
            scale=[d.id for d in survey.dimensions_of("scale")],
            matrix=matrix[0].id if matrix else None,
            now=now.id if now else None,
            preferred=preferred.id if preferred else None,
            allocate=allocate,
            types=dict(labels),
        )

    def type_names(self, lang: str) -> dict[str, str]:
        """Option value → its short name in `lang`, in declared order."""
        return {value: names.get(lang) for value, names in self.types.items()}


@dataclass(frozen=True)
class Frames:
    """The answers of the released waves, scored once and reused by every table."""

    answers: pd.DataFrame
    scored: pd.DataFrame  # item scores (reverse items mirrored)
    scores: pd.DataFrame  # dimension scores per response (and target)
    main: pd.DataFrame  # scale-dimension scores, dimension in survey order
    people: pd.DataFrame  # one row per response: wave, org, role
    waves: list[int]  # released waves, oldest first

    @property
    def latest(self) -> int:
        return self.waves[-1]

    @property
    def previous(self) -> int | None:
        return self.waves[-2] if len(self.waves) > 1 else None

    @classmethod
    def of(cls, survey: Survey, data: WaveData, released: Sequence[Wave], shape: Shape) -> Frames:
        ids = [w.id for w in released]
        answers = data.answers[data.answers["wave"].isin(ids)]
        scored = scoring.item_scores(answers, survey)
        scores = scoring.dimension_scores(answers, survey, scored)
        main = scores[scores["dimension"].isin(shape.scale)]
        main = main.assign(  # survey order for tables and charts
            dimension=main["dimension"].astype(str).astype(pd.CategoricalDtype(shape.scale))
        )
        people = answers.loc[~answers["response"].duplicated().to_numpy(), ["wave", "org", "role"]]
        return cls(answers, scored, scores, main, people, ids)

    def in_latest(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["wave"] == self.latest).to_numpy()]


def counts(
    waves: Sequence[Wave],
    counts: Mapping[int, list[OrgCount]],
    headcounts: Mapping[str, int | None],
) -> pd.DataFrame:
    """Completed responses per organisation in the latest wave (shown even while open)."""
    latest = waves[-1] if waves else None
    rows = [
        {"org": c.org, "completed": c.completed, "headcount": headcounts.get(c.org)}
        for c in (counts.get(latest.id, []) if latest else [])
    ]
    return pd.DataFrame(rows, columns=["org", "completed", "headcount"])


def profile(main: pd.DataFrame, k: int) -> pd.DataFrame:
    """Scores per (wave, org, dimension) with `hidden`: the decision what is shown."""
    table = stats.describe(main, "score", ["wave", "org", "dimension"])
    return suppression.suppress(table, k, by=["wave", "dimension"])


def shown_cells(profile: pd.DataFrame) -> pd.DataFrame:
    return profile.loc[~profile["hidden"], ["wave", "org", "dimension"]]


def whole_orgs(profile: pd.DataFrame | None, people: pd.DataFrame, k: int) -> pd.DataFrame:
    """(wave, org) shown whole: every profile cell shown (without dimensions: enough people).

    Whatever belongs to an organisation but to no dimension (statements without one,
    comments) is used only for these organisations.
    """
    if profile is None:
        sizes = people.groupby(["wave", "org"], observed=True).size().rename("n").reset_index()
        counted = suppression.suppress(sizes, k, by=["wave"])
        return counted.loc[~counted["hidden"], ["wave", "org"]]
    hidden = profile.groupby(["wave", "org"], observed=True)["hidden"].any()
    return hidden[~hidden].reset_index()[["wave", "org"]]


def role_scores(frames: Frames, shown: pd.DataFrame, k: int) -> pd.DataFrame:
    """Scores per role in the latest wave over the organisations shown, suppressed.

    A hidden organisation's people stay out, or its mean would follow from the role
    means and the shown organisations' means.
    """
    latest = frames.in_latest(frames.main)
    latest = latest[in_cells(latest, shown, ["wave", "org", "dimension"])]
    table = stats.describe(latest, "score", ["wave", "role", "dimension"])
    return suppression.suppress(table, k, by=["wave", "dimension"])


def matrix(scores: pd.DataFrame, dimension: str, k: int) -> pd.DataFrame:
    """Directed scores org → target of a matrix dimension, suppressed per cell."""
    table = stats.trust_matrix(scores, dimension)
    return suppression.suppress(table, k, by=["wave", "org", "target"])


def matrix_changes(
    scores: pd.DataFrame, matrix: pd.DataFrame, before: int, after: int
) -> pd.DataFrame:
    """Welch tests of the directed cells shown in both waves (unadjusted: one family later)."""
    cells = matrix.loc[~matrix["hidden"], ["wave", "org", "target"]]
    both = in_both(cells, before, after, ["org", "target"])
    tested = scores[in_cells(scores, both, ["wave", "org", "target"])]
    return stats.wave_changes(tested, before, after, by=("org", "target"))


def dimension_changes(
    main: pd.DataFrame, shown: pd.DataFrame, before: int, after: int
) -> pd.DataFrame:
    """Welch tests of the (org, dimension) cells shown in both waves."""
    both = in_both(shown, before, after, ["org", "dimension"])
    tested = main[in_cells(main, both, ["wave", "org", "dimension"])]
    return stats.wave_changes(tested, before, after)


def culture_profiles(answers: pd.DataFrame, shape: Shape, k: int) -> pd.DataFrame:
    """Points per type, now and preferred, per (wave, org), suppressed per organisation."""
    if shape.now is None or shape.preferred is None:
        raise ValueError("the survey declares no profile dimension that compares another")
    table = stats.culture_profiles(
        answers, now=shape.now, preferred=shape.preferred, dimensions=shape.allocate
    )
    return suppression.suppress(table, k, by=["wave", "type"])


@dataclass(frozen=True)
class ItemShares:
    """Answers per statement: the table for export and the shares the chart draws."""

    table: pd.DataFrame
    shares: pd.DataFrame
    questions: list[Question]
    scale: Scale  # the first statement's scale: the chart's answer labels


def item_shares(
    answers: pd.DataFrame,
    survey: Survey,
    shown: pd.DataFrame,
    whole: pd.DataFrame,
    scale: Sequence[str],
    k: int,
) -> ItemShares | None:
    """Answers per statement, from the organisations whose cell of its dimension is shown.

    A statement without a scale dimension counts the organisations shown whole. An
    item's distribution needs k answers behind it; items are not parts of a total, so
    each is its own breakdown.
    """
    likert = [
        q
        for q in survey.questions
        if q.scale is not None and not q.per_partner  # statements on a labelled scale
    ]
    if not likert:
        return None
    frame = answers[answers["item"].isin([q.id for q in likert])].dropna(subset=["value"])
    dimension = {q.id: q.dimension if q.dimension in scale else "" for q in likert}
    item = frame["item"].astype("category").cat
    keys = pd.Categorical([dimension.get(str(c), "") for c in item.categories])
    frame = frame.assign(  # looked up per item, not per answer
        dimension=pd.Categorical.from_codes(keys.codes[item.codes.to_numpy()], keys.categories)
    )
    cells = pd.concat([shown.astype({"dimension": object}), whole.assign(dimension="")])
    frame = frame[in_cells(frame, cells, ["wave", "org", "dimension"])]
    counted = frame.groupby(["item", "value"], observed=True).size().unstack(fill_value=0)
    if counted.empty:
        return None
    counted = counted.reindex([q.id for q in likert if q.id in counted.index])  # survey order
    sizes = suppression.suppress(
        counted.sum(axis=1).rename("n").rename_axis("item").reset_index(), k, by=["item"]
    ).set_index("item")
    shares = counted.div(counted.sum(axis=1), axis=0) * 100
    shares.columns = [int(c) for c in shares.columns]
    shares.loc[sizes["hidden"].to_numpy()] = np.nan
    table = shares.reset_index()
    # a statement for one role only counts that role over the organisations: beside the
    # role counts per organisation that would give a hidden one by subtraction
    for_roles = table["item"].isin([q.id for q in likert if q.roles]).to_numpy()
    table.insert(1, "n", sizes["n"].where(~sizes["hidden"] & ~for_roles).to_numpy())
    answer_scale = next(q.scale for q in likert if q.scale is not None)
    return ItemShares(table, shares, likert, answer_scale)


PER_OPTION = ["wave", "org", "question", "option", "n", "mean", "hidden"]


def per_option(
    answers: pd.DataFrame, survey: Survey, whole: pd.DataFrame, k: int
) -> dict[str, pd.DataFrame]:
    """The mean value per (wave, org, question, option), a table per declared `per_option`.

    Every type that declares `per_option` (ranking: "mean_rank") gets a table under that
    name, rows in survey and option order, `n` the responses to the question. Means come
    from the organisations shown whole only; any other organisation that answered keeps
    its rows, hidden. The organisations of one wave and question are one breakdown, so no
    count below k shows or follows by subtraction. A question for some roles or after a
    `when` shows no count: beside the group sizes it would give a hidden role count by
    subtraction, or how many gave an earlier answer.
    """
    kinds: dict[str, list[Question]] = {}
    for q in survey.questions:
        if (name := QUESTION_TYPES[q.type].per_option) is not None:
            kinds.setdefault(name, []).append(q)
    found = {}
    for name, questions in kinds.items():
        frame = answers[answers["item"].isin([q.id for q in questions]).to_numpy()]
        frame = frame.dropna(subset=["value"])
        if frame.empty:
            continue
        frame = frame.assign(org=frame["org"].astype(str), item=frame["item"].astype(str))
        sizes = (
            frame.groupby(["wave", "org", "item"], observed=True)["response"]
            .nunique()
            .rename("n")
            .reset_index()
        )
        inside = in_cells(sizes, whole, ["wave", "org"])
        sizes = pd.concat(
            [
                suppression.suppress(sizes[inside], k, by=["wave", "item"]),
                sizes[~inside].assign(hidden=True),
            ]
        )
        shown = frame[in_cells(frame, whole, ["wave", "org"])]
        means = stats.describe(shown, "value", ["wave", "org", "item", "target"])
        means = means.assign(target=means["target"].astype(str))[
            ["wave", "org", "item", "target", "mean"]
        ]
        options = pd.DataFrame(
            [(q.id, o.value, i) for q in questions for i, o in enumerate(q.options)],
            columns=["item", "target", "place"],
        )
        table = sizes.merge(options, on="item").merge(
            means, on=["wave", "org", "item", "target"], how="left"
        )
        table["order"] = table["item"].map({q.id: i for i, q in enumerate(questions)})
        table = table.sort_values(["wave", "order", "org", "place"], kind="stable").rename(
            columns={"item": "question", "target": "option"}
        )
        counted = ~table["question"].isin([q.id for q in questions if q.roles or q.when])
        table["n"] = table["n"].where(counted.to_numpy())
        found[name] = table[PER_OPTION].reset_index(drop=True)
    return found


def group_sizes(people: pd.DataFrame, k: int) -> pd.DataFrame:
    """Respondents per (wave, org, role), masked.

    Complementary suppression within an organisation, as for scores: no role count
    below k follows from the organisation's total by subtraction.
    """
    counts = people.groupby(["wave", "org", "role"], observed=True).size()
    sizes = suppression.suppress(counts.rename("n").reset_index(), k, by=["wave", "org"])
    return suppression.mask(sizes, [])


def reliability(
    scored: pd.DataFrame, scale: list[str], shown: pd.DataFrame, k: int
) -> pd.DataFrame:
    """Cronbach's alpha per wave and scale dimension, over the shown cells only, masked."""
    items = scored[scored["dimension"].isin(scale).to_numpy()]
    items = items.assign(dimension=items["dimension"].cat.set_categories(scale))
    table = suppression.suppress(
        stats.reliability(items[in_cells(items, shown, ["wave", "org", "dimension"])]),
        k,
        by=["wave", "dimension"],
    )
    return suppression.mask(table, ["alpha", "low"])


def comments(data: WaveData, frames: Frames, whole: pd.DataFrame, k_comments: int) -> pd.DataFrame:
    """The latest wave's comments of organisations shown whole, each group ≥ k_comments."""
    sizes = frames.people.groupby(["wave", "org"], observed=True).size()
    latest = data.comments[data.comments["wave"] == frames.latest]
    latest = latest[in_cells(latest, whole, ["wave", "org"])]
    # earlier waves had their own report
    return suppression.comments_to_show(latest, sizes, k_comments)


def in_cells(frame: pd.DataFrame, cells: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Which rows of `frame` fall in one of `cells` (rows over the same `keys`).

    Looked up by integer codes: `frame` may hold millions of answers, `cells` a few dozen.
    """
    inside = np.ones(len(frame), dtype=bool)
    row_key = np.zeros(len(frame), dtype="int64")
    cell_key = np.zeros(len(cells), dtype="int64")
    for key in keys:
        column = frame[key]
        categorical = isinstance(column.dtype, pd.CategoricalDtype)
        dtype = column.dtype  # numpy's numbers as they are; categories, text as objects
        if isinstance(dtype, np.dtype) and pd.api.types.is_numeric_dtype(dtype):
            wanted = np.asarray(cells[key], dtype=dtype)
        else:
            wanted = np.asarray(cells[key], dtype=object)
        values = pd.Index(pd.unique(wanted))
        # pd.Index(…, copy=False) is what get_indexer makes of an array itself
        if categorical:
            categories = pd.Index(np.asarray(column.cat.categories, object), copy=False)
            lookup = np.append(values.get_indexer(categories), -1)
            codes = lookup[column.cat.codes.to_numpy()]  # code −1 (missing) finds the −1
        else:
            codes = values.get_indexer(pd.Index(column.to_numpy(), copy=False))
        inside &= codes >= 0
        row_key = row_key * len(values) + np.maximum(codes, 0)
        cell_key = cell_key * len(values) + values.get_indexer(pd.Index(wanted, copy=False))
    return inside & np.isin(row_key, cell_key)


def in_both(cells: pd.DataFrame, before: int, after: int, keys: list[str]) -> pd.DataFrame:
    """The cells shown in both waves (rows for each wave): what a change may compare."""
    first = cells.loc[cells["wave"] == before, keys].astype(object)
    both = first.merge(cells.loc[cells["wave"] == after, keys].astype(object))
    return pd.concat([both.assign(wave=before), both.assign(wave=after)], ignore_index=True)
