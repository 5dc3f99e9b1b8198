"""The HTML of one page per partner organisation (a section of the report, or `--org`).

What a page shows comes from `partners.page_of` (rows of the report's suppressed
tables); this module only prints them: response, scores against the partnership with
intervals, trust given and received with reciprocity, the role gap, culture against the
other partners, comments. Nothing is computed here.
"""

from __future__ import annotations

import html
from collections.abc import Hashable
from typing import Any, cast

import pandas as pd

from surveys.i18n import t

from .. import charts
from .model import Context, Report
from .partners import PartnerPage, page_of

LOW_RESPONSE = 60.0  # % below which intervals may not represent the group (METHODS.md)


def section(reports: list[Report], ctx: Context) -> list[str]:
    """The section with one page per partner organisation, in name order."""
    results = [r for r in reports if r.tables.get("questions") is not None]
    if not results:
        return []
    lang = ctx.lang
    parts = [
        f"<h2>{html.escape(t('partner.section', lang))}</h2>",
        f"<p class='meta'>{html.escape(t('partner.intro', lang, k=ctx.k))}</p>",
    ]
    for org in sorted(ctx.orgs, key=ctx.org):
        parts.append(f"<section class='partner' id='partner-{html.escape(org)}'>")
        parts.append(f"<h3>{html.escape(ctx.org(org))}</h3>")
        parts.extend(page(results, ctx, org, level=4))
        parts.append("</section>")
    return parts


def page(reports: list[Report], ctx: Context, org: str, level: int = 2) -> list[str]:
    """One partner's page: a part per survey, headings from `level` down."""
    lang = ctx.lang
    parts = []
    for report in reports:
        if report.tables.get("questions") is None:
            continue
        view = page_of(report, org)
        parts.append(f"<h{level}>{html.escape(report.survey.title.get(lang))}</h{level}>")
        parts.extend(_response(view, ctx))
        if view.empty:
            parts.append(f"<p>{html.escape(t('partner.nothing', lang, k=ctx.k))}</p>")
        sub = min(level + 1, 6)
        parts.extend(_scores(view, report, ctx, sub))
        parts.extend(_trust(view, ctx, sub))
        parts.extend(_roles(view, report, ctx, sub))
        parts.extend(_culture(view, report, ctx, sub))
        parts.extend(_answers(view, report, ctx, sub))
        parts.extend(_comments(view, report, ctx, sub))
    return parts


def table(columns: dict[str, list[str]]) -> str:
    """An HTML table of text columns, escaped: what `DataFrame.to_html` gives, at a tenth of
    its cost (a page per partner makes dozens of small tables)."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    rows = zip(*columns.values(), strict=True)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>\n"
        for row in rows
    )
    return f"<table class='dataframe'><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def _heading(key: str, lang: str, level: int, **params: object) -> str:
    return f"<h{level}>{html.escape(t(key, lang, **params))}</h{level}>"


def _response(view: PartnerPage, ctx: Context) -> list[str]:
    """Completed questionnaires, and the rate where the headcount is known."""
    if view.counts.empty:
        return []
    row = view.counts.iloc[0]
    lang = ctx.lang
    rate = row.get("rate")
    if rate is None or rate != rate:
        text = t("partner.response", lang, completed=int(row["completed"]))
    else:
        text = t(
            "partner.response_rate",
            lang,
            completed=int(row["completed"]),
            headcount=int(row["headcount"]),
            rate=float(rate),
        )
        if rate < LOW_RESPONSE:
            text += " " + t("partner.low_response", lang, limit=LOW_RESPONSE)
    return [f"<p class='response'>{html.escape(text)}</p>"]


def _mean(hidden: str, mean: float, low: float, high: float, ctx: Context) -> str:
    """'3,45 [3,10 – 3,80]', or why a hidden cell (`hidden`: its reason) is hidden."""
    if hidden or mean != mean:
        return charts.hidden_label(hidden, ctx.k, ctx.lang)
    number = charts.number
    lang = ctx.lang
    return f"{number(mean, '.2f', lang)} [{number(low, '.2f', lang)} – {number(high, '.2f', lang)}]"


def _scores(view: PartnerPage, report: Report, ctx: Context, level: int) -> list[str]:
    """Its latest scores per dimension beside the partnership's, both with intervals."""
    rows = view.scores
    if rows.empty:
        return []
    lang = ctx.lang
    dims = report.dimension_names
    has_all = "all_mean" in rows
    why = charts.reasons(rows)
    shown = {
        t("report.col_dimension", lang): [dims.get(d, d) for d in rows["dimension"]],
        ctx.org(view.org): [
            _mean(w, m, lo, hi, ctx)
            for w, m, lo, hi in zip(why, rows["mean"], rows["ci_low"], rows["ci_high"], strict=True)
        ],
        "n": [
            charts.hidden_label(w, ctx.k, lang) if w else f"{n:.0f}"
            for w, n in zip(why, rows["n"], strict=True)
        ],
    }
    if has_all:
        shown[t("partner.col_partnership", lang)] = [
            _mean("", m, lo, hi, ctx)
            for m, lo, hi in zip(
                rows["all_mean"], rows["all_ci_low"], rows["all_ci_high"], strict=True
            )
        ]
    wave = report.wave_names.get(int(rows["wave"].iloc[0]), "")
    return [
        _heading("partner.scores", lang, level),
        f"<p class='meta'>{html.escape(t('partner.scores_note', lang, wave=wave))}</p>",
        table(shown),
    ]


