"""The report as one self-contained HTML page (plotly.js inlined once, with the first figure).

Key findings of every survey first, then each survey's charts, the tables of every
question (options, NPS, culture aspects), trust as a network and the comments; then one
page per partner organisation (`partner_html`) and one methods appendix: the order in
which a workshop reads it. `render_html(…, org=ID)` is the page of one partner only.
Nothing is computed here.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any, cast

import pandas as pd
import plotly.graph_objects as go

from surveys.i18n import t
from surveys.model import Question
from surveys.qtypes import QUESTION_TYPES

from .. import charts
from . import convergence, detectable, labels, partner_html
from .build import adjust_families
from .model import Context, Report, dimension_names

# The page's style lives beside this module, so screen, phone and print rules are one file.
CSS = (resources.files("analysis.report") / "page.css").read_text("utf-8")

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}</style></head><body>
{body}
</body></html>
"""


def render_html(reports: list[Report], ctx: Context, org: str | None = None) -> str:
    """One self-contained page for one or more surveys (plotly.js inlined once).

    Key findings of every survey first, then each survey's charts, tables and comments,
    one page per partner organisation, then one methods appendix: the order in which a
    workshop reads it. With `org`, the page of that one partner only (and the methods):
    the same suppressed tables, so it shows nothing the full report hides.
    """
    lang = ctx.lang
    adjust_families(reports)  # each report's own families: the page changes no verdict
    if org is not None:
        return _partner_only(reports, ctx, org)
    parts = [f"<h1>{html.escape(ctx.partnership)} — {t('report.title', lang)}</h1>"]
    parts.append(f"<h2>{t('report.findings', lang)}</h2>")
    for report in reports:
        parts.append(f"<h3>{html.escape(report.survey.title.get(lang))}</h3>")
        parts.extend(f"<p class='note'>{html.escape(note)}</p>" for note in report.notes)
        if report.findings:
            items = "".join(f"<li>{html.escape(f)}</li>" for f in report.findings)
            parts.append(f"<ul class='findings'>{items}</ul>")
    parts.extend(_progress(reports, ctx))
    plotly = _Plotly()
    for report in reports:
        parts.append(f"<h2>{html.escape(report.survey.title.get(lang))}</h2>")
        for index, (_, figure) in enumerate(report.figures):
            parts.append(plotly.figure(figure))
            parts.extend(detectable.beside(report, index, ctx))  # under each trend: its MDC
        parts.extend(convergence.section(report, ctx))
        parts.extend(_per_option(report, ctx))
        parts.extend(_answer_shares(report, ctx))
        parts.extend(_nps(report, ctx))
        parts.extend(_aspects(report, ctx))
        parts.extend(_network(report, ctx))
        parts.extend(_comments(report, ctx))
    parts.extend(partner_html.section(reports, ctx))
    parts.extend(_methods(reports, ctx))
    return PAGE.format(
        lang=lang, title=html.escape(ctx.partnership), css=CSS, body="\n".join(parts)
    )


class _Plotly:
    """Figures as HTML: plotly.js inlined with the first one only, ids numbered in order."""

    def __init__(self) -> None:
        self.count = 0

    def figure(self, figure: go.Figure) -> str:
        self.count += 1
        drawn = figure.to_html(
            full_html=False,
            include_plotlyjs=self.count == 1,
            div_id=f"figure-{self.count}",  # the same page for the same results
            config={"displaylogo": False, "responsive": True},
        )
        return f"<div class='figure'>{drawn}</div>"


def _partner_only(reports: list[Report], ctx: Context, org: str) -> str:
    """The page of one partner organisation: its section of every survey, the methods."""
    if org not in ctx.orgs:
        known = ", ".join(sorted(ctx.orgs))
        raise ValueError(t("partner.unknown_org", ctx.lang, org=org, known=known))
    lang = ctx.lang
    parts = [
        f"<h1>{html.escape(ctx.partnership)} — {html.escape(ctx.org(org))}</h1>",
        f"<p class='meta'>{html.escape(t('partner.only', lang, org=ctx.org(org)))}</p>",
    ]
    parts.extend(partner_html.page(reports, ctx, org, level=2))
    parts.extend(_methods(reports, ctx))
    return PAGE.format(
        lang=lang,
        title=html.escape(f"{ctx.partnership} — {ctx.org(org)}"),
        css=CSS,
        body="\n".join(parts),
    )


