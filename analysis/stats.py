"""Statistics in the pingouin style: long DataFrames in, tidy DataFrames out.

Bad input raises ValueError (never assert). Group figures use the t distribution;
changes between waves use Welch's t-test with Hedges' g and Holm's correction. The t
distribution comes from `scipy.special` (what `scipy.stats.t` calls), which loads in a
tenth of the time: the bot imports this module on a facilitator's first /report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import special


def describe(
    frame: pd.DataFrame, value: str, by: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """n, mean, SD and the t-based confidence interval of `value` per group."""
    if value not in frame:
        raise ValueError(f"no column {value!r}")
    # each group sums its values in ascending order: the same values give the same bits,
    # however the rows were ordered (no hidden row can move a shown mean by reordering)
    frame = frame.dropna(subset=[value]).sort_values(value, kind="stable")
    grouped = frame.groupby(list(by), observed=True)[value]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    n = table["n"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        half = special.stdtrit(n - 1, 0.5 + confidence / 2) * table["sd"].to_numpy() / np.sqrt(n)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    return table


def cronbach_alpha(wide: pd.DataFrame) -> float:
    """Cronbach's alpha of the item columns of `wide` (rows with a missing item dropped)."""
    if wide.shape[1] < 2:
        raise ValueError("alpha needs at least two items")
    return _alpha(wide.to_numpy(dtype="float64"))


