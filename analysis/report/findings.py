"""Key findings in plain language, each chosen from a suppressed table.

Every function reads shown cells only (hidden rows are skipped or were never tested)
and returns sentences; it decides which value is worth a sentence and `texts` words it
(the catalogue's `findings.*` and `report.*`). A finding claims only what a test in the
Holm family of its measurement supports (`significant`, set by `build.adjust_families`) or what
every respondent said alike (no spread: nothing to test), and prints its n and effect
size:

* the strongest and weakest dimension of an organisation: a paired test within its
  respondents (`tables.contrasts`), otherwise "no dimension stands out", with the range;
* the most one-sided trust relation: Welch's test of the two directions
  (`stats.directions`), otherwise "no relation is clearly one-sided";
* the largest significant change, or that none is;
* the most distant cultures and the largest culture wish (points: their own effect);
* organisations hidden, and why: too few respondents, or to protect a smaller group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from surveys.i18n import t

from .model import Context


def hidden(orgs: pd.DataFrame, ctx: Context) -> list[str]:
    """A sentence per hidden organisation (`tables.hidden_orgs`): named, with the reason."""
    return [
        t(
            "findings.hidden_small" if reason == "small" else "findings.hidden_protect",
            ctx.lang,
            org=ctx.org(org),
        )
        for org, reason in zip(orgs["org"], orgs["reason"], strict=True)
    ]


def _names(ids: str, dims: Mapping[str, str], lang: str) -> str:
    """Space-separated dimension ids (a tie) as one phrase of their names."""
    names = [dims.get(d, d) for d in ids.split()]
    return (
        t("findings.and", lang, a=", ".join(names[:-1]), b=names[-1])
        if len(names) > 1
        else names[0]
    )


def strengths(
    contrasts: pd.DataFrame,
    unscored: pd.DataFrame,
    ctx: Context,
    dims: Mapping[str, str],
    counts: Mapping[str, int],
) -> list[str]:
    """Per shown organisation: the dimensions it answered "don't know" only, then its
    strongest and weakest dimension when the paired test in the family supports them,
    else that none stands out (with the range, n and d_z).

    `contrasts` is `tables.contrasts` adjusted by its measurement's family; `counts` the number of
    shown dimensions with scores per organisation.
    """
    found = []
    orgs = sorted(set(contrasts["org"].astype(str)) | set(unscored["org"].astype(str)))
    for org in sorted(orgs, key=ctx.org):
        gone = unscored.loc[unscored["org"].astype(str) == org, "dimension"].astype(str)
        if len(gone):
            names = _names(" ".join(gone), dims, ctx.lang)
            found.append(t("findings.dont_know", ctx.lang, org=ctx.org(org), dims=names))
        rows = contrasts[contrasts["org"].astype(str) == org]
        if len(rows):
            found.append(_strength(rows.iloc[0], ctx, dims, counts.get(org, 2)))
    return found


def _strength(row: pd.Series, ctx: Context, dims: Mapping[str, str], count: int) -> str:
    """The one sentence about an organisation's dimensions (see `strengths`)."""
    lang = ctx.lang
    words = {
        "org": ctx.org(row["org"]),
        "best": _names(str(row["high"]), dims, lang),
        "best_v": row["mean_high"],
        "worst": _names(str(row["low"]), dims, lang),
        "worst_v": row["mean_low"],
    }
    if row["mean_high"] == row["mean_low"]:
        return t("findings.equal", lang, org=words["org"], count=count, v=row["mean_high"])
    if row["n"] != row["n"] or row["n"] < max(ctx.k, 2):  # too few answered both
        return t("findings.close_untested", lang, **words, count=count, k=ctx.k)
    n = int(row["n"])
    if not row["spread"]:  # every respondent gave the same difference: nothing to test
        key = "findings.strongest_same" if row["diff"] != 0 else "findings.same_both"
        return t(key, lang, **words, n=n, diff=row["diff"])
    key = "findings.strongest" if bool(row.get("significant", False)) else "findings.close"
    return t(key, lang, **words, count=count, n=n, diff=row["diff"], dz=row["dz"])


def one_sided(pairs: pd.DataFrame | None, ctx: Context) -> list[str]:
    """The most one-sided trust relation the family's Welch tests support, or that none is.

    Of the pairs with a significant difference the largest gap is named; a pair whose
    every rater on both sides gave one and the same answer is a fact, not a test; with
    neither, the largest gap is named as not significant. `pairs` is
    `stats.directions` adjusted by its measurement's family.
    """
    if pairs is None or pairs.empty:
        return []
    gap = pairs["diff"].abs()
    significant = pairs["significant"].astype(bool) & pairs["spread"].astype(bool)
    same = ~pairs["spread"].astype(bool) & (gap > 0)
    if significant.any():
        key, chosen = "findings.one_sided", pairs[significant.to_numpy()]
    elif same.any():
        key, chosen = "findings.one_sided_same", pairs[same.to_numpy()]
    else:
        key, chosen = "findings.not_one_sided", pairs[pairs["spread"].astype(bool).to_numpy()]
        if chosen.empty:
            return []
    top = chosen.iloc[chosen["diff"].abs().to_numpy().argmax()]
    return [
        t(
            key,
            ctx.lang,
            a=ctx.org(top["org"]),
            b=ctx.org(top["target"]),
            x=top["mean_to"],
            y=top["mean_from"],
            nx=int(top["n_to"]),
            ny=int(top["n_from"]),
            d=top["diff"],
            g=top["g"],
        )
    ]


