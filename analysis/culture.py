"""Culture convergence: do the partners want to become more alike than they are?

The culture scan asks every respondent for two profiles (100 points over the types, per
aspect): the culture now and the culture they prefer. The distance between two
organisations' mean profiles is half the summed absolute differences (points that would
have to move). Convergence of a pair is distance now − distance preferred: positive when
their preferred cultures lie closer together than their current ones.

Whether that is more than chance is judged by a permutation band: under "now and
preferred are interchangeable" each respondent's two profiles may swap labels; swapping
at random (seeded, so the same answers give the same band) and recomputing gives the
spread a convergence shows by chance. The band holds the middle 95 % of that spread; the
p-value is the share of permutations at least as extreme (`permutation_p`).

Only the respondents of organisations shown in the report enter (the caller passes them),
and they are put in an order of their own answers before the permutations are drawn: an
answer of a hidden organisation can neither enter a number nor shift the random draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

PERMUTATIONS = 9999  # p reaches 1e-4: still significant after Holm over a long family
MIN_PERMUTATIONS = 999  # at least this many, however many respondents
WORK = 10_000_000  # respondents × permutations per report: beyond it, fewer permutations
CHUNK = 2_000_000  # respondents × permutations drawn at once (memory)
SEED = 20260601  # fixed: the same answers always give the same band
BAND = 0.95
PAIR_COLUMNS = ["org", "other", "now", "preferred", "convergence", "low", "high", "p"]


@dataclass(frozen=True, slots=True)
class Overall:
    """Convergence averaged over all pairs, with its permutation band and p-value."""

    now: float  # mean distance now over all pairs of shown organisations
    preferred: float  # the same for the preferred profiles
    convergence: float  # now − preferred: > 0 when the wishes lie closer together
    low: float  # the permutation band: middle 95 % of the convergence by chance
    high: float
    p: float  # two-sided permutation p-value
    respondents: int
    permutations: int

    @property
    def beyond_chance(self) -> bool:
        """True when the observed convergence lies outside the band."""
        return not self.low <= self.convergence <= self.high


@dataclass(frozen=True, slots=True)
class Convergence:
    """Per pair and overall: distances now and preferred and their band."""

    pairs: pd.DataFrame  # PAIR_COLUMNS
    overall: Overall


@dataclass(frozen=True, slots=True)
class Profiles:
    """Each respondent's two profiles (rows in a canonical order) and organisation."""

    now: np.ndarray  # respondents × types
    preferred: np.ndarray
    org: np.ndarray  # organisation index per respondent
    orgs: list[str]


def respondent_profiles(
    answers: pd.DataFrame, allocate: dict[str, str], now: str, preferred: str, orgs: Sequence[str]
) -> Profiles:
    """Mean points per type over the aspects, now and preferred, per respondent.

    `allocate` maps each allocate item to its profile dimension (`now` or `preferred`).
    Respondents without both complete profiles are left out. Rows are sorted by
    organisation and then by the answers themselves, never by storage order.
    """
    frame = answers[answers["item"].isin(list(allocate)) & answers["org"].isin(list(orgs))]
    frame = frame.assign(frame=frame["item"].map(allocate).astype(str))
    frame = frame.dropna(subset=["value"]).sort_values("value", kind="stable")  # sums in one order
    means = frame.groupby(["org", "response", "frame", "target"], observed=True)["value"].mean()
    wide = means.unstack(["frame", "target"])
    types = sorted({str(t) for t in frame["target"].unique()})
    if wide.empty or not types:
        empty = np.empty((0, len(types)))
        return Profiles(empty, empty, np.empty(0, dtype="int64"), list(orgs))
    columns = [(f, t) for f in (now, preferred) for t in types]
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(columns)).dropna()
    values = wide.to_numpy(dtype="float64")
    org_names = [str(o) for o in wide.index.get_level_values("org")]
    order_orgs = sorted(set(org_names))
    org_index = np.array([order_orgs.index(o) for o in org_names], dtype="int64")
    order = np.lexsort([*values.T[::-1], org_index])  # last key first: org, then answers
    values, org_index = values[order], org_index[order]
    width = len(types)
    return Profiles(values[:, :width], values[:, width:], org_index, order_orgs)


