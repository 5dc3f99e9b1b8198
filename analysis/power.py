"""The change a comparison of two waves can detect: minimum detectable change (MDC).

Small groups hide real change in noise, so a report says beside every trend (and a
facilitator sees before a wave opens) how large a change in a group's mean score the two
waves could have shown. The design is the report's: two independent samples (waves are
repeated cross-sections), a two-sided t-test at `alpha` per comparison, power 0.80, a
common SD in both waves (the pooled SD of the last wave's groups) and n − 2 degrees of
freedom — the same calculation as statsmodels' `TTestIndPower`, solved here with
`scipy.special` so the report does not import statsmodels.

When the group's headcount is known, each wave's variance of the mean is multiplied by the
finite population correction 1 − n/N: the question is then "did *this* group change?",
not "would groups like it?". A census (n = N in both waves) knows its means exactly; its
detectable change is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

POWER = 0.80  # the conventional power of a detectable change
ALPHA = 0.05  # two-sided, per comparison: the report's level before Holm
DEFAULT_SD = 0.8  # a dimension score's SD on a 5-point scale (0.7–0.9): when none is known
# the response rate assumed before a first wave: the level below which METHODS.md flags a
# group (typical staff surveys reach 60–92 %), so the promise errs on the cautious side
DEFAULT_RESPONSE_RATE = 0.6
_BISECTIONS = 80  # halvings of the noncentrality interval: far below 1e-12 in the end
_MAX_NONCENTRALITY = 60.0  # the power at 60 is 1 to machine precision for df ≥ 1


def finite_population_correction(n: Any, population: Any) -> Any:
    """1 − n/N per group (1 without a headcount; 0 when n reaches or passes N).

    More answers than people (a link shared outside its group) cannot make the variance
    negative: the correction is clipped at 0.
    """
    n = np.asarray(n, dtype="float64")
    population = np.asarray(population, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(np.isnan(population) | (population <= 0), 1.0, 1.0 - n / population)
    return np.clip(f, 0.0, 1.0)


def noncentrality(df: Any, alpha: float = ALPHA, power: float = POWER) -> Any:
    """The noncentrality at which a two-sided t-test with `df` reaches `power`.

    Power of the two-sided test: P(T > t_c) + P(T < −t_c) under the noncentral t; it rises
    with the noncentrality, so bisection finds it to machine precision. Vectorised: one
    call for every group of a report.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power lie strictly between 0 and 1")
    df = np.asarray(df, dtype="float64")
    valid = df >= 1
    safe = np.where(valid, df, 1.0)
    critical = special.stdtrit(safe, 1 - alpha / 2)
    low = np.zeros_like(safe)
    high = np.full_like(safe, _MAX_NONCENTRALITY)
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        reached = _two_sided_power(safe, middle, critical) >= power
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle)
    return np.where(valid, (low + high) / 2, np.nan)


def _two_sided_power(df: np.ndarray, nc: np.ndarray, critical: np.ndarray) -> np.ndarray:
    """P(T > t_c) + P(T < −t_c) for noncentral t; far in a tail the CDF is NaN, read as 0."""
    below_upper = np.nan_to_num(special.nctdtr(df, nc, critical), nan=0.0)
    below_lower = np.nan_to_num(special.nctdtr(df, nc, -critical), nan=0.0)
    return np.asarray(1 - below_upper + below_lower)


def detectable_effect(
    n_before: Any, n_after: Any, alpha: float = ALPHA, power: float = POWER
) -> Any:
    """The standardised difference (Cohen's d) two independent groups can detect.

    Groups of fewer than two give NaN: there is no test.
    """
    n1 = np.asarray(n_before, dtype="float64")
    n2 = np.asarray(n_after, dtype="float64")
    enough = (n1 >= 2) & (n2 >= 2)
    n1, n2 = np.where(enough, n1, 2.0), np.where(enough, n2, 2.0)
    d = noncentrality(n1 + n2 - 2, alpha, power) * np.sqrt(1 / n1 + 1 / n2)
    return np.where(enough, d, np.nan)


