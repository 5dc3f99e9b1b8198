"""Beside every trend: the change the two compared measurements could have detected.

`add` puts the table `detectable_change` on the report (one row per organisation and
dimension shown in both waves, from the shown profile cells only); `beside` prints the
rows of one trend chart's dimension under that chart; `methods` is the appendix's
paragraph saying which choice was made (the α of the verdicts, power, pooled SD, the
finite population correction where a headcount is configured).

The α is the one the verdicts on these changes use: the α/m of the family of dimension
changes (Holm's first step, `families.effective_alpha`), so the figure never promises a
change that the verdicts could not call. Each row says whether the finite population
correction applies.
"""

from __future__ import annotations

import html
from functools import partial

import pandas as pd

from surveys.i18n import t

from .. import charts, power
from . import families
from .model import Context, Report

TABLE = "detectable_change"


def add(
    report: Report, ctx: Context, profile: pd.DataFrame, before: int, after: int, tests: int
) -> None:
    """Attach the MDC of every (org, dimension) cell shown in both compared waves, at the
    per-comparison α of the verdicts on those changes: a family of `tests` comparisons."""
    alpha = families.effective_alpha(tests)
    table = power.trend_detectable(profile, before, after, ctx.headcounts, alpha=alpha)
    report.tables[TABLE] = table.assign(before=before, after=after, alpha=alpha, tests=tests)


def trend_dimension(report: Report, index: int) -> str | None:
    """The dimension drawn by the report's `index`-th chart, if that chart is a trend."""
    if index >= len(report.charts):
        return None
    name, draw = report.charts[index]
    if name != "trend" or not isinstance(draw, partial):
        return None
    dimension = draw.keywords.get("dimension")
    return None if dimension is None else str(dimension)


def beside(report: Report, index: int, ctx: Context) -> list[str]:
    """The small table under a trend chart: per organisation n, SD and detectable change."""
    dimension = trend_dimension(report, index)
    table = report.tables.get(TABLE)
    if dimension is None or table is None or table.empty:
        return []
    rows = table[table["dimension"].astype(str) == dimension]
    if rows.empty:
        return []
    lang = ctx.lang
    first = rows.iloc[0]
    note = t(
        "detectable.report_note",
        lang,
        before=report.wave_names.get(int(first["before"]), first["before"]),
        after=report.wave_names.get(int(first["after"]), first["after"]),
        power=round(power.POWER * 100),
        alpha=_level(float(first["alpha"])),
        tests=int(first["tests"]),
        family=families.ALPHA,
    )
    known = rows["headcount"].notna()
    fpc = t(
        "detectable.fpc_all"
        if known.all()
        else "detectable.fpc_some"
        if known.any()
        else "detectable.fpc_none",
        lang,
        orgs=", ".join(ctx.org(o) for o in rows.loc[known.to_numpy(), "org"]),
    )
    shown = {
        t("report.col_org", lang): [ctx.org(o) for o in rows["org"]],
        t("detectable.col_n", lang): [
            f"{b} → {a}" for b, a in zip(rows["n_before"], rows["n_after"], strict=True)
        ],
        t("detectable.col_sd", lang): [charts.number(v, ".2f", lang) for v in rows["sd"]],
        t("detectable.col_mdc", lang): [charts.number(v, ".2f", lang) for v in rows["mdc"]],
    }
    if rows["mdc_fpc"].notna().any():
        shown[t("detectable.col_mdc_fpc", lang)] = [
            "–" if v != v else charts.number(v, ".2f", lang) for v in rows["mdc_fpc"]
        ]
    return [
        "<div class='detectable'>"
        f"<p class='meta'>{html.escape(note)} {html.escape(fpc)}</p>"
        + pd.DataFrame(shown).to_html(index=False)
        + "</div>"
    ]


def methods(ctx: Context) -> str:
    """The methods paragraph on detectable change, as HTML."""
    text = t(
        "detectable.methods",
        ctx.lang,
        alpha=families.ALPHA,
        power=round(power.POWER * 100),
        rate=round(power.DEFAULT_RESPONSE_RATE * 100),
    )
    return f"<p>{html.escape(text)}</p>"


def _level(alpha: float) -> str:
    """An α for print: enough digits to tell .05/12 from .05/13 (0.0042, 0.0038)."""
    return f"{alpha:.2g}" if alpha < 0.01 else f"{alpha:.3g}"