def _trust(view: PartnerPage, ctx: Context, level: int) -> list[str]:
    """Trust it gives and receives, partner by partner, with the reciprocity test."""
    if view.given.empty and view.received.empty:
        return []
    lang = ctx.lang

    def cells(table: pd.DataFrame, key: str) -> dict[str, str]:
        if table.empty:
            return {}
        why = charts.reasons(table)
        return {
            str(other): charts.hidden_label(w, ctx.k, lang) if w else charts.number(m, ".2f", lang)
            for other, w, m in zip(table[key], why, table["mean"], strict=True)
        }

    given, received = cells(view.given, "target"), cells(view.received, "org")
    pairs = view.pairs.set_index(view.pairs["target"].astype(str)) if len(view.pairs) else None
    partners = sorted(set(given) | set(received), key=ctx.org)
    diff, test = [], []
    for other in partners:
        if pairs is None or other not in pairs.index:
            diff.append("–")
            test.append("–")
            continue
        row: dict[Hashable, Any] = pairs.loc[other].to_dict()
        diff.append(interval(float(row["diff"]), float(row["ci_low"]), float(row["ci_high"]), lang))
        test.append(t("network.yes" if bool(row["significant"]) else "network.no", lang))
    shown = {
        t("partner.col_partner", lang): [ctx.org(o) for o in partners],
        t("partner.col_given", lang, org=ctx.org(view.org)): [given.get(o, "–") for o in partners],
        t("partner.col_received", lang, org=ctx.org(view.org)): [
            received.get(o, "–") for o in partners
        ],
        t("network.col_diff", lang): diff,
        t("network.col_one_sided", lang): test,
    }
    return [
        _heading("partner.trust", lang, level),
        f"<p class='meta'>{html.escape(t('partner.trust_note', lang))}</p>",
        table(shown),
    ]


def interval(value: float, low: float, high: float, lang: str) -> str:
    """'+0,40 [+0,10 – +0,70]': a difference with its interval, as the reader writes numbers."""
    if value != value:
        return "–"
    number = charts.number
    low_high = f"{number(low, '+.2f', lang)} – {number(high, '+.2f', lang)}"
    return f"{number(value, '+.2f', lang)} [{low_high}]"


def _roles(view: PartnerPage, report: Report, ctx: Context, level: int) -> list[str]:
    """Its scores per role (the role gap within the organisation)."""
    rows = view.roles
    if rows.empty or rows["role"].nunique() < 2:
        return []
    lang = ctx.lang
    dims = report.dimension_names
    shown: dict[str, list[str]] = {
        t("report.col_dimension", lang): [
            dims.get(str(d), str(d)) for d in dict.fromkeys(rows["dimension"])
        ]
    }
    for role, group in rows.groupby("role", observed=True, sort=True):
        by_dim = group.assign(why=charts.reasons(group))
        by_dim = by_dim.set_index(by_dim["dimension"].astype(str))
        shown[ctx.roles.get(str(role), str(role)) or "–"] = [
            _role_cell(by_dim, str(d), ctx) for d in dict.fromkeys(rows["dimension"])
        ]
    return [_heading("partner.roles", lang, level), table(shown)]