def _pair_distances(means: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Half the summed absolute differences per pair; `means` is (..., orgs, types)."""
    first = means[..., [a for a, _ in pairs], :]
    second = means[..., [b for _, b in pairs], :]
    return np.asarray(np.abs(first - second).sum(axis=-1) / 2)


def permutations_for(respondents: int) -> int:
    """`PERMUTATIONS`, fewer for very many respondents (never below `MIN_PERMUTATIONS`).

    With tens of thousands of respondents the band is narrow and well estimated by fewer
    permutations; the number used is reported beside the band.
    """
    return max(MIN_PERMUTATIONS, min(PERMUTATIONS, WORK // max(respondents, 1)))


def _swap_shifts(
    swaps_of: np.random.Generator, onehot: np.ndarray, diff: np.ndarray, permutations: int
) -> np.ndarray:
    """Σ over each organisation's respondents of swap × (preferred − now): perms × orgs × types.

    A swap is one random bit per respondent and permutation; the sums are one matrix
    product per chunk of permutations (respondent × (organisation, type) weights), so
    memory stays bounded. The chunk size follows the number of respondents only, so the
    same answers give the same draws.
    """
    orgs, respondents = onehot.shape
    weights = (onehot.T[:, :, None] * diff[:, None, :]).reshape(respondents, -1)
    rows = max(1, CHUNK // max(respondents, 1))
    parts = []
    for start in range(0, permutations, rows):
        size = min(rows, permutations - start)
        raw = np.frombuffer(swaps_of.bytes(-(-size * respondents // 8)), dtype=np.uint8)
        swaps = np.unpackbits(raw)[: size * respondents].reshape(size, respondents)
        parts.append(swaps.astype("float64") @ weights)
    return np.concatenate(parts).reshape(permutations, orgs, -1)


def permutation_p(null: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Two-sided p per column of `null` (permutations × statistics) for `observed`.

    The share of permutations at least as extreme, (1 + count) / (1 + permutations): an
    exact p that is never 0 (Phipson & Smyth 2010). When no permutation is as extreme it
    is 1 / (1 + permutations), and the report says "p < 1/(B+1)" (`at_floor`) instead of
    a number the permutations cannot resolve. The families are one question each
    (`report.families`), so a p at that floor still passes Holm.
    """
    extreme = (np.abs(null) >= np.abs(observed) - 1e-12).sum(axis=0)
    return np.asarray((1 + extreme) / (null.shape[0] + 1), dtype="float64")


def at_floor(p: float, permutations: int) -> bool:
    """Whether no permutation was as extreme (the smallest p the permutations can give)."""
    return p <= 1 / (permutations + 1) * (1 + 1e-9)


def convergence(
    profiles: Profiles, permutations: int | None = None, seed: int = SEED
) -> Convergence | None:
    """Distances now and preferred per pair and overall, with permutation bands.

    None with fewer than two organisations (no pair to compare). `permutations` defaults
    to `permutations_for` the number of respondents.
    """
    if permutations is None:
        permutations = permutations_for(len(profiles.org))
    if permutations < 1:
        raise ValueError("at least one permutation is needed for a band")
    present = np.unique(profiles.org)
    if len(present) < 2:
        return None
    onehot = (profiles.org[None, :] == present[:, None]).astype("float64")  # orgs × respondents
    counts = onehot.sum(axis=1)[:, None]
    diff = profiles.preferred - profiles.now
    mean_now = onehot @ profiles.now / counts
    mean_pref = onehot @ profiles.preferred / counts
    pairs = list(combinations(range(len(present)), 2))
    observed_now = _pair_distances(mean_now, pairs)
    observed_pref = _pair_distances(mean_pref, pairs)
    observed = observed_now - observed_pref
    shift = _swap_shifts(np.random.default_rng(seed), onehot, diff, permutations) / counts
    null = _pair_distances(mean_now + shift, pairs) - _pair_distances(mean_pref - shift, pairs)
    tail = (1 - BAND) / 2
    low, high = np.quantile(null, [tail, 1 - tail], axis=0)
    p = permutation_p(null, observed)
    names = [profiles.orgs[i] for i in present]
    table = pd.DataFrame(
        {
            "org": [names[a] for a, _ in pairs],
            "other": [names[b] for _, b in pairs],
            "now": observed_now,
            "preferred": observed_pref,
            "convergence": observed,
            "low": low,
            "high": high,
            "p": p,
        },
        columns=PAIR_COLUMNS,
    )
    overall_null = null.mean(axis=1)
    overall = float(observed.mean())
    o_low, o_high = np.quantile(overall_null, [tail, 1 - tail])
    o_p = permutation_p(overall_null[:, None], np.array([overall]))[0]
    summary = Overall(
        now=float(observed_now.mean()),
        preferred=float(observed_pref.mean()),
        convergence=overall,
        low=float(o_low),
        high=float(o_high),
        p=float(o_p),
        respondents=len(profiles.org),
        permutations=permutations,
    )
    return Convergence(table, summary)