def _progress(reports: list[Report], ctx: Context) -> list[str]:
    """Open measurements in a block of their own: completed questionnaires, no results."""
    lang = ctx.lang
    parts: list[str] = []
    for report in reports:
        table = report.progress
        if table.empty:
            continue
        for (_, label), rows in table.groupby(["wave", "name"], sort=True):
            name = str(label)
            parts.append(
                f"<h3>{html.escape(report.survey.title.get(lang))}: {html.escape(name)}</h3>"
            )
            parts.append(
                f"<p class='note'>{html.escape(t('report.open_wave', lang, name=name))}</p>"
            )
            shown = {
                t("report.col_org", lang): [ctx.org(o) for o in rows["org"]],
                t("charts.count", lang): [str(int(n)) for n in rows["completed"]],
                t("charts.rate", lang): [
                    "–" if h is None or h != h or not h else f"{100 * n / h:.0f}%"
                    for n, h in zip(rows["completed"], rows["headcount"], strict=True)
                ],
            }
            parts.append(pd.DataFrame(shown).to_html(index=False))
    if not parts:
        return []
    return [
        f"<section class='progress'><h2>{html.escape(t('report.progress', lang))}</h2>",
        *parts,
        "</section>",
    ]


def _methods(reports: list[Report], ctx: Context) -> list[str]:
    """The methods appendix: the text, then each survey's tables and question index."""
    lang = ctx.lang
    parts = [
        f"<h2>{t('report.methods', lang)}</h2><p>"
        + html.escape(t("report.methods_text", lang, k=ctx.k, kc=ctx.k_comments))
        + "</p>",
        f"<p>{html.escape(t('network.methods', lang))}</p>",
        f"<p>{html.escape(t('findings.methods', lang))}</p>",
        detectable.methods(ctx),
    ]
    for report in reports:
        parts.append(f"<h3>{html.escape(report.survey.title.get(lang))}</h3>")
        parts.append(f"<p>{html.escape(labels.methods(report, ctx.k, lang))}</p>")
        parts.extend(_appendix(report, ctx))
        parts.extend(_index(report, ctx))
    return parts


def _per_option(report: Report, ctx: Context) -> list[str]:
    """A table per question and wave of each `per_option` kind (ranking: mean rank).

    Options down, organisations across, the count last; a hidden organisation keeps its
    column, every cell giving why it is hidden (its count too).
    """
    lang = ctx.lang
    parts = []
    for name in dict.fromkeys(q.per_option for q in QUESTION_TYPES.values() if q.per_option):
        table = report.tables.get(name)
        if table is None or table.empty:
            continue
        parts.append(f"<h3>{html.escape(t(f'report.{name}', lang))}</h3>")
        parts.append(f"<p class='meta'>{html.escape(t(f'report.{name}_note', lang))}</p>")
        for (wave, question), rows in table.groupby(["wave", "question"], sort=False):
            q = report.survey.question(str(question))
            labels = [o.label.get(lang) for o in q.options]
            shown = {t("report.col_option", lang): [*labels, "n"]}
            for org in sorted(dict.fromkeys(rows["org"]), key=ctx.org):
                cells = rows[(rows["org"] == org).to_numpy()].set_index("option")
                small = _why(cells, ctx)
                means = [
                    small if hidden else charts.number(mean, ".2f", lang)
                    for hidden, mean in (cells.loc[o.value, ["hidden", "mean"]] for o in q.options)
                ]
                first = cells.iloc[0]
                n = first["n"]
                count = small if first["hidden"] else "–" if n != n else f"{n:.0f}"
                shown[ctx.org(org)] = [*means, count]
            title = html.escape((q.label or q.text).get(lang))
            wave_id = int(cast(int, wave))  # a group key: Hashable to the stubs, an int here
            measured = html.escape(
                f"{t('report.col_wave', lang)}: {report.wave_names.get(wave_id, wave_id)}"
            )
            parts.append(
                f"<h4>{title}</h4><p class='meta'>{measured}</p>"
                + pd.DataFrame(shown).to_html(index=False)
            )
    return parts