def _role_cell(by_dim: pd.DataFrame, dimension: str, ctx: Context) -> str:
    if dimension not in by_dim.index:
        return "–"
    if by_dim.loc[dimension, "hidden"]:
        return charts.hidden_label(str(by_dim.loc[dimension, "why"]), ctx.k, ctx.lang)
    return charts.number(float(cast(float, by_dim.loc[dimension, "mean"])), ".2f", ctx.lang)


def _culture(view: PartnerPage, report: Report, ctx: Context, level: int) -> list[str]:
    """Its culture now and preferred per type, against the mean of the other partners."""
    rows = view.culture
    if rows.empty:
        return []
    lang = ctx.lang
    names = {}
    for dimension in report.survey.dimensions:
        names.update({o.value: o.label.get(lang) for o in dimension.options})

    def points(values: pd.Series) -> list[str]:
        return [
            charts.hidden_label(w, ctx.k, lang)
            if w
            else "–"
            if v != v
            else charts.number(v, ".0f", lang)
            for w, v in zip(charts.reasons(rows), values, strict=True)
        ]

    def others(values: pd.Series) -> list[str]:
        return ["–" if v != v else charts.number(v, ".0f", lang) for v in values]

    shown = {
        t("partner.col_type", lang): [names.get(ty, ty) for ty in rows["type"]],
        t("charts.now", lang): points(rows["now"]),
        t("charts.preferred", lang): points(rows["preferred"]),
        t("partner.col_others_now", lang): others(rows["others_now"]),
        t("partner.col_others_preferred", lang): others(rows["others_preferred"]),
    }
    return [_heading("partner.culture", lang, level), table(shown)]


def _answers(view: PartnerPage, report: Report, ctx: Context, level: int) -> list[str]:
    """Its answers per option of every choice, multi and NPS question, with its NPS."""
    rows = view.shares
    if rows.empty or rows["hidden"].all():
        return []
    lang = ctx.lang
    nps = view.nps.set_index("question") if len(view.nps) else pd.DataFrame()
    parts = [_heading("questions.shares", lang, level)]
    for question in dict.fromkeys(rows["question"]):
        q = report.survey.question(str(question))
        mine = rows[(rows["question"] == question).to_numpy()]
        labels = {o.value: o.label.get(lang) for o in q.options} or {
            str(v): str(v) for v in mine["option"]
        }
        share = dict(zip(mine["option"].astype(str), mine["share"], strict=True))
        text = "; ".join(
            f"{name}: {charts.number(share.get(value, 0.0), '.0f', lang)}%"
            for value, name in labels.items()
        )
        if mine["hidden"].any():
            text = charts.hidden_label(charts.reasons(mine[mine["hidden"]])[0], ctx.k, lang)
        elif question in nps.index:
            text = t(
                "questions.nps_score",
                lang,
                score=charts.number(float(nps.loc[question, "score"]), "+.0f", lang),
            )
        parts.append(
            f"<p><b>{html.escape((q.label or q.text).get(lang))}</b>: {html.escape(text)}</p>"
        )
    return parts


def _comments(view: PartnerPage, report: Report, ctx: Context, level: int) -> list[str]:
    """Its comments (the report's, already thresholded and shuffled), per open question."""
    if view.comments.empty:
        return []
    parts = [_heading("report.comments", ctx.lang, level)]
    items = view.comments["item"].astype(str).to_numpy()
    for q in report.survey.questions:
        if (items == q.id).any():
            parts.append(f"<p class='meta'>{html.escape(q.text.get(ctx.lang))}</p>")
            parts.extend(
                f"<blockquote>{html.escape(str(text))}</blockquote>"
                for text in view.comments.loc[items == q.id, "text"]
            )
    return parts
