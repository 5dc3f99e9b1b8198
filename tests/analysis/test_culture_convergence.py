"""Culture convergence: distances now and preferred, and the permutation band."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from analysis import culture, stats
from analysis.data import answers_frame

TYPES = ("clan", "adhocracy", "market", "hierarchy")
ALLOCATE = {"now_a": "now", "now_b": "now", "pref_a": "preferred", "pref_b": "preferred"}


def records(
    org: str, first: int, now: list[tuple[int, ...]], preferred: list[tuple[int, ...]]
) -> list[tuple[object, ...]]:
    """One respondent per profile pair; both aspects answered alike (+/− a little)."""
    rows: list[tuple[object, ...]] = []
    for offset, (a, b) in enumerate(zip(now, preferred, strict=True)):
        response = first + offset
        for item, profile in (("now_a", a), ("now_b", a), ("pref_a", b), ("pref_b", b)):
            rows.extend(
                (1, org, "staff", response, item, t, v) for t, v in zip(TYPES, profile, strict=True)
            )
    return rows


def noisy(rng: random.Random, base: tuple[int, ...], n: int) -> list[tuple[int, ...]]:
    out = []
    for _ in range(n):
        raw = [max(0, b + rng.randint(-8, 8)) for b in base]
        raw[0] += 100 - sum(raw)
        out.append(tuple(raw))
    return out


def partnership(seed: int = 1, converge: bool = True) -> pd.DataFrame:
    """Three organisations with different cultures now; alike (or as different) preferred."""
    rng = random.Random(seed)
    wish = (40, 25, 15, 20)
    now = {"a": (35, 20, 15, 30), "b": (15, 15, 40, 30), "c": (25, 35, 20, 20)}
    rows = []
    for i, (org, profile) in enumerate(now.items()):
        preferred = wish if converge else profile
        rows += records(org, 100 * i, noisy(rng, profile, 12), noisy(rng, preferred, 12))
    return answers_frame(rows)


def converge(
    frame: pd.DataFrame, orgs: tuple[str, ...] = ("a", "b", "c"), **kwargs: int
) -> culture.Convergence | None:
    profiles = culture.respondent_profiles(frame, ALLOCATE, "now", "preferred", orgs)
    return culture.convergence(profiles, **kwargs)


def test_distances_equal_the_reports_distance_of_the_mean_profiles() -> None:
    """Now and preferred distance per pair are `stats.culture_distance` of the profiles."""
    frame = partnership()
    result = converge(frame)
    assert result is not None
    profiles = stats.culture_profiles(frame, now="now", preferred="preferred", dimensions=ALLOCATE)
    for column in ("now", "preferred"):
        distance = stats.culture_distance(profiles, column).set_index(["org", "other"])
        for row in result.pairs.itertuples():
            assert getattr(row, column) == pytest.approx(
                distance.loc[(row.org, row.other), "distance"], abs=1e-9
            )
    pairs = result.pairs
    assert list(zip(pairs["org"], pairs["other"], strict=True)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    assert np.allclose(pairs["convergence"], pairs["now"] - pairs["preferred"])
    assert result.overall.now == pytest.approx(pairs["now"].mean())
    assert result.overall.respondents == 36


def test_a_shared_wish_is_convergence_beyond_chance() -> None:
    """Different cultures now, one preferred culture: positive, outside the band, small p."""
    result = converge(partnership(converge=True))
    assert result is not None
    overall = result.overall
    assert overall.convergence > 10 and overall.beyond_chance
    assert overall.high < overall.convergence and overall.p <= 1 / 10_000  # none as extreme
    assert overall.permutations == culture.PERMUTATIONS
    assert (result.pairs["convergence"] > result.pairs["high"]).all()


def test_the_same_profile_now_and_preferred_is_no_convergence() -> None:
    """Everyone prefers what they have: swapping changes nothing, the band is 0, p = 1."""
    frame = partnership(converge=False)
    same = frame.assign(
        item=frame["item"].astype(str).str.replace("pref_", "now_").astype("category")
    )
    both = pd.concat(
        [
            same,
            same.assign(
                item=same["item"].astype(str).str.replace("now_", "pref_").astype("category")
            ),
        ],
        ignore_index=True,
    )
    result = converge(both)
    assert result is not None
    assert result.overall.convergence == 0 and not result.overall.beyond_chance
    assert result.overall.low == result.overall.high == 0 and result.overall.p == 1


def test_the_band_is_deterministic_and_independent_of_storage_order() -> None:
    """Same answers, any row order: the same band to the last bit."""
    frame = partnership(seed=5, converge=False)
    first = converge(frame)
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    # renumber the respondents too: the store's ids are random
    codes = {r: 1000 - r for r in frame["response"].unique()}
    shuffled["response"] = shuffled["response"].map(codes)
    second = converge(shuffled)
    assert first is not None and second is not None
    pd.testing.assert_frame_equal(first.pairs, second.pairs, check_exact=True)
    assert first.overall == second.overall
    assert not first.overall.beyond_chance  # nobody wants to move: no convergence


def test_a_hidden_organisations_answers_move_nothing() -> None:
    """Only the shown organisations enter: C's answers, whatever they are, change nothing."""
    frame = partnership(seed=2)
    other = partnership(seed=9)
    mixed = pd.concat([frame[frame["org"] != "c"], other[other["org"] == "c"]], ignore_index=True)
    shown = ("a", "b")
    first, second = converge(frame, shown), converge(mixed, shown)
    assert first is not None and second is not None
    pd.testing.assert_frame_equal(first.pairs, second.pairs, check_exact=True)
    assert first.overall == second.overall
    assert len(first.pairs) == 1 and first.overall.respondents == 24