def _comments(report: Report, ctx: Context) -> list[str]:
    """The latest wave's comments per open question and organisation (groups ≥ the threshold).

    Each open question is named by its text, so every question asked shows on the page.
    """
    lang = ctx.lang
    parts = [f"<h3>{t('report.comments', lang)}</h3>"]
    if report.comments.empty:
        parts.append(f"<p>{html.escape(t('report.no_comments', lang, k=ctx.k_comments))}</p>")
        return parts
    wave = report.wave_names.get(int(report.comments["wave"].iloc[0]), "")
    parts.append(f"<p class='meta'>{html.escape(t('report.comments_of', lang, wave=wave))}</p>")
    items = report.comments["item"].astype(str).to_numpy()
    for q in report.survey.questions:
        mine = items == q.id  # masks, not get_group: it loses one-row groups of a subset
        if not mine.any():
            continue
        parts.append(f"<h4>{html.escape(q.text.get(lang))}</h4>")
        parts.extend(comment_blocks(report.comments[mine], ctx))
    return parts


def comment_blocks(comments: pd.DataFrame, ctx: Context, names: bool = True) -> list[str]:
    """Comments per organisation in their shuffled order, escaped, organisations by name."""
    parts = []
    orgs = comments["org"].astype(str).to_numpy()
    for org in sorted(set(orgs), key=ctx.org):
        texts = "".join(  # in their shuffled order
            f"<blockquote>{html.escape(str(comment))}</blockquote>"
            for comment in comments.loc[orgs == org, "text"]
        )
        parts.append((f"<h5>{html.escape(ctx.org(org))}</h5>" if names else "") + texts)
    return parts


def _by_org_table(
    rows: pd.DataFrame, ctx: Context, labels: dict[str, str], value: str, spec: str, unit: str = ""
) -> str:
    """Options down, organisations across, the count last: hidden organisations say why."""
    lang = ctx.lang
    shown = {t("report.col_option", lang): [*labels.values(), "n"]}
    for org in sorted(dict.fromkeys(rows["org"].astype(str)), key=ctx.org):
        cells = rows[(rows["org"].astype(str) == org).to_numpy()].set_index("option")
        hidden = bool(cells["hidden"].iloc[0])
        small = _why(cells, ctx)
        values = [
            small if hidden else charts.number(float(cells[value].get(o, 0.0)), spec, lang) + unit
            for o in labels
        ]
        n = cells["n"].iloc[0]
        count = small if hidden else "–" if n != n else f"{n:.0f}"
        shown[ctx.org(org)] = [*values, count]
    return pd.DataFrame(shown).to_html(index=False)


def _question_block(report: Report, q: Question, wave: object, lang: str, table: str) -> str:
    """One question's table: its label as heading, the measurement it shows, the table."""
    heading = html.escape((q.label or q.text).get(lang))
    return f"<h4>{heading}</h4>" + _measured(report, wave, lang) + table


def _measured(report: Report, wave: object, lang: str) -> str:
    """Which measurement a table shows, as a line under its heading."""
    wave_id = int(cast(int, wave))  # a group key: Hashable to the stubs, an int here
    name = report.wave_names.get(wave_id, wave_id)
    return "<p class='meta'>" + html.escape(f"{t('report.col_wave', lang)}: {name}") + "</p>"


