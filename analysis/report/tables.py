"""The report's numbers: suppressed tables computed from the answer frames, no wording.

What is shown is decided first, from group sizes alone (`profile`, `whole_orgs`); every
test, pooled statistic and breakdown after that is computed from the shown cells only
(`in_cells`), so answers inside hidden cells cannot move a shown number (DESIGN §4.7).
What to compute comes from the definition's declared dimension kinds (`Shape`), never
from the ids of the built-in surveys.
"""

from __future__ import annotations

import math
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
    """Scores per (wave, org, dimension) with `hidden`: the decision what is shown.

    Only the cells below k: the partnership's scores, the roles and the statements pool
    the shown cells alone, so no published total holds a hidden cell (`suppression`).
    """
    table = stats.describe(main, "score", ["wave", "org", "dimension"])
    return suppression.primary(table, k)


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


def org_role_scores(
    frames: Frames, shown: pd.DataFrame, groups: pd.DataFrame, k: int
) -> pd.DataFrame:
    """Scores per (org, role, dimension) in the latest wave, suppressed; unmasked.

    What is decided first stays decided: a role is shown only inside a shown profile
    cell (`shown`: an organisation hidden there keeps its rows here, hidden), and only
    where the group sizes show it (`groups`, from `group_decision`), or its score's n
    would give its size. The roles of one organisation and dimension are then one
    breakdown: complementary suppression, so no role's mean or count follows from the
    organisation's by subtraction.
    """
    latest = frames.in_latest(frames.main)
    table = stats.describe(latest, "score", ["wave", "org", "role", "dimension"])
    hidden_groups = groups.loc[groups["hidden"], ["wave", "org", "role"]]
    hide = in_cells(table, hidden_groups, ["wave", "org", "role"])
    hide |= ~in_cells(table, shown, ["wave", "org", "dimension"])
    return suppression.suppress(table, k, by=["wave", "org", "dimension"], hide=hide)


def role_scores(frames: Frames, org_roles: pd.DataFrame, k: int) -> pd.DataFrame:
    """Scores per role in the latest wave, pooled over the shown cells of `org_roles`.

    Only the people of a role shown within their organisation count: a role's pooled n
    minus the shown parts would otherwise give a hidden one (and the interval's width
    gives the pooled n). Every pooled cell holds shown cells of k or more each, so its
    n may be shown.
    """
    cells = org_roles.loc[~org_roles["hidden"], ["wave", "org", "role", "dimension"]]
    latest = frames.in_latest(frames.main)
    latest = latest[in_cells(latest, cells, ["wave", "org", "role", "dimension"])]
    table = stats.describe(latest, "score", ["wave", "role", "dimension"])
    return suppression.suppress(table, k, by=["wave", "dimension"])


def matrix(scores: pd.DataFrame, dimension: str, k: int) -> pd.DataFrame:
    """Directed scores org → target of a matrix dimension, suppressed per cell."""
    table = stats.trust_matrix(scores, dimension)
    return suppression.suppress(table, k, by=["wave", "org", "target"])


