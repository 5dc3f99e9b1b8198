"""Key findings in plain language, each chosen from a suppressed table.

Every function reads shown cells only (hidden rows are skipped or were never tested)
and returns sentences; it decides which value is worth a sentence — the strongest and
weakest dimension, the most one-sided pair, the largest significant change, the most
distant cultures, the largest culture wish — and `texts` words it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from surveys.i18n import t

from .model import Context

EVEN = 0.1  # a spread of dimension means below this names no strongest or weakest


def strengths(profile: pd.DataFrame, ctx: Context, dims: Mapping[str, str]) -> list[str]:
    """Per organisation shown on two or more dimensions: its strongest and weakest one."""
    found = []
    for org, group in profile[~profile["hidden"]].groupby("org", observed=True):
        if len(group) < 2:
            continue
        best, worst = group.iloc[group["mean"].argmax()], group.iloc[group["mean"].argmin()]
        if best["mean"] - worst["mean"] < EVEN:
            found.append(t("report.even", ctx.lang, org=ctx.org(org), v=group["mean"].mean()))
            continue
        found.append(
            t(
                "report.strongest",
                ctx.lang,
                org=ctx.org(org),
                best=dims.get(best["dimension"], best["dimension"]),
                best_v=best["mean"],
                worst=dims.get(worst["dimension"], worst["dimension"]),
                worst_v=worst["mean"],
            )
        )
    return found


def one_sided(matrix: pd.DataFrame, ctx: Context) -> list[str]:
    """The shown pair A→B, B→A whose two directions differ most."""
    shown = matrix[~matrix["hidden"]]
    pairs = shown.merge(
        shown, left_on=["org", "target"], right_on=["target", "org"], suffixes=("", "_back")
    )
    if pairs.empty:
        return []
    pairs["gap"] = (pairs["mean"] - pairs["mean_back"]).abs()
    top = pairs.iloc[pairs["gap"].argmax()]
    return [
        t(
            "report.one_sided",
            ctx.lang,
            a=ctx.org(top["org"]),
            b=ctx.org(top["target"]),
            x=top["mean"],
            y=top["mean_back"],
        )
    ]


def _largest_significant(changes: pd.DataFrame | None) -> pd.Series | None:
    """The significant change with the largest absolute difference, if any."""
    if changes is None or changes.empty:
        return None
    significant = changes[changes["significant"]]
    return None if significant.empty else significant.iloc[significant["diff"].abs().argmax()]


def changes(
    pairs: pd.DataFrame | None,
    dimensions: pd.DataFrame | None,
    ctx: Context,
    dims: Mapping[str, str],
) -> list[str]:
    """The findings about change, from the one adjusted family: never contradicting.

    The largest significant change of directed trust between partners, the largest
    significant change of a dimension, or (neither significant) that none is.
    """
    found = []
    top = _largest_significant(pairs)
    if top is not None:
        found.append(
            t(
                "report.pair_change",
                ctx.lang,
                a=ctx.org(top["org"]),
                b=ctx.org(top["target"]),
                x=top["mean_before"],
                y=top["mean_after"],
                g=top["g"],
            )
        )
    top = _largest_significant(dimensions)
    if top is not None:
        found.append(
            t(
                "report.change",
                ctx.lang,
                org=ctx.org(top["org"]),
                dim=dims.get(top["dimension"], top["dimension"]),
                a=top["mean_before"],
                b=top["mean_after"],
                g=top["g"],
            )
        )
    return found or [t("report.no_change", ctx.lang)]


def distance(table: pd.DataFrame, ctx: Context) -> list[str]:
    """The two shown cultures furthest apart."""
    far = table[table["org"] < table["other"]]
    if far.empty:
        return []
    top = far.iloc[far["distance"].argmax()]
    return [
        t(
            "report.distance",
            ctx.lang,
            a=ctx.org(top["org"]),
            b=ctx.org(top["other"]),
            d=top["distance"],
        )
    ]


def culture_gap(shown: pd.DataFrame, ctx: Context, types: Mapping[str, str]) -> list[str]:
    """The largest wish: the shown (organisation, type) whose preferred − now is largest in size."""
    if shown.empty:
        return []
    top = shown.iloc[shown["gap"].abs().argmax()]
    return [
        t(
            "report.culture_gap",
            ctx.lang,
            org=ctx.org(top["org"]),
            dir=t("report.more" if top["gap"] > 0 else "report.less", ctx.lang),
            type=types.get(top["type"], top["type"]),
            gap=top["gap"],
        )
    ]