def _answer_shares(report: Report, ctx: Context) -> list[str]:
    """A table per choice or multi question and wave: share (%) per option and organisation."""
    table = report.tables.get("answer_shares")
    nps = report.tables.get("nps")
    scored = set(nps["question"]) if nps is not None else set()
    if table is None or table.empty or set(table["question"]) <= scored:
        return []
    lang = ctx.lang
    parts = [
        f"<h3>{html.escape(t('questions.shares', lang))}</h3>",
        f"<p class='meta'>{html.escape(t('questions.shares_note', lang))}</p>",
    ]
    for (wave, question), rows in table.groupby(["wave", "question"], sort=False):
        if question in scored:
            continue
        q = report.survey.question(str(question))
        labels = {o.value: o.label.get(lang) for o in q.options}
        block = _by_org_table(rows, ctx, labels, "share", ".0f", "%")
        parts.append(_question_block(report, q, wave, lang, block))
    return parts


def _nps(report: Report, ctx: Context) -> list[str]:
    """A table per NPS question and wave: the score and its three parts per organisation."""
    table = report.tables.get("nps")
    if table is None or table.empty:
        return []
    lang = ctx.lang
    parts = [
        f"<h3>{html.escape(t('questions.nps', lang))}</h3>",
        f"<p class='meta'>{html.escape(t('questions.nps_note', lang))}</p>",
    ]
    columns = ("score", "promoters", "passives", "detractors", "mean")
    for (wave, question), rows in table.groupby(["wave", "question"], sort=False):
        q = report.survey.question(str(question))
        why = [charts.hidden_label(r, ctx.k, lang) for r in charts.reasons(rows)]
        shown = {
            t("report.col_org", lang): [ctx.org(str(o)) for o in rows["org"]],
            **{
                t(f"questions.col_{c}", lang): [
                    w if h else charts.number(v, "+.0f" if c == "score" else ".1f", lang)
                    for h, w, v in zip(rows["hidden"], why, rows[c], strict=True)
                ]
                for c in columns
            },
            "n": [
                w if h else "–" if n != n else f"{n:.0f}"
                for h, w, n in zip(rows["hidden"], why, rows["n"], strict=True)
            ],
        }
        block = pd.DataFrame(shown).to_html(index=False)
        parts.append(_question_block(report, q, wave, lang, block))
    return parts


def _aspects(report: Report, ctx: Context) -> list[str]:
    """A table per allocate question (aspect): mean points per type and organisation."""
    table = report.tables.get("culture_aspects")
    if table is None or table.empty:
        return []
    lang = ctx.lang
    parts = [f"<h3>{html.escape(t('questions.aspects', lang))}</h3>"]
    for (wave, question), rows in table.groupby(["wave", "question"], sort=False):
        q = report.survey.question(str(question))
        labels = {o.value: o.label.get(lang) for o in q.options}
        shown = {t("report.col_option", lang): list(labels.values())}
        for org in sorted(dict.fromkeys(rows["org"].astype(str)), key=ctx.org):
            cells = rows[(rows["org"].astype(str) == org).to_numpy()].set_index("option")
            small = _why(cells, ctx)
            shown[ctx.org(org)] = [
                small
                if cells.loc[o, "hidden"]
                else charts.number(float(cast(float, cells.loc[o, "mean"])), ".0f", lang)
                for o in labels
            ]
        block = pd.DataFrame(shown).to_html(index=False)
        parts.append(_question_block(report, q, wave, lang, block))
    return parts


def _network(report: Report, ctx: Context) -> list[str]:
    """Trust as a network: strengths, reciprocity per pair, density, who doesn't know whom."""
    strength = report.tables.get("strength")
    if strength is None or strength.empty:
        return []
    lang, small = ctx.lang, t("charts.hidden", ctx.lang)  # no shown cell to take a mean of
    latest = strength["wave"].max()
    parts = [
        f"<h3>{html.escape(t('network.section', lang))}</h3>",
        _measured(report, latest, lang),
    ]
    rows = strength[(strength["wave"] == latest).to_numpy()]

    def mean(value: float, cells: int) -> str:
        return small if not cells else f"{charts.number(value, '.2f', lang)} ({cells})"

    parts.append(
        f"<h4>{html.escape(t('network.strength', lang))}</h4>"
        + pd.DataFrame(
            {
                t("report.col_org", lang): [ctx.org(o) for o in rows["org"]],
                t("network.col_in", lang): list(map(mean, rows["in_strength"], rows["in_cells"])),
                t("network.col_out", lang): list(
                    map(mean, rows["out_strength"], rows["out_cells"])
                ),
            }
        ).to_html(index=False)
    )
    parts.extend(_density(report, ctx, latest))
    parts.extend(_pairs(report, ctx))
    parts.extend(_familiarity(report, ctx, latest))
    return parts