def _alpha(matrix: np.ndarray) -> float:
    """Alpha of a responses × items matrix; rows with a missing item are dropped."""
    data = matrix[~np.isnan(matrix).any(axis=1)]
    data = data[np.lexsort(data.T[::-1])] if data.size else data  # sums in one order
    k = data.shape[1]
    if len(data) < 2:
        return float("nan")
    item_var = data.var(axis=0, ddof=1).sum()
    total_var = data.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def reliability(scored: pd.DataFrame, dimension_col: str = "dimension") -> pd.DataFrame:
    """Cronbach's alpha per wave and dimension from item scores (one row per response × item).

    Waves are never pooled: a wave of one respondent leaves every other wave's alpha as it
    is. Within a wave, alpha uses the items every response of that wave was asked (asked =
    stored, don't-know included), so items for one role only drop out; with fewer than two
    such items there is no alpha (`computed` is False). Each matrix is filled by integer
    position rather than pivoted: the same numbers, without a hash table per group.
    """
    columns = ["wave", "dimension", "items", "n", "alpha", "low", "computed"]
    scored = scored[scored[dimension_col].notna().to_numpy()]
    if scored.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    dimension = scored[dimension_col].astype("category")
    wave = scored["wave"].to_numpy(dtype="int64")
    wave_codes, waves = pd.factorize(wave, sort=True)
    codes = dimension.cat.codes.to_numpy()
    group, keys = pd.factorize(
        wave_codes.astype("int64") * (len(dimension.cat.categories) + 1) + codes
    )
    response = scored["response"].to_numpy(dtype="int64")
    item = scored["item"].astype("category").cat
    rank = np.argsort(np.argsort(np.asarray(item.categories, dtype=str)))  # columns by name
    items = rank[item.codes.to_numpy()]
    score = scored["score"].to_numpy(dtype="float64")
    order = np.argsort(keys, kind="stable")
    by_group = np.argsort(group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(keys)))])
    for g in order:
        at = by_group[starts[g] : starts[g + 1]]
        w, code = divmod(int(keys[g]), len(dimension.cat.categories) + 1)
        row, _ = pd.factorize(response[at])
        column, labels = pd.factorize(items[at], sort=True)
        asked = np.zeros((row.max() + 1, len(labels)), dtype=bool)
        asked[row, column] = True
        common = asked.all(axis=0)  # asked of everyone in this wave's group
        matrix = np.full(asked.shape, np.nan)
        matrix[row, column] = score[at]
        matrix = matrix[:, common]
        computed = bool(common.sum() >= 2)
        alpha = _alpha(matrix) if computed else float("nan")
        rows.append(
            {
                "wave": int(waves[w]),
                "dimension": dimension.cat.categories[code],
                "items": int(common.sum()),
                "n": int((~np.isnan(matrix).any(axis=1)).sum()),
                "alpha": alpha,
                "low": bool(alpha < 0.7) if alpha == alpha else False,
                "computed": computed,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _hedges(n1: Any, n2: Any, m1: Any, m2: Any, v1: Any, v2: Any) -> Any:
    """Hedges' g of (m2 − m1) from group sizes, means and variances (arrays or scalars)."""
    pooled = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(pooled > 0, (m2 - m1) / pooled, 0.0)
    return d * (1 - 3 / (4 * (n1 + n2) - 9))


class Welch(NamedTuple):
    """Welch's t-test of m2 − m1 per group (arrays): the statistic, its df, p, Hedges' g.

    `spread` is False where both groups answered without any variance: there is nothing
    to test (p and g are NaN), the difference is one every respondent gave.
    """

    t: np.ndarray
    df: np.ndarray
    p: np.ndarray
    g: np.ndarray
    se: np.ndarray
    spread: np.ndarray


def welch(n1: Any, n2: Any, m1: Any, m2: Any, v1: Any, v2: Any) -> Welch:
    """Welch's t-test from group sizes, means and variances (the formulas of
    `scipy.stats.ttest_ind(equal_var=False)`), NaN where neither group has any spread."""
    n1, n2, m1, m2, v1, v2 = (np.asarray(a, dtype="float64") for a in (n1, n2, m1, m2, v1, v2))
    se1, se2 = v1 / n1, v2 / n2
    spread = (se1 + se2) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(spread, (m2 - m1) / np.sqrt(se1 + se2), np.nan)
        df = np.where(spread, (se1 + se2) ** 2 / (se1**2 / (n1 - 1) + se2**2 / (n2 - 1)), np.nan)
        p = 2 * special.stdtr(df, -np.abs(t))
    g = np.where(spread, _hedges(n1, n2, m1, m2, v1, v2), np.nan)
    return Welch(t, df, p, g, np.sqrt(se1 + se2), spread)


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised mean difference (b − a) with the small-sample correction."""
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        raise ValueError("Hedges' g needs at least two values per group")
    return float(_hedges(n1, n2, np.mean(a), np.mean(b), np.var(a, ddof=1), np.var(b, ddof=1)))


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (same order as given; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype="float64")
    adjusted = np.full(len(p), np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(running, 1.0)
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values (false discovery rate; same order; NaN stays NaN).

    q_(i) = min over j ≥ i of m·p_(j)/j, capped at 1: the smallest FDR at which the test
    would be called. For an exploratory grid read as a whole, beside Holm's family-wise p.
    """
    p = np.asarray(pvalues, dtype="float64")
    q = np.full(len(p), np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid])]
    m = len(order)
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, m * p[i] / (rank + 1))
        q[i] = running
    return q


