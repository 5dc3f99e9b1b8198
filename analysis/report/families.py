"""The families of tests: fixed by the survey, the measurement and the question asked.

A verdict ("significant after Holm") must not depend on what else a page shows: the
spring report and the year report say the same about the same finding. So a family is
declared by what was measured and what is asked of it, before any data. Per survey and
measurement:

* `dimensions` — does a dimension stand out in an organisation? Each shown organisation's
  strongest against its weakest dimension (paired; the p already multiplied by the pairs
  it was picked from);
* `relations` — is a trust relation one-sided? The two directions of every shown pair
  (Welch);
* `convergence` — do the partners' wished-for cultures lie closer together? (one test);

and per survey, measurement and the measurement it is compared with:

* `dimension_changes` — did a dimension score of an organisation change? (Welch);
* `relation_changes` — did a trust relation change? (Welch).

The first three come from one measurement's answers alone, the last two from those of the
two measurements compared. Within a family Holm's step-down procedure keeps the chance of
any false "significant" at `ALPHA` (the headline claims); the exploratory grids of trust
relations (`GRIDS`) also get the Benjamini–Hochberg false discovery rate (`q_bh`), which
reads a whole grid at once and is printed beside them, never in a headline. A report (one
survey) holds at most one family of each kind; `adjust` adjusts each family of each report
on its own, so several reports on one page, or one report in several artefacts, cannot
move each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import stats
from . import convergence
from .model import Report

ALPHA = 0.05  # family-wise: the level of every headline claim
KINDS: dict[str, tuple[str, ...]] = {
    "dimensions": ("dimension_contrasts",),
    "relations": ("reciprocity_tests",),
    "convergence": (convergence.OVERALL,),
    "dimension_changes": ("changes",),
    "relation_changes": ("trust_matrix_changes",),
}
FAMILY = tuple(name for names in KINDS.values() for name in names)  # every tested table
GRIDS = ("reciprocity_tests", "trust_matrix_changes")  # exploratory: also BH q-values


@dataclass(frozen=True, slots=True)
class FamilyKey:
    """Which family a test belongs to: the survey, the kind, and the measurement(s).

    `before` is the measurement a change is measured from (None within one measurement).
    """

    survey: str
    kind: str
    wave: int
    before: int | None


def tables_of(report: Report, kind: str) -> list[str]:
    """The names of the report's non-empty tables in the family of `kind`."""
    return [n for n in KINDS[kind] if n in report.tables and not report.tables[n].empty]


def size(report: Report, kind: str) -> int:
    """The number of tests in the report's family of `kind` (comparisons with a p)."""
    return sum(int(report.tables[n]["p"].notna().sum()) for n in tables_of(report, kind))


def key(report: Report, kind: str) -> FamilyKey | None:
    """The family of `kind` of this report, named by survey and measurement(s)."""
    names = tables_of(report, kind)
    if not names:
        return None
    row = report.tables[names[0]].iloc[0]
    if "before" not in row:
        return FamilyKey(report.survey.id, kind, int(row["wave"]), None)
    return FamilyKey(report.survey.id, kind, int(row["after"]), int(row["before"]))


def effective_alpha(tests: int, alpha: float = ALPHA) -> float:
    """The per-comparison level the first test of a family of `tests` must reach: α/m.

    Holm's first step compares the smallest p with α/m, its last with α. A change that a
    test at α/m detects with the stated power is called whatever the family's other tests
    show; at the plain α it would be called only if all of them were called too. So α/m
    is the level at which a promise of detectable change can honestly be made.
    """
    return alpha / max(tests, 1)


def adjust(reports: Iterable[Report], alpha: float = ALPHA) -> bool:
    """Holm (and BH for the grids) within each family of each report, in place.

    Returns True if any adjusted p changed (the caller rewords and redraws). Never pools
    reports: a report is one survey, and its families are its measurement's.
    """
    changed = False
    for report in reports:
        for kind in KINDS:
            changed |= _adjust_one(report, tables_of(report, kind), alpha)
    return changed


def _adjust_one(report: Report, names: Sequence[str], alpha: float) -> bool:
    """Holm over the rows of `names` together (one family); BH q for the grids."""
    if not names:
        return False
    p = np.concatenate([report.tables[n]["p"].to_numpy(dtype="float64") for n in names])
    adjusted, q = stats.holm(p), stats.benjamini_hochberg(p)
    start, changed = 0, False
    for name in names:
        table = report.tables[name]
        new = adjusted[start : start + len(table)]
        new_q = q[start : start + len(table)]
        start += len(table)
        old = table["p_holm"].to_numpy(dtype="float64")
        if np.array_equal(old, new, equal_nan=True) and (name not in GRIDS or "q_bh" in table):
            continue
        table = table.assign(p_holm=new, significant=new < alpha)
        if name in GRIDS:
            table = table.assign(q_bh=new_q)
        report.tables[name] = table
        changed = True
    return changed