def test_one_organisation_has_no_pair_and_permutations_are_needed() -> None:
    """Fewer than two shown organisations: None; zero permutations: ValueError."""
    assert converge(partnership(), ("a",)) is None
    with pytest.raises(ValueError, match="permutation"):
        converge(partnership(), permutations=0)


def test_respondents_without_both_profiles_are_left_out() -> None:
    """A respondent who gave only the current profile takes no part in the comparison."""
    frame = partnership()
    lone = answers_frame(records("a", 999, [(25, 25, 25, 25)], [(25, 25, 25, 25)]))
    lone = lone[lone["item"].astype(str).str.startswith("now_")]
    result = converge(pd.concat([frame, lone], ignore_index=True))
    assert result is not None and result.overall.respondents == 36


def test_permutation_p_is_the_share_as_extreme_and_never_below_one_in_b_plus_one() -> None:
    """(1 + as extreme) / (1 + B), however strong the effect: beyond the permutations'
    reach the p is the floor 1 / (B + 1), which the report prints as a bound."""
    null = np.linspace(-1, 1, 99)[:, None]  # 99 permutations, symmetric
    inside = culture.permutation_p(null, np.array([0.5]))[0]
    assert inside == pytest.approx((1 + (np.abs(null) >= 0.5 - 1e-12).sum()) / 100)
    far = culture.permutation_p(null, np.array([4.0]))[0]
    assert far == pytest.approx(1 / 100) and culture.at_floor(far, 99)
    assert not culture.at_floor(inside, 99)


def test_a_convergence_beyond_every_permutation_says_p_below_the_floor() -> None:
    """The finding prints "p < …" where no permutation was as extreme, never "p = 0.000"."""
    from types import SimpleNamespace

    from analysis.report.convergence import words

    table = pd.DataFrame(
        {
            "wave": [1],
            "now": [40.0],
            "preferred": [10.0],
            "convergence": [30.0],
            "low": [-2.0],
            "high": [2.0],
            "p": [1 / 10_000],
            "p_holm": [1 / 10_000],
            "significant": [True],
            "respondents": [80],
            "permutations": [9_999],
        }
    )
    # what `words` reads of a report: its language and the one-row table
    report = SimpleNamespace(
        context=SimpleNamespace(lang="en"), tables={"culture_convergence": table}
    )
    [sentence] = words(report)
    assert "p < 0.0001 after Holm" in sentence and "p = 0.000" not in sentence
    table.loc[0, ["p", "p_holm"]] = [0.004, 0.004]
    [sentence] = words(report)
    assert "p = 0.004 after Holm" in sentence


def stats_norm_sf(z: float) -> float:
    """The upper tail of the standard normal, by hand (erfc)."""
    return 0.5 * math.erfc(z / math.sqrt(2))
