"""What may be shown: the anonymity promise in numbers (DESIGN §4.7, §4.8, §4.11).

Every output goes through this module:

* a cell computed from fewer than k responses is hidden (primary suppression);
* within a breakdown whose total is published (the roles of an organisation add up to
  its respondents; an organisation's score n to its roles' ns), if any cell is hidden,
  more cells are hidden — next-smallest first, so the least is lost — until the hidden
  cells together hold at least k responses, so neither a hidden cell nor their union can
  be recovered from the total by subtraction (secondary suppression, `suppress`);
* where no published figure adds the cells of a breakdown up (every table pooled over
  organisations pools only the shown ones), nothing is hidden beside the small cells
  (`primary`): hiding more would lose figures and protect nothing. The derivability
  check (`analysis.derivability`, run over every table published together) proves that
  no hidden count follows either way;
* free text only for groups of at least `k_comments`, shuffled;
* results only for closed waves: while a wave is open, response counts only.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import numpy as np
import pandas as pd

from surveys.store import Wave

MIN_K = 3


class SuppressionError(ValueError):
    """A request that would break the anonymity rules (e.g. k below the floor)."""


def check_k(k: int) -> int:
    if k < MIN_K:
        raise SuppressionError(f"the minimum group size is at least {MIN_K}, got {k}")
    return k


def suppress(
    table: pd.DataFrame,
    k: int,
    by: Sequence[str],
    count: str = "n",
    hide: Sequence[bool] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Add a `hidden` column: primary (< k) plus secondary suppression within breakdowns.

    `by` are the columns that define a breakdown: cells with equal `by` values are
    siblings (they add up to a shown total). Hidden cells must jointly hold ≥ k responses.
    `hide` marks cells hidden whatever their count (a decision taken in a coarser table:
    a role hidden among the group sizes stays hidden in every role breakdown); they
    count towards the hidden cells' k like any other.
    """
    check_k(k)
    result = table.copy()
    result["hidden"] = (result[count] < k).astype(bool)
    if hide is not None:
        result["hidden"] |= pd.Series(list(hide), index=result.index, dtype=bool)
    if result.empty:
        return with_reasons(result, k, count)
    breakdowns = (
        [frame for _, frame in result.groupby(list(by), observed=True, sort=False)]
        if by
        else [result]
    )
    for siblings in breakdowns:
        hidden = siblings["hidden"]
        if not hidden.any():
            continue
        hidden_n = int(siblings.loc[hidden, count].sum())
        shown = siblings.loc[~hidden].sort_values(count, kind="stable")
        for label, n in shown[count].items():
            if hidden_n >= k:
                break
            result.at[label, "hidden"] = True
            hidden_n += int(n)
    return with_reasons(result, k, count)


SMALL = "small"  # hidden: fewer than k behind it
PROTECT = "protect"  # hidden: k or more behind it, so that a smaller cell cannot be derived
WITHHELD = "withheld"  # hidden, its reason left out: the reason would narrow a hidden count


def with_reasons(table: pd.DataFrame, k: int, count: str = "n") -> pd.DataFrame:
    """Add `hidden_reason` to a suppressed, unmasked table: "" shown, `SMALL` or `PROTECT`.

    The reason is what a chart or table prints where the cell's figures would stand: a
    cell hidden only to protect a smaller one may hold many respondents, and "fewer than
    k" there would be untrue. The reason says whether the count is below k, so it is a
    published fact (`analysis.report.published` states it; `labels` withdraws it where
    the derivability check finds it narrows a hidden count).
    """
    hidden = table["hidden"].to_numpy(dtype=bool)
    small = table[count].to_numpy(dtype="float64") < k
    return table.assign(hidden_reason=np.where(hidden, np.where(small, SMALL, PROTECT), ""))


def inherited(table: pd.DataFrame, k: int, count: str = "n") -> pd.DataFrame:
    """Rows hidden by a decision taken in another table (an organisation not shown whole,
    a role hidden among the group sizes): all hidden, "fewer than k" where they are,
    else the reason withheld — that other table's reason may be withheld itself, and a
    "k or more" here would tell it."""
    hidden = table.assign(hidden=True)
    small = hidden[count].to_numpy(dtype="float64") < k
    return hidden.assign(hidden_reason=np.where(small, SMALL, WITHHELD))


def primary(
    table: pd.DataFrame,
    k: int,
    count: str = "n",
    hide: Sequence[bool] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Add `hidden` (and `hidden_reason`): the cells below k, plus those `hide` marks.

    For a table no published total adds up: a hidden cell's count cannot be worked out
    by subtraction, so hiding a second cell would protect nothing (issue 18: a group of
    34 hidden on 36 of 72 cells to protect one of 2 that no total included).
    """
    check_k(k)
    result = table.copy()
    result["hidden"] = (result[count] < k).astype(bool)
    if hide is not None:
        result["hidden"] |= pd.Series(list(hide), index=result.index, dtype=bool)
    return with_reasons(result, k, count)


def mask(table: pd.DataFrame, value_columns: Sequence[str], count: str = "n") -> pd.DataFrame:
    """Blank every value and the count of hidden cells: a table shows them as 'n < k' only."""
    result = table.copy()
    shown = ~result["hidden"].astype(bool)  # a concatenated table may hold it as objects
    for column in [*value_columns, count]:
        if column in result:
            result[column] = result[column].where(shown)
    return result


def releasable(waves: Sequence[Wave]) -> list[Wave]:
    """Waves whose results may be shown: closed ones only (no live differencing)."""
    return [w for w in waves if w.status == "closed"]


def comments_to_show(
    comments: pd.DataFrame, group_sizes: pd.Series, k_comments: int, seed: int | None = None
) -> pd.DataFrame:
    """Comments of (wave, org) groups with at least `k_comments` responses, shuffled.

    The order depends on the shown comments alone, never on the order they were stored
    in or on anything hidden: they are sorted, then shuffled with `seed` or, by default,
    a seed drawn from their own text (the same comments always come out the same way).
    """
    if k_comments < MIN_K:
        raise SuppressionError(f"the comment threshold is at least {MIN_K}")
    if comments.empty:
        return comments
    sizes = group_sizes.reindex(pd.MultiIndex.from_frame(comments[["wave", "org"]])).to_numpy()
    kept = comments[(sizes >= k_comments)]
    kept = kept.sort_values(list(kept.columns), kind="stable").reset_index(drop=True)
    if seed is None:
        text = "\x1e".join("\x1f".join(map(str, row)) for row in kept.itertuples(index=False))
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    order = list(range(len(kept)))
    random.Random(seed).shuffle(order)
    return kept.iloc[order].reset_index(drop=True)