def matrix_changes(
    scores: pd.DataFrame, matrix: pd.DataFrame, before: int, after: int
) -> pd.DataFrame:
    """Welch tests of the directed cells shown in both waves (unadjusted: their family later)."""
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
    return suppression.primary(table, k)  # distances and convergence use shown ones only


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
    groups: pd.DataFrame,
    k: int,
) -> ItemShares | None:
    """Answers per statement, from the organisations whose cell of its dimension is shown.

    A statement without a scale dimension counts the organisations shown whole; a
    statement for some roles counts only the organisations whose groups of those roles
    are shown (`in_shown_groups`), so its n — printed, or given by its shares — is no
    hidden group plus shown ones. An item's distribution needs k answers behind it;
    items are not parts of a total, so each is its own breakdown.
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
    asked = set(frame["item"].astype(str))  # a statement left out by its groups: a blank row
    answered = [q.id for q in likert if q.id in asked]  # survey order
    if not answered:
        return None
    frame = frame[in_shown_groups(frame, survey, groups)]
    counted = frame.groupby(["item", "value"], observed=True).size().unstack(fill_value=0)
    counted = counted.reindex(answered, fill_value=0)
    sizes = suppression.suppress(
        counted.sum(axis=1).rename("n").rename_axis("item").reset_index(), k, by=["item"]
    ).set_index("item")
    shares = counted.div(counted.sum(axis=1), axis=0) * 100
    shares.columns = [int(c) for c in shares.columns]
    shares.loc[sizes["hidden"].to_numpy()] = np.nan
    table = shares.reset_index()
    table.insert(1, "n", sizes["n"].where(~sizes["hidden"]).to_numpy())
    table["hidden_reason"] = sizes["hidden_reason"].to_numpy()
    answer_scale = next(q.scale for q in likert if q.scale is not None)
    return ItemShares(table, shares, likert, answer_scale)


PER_OPTION = ["wave", "org", "question", "option", "n", "mean", "hidden", "hidden_reason"]


def per_option(
    answers: pd.DataFrame, survey: Survey, whole: pd.DataFrame, groups: pd.DataFrame, k: int
) -> dict[str, pd.DataFrame]:
    """The mean value per (wave, org, question, option), a table per declared `per_option`.

    Every type that declares `per_option` (ranking: "mean_rank") gets a table under that
    name, rows in survey and option order, `n` the responses to the question. Means come
    from the organisations shown whole only, and for a question for some roles only
    where those roles' groups are shown (`in_shown_groups`: a mean of whole ranks gives
    its n); any other organisation that answered keeps its rows, hidden. No count below
    k shows, and none follows by subtraction: no total over organisations is published.
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
        inside = in_cells(sizes, whole, ["wave", "org"]) & in_shown_groups(sizes, survey, groups)
        sizes = pd.concat(
            [
                suppression.primary(sizes[inside], k),  # no total over organisations
                suppression.inherited(sizes[~inside], k),
            ]
        )
        shown = frame[in_cells(frame, whole, ["wave", "org"])]
        shown = shown[in_shown_groups(shown, survey, groups)]
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
        table["n"] = table["n"].where(~table["hidden"].to_numpy(dtype=bool))
        table["mean"] = table["mean"].where(~table["hidden"].to_numpy(dtype=bool))
        found[name] = table[PER_OPTION].reset_index(drop=True)
    return found


def group_decision(people: pd.DataFrame, k: int) -> pd.DataFrame:
    """Respondents per (wave, org, role) with `hidden`: what every role breakdown follows.

    Complementary suppression within an organisation: no role count below k follows from
    the organisation's total by subtraction. Unmasked: `group_sizes` is what is shown.
    """
    counts = people.groupby(["wave", "org", "role"], observed=True).size()
    return suppression.suppress(counts.rename("n").reset_index(), k, by=["wave", "org"])


def group_sizes(groups: pd.DataFrame) -> pd.DataFrame:
    """The group sizes as shown: hidden roles blank."""
    return suppression.mask(groups, [])


def reached_roles(question: Question, survey: Survey) -> frozenset[str]:
    """The roles a question reaches: its own, or those of the question its `when` follows
    (a follow-up to a council statement reaches the council only). Empty: everyone."""
    seen: set[str] = set()
    while not question.roles and question.when is not None and question.id not in seen:
        seen.add(question.id)
        question = survey.question(question.when.question)
    return frozenset(question.roles or ())


def in_shown_groups(frame: pd.DataFrame, survey: Survey, groups: pd.DataFrame) -> np.ndarray:
    """Which rows of `frame` (wave, org, item) may count: a question for some roles only
    where every group it reaches in that organisation is shown among the group sizes.

    Its count, its shares or its mean would otherwise give the size of a hidden role;
    pooled over organisations, the pooled count minus the shown groups would.
    """
    keep = np.ones(len(frame), dtype=bool)
    if frame.empty:
        return keep
    reach: dict[frozenset[str], list[str]] = {}
    for q in survey.questions:
        if roles := reached_roles(q, survey):
            reach.setdefault(roles, []).append(q.id)
    items = frame["item"].astype(str).to_numpy()
    for roles, ids in reach.items():
        mine = np.isin(items, ids)
        if mine.any():
            keep &= ~mine | in_cells(frame, groups_shown(groups, roles), ["wave", "org"])
    return keep


def groups_shown(groups: pd.DataFrame, roles: frozenset[str]) -> pd.DataFrame:
    """(wave, org) whose groups of these roles (those with respondents) are all shown."""
    rows = groups[groups["role"].astype(str).isin(roles).to_numpy()]
    hidden = rows.groupby(["wave", "org"], observed=True)["hidden"].any()
    return hidden[~hidden].reset_index()[["wave", "org"]]