def _density(report: Report, ctx: Context, wave: object) -> list[str]:
    table = report.tables.get("density")
    if table is None or table.empty:
        return []
    row = table[(table["wave"] == wave).to_numpy()].iloc[0]
    if not row["shown"]:
        return []
    text = t(
        "network.density_line",
        ctx.lang,
        strong=int(row["strong"]),
        shown=int(row["shown"]),
        relations=int(row["relations"]),
        density=float(row["density"]) * 100,
        mean=float(row["mean"]),
    )
    return [f"<h4>{html.escape(t('network.density', ctx.lang))}</h4><p>{html.escape(text)}</p>"]


def _pairs(report: Report, ctx: Context) -> list[str]:
    """Reciprocity per pair: both directions, the difference with its interval, the test."""
    table = report.tables.get("reciprocity_tests")
    if table is None or table.empty:
        return []
    lang = ctx.lang
    shown = {
        t("network.col_pair", lang): [
            f"{ctx.org(a)} ↔ {ctx.org(b)}"
            for a, b in zip(table["org"], table["target"], strict=True)
        ],
        t("network.col_ab", lang): [charts.number(v, ".2f", lang) for v in table["mean_to"]],
        t("network.col_ba", lang): [charts.number(v, ".2f", lang) for v in table["mean_from"]],
        t("network.col_diff", lang): [
            partner_html.interval(d, lo, hi, lang)
            for d, lo, hi in zip(table["diff"], table["ci_low"], table["ci_high"], strict=True)
        ],
        t("network.col_p", lang): [
            "–" if p != p else charts.number(p, ".3f", lang) for p in table["p_holm"]
        ],
        t("network.col_q", lang): [
            "–" if q != q else charts.number(q, ".3f", lang)
            for q in table.get("q_bh", table["p_holm"] * float("nan"))
        ],
        t("network.col_one_sided", lang): [
            t("network.yes" if s else "network.no", lang) for s in table["significant"]
        ],
    }
    return [
        f"<h4>{html.escape(t('network.pairs', lang))}</h4>"
        f"<p class='meta'>{html.escape(t('network.pairs_note', lang))}</p>"
        + pd.DataFrame(shown).to_html(index=False)
    ]


def _familiarity(report: Report, ctx: Context, wave: object) -> list[str]:
    table = report.tables.get("familiarity")
    if table is None or table.empty:
        return []
    lang = ctx.lang
    rows = table[(table["wave"] == wave).to_numpy()]
    rows = rows.assign(why=[charts.hidden_label(r, ctx.k, lang) for r in charts.reasons(rows)])
    orgs = sorted(set(rows["org"]) | set(rows["target"]), key=ctx.org)
    cells = rows.set_index(["org", "target"])
    shown = {t("charts.from", lang) + " \\ " + t("charts.to", lang): [ctx.org(o) for o in orgs]}
    for target in orgs:
        shown[ctx.org(target)] = [
            ""
            if (org, target) not in cells.index
            else str(cells.loc[(org, target), "why"])
            if cells.loc[(org, target), "hidden"]
            else charts.number(cells.loc[(org, target), "dont_know"], ".0f", lang) + "%"
            for org in orgs
        ]
    return [
        f"<h4>{html.escape(t('network.familiarity', lang))}</h4>"
        f"<p class='meta'>{html.escape(t('network.familiarity_note', lang))}</p>"
        + pd.DataFrame(shown).to_html(index=False)
    ]


def _index(report: Report, ctx: Context) -> list[str]:
    """Every question of the survey and the table that reports it."""
    table = report.tables.get("questions")
    if table is None or table.empty:
        return []
    lang = ctx.lang
    shown = {
        t("questions.col_question", lang): list(table["label"]),
        t("questions.col_type", lang): list(table["type"]),
        t("questions.col_table", lang): list(table["table"]),
    }
    return [
        f"<h4>{html.escape(t('questions.index', lang))}</h4>"
        + pd.DataFrame(shown).to_html(index=False)
    ]