def _largest_significant(changes: pd.DataFrame | None) -> pd.Series | None:
    """The significant change with the largest absolute difference, if any."""
    if changes is None or changes.empty:
        return None
    significant = changes[changes["significant"].astype(bool).to_numpy()]
    return None if significant.empty else significant.iloc[significant["diff"].abs().argmax()]


def _unanimous(changes: pd.DataFrame | None) -> pd.DataFrame:
    """Changes no test can judge: both waves without spread, the means apart."""
    if changes is None or changes.empty or "spread" not in changes:
        return pd.DataFrame()
    return changes[(~changes["spread"].astype(bool) & (changes["diff"] != 0)).to_numpy()]


def changes(
    pairs: pd.DataFrame | None,
    dimensions: pd.DataFrame | None,
    ctx: Context,
    dims: Mapping[str, str],
) -> list[str]:
    """The findings about change, from the one adjusted family: never contradicting.

    The largest significant change of directed trust between partners, the largest
    significant change of a dimension, or (neither significant) that none is; beside
    them every change that all respondents of both waves gave alike (not tested).
    """
    found = []
    top = _largest_significant(pairs)
    if top is not None:
        found.append(
            t(
                "findings.pair_change",
                ctx.lang,
                a=ctx.org(top["org"]),
                b=ctx.org(top["target"]),
                x=top["mean_before"],
                y=top["mean_after"],
                na=int(top["n_before"]),
                nb=int(top["n_after"]),
                g=top["g"],
            )
        )
    top = _largest_significant(dimensions)
    if top is not None:
        found.append(
            t(
                "findings.change",
                ctx.lang,
                org=ctx.org(top["org"]),
                dim=dims.get(top["dimension"], top["dimension"]),
                a=top["mean_before"],
                b=top["mean_after"],
                na=int(top["n_before"]),
                nb=int(top["n_after"]),
                g=top["g"],
            )
        )
    unanimous = [*_same_changes(_unanimous(dimensions), ctx, dims)]
    if not found:
        found.append(t("findings.no_change_tested" if unanimous else "report.no_change", ctx.lang))
    return found + unanimous


def _same_changes(table: pd.DataFrame, ctx: Context, dims: Mapping[str, str]) -> list[str]:
    """A sentence per change every respondent of both waves gave alike."""
    return [
        t(
            "findings.change_same",
            ctx.lang,
            org=ctx.org(row["org"]),
            dim=dims.get(row["dimension"], row["dimension"]),
            a=row["mean_before"],
            b=row["mean_after"],
            na=int(row["n_before"]),
            nb=int(row["n_after"]),
        )
        for _, row in table.iterrows()
    ]


def zero_width(cells: pd.DataFrame, ctx: Context, dims: Mapping[str, str]) -> list[str]:
    """A remark per shown cell whose interval has no width: everyone answered the same."""
    flat = cells[(~cells["hidden"] & (cells["sd"] == 0)).to_numpy()]
    return [
        t(
            "findings.zero_width",
            ctx.lang,
            org=ctx.org(row["org"]),
            dim=dims.get(str(row["dimension"]), str(row["dimension"])),
            v=row["mean"],
            n=int(row["n"]),
        )
        for _, row in flat.iterrows()
    ]


def distance(
    table: pd.DataFrame, ctx: Context, sizes: Mapping[str, int] | None = None
) -> list[str]:
    """The two shown cultures furthest apart, with the respondents behind each."""
    far = table[table["org"] < table["other"]]
    if far.empty:
        return []
    top = far.iloc[far["distance"].argmax()]
    sizes = sizes or {}
    return [
        t(
            "findings.distance",
            ctx.lang,
            a=ctx.org(top["org"]),
            b=ctx.org(top["other"]),
            d=top["distance"],
            na=sizes.get(str(top["org"]), "–"),
            nb=sizes.get(str(top["other"]), "–"),
        )
    ]


def culture_gap(
    shown: pd.DataFrame,
    ctx: Context,
    types: Mapping[str, str],
    sizes: Mapping[str, int] | None = None,
) -> list[str]:
    """The largest wish: the shown (organisation, type) whose preferred − now is largest in size."""
    if shown.empty:
        return []
    top = shown.iloc[shown["gap"].abs().argmax()]
    return [
        t(
            "findings.culture_gap",
            ctx.lang,
            org=ctx.org(top["org"]),
            dir=t("report.more" if top["gap"] > 0 else "report.less", ctx.lang),
            type=types.get(top["type"], top["type"]),
            gap=top["gap"],
            n=(sizes or {}).get(str(top["org"]), "–"),
        )
    ]


def sizes_of(table: pd.DataFrame, keys: Sequence[str] = ("org",)) -> dict[str, int]:
    """The smallest n per organisation of a shown table (the n a finding about it prints)."""
    if table.empty or "n" not in table:
        return {}
    smallest = table.groupby(list(keys), observed=True)["n"].min()
    return {str(org): int(n) for org, n in smallest.items()}


# The findings each chart supports, by the catalogue keys that word them: a caption or a
# slide title finds its finding among a report's by these keys' templates.
OF_CHART: dict[str, tuple[str, ...]] = {
    "profile": (
        "findings.strongest",
        "findings.strongest_same",
        "findings.close",
        "findings.close_untested",
        "findings.same_both",
        "findings.equal",
    ),
    "matrix": (
        "findings.one_sided",
        "findings.one_sided_same",
        "findings.not_one_sided",
        "findings.pair_change",
    ),
    "trend": (
        "findings.change",
        "findings.change_same",
        "findings.no_change_tested",
        "report.no_change",
    ),
    "distance": ("findings.distance",),
    "culture": ("findings.culture_gap",),
}