def reliability(
    scored: pd.DataFrame,
    scale: list[str],
    shown: pd.DataFrame,
    k: int,
    unscored: pd.DataFrame | None = None,
    sizes: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Cronbach's alpha per wave and scale dimension, over the shown cells only, masked.

    `note` says why a row has no alpha or how to read it: "one_item" (the definition
    gives the dimension one statement: there is no alpha to compute), "role_specific"
    (fewer than two statements were asked of everyone: not computed), "dont_know" (a row
    added for a dimension the organisations shown answered with "don't know" only, from
    `unscored`), "no_spread" (everyone gave the same answers: alpha is undefined), "low"
    (below 0.7). `sizes` is the number of statements per dimension in the definition.
    """
    items = scored[scored["dimension"].isin(scale).to_numpy()]
    items = items.assign(dimension=items["dimension"].cat.set_categories(scale))
    table = suppression.suppress(
        stats.reliability(items[in_cells(items, shown, ["wave", "org", "dimension"])]),
        k,
        by=["wave", "dimension"],
    )
    table["note"] = [
        _alpha_note(row, (sizes or {}).get(str(row.dimension), 2)) for row in table.itertuples()
    ]
    if unscored is not None and len(unscored):
        extra = _dont_know_rows(unscored, table)
        if len(extra):  # an empty frame's object columns would turn `hidden` into objects
            table = pd.concat([table, extra], ignore_index=True)
            table = table.astype({"hidden": bool, "low": bool, "computed": bool})
    table = table.assign(dimension=pd.Categorical(table["dimension"].astype(str), scale))
    table = table.sort_values(["wave", "dimension"], kind="stable").reset_index(drop=True)
    return suppression.mask(table, ["alpha", "low"])


def _alpha_note(row: object, size: int) -> str:
    """Why a reliability row has no alpha, or how to read the one it has ("" if plainly)."""
    if getattr(row, "hidden", False):
        return ""
    if size < 2:
        return "one_item"
    if not getattr(row, "computed", True):
        return "role_specific"
    alpha = float(getattr(row, "alpha", math.nan))
    if alpha != alpha:
        return "no_spread"
    return "low" if alpha < 0.7 else ""


def _dont_know_rows(unscored: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """A row per (wave, dimension) answered only with "don't know" where no alpha row is."""
    keys = set(zip(table["wave"], table["dimension"].astype(str), strict=True))
    rows = [
        {
            "wave": int(wave),
            "dimension": str(dim),
            "items": 0,
            "n": math.nan,  # no complete answer: reads 'n < k' beside its note
            "alpha": math.nan,
            "low": False,
            "computed": False,
            "hidden": False,
            "note": "dont_know",
            "hidden_reason": "",
        }
        for wave, dim in unscored[["wave", "dimension"]].drop_duplicates().itertuples(index=False)
        if (int(wave), str(dim)) not in keys
    ]
    return pd.DataFrame(rows, columns=list(table.columns))


def unscored(
    scored: pd.DataFrame, profile: pd.DataFrame, whole: pd.DataFrame, scale: Sequence[str]
) -> pd.DataFrame:
    """(wave, org, dimension) of the organisations shown whole that were asked a scale
    dimension's statements but have no score on it: they answered "don't know" (or left
    more than half of them open). Such a dimension is noted, never compared.

    `profile` holds a row per (wave, org, dimension) with scores: only the organisations
    it lacks a dimension of are looked up among the answers, so a report without such a
    gap reads no answer at all.
    """
    keys = ["wave", "org", "dimension"]
    if not scale or whole.empty:
        return pd.DataFrame(columns=keys)
    plain = {"org": str, "dimension": str}
    groups = whole.astype({"org": str}).merge(pd.DataFrame({"dimension": list(scale)}), how="cross")
    have = profile[keys].astype(plain).drop_duplicates()
    missing = groups.merge(have, how="left", indicator=True)
    missing = missing.loc[missing["_merge"] == "left_only", keys]
    if missing.empty:
        return missing.reset_index(drop=True)
    inside = in_cells(scored, missing, keys)
    asked = scored.loc[inside, keys].groupby(keys, observed=True).size().reset_index()[keys]
    return asked.astype(plain).reset_index(drop=True)


CONTRASTS = ["wave", "org", "high", "low", "mean_high", "mean_low", "n", "diff", "sd"]
CONTRASTS += ["t", "df", "p_pair", "pairs", "p", "dz", "spread", "tested"]


def contrasts(main: pd.DataFrame, profile: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per shown organisation of the rows' waves: its highest against its lowest dimension,
    tested within the respondents who have a score on both (paired t).

    `profile` holds the shown cells compared (one wave); `high` and `low` name every
    dimension tied at the top or bottom (space-separated ids), the test takes the first
    of each. Picking the extremes of m dimensions is itself a choice among m(m − 1)/2
    pairs: `p` is the paired p times that number (Bonferroni, at most 1), and that `p`
    joins its measurement's Holm family. A pair that fewer than k respondents both
    answered is not tested (`tested` False, p and n NaN: no count below k is shown);
    neither is one without spread.
    """
    rows = []
    for (wave, org), cells in profile[~profile["hidden"]].groupby(["wave", "org"], observed=True):
        if len(cells) < 2:
            continue
        cells = cells.sort_values("dimension", kind="stable")  # survey order
        means = cells["mean"].to_numpy(dtype="float64")
        dims = cells["dimension"].astype(str).to_numpy()
        high, low = dims[means == means.max()], dims[means == means.min()]
        rows.append(_contrast(main, wave, org, high, low, means, len(cells), k))
    return pd.DataFrame(rows, columns=CONTRASTS)


