"""The culture section's convergence: distances now and preferred, and the chance band.

`add` computes, for the latest wave and the organisations the culture section shows,
each pair's distance now and preferred with its permutation band (`culture_convergence_pairs`,
descriptive) and the overall convergence with its permutation p (`culture_convergence`,
one row, a member of its measurement's Holm family). `words` makes the finding from the
adjusted p; `section` prints both tables for the page.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from surveys.i18n import t

from .. import charts, culture
from .model import Context, Report
from .tables import Shape

OVERALL = "culture_convergence"  # one row; in the report's Holm family
PAIRS = "culture_convergence_pairs"


def add(report: Report, answers: pd.DataFrame, shape: Shape, orgs: list[str], wave: int) -> bool:
    """Attach the convergence tables of `wave` for the shown `orgs`; False if no pair."""
    if shape.now is None or shape.preferred is None or len(orgs) < 2:
        return False
    latest = answers[(answers["wave"] == wave).to_numpy()]
    profiles = culture.respondent_profiles(latest, shape.allocate, shape.now, shape.preferred, orgs)
    result = culture.convergence(profiles)
    if result is None:
        return False
    report.tables[PAIRS] = result.pairs.drop(columns="p").assign(wave=wave)
    o = result.overall
    report.tables[OVERALL] = pd.DataFrame(
        {
            "wave": [wave],
            "now": [o.now],
            "preferred": [o.preferred],
            "convergence": [o.convergence],
            "low": [o.low],
            "high": [o.high],
            "p": [o.p],
            "p_holm": [np.nan],  # set by its measurement's family
            "significant": [False],
            "respondents": [o.respondents],
            "permutations": [o.permutations],
        }
    )
    return True


def words(report: Report) -> list[str]:
    """The finding: closer together, further apart, or about as far, from the adjusted p."""
    ctx, table = report.context, report.tables.get(OVERALL)
    if ctx is None or table is None or table.empty:
        return []
    row = table.iloc[0]
    p = float(row["p_holm"]) if row["p_holm"] == row["p_holm"] else float(row["p"])
    bound = culture.at_floor(float(row["p"]), int(row["permutations"]))
    shown = f"< {p:.4f}" if bound else f"= {p:.3f}"  # no permutation as extreme: a bound
    key = "culture.no_difference"
    if bool(row["significant"]):
        key = "culture.converging" if row["convergence"] > 0 else "culture.diverging"
    return [
        t(
            key,
            ctx.lang,
            now=float(row["now"]),
            preferred=float(row["preferred"]),
            change=float(row["convergence"]),
            low=float(row["low"]),
            high=float(row["high"]),
            p=shown,
            n=int(row["respondents"]),
        )
    ]


def section(report: Report, ctx: Context) -> list[str]:
    """The pairs' distances now and preferred with their bands, the overall row last."""
    pairs, overall = report.tables.get(PAIRS), report.tables.get(OVERALL)
    if pairs is None or overall is None or pairs.empty:
        return []
    lang = ctx.lang

    def num(value: float, spec: str = ".1f") -> str:
        return charts.number(float(value), spec, lang)

    names = [
        f"{ctx.org(a)} – {ctx.org(b)}" for a, b in zip(pairs["org"], pairs["other"], strict=True)
    ]
    rows = pd.concat([pairs, overall], ignore_index=True)
    shown = pd.DataFrame(
        {
            t("culture.col_pair", lang): [*names, t("culture.all_pairs", lang)],
            t("culture.col_now", lang): [num(v) for v in rows["now"]],
            t("culture.col_preferred", lang): [num(v) for v in rows["preferred"]],
            t("culture.col_change", lang): [num(v) for v in rows["convergence"]],
            t("culture.col_band", lang): [
                f"{num(lo)} … {num(hi)}" for lo, hi in zip(rows["low"], rows["high"], strict=True)
            ],
        }
    )
    note = t("culture.note", lang, permutations=int(overall["permutations"].iloc[0]))
    return [
        f"<h3>{html.escape(t('culture.heading', lang))}</h3>",
        *(f"<p>{html.escape(line)}</p>" for line in words(report)),
        shown.to_html(index=False),
        f"<p class='meta'>{html.escape(note)}</p>",
    ]
