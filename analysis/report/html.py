"""The report as one self-contained HTML page (plotly.js inlined once, with the first figure).

Key findings of every survey first, then each survey's charts and comments, then one
methods appendix: the order in which a workshop reads it. Nothing is computed here.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any, cast

import pandas as pd

from surveys.i18n import t
from surveys.qtypes import QUESTION_TYPES

from .. import charts
from .build import one_family
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


def render_html(reports: list[Report], ctx: Context) -> str:
    """One self-contained page for one or more surveys (plotly.js inlined once).

    Key findings of every survey first, then each survey's charts and comments, then
    one methods appendix: the order in which a workshop reads it.
    """
    lang = ctx.lang
    one_family(reports)  # one page, one family of tests
    parts = [f"<h1>{html.escape(ctx.partnership)} — {t('report.title', lang)}</h1>"]
    parts.append(f"<h2>{t('report.findings', lang)}</h2>")
    for report in reports:
        parts.append(f"<h3>{html.escape(report.survey.title.get(lang))}</h3>")
        parts.extend(f"<p class='note'>{html.escape(note)}</p>" for note in report.notes)
        if report.findings:
            items = "".join(f"<li>{html.escape(f)}</li>" for f in report.findings)
            parts.append(f"<ul class='findings'>{items}</ul>")
    first = True
    for report in reports:
        parts.append(f"<h2>{html.escape(report.survey.title.get(lang))}</h2>")
        for _, figure in report.figures:
            parts.append(
                "<div class='figure'>"
                + figure.to_html(
                    full_html=False,
                    include_plotlyjs=first,
                    div_id=f"figure-{len(parts)}",  # the same page for the same results
                    config={"displaylogo": False, "responsive": True},
                )
                + "</div>"
            )
            first = False
        parts.extend(_per_option(report, ctx))
        parts.extend(_comments(report, ctx))
    parts.append(
        f"<h2>{t('report.methods', lang)}</h2><p>"
        + html.escape(t("report.methods_text", lang, k=ctx.k, kc=ctx.k_comments))
        + "</p>"
    )
    for report in reports:
        parts.append(f"<h3>{html.escape(report.survey.title.get(lang))}</h3>")
        parts.extend(_appendix(report, ctx))
    return PAGE.format(
        lang=lang, title=html.escape(ctx.partnership), css=CSS, body="\n".join(parts)
    )


def _per_option(report: Report, ctx: Context) -> list[str]:
    """A table per question and wave of each `per_option` kind (ranking: mean rank).

    Options down, organisations across, the count last; a hidden organisation keeps its
    column, every cell 'n < k'. A count not shown (a question for some) reads '–'.
    """
    lang, small = ctx.lang, charts.small(ctx.k)
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
    """The latest wave's comments per organisation (each group ≥ the comment threshold)."""
    lang = ctx.lang
    parts = [f"<h3>{t('report.comments', lang)}</h3>"]
    if report.comments.empty:
        parts.append(f"<p>{html.escape(t('report.no_comments', lang, k=ctx.k_comments))}</p>")
        return parts
    wave = report.wave_names.get(int(report.comments["wave"].iloc[0]), "")
    parts.append(f"<p class='meta'>{html.escape(t('report.comments_of', lang, wave=wave))}</p>")
    by_org = report.comments.groupby("org", sort=False)  # keeps the shuffled order inside
    for org in sorted(map(str, by_org.groups), key=lambda o: ctx.orgs.get(o, o)):
        texts = "".join(
            f"<blockquote>{html.escape(str(comment))}</blockquote>"
            for comment in by_org.get_group(org)["text"]
        )
        parts.append(f"<h4>{html.escape(ctx.orgs.get(org, org))}</h4>{texts}")
    return parts


def _appendix(report: Report, ctx: Context) -> list[str]:
    """The methods tables with names instead of ids, numbers as the reader writes them."""
    lang, small = ctx.lang, charts.small(ctx.k)

    def counted(values: pd.Series) -> list[str]:
        return [small if n != n else f"{n:.0f}" for n in values]

    parts = []
    sizes = report.tables.get("group_sizes")
    if sizes is not None and not sizes.empty:
        shown = pd.DataFrame(
            {
                t("report.col_wave", lang): [report.wave_names.get(w, w) for w in sizes["wave"]],
                t("report.col_org", lang): [ctx.orgs.get(o, o) for o in sizes["org"]],
                t("report.col_role", lang): [ctx.roles.get(r, r) or "–" for r in sizes["role"]],
                "n": counted(sizes["n"]),
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
                "n": counted(alphas["n"]),
                "alpha": [_alpha_cell(row, small, lang) for row in alphas.itertuples()],
                "": [_alpha_note(row, lang) for row in alphas.itertuples()],
            }
        )
        parts.append(f"<h4>{t('report.alpha', lang)}</h4>" + shown.to_html(index=False))
    return parts


def _alpha_cell(row: Any, small: str, lang: str) -> str:
    """'n < k' when hidden, '–' when there is no alpha, else the alpha itself."""
    if row.hidden:
        return small
    return "–" if row.alpha != row.alpha else charts.number(row.alpha, ".2f", lang)


def _alpha_note(row: Any, lang: str) -> str:
    if not row.computed:
        return t("report.no_alpha", lang)
    return t("report.low_alpha", lang) if row.low is True else ""