def wave_changes(
    scores: pd.DataFrame,
    before: int,
    after: int,
    by: Sequence[str] = ("org", "dimension"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Welch's t-test, Hedges' g and Holm-adjusted p per group between two waves.

    Computed from per-group n, mean and variance (the same formulas as
    `scipy.stats.ttest_ind(equal_var=False)`), so every group costs one aggregation.
    """
    by = list(by)
    frame = scores[scores["wave"].isin([before, after])].dropna(subset=["score"])
    frame = frame.sort_values("score", kind="stable")  # sums in value order, as `describe`
    groups = frame.groupby([*by, "wave"], observed=True)["score"].agg(
        n="count", mean="mean", var="var"
    )
    wide = groups.unstack("wave")
    if wide.empty or before not in wide["n"] or after not in wide["n"]:
        return pd.DataFrame()
    n1, n2 = wide["n"][before].to_numpy(), wide["n"][after].to_numpy()
    enough = (n1 >= 2) & (n2 >= 2)
    wide = wide[enough]
    n1, n2 = n1[enough], n2[enough]
    m1, m2 = wide["mean"][before].to_numpy(), wide["mean"][after].to_numpy()
    v1, v2 = wide["var"][before].to_numpy(), wide["var"][after].to_numpy()
    test = welch(n1, n2, m1, m2, v1, v2)
    table: pd.DataFrame = wide.index.to_frame(index=False)
    table["before"], table["after"] = before, after
    table["n_before"], table["n_after"] = n1.astype("int64"), n2.astype("int64")
    table["mean_before"], table["mean_after"] = m1, m2
    table["diff"] = m2 - m1
    table["t"], table["df"], table["p"], table["g"] = test.t, test.df, test.p, test.g
    table["spread"] = test.spread
    if table.empty:
        return pd.DataFrame()
    table["p_holm"] = holm(table["p"].to_list())
    table["significant"] = table["p_holm"] < alpha
    return table


def culture_profiles(
    answers: pd.DataFrame, *, now: str, preferred: str, dimensions: dict[str, str]
) -> pd.DataFrame:
    """Mean points per culture type per (wave, org): now, preferred and the gap.

    `dimensions` maps each allocate item to its profile dimension; `now` and `preferred`
    are the two dimensions compared (the definition declares which is which).
    """
    if not dimensions:
        raise ValueError("pass the item → dimension mapping of the culture survey")
    frame = answers[answers["item"].isin(dimensions)].copy()
    frame["frame"] = frame["item"].map(dimensions).astype(str)
    per_response = (
        frame.groupby(["wave", "org", "response", "frame", "target"], observed=True)["value"]
        .mean()
        .reset_index()
        .sort_values("value", kind="stable")  # each group sums in value order (`describe`)
    )
    profile = (
        per_response.groupby(["wave", "org", "frame", "target"], observed=True)
        .agg(n=("response", "nunique"), points=("value", "mean"))
        .reset_index()
    )
    wide = profile.pivot_table(
        index=["wave", "org", "target"], columns="frame", values="points", observed=True
    )
    wide = wide.reindex(columns=[now, preferred]).reset_index()  # both, even with no answers
    counts = profile.groupby(["wave", "org"], observed=True)["n"].min().rename("n")
    wide = wide.merge(counts.reset_index(), on=["wave", "org"])
    wide = wide.rename(columns={now: "now", preferred: "preferred", "target": "type"})
    wide["gap"] = wide["preferred"] - wide["now"]
    return wide[["wave", "org", "type", "now", "preferred", "n", "gap"]]


def culture_distance(profiles: pd.DataFrame, column: str = "now") -> pd.DataFrame:
    """Half the summed absolute differences of two organisations' profiles: points to move."""
    rows = []
    for wave, group in profiles.groupby("wave"):
        table = group.pivot_table(index="org", columns="type", values=column, observed=True)
        for a in table.index:
            for b in table.index:
                rows.append(
                    {
                        "wave": wave,
                        "org": a,
                        "other": b,
                        "distance": float(np.abs(table.loc[a] - table.loc[b]).sum() / 2),
                    }
                )
    return pd.DataFrame(rows, columns=["wave", "org", "other", "distance"])


def trust_matrix(scores: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Directed mean trust org → target per wave, with n, SD and CI.

    `dimension` is a per-partner (matrix) dimension of the definition.
    """
    frame = scores[(scores["dimension"] == dimension) & (scores["target"] != "")]
    return describe(frame, "score", ["wave", "org", "target"])


def reciprocity(matrix: pd.DataFrame) -> pd.DataFrame:
    """Add B→A's mean to every A→B cell, and the asymmetry (A→B minus B→A).

    Call it on a suppressed, masked matrix: a shown cell must not carry the mean of a
    hidden reverse cell.
    """
    reverse = matrix.rename(columns={"org": "target", "target": "org", "mean": "reverse_mean"})
    table = matrix.merge(
        reverse[["wave", "org", "target", "reverse_mean"]], on=["wave", "org", "target"], how="left"
    )
    table["reverse_mean"] = table["reverse_mean"].where(table["mean"].notna())
    table["asymmetry"] = table["mean"] - table["reverse_mean"]
    return table


class Paired(NamedTuple):
    """A paired t-test of the differences of one group's two scores (same respondents).

    `dz` is the mean difference in standard deviations of the differences (Cohen's d_z);
    without spread (every respondent gave the same difference) t, p and dz are NaN.
    """

    n: int
    diff: float
    sd: float
    t: float
    df: float
    p: float
    dz: float
    spread: bool


def paired_t(first: np.ndarray, second: np.ndarray) -> Paired:
    """Paired t-test of first − second (equal-length arrays, one pair per respondent).

    The same numbers as `scipy.stats.ttest_rel`; the differences are summed in value
    order, so the same pairs give the same bits whatever order they arrive in.
    """
    first, second = np.asarray(first, dtype="float64"), np.asarray(second, dtype="float64")
    if first.shape != second.shape:
        raise ValueError("a paired test needs the same respondents on both sides")
    d = np.sort(first - second)
    n = len(d)
    if n < 2:
        raise ValueError("a paired test needs at least two respondents")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        return Paired(n, mean, 0.0, math.nan, float(n - 1), math.nan, math.nan, False)
    t = mean / (sd / math.sqrt(n))
    p = float(2 * special.stdtr(n - 1, -abs(t)))
    return Paired(n, mean, sd, t, float(n - 1), p, mean / sd, True)


def directions(scores: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Welch's test of A→B against B→A per wave and unordered pair of organisations.

    `scores` has one row per respondent and target (`wave, org, target, score`): the raters
    of the two directions are different people, so the groups are independent. One row per
    pair with both directions scored (`org` < `target`): n and mean of each direction
    (`_to`: A→B, `_from`: B→A), the difference (A→B minus B→A) with its Welch interval,
    t, df, p and Hedges' g. Call it on the shown cells only.
    """
    columns = ["wave", "org", "target", "n_to", "n_from", "mean_to", "mean_from", "diff"]
    columns += ["ci_low", "ci_high", "t", "df", "p", "g", "spread"]
    frame = scores.dropna(subset=["score"])
    frame = frame.assign(org=frame["org"].astype(str), target=frame["target"].astype(str))
    frame = frame[(frame["target"] != "") & (frame["org"] != frame["target"])]
    frame = frame.sort_values("score", kind="stable")  # sums in value order, as `describe`
    cells = (
        frame.groupby(["wave", "org", "target"])["score"]
        .agg(n="count", mean="mean", var="var")
        .reset_index()
    )
    back = cells.rename(columns={"org": "target", "target": "org"})
    pairs = cells.merge(back, on=["wave", "org", "target"], suffixes=("", "_back"))
    pairs = pairs[(pairs["org"] < pairs["target"]) & (pairs["n"] >= 2) & (pairs["n_back"] >= 2)]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    test = welch(
        pairs["n_back"],
        pairs["n"],
        pairs["mean_back"],
        pairs["mean"],
        pairs["var_back"],
        pairs["var"],
    )
    table = pairs.reset_index(drop=True).rename(
        columns={"n": "n_to", "n_back": "n_from", "mean": "mean_to", "mean_back": "mean_from"}
    )
    table["diff"] = table["mean_to"] - table["mean_from"]
    with np.errstate(invalid="ignore"):
        half = special.stdtrit(test.df, 0.5 + confidence / 2) * test.se
    half = np.where(test.spread, half, 0.0)
    table["ci_low"], table["ci_high"] = table["diff"] - half, table["diff"] + half
    table["t"], table["df"], table["p"], table["g"] = test.t, test.df, test.p, test.g
    table["spread"] = test.spread
    return table[columns]
