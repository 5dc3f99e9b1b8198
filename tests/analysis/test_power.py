"""The minimum detectable change against statsmodels' power calculation and a hand FPC."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from analysis import power


@pytest.mark.parametrize(
    ("n_before", "n_after", "sd", "alpha"),
    [
        (5, 5, 0.7, 0.05),
        (10, 10, 0.7, 0.05),
        (20, 20, 0.9, 0.05),
        (30, 30, 0.7, 0.05),
        (100, 100, 0.8, 0.05),
        (12, 25, 0.8, 0.05),  # unequal waves: ratio ≠ 1
        (3, 40, 0.85, 0.05),
        (20, 20, 0.7, 0.005),  # a Holm-adjusted level
        (2, 2, 0.7, 0.05),  # the smallest group with a test
    ],
)
def test_detectable_change_matches_statsmodels_t_test_power(
    n_before: int, n_after: int, sd: float, alpha: float
) -> None:
    """MDC = d × SD with d from TTestIndPower (two-sided, power .8, df n1 + n2 − 2)."""
    d = TTestIndPower().solve_power(
        nobs1=n_before, ratio=n_after / n_before, alpha=alpha, power=0.8
    )
    mdc = power.detectable_change(n_before, n_after, sd, alpha=alpha)
    assert mdc == pytest.approx(d * sd, abs=1e-3)
    assert power.detectable_effect(n_before, n_after, alpha) == pytest.approx(d, abs=1e-3)
    # and the achieved power at that change is .80 by statsmodels' own reckoning
    achieved = TTestIndPower().power(
        effect_size=mdc / sd, nobs1=n_before, ratio=n_after / n_before, alpha=alpha
    )
    assert achieved == pytest.approx(0.8, abs=1e-6)


def test_large_groups_approach_the_normal_approximation() -> None:
    """With 2,000 per wave the t and the normal (NormalIndPower) agree to 1e-3 in d."""
    d = NormalIndPower().solve_power(nobs1=2000, ratio=1, alpha=0.05, power=0.8)
    assert power.detectable_effect(2000, 2000) == pytest.approx(d, abs=1e-3)


def test_the_methods_table_is_reproduced() -> None:
    """METHODS.md's table: n = 5, 10, 20, 30, 50, 100 at SD .7 and .9."""
    n = np.array([5, 10, 20, 30, 50, 100])
    assert np.round(power.detectable_change(n, n, 0.7), 2).tolist() == [
        1.42,
        0.93,
        0.64,
        0.51,
        0.40,
        0.28,
    ]
    assert np.round(power.detectable_change(n, n, 0.9), 2).tolist() == [
        1.82,
        1.19,
        0.82,
        0.66,
        0.51,
        0.36,
    ]


def test_finite_population_correction_by_hand() -> None:
    """A council of 25, 20 answering in both waves: nc × SD × √(2 × (1 − 20/25) / 20)."""
    nc = TTestIndPower().solve_power(nobs1=20, ratio=1, alpha=0.05, power=0.8) * math.sqrt(20 / 2)
    by_hand = nc * 0.7 * math.sqrt((1 - 20 / 25) / 20 + (1 - 20 / 25) / 20)
    corrected = power.detectable_change(20, 20, 0.7, population_before=25, population_after=25)
    assert corrected == pytest.approx(by_hand, abs=1e-6)
    assert corrected == pytest.approx(0.2846, abs=1e-3)  # METHODS: 0.64 → about 0.29
    uncorrected = power.detectable_change(20, 20, 0.7)
    assert corrected / uncorrected == pytest.approx(math.sqrt(0.2), abs=1e-12)


def test_finite_population_correction_edges() -> None:
    """Unknown headcount: no correction; a census or an oversubscribed group: 0, never < 0."""
    assert power.finite_population_correction(20, np.nan) == 1.0
    assert power.finite_population_correction(20, 25) == pytest.approx(0.2)
    assert power.finite_population_correction(30, 25) == 0.0
    assert power.detectable_change(25, 25, 0.8, population_before=25, population_after=25) == 0.0
    one_known = power.detectable_change(20, 20, 0.7, population_after=25)
    by_hand = power.noncentrality(38) * 0.7 * math.sqrt(1 / 20 + 0.2 / 20)
    assert one_known == pytest.approx(by_hand, abs=1e-12)


def test_groups_too_small_for_a_test_have_no_detectable_change() -> None:
    """n < 2 in either wave: NaN (there is no test), not a number."""
    assert math.isnan(power.detectable_change(1, 20, 0.8))
    assert math.isnan(power.detectable_effect(20, 0))
    with pytest.raises(ValueError, match="alpha"):
        power.noncentrality(10, alpha=1.5)


def test_pooled_sd_weights_by_degrees_of_freedom() -> None:
    """√(Σ(n−1)s² / Σ(n−1)); groups of one and missing SDs carry no weight."""
    by_hand = math.sqrt((9 * 0.6**2 + 19 * 0.9**2) / 28)
    assert power.pooled_sd([10, 20, 1], [0.6, 0.9, np.nan]) == pytest.approx(by_hand)
    assert math.isnan(power.pooled_sd([1], [np.nan]))


def test_trend_detectable_uses_only_cells_shown_in_both_waves() -> None:
    """A cell hidden in either wave gets no row; the SD is pooled over the two waves."""
    profile = pd.DataFrame(
        {
            "wave": [1, 1, 1, 2, 2, 2],
            "org": ["a", "b", "c", "a", "b", "c"],
            "dimension": ["trust"] * 6,
            "n": [20, 12, 3, 18, 14, 9],
            "sd": [0.7, 0.8, np.nan, 0.9, 0.6, 0.5],
            "hidden": [False, False, True, False, False, False],
        }
    )
    table = power.trend_detectable(profile, 1, 2, {"a": 25, "b": None}).set_index("org")
    assert list(table.index) == ["a", "b"]  # c was hidden in wave 1
    sd_a = math.sqrt((19 * 0.7**2 + 17 * 0.9**2) / 36)
    assert table.loc["a", "sd"] == pytest.approx(sd_a)
    d = TTestIndPower().solve_power(nobs1=20, ratio=18 / 20, alpha=0.05, power=0.8)
    assert table.loc["a", "mdc"] == pytest.approx(d * sd_a, abs=1e-3)
    assert table.loc["a", "mdc_fpc"] < table.loc["a", "mdc"] / 2  # near-census: 20 of 25
    assert math.isnan(table.loc["b", "mdc_fpc"])  # no headcount, no correction
