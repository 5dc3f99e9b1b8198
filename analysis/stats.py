"""Statistics in the pingouin style: long DataFrames in, tidy DataFrames out.

Bad input raises ValueError (never assert). Group figures use the t distribution;
changes between waves use Welch's t-test with Hedges' g and Holm's correction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps


def describe(
    frame: pd.DataFrame, value: str, by: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """n, mean, SD and the t-based confidence interval of `value` per group."""
    if value not in frame:
        raise ValueError(f"no column {value!r}")
    grouped = frame.dropna(subset=[value]).groupby(list(by), observed=True)[value]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    n = table["n"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        half = sps.t.ppf(0.5 + confidence / 2, n - 1) * table["sd"].to_numpy() / np.sqrt(n)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    return table


def cronbach_alpha(wide: pd.DataFrame) -> float:
    """Cronbach's alpha of the item columns of `wide` (rows with a missing item dropped)."""
    data = wide.dropna()
    k = data.shape[1]
    if k < 2:
        raise ValueError("alpha needs at least two items")
    if len(data) < 2:
        return float("nan")
    item_var = data.var(axis=0, ddof=1).sum()
    total_var = data.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_var / total_var))


def reliability(scored: pd.DataFrame, dimension_col: str = "dimension") -> pd.DataFrame:
    """Cronbach's alpha per dimension from item scores (one row per response × item)."""
    rows = []
    for dimension, group in scored.groupby(dimension_col, observed=True):
        wide = group.pivot_table(
            index=["wave", "response"], columns="item", values="score", observed=True
        )
        if wide.shape[1] < 2:
            continue
        alpha = cronbach_alpha(wide)
        rows.append(
            {
                "dimension": dimension,
                "items": wide.shape[1],
                "n": len(wide.dropna()),
                "alpha": alpha,
                "low": bool(alpha < 0.7) if alpha == alpha else False,
            }
        )
    return pd.DataFrame(rows, columns=["dimension", "items", "n", "alpha", "low"])


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised mean difference (b − a) with the small-sample correction."""
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        raise ValueError("Hedges' g needs at least two values per group")
    pooled = np.sqrt(((n1 - 1) * np.var(a, ddof=1) + (n2 - 1) * np.var(b, ddof=1)) / (n1 + n2 - 2))
    d = (np.mean(b) - np.mean(a)) / pooled if pooled > 0 else 0.0
    return float(d * (1 - 3 / (4 * (n1 + n2) - 9)))


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (same order as given)."""
    p = np.asarray(pvalues, dtype="float64")
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(running, 1.0)
    return adjusted


def wave_changes(
    scores: pd.DataFrame,
    before: int,
    after: int,
    by: Sequence[str] = ("org", "dimension"),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Welch's t-test, Hedges' g and Holm-adjusted p per group between two waves."""
    rows = []
    for key, group in scores[scores["wave"].isin([before, after])].groupby(list(by), observed=True):
        a = group.loc[group["wave"] == before, "score"].dropna().to_numpy()
        b = group.loc[group["wave"] == after, "score"].dropna().to_numpy()
        if len(a) < 2 or len(b) < 2:
            continue
        test = sps.ttest_ind(b, a, equal_var=False)
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "n_before": len(a),
                "n_after": len(b),
                "mean_before": a.mean(),
                "mean_after": b.mean(),
                "diff": b.mean() - a.mean(),
                "t": float(test.statistic),
                "df": float(test.df),
                "p": float(test.pvalue),
                "g": hedges_g(a, b),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_holm"] = holm(table["p"].to_list())
    table["significant"] = table["p_holm"] < alpha
    return table


def culture_profiles(
    answers: pd.DataFrame,
    now: str = "culture_now",
    preferred: str = "culture_preferred",
    dimensions: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Mean points per culture type per (wave, org): now, preferred and the gap."""
    if dimensions is None:
        raise ValueError("pass the item → dimension mapping of the culture survey")
    frame = answers[answers["item"].isin(dimensions)].copy()
    frame["frame"] = frame["item"].map(dimensions).astype(str)
    per_response = (
        frame.groupby(["wave", "org", "response", "frame", "target"], observed=True)["value"]
        .mean()
        .reset_index()
    )
    profile = (
        per_response.groupby(["wave", "org", "frame", "target"], observed=True)
        .agg(n=("response", "nunique"), points=("value", "mean"))
        .reset_index()
    )
    wide = profile.pivot_table(
        index=["wave", "org", "target"], columns="frame", values="points", observed=True
    ).reset_index()
    counts = profile.groupby(["wave", "org"], observed=True)["n"].min().rename("n")
    wide = wide.merge(counts.reset_index(), on=["wave", "org"])
    wide = wide.rename(columns={now: "now", preferred: "preferred", "target": "type"})
    wide["gap"] = wide["preferred"] - wide["now"]
    return wide


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


def trust_matrix(scores: pd.DataFrame, dimension: str = "partner_trust") -> pd.DataFrame:
    """Directed mean trust org → target with n, and reciprocity (A→B minus B→A)."""
    frame = scores[(scores["dimension"] == dimension) & (scores["target"] != "")]
    table = describe(frame, "score", ["wave", "org", "target"])
    reverse = table.rename(columns={"org": "target", "target": "org", "mean": "reverse_mean"})
    table = table.merge(
        reverse[["wave", "org", "target", "reverse_mean"]], on=["wave", "org", "target"], how="left"
    )
    table["asymmetry"] = table["mean"] - table["reverse_mean"]
    return table