def _contrast(
    main: pd.DataFrame,
    wave: object,
    org: object,
    high: np.ndarray,
    low: np.ndarray,
    means: np.ndarray,
    m: int,
    k: int,
) -> dict[str, object]:
    """One organisation's contrast of `high[0]` against `low[0]` (see `contrasts`)."""
    row: dict[str, object] = {
        "wave": wave,
        "org": str(org),
        "high": " ".join(high),
        "low": " ".join(low),
        "mean_high": float(means.max()),
        "mean_low": float(means.min()),
        "pairs": m * (m - 1) // 2,
    }
    empty = {"n": 0, "diff": 0.0, "sd": math.nan, "t": math.nan, "df": math.nan}
    row |= empty | {"p_pair": math.nan, "p": math.nan, "dz": math.nan}
    row |= {"spread": False, "tested": False}
    if means.max() == means.min():
        return row
    own = main[((main["wave"] == wave) & (main["org"] == org)).to_numpy()]
    own = own.assign(dimension=own["dimension"].astype(str))
    wide = own[own["dimension"].isin([high[0], low[0]])].pivot_table(
        index="response", columns="dimension", values="score"
    )
    wide = wide.dropna()
    if len(wide) < max(k, 2):  # too few to test, and a count below k is never shown
        return row | {"n": math.nan}
    row["n"] = len(wide)
    test = stats.paired_t(wide[high[0]].to_numpy(), wide[low[0]].to_numpy())
    row |= {"diff": test.diff, "sd": test.sd, "t": test.t, "df": test.df, "dz": test.dz}
    row |= {"p_pair": test.p, "spread": test.spread, "tested": test.spread}
    row["p"] = min(1.0, test.p * int(str(row["pairs"]))) if test.spread else math.nan
    return row


def reciprocity_tests(scores: pd.DataFrame, matrix: pd.DataFrame, wave: int) -> pd.DataFrame:
    """Welch's test of A→B against B→A for the pairs whose two cells are shown in `wave`."""
    cells = matrix.loc[~matrix["hidden"] & (matrix["wave"] == wave), ["wave", "org", "target"]]
    return stats.directions(scores[in_cells(scores, cells, ["wave", "org", "target"])])


def hidden_orgs(profile: pd.DataFrame, k: int) -> pd.DataFrame:
    """The organisations whose every cell of `profile` is hidden, and why: "small" (a
    cell below k) or "protect" (hidden only so that a smaller group cannot be derived)."""
    cells = profile.assign(org=profile["org"].astype(str))
    groups = cells.groupby("org", sort=True)
    hidden = groups["hidden"].all()
    small = groups["n"].min() < k
    table = pd.DataFrame({"org": hidden.index, "small": small.to_numpy()})[hidden.to_numpy()]
    table["reason"] = np.where(table["small"], "small", "protect")
    return table[["org", "reason"]].reset_index(drop=True)


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