def detectable_change(
    n_before: Any,
    n_after: Any,
    sd: Any,
    *,
    population_before: Any = np.nan,
    population_after: Any = np.nan,
    alpha: float = ALPHA,
    power: float = POWER,
) -> Any:
    """The minimum detectable change of a mean score between two waves, in scale points.

    `population_*` are the group's headcounts in each wave (NaN: unknown, no correction).
    Arrays broadcast: one call answers every (organisation, dimension) of a report.
    """
    n1 = np.asarray(n_before, dtype="float64")
    n2 = np.asarray(n_after, dtype="float64")
    enough = (n1 >= 2) & (n2 >= 2)
    s1, s2 = np.where(enough, n1, 2.0), np.where(enough, n2, 2.0)
    f1 = finite_population_correction(s1, population_before)
    f2 = finite_population_correction(s2, population_after)
    nc = noncentrality(s1 + s2 - 2, alpha, power)
    change = nc * np.asarray(sd, dtype="float64") * np.sqrt(f1 / s1 + f2 / s2)
    result = np.where(enough, change, np.nan)
    return float(result) if result.ndim == 0 else result


def pooled_sd(n: Sequence[float] | np.ndarray, sd: Sequence[float] | np.ndarray) -> float:
    """The SD pooled over groups: √(Σ(nᵢ − 1)sᵢ² / Σ(nᵢ − 1)); NaN without two answers."""
    counts = np.asarray(n, dtype="float64")
    spreads = np.asarray(sd, dtype="float64")
    keep = (counts >= 2) & ~np.isnan(spreads)
    freedom = (counts[keep] - 1).sum()
    if freedom <= 0:
        return float("nan")
    return float(np.sqrt(((counts[keep] - 1) * spreads[keep] ** 2).sum() / freedom))


def trend_detectable(
    profile: pd.DataFrame,
    before: int,
    after: int,
    headcounts: dict[str, int | None] | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
) -> pd.DataFrame:
    """The MDC of every (org, dimension) cell shown in both waves, from shown cells only.

    `profile` is the report's suppressed profile (wave, org, dimension, n, sd, hidden).
    The SD is pooled over the two waves of the cell; `headcounts` (org → N) adds the
    finite population correction. Columns: org, dimension, n_before, n_after, sd,
    headcount, mdc, mdc_fpc (NaN without a headcount), d (standardised, no correction).
    """
    columns = [
        "org",
        "dimension",
        "n_before",
        "n_after",
        "sd",
        "headcount",
        "mdc",
        "mdc_fpc",
        "d",
    ]
    shown = profile[~profile["hidden"].astype(bool)]
    keys = ["org", "dimension"]
    first = shown.loc[shown["wave"] == before, [*keys, "n", "sd"]]
    second = shown.loc[shown["wave"] == after, [*keys, "n", "sd"]]
    both = first.merge(second, on=keys, suffixes=("_before", "_after"))
    if both.empty:
        return pd.DataFrame(columns=columns)
    n1 = both["n_before"].to_numpy(dtype="float64")
    n2 = both["n_after"].to_numpy(dtype="float64")
    s1 = both["sd_before"].to_numpy(dtype="float64")
    s2 = both["sd_after"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    heads = headcounts or {}
    population = np.array(
        [np.nan if heads.get(str(o)) is None else heads[str(o)] for o in both["org"]],
        dtype="float64",
    )
    table = both[keys].astype(object).reset_index(drop=True)
    table["n_before"], table["n_after"] = n1.astype("int64"), n2.astype("int64")
    table["sd"] = sd
    table["headcount"] = population
    table["mdc"] = detectable_change(n1, n2, sd, alpha=alpha, power=power)
    corrected = detectable_change(
        n1,
        n2,
        sd,
        population_before=population,
        population_after=population,
        alpha=alpha,
        power=power,
    )
    table["mdc_fpc"] = np.where(np.isnan(population), np.nan, corrected)
    table["d"] = detectable_effect(n1, n2, alpha, power)
    return table[columns]