def _appendix(report: Report, ctx: Context) -> list[str]:
    """The methods tables with names instead of ids, numbers as the reader writes them."""
    lang = ctx.lang

    def counted(table: pd.DataFrame) -> list[str]:
        """The n of each row; a hidden row says why instead, a row without one '–'."""
        why = [charts.hidden_label(r, ctx.k, lang) for r in charts.reasons(table)]
        return [
            w if h else "–" if n != n else f"{n:.0f}"
            for h, w, n in zip(table["hidden"].to_numpy(dtype=bool), why, table["n"], strict=True)
        ]

    parts = []
    sizes = report.tables.get("group_sizes")
    if sizes is not None and not sizes.empty:
        shown = pd.DataFrame(
            {
                t("report.col_wave", lang): [report.wave_names.get(w, w) for w in sizes["wave"]],
                t("report.col_org", lang): [ctx.orgs.get(o, o) for o in sizes["org"]],
                t("report.col_role", lang): [ctx.roles.get(r, r) or "–" for r in sizes["role"]],
                "n": counted(sizes),
            }
        )
        parts.append(f"<h4>{t('report.group_sizes', lang)}</h4>" + shown.to_html(index=False))
    built = report.context or ctx  # the flags came with the data the report was built from
    flags = [f for f in built.oversubscribed if f.wave in report.wave_names]
    if flags:
        items = "".join(
            "<li>"
            + html.escape(
                t(
                    "report.oversubscribed_role" if f.role else "report.oversubscribed_org",
                    lang,
                    wave=report.wave_names[f.wave],
                    org=ctx.orgs.get(f.org, f.org),
                    role=ctx.roles.get(f.role, f.role) if f.role else "",
                    headcount=f.headcount,
                ),
                quote=False,
            )
            + "</li>"
            for f in flags
        )
        parts.append(
            f"<h4>{t('report.oversubscribed', lang)}</h4>"
            f"<p>{t('report.oversubscribed_note', lang)}</p>"
            f"<ul>{items}</ul>"
        )
    alphas = report.tables.get("reliability")
    if alphas is not None and not alphas.empty:
        dims = dimension_names(report.survey, lang)
        shown = pd.DataFrame(
            {
                t("report.col_wave", lang): [report.wave_names.get(w, w) for w in alphas["wave"]],
                t("report.col_dimension", lang): [dims.get(d, d) for d in alphas["dimension"]],
                t("report.col_items", lang): alphas["items"],
                "n": counted(alphas),
                "alpha": [
                    _alpha_cell(row, charts.hidden_label(why, ctx.k, lang), lang)
                    for row, why in zip(alphas.itertuples(), charts.reasons(alphas), strict=True)
                ],
                "": [_alpha_note(row, lang) for row in alphas.itertuples()],
            }
        )
        parts.append(f"<h4>{t('report.alpha', lang)}</h4>" + shown.to_html(index=False))
    return parts


def _alpha_cell(row: Any, small: str, lang: str) -> str:
    """Why it is hidden (`small`), '–' when there is no alpha, else the alpha itself."""
    if row.hidden:
        return small
    return "–" if row.alpha != row.alpha else charts.number(row.alpha, ".2f", lang)


def _why(cells: pd.DataFrame, ctx: Context) -> str:
    """Why an organisation's rows of one question are hidden (they share one decision)."""
    return charts.hidden_label(charts.reasons(cells.iloc[:1])[0] or "", ctx.k, ctx.lang)


def _alpha_note(row: Any, lang: str) -> str:
    """Why there is no alpha (one statement, role-specific, don't know, no spread) or 'low'."""
    if getattr(row, "note", ""):
        return t(f"findings.alpha_{row.note}", lang)
    if not row.computed:
        return t("report.no_alpha", lang)
    return t("report.low_alpha", lang) if row.low is True else ""
