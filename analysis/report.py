"""The report: suppressed tables, charts, key findings in plain language, one HTML file.

`build_report` computes everything for the waves of one survey; only closed waves give
results (open waves: response counts only). Every table passes through `suppression`
before a chart or a sentence is made from it, and every test and pooled statistic uses
the shown cells only: answers inside hidden cells change no output (DESIGN §4.7). The
changes shown on one page are one Holm family (`one_family`). `render_html` writes one
self-contained page: plotly.js is inlined once, with the first figure.
"""

from __future__ import annotations

import html
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from surveys.model import Survey
from surveys.store import OrgCount, Wave

from . import charts, scoring, stats, suppression
from .data import WaveData

TEXT = {
    "title": {"nl": "Rapportage", "en": "Report"},
    "findings": {"nl": "Belangrijkste bevindingen", "en": "Key findings"},
    "strongest": {
        "nl": "{org}: sterkst op {best} ({best_v:.1f}), zwakst op {worst} ({worst_v:.1f}).",
        "en": "{org}: strongest on {best} ({best_v:.1f}), weakest on {worst} ({worst_v:.1f}).",
    },
    "even": {
        "nl": "{org}: alle dimensies liggen dicht bij elkaar (rond {v:.1f}).",
        "en": "{org}: all dimensions lie close together (around {v:.1f}).",
    },
    "one_sided": {
        "nl": "Meest eenzijdige vertrouwensrelatie: {a} vertrouwt {b} {x:.1f}, "
        "{b} vertrouwt {a} {y:.1f}.",
        "en": "Most one-sided trust relation: {a} trusts {b} {x:.1f}, {b} trusts {a} {y:.1f}.",
    },
    "change": {
        "nl": "Grootste significante verandering sinds de vorige meting: {org} op "
        "{dim}, van {a:.2f} naar {b:.2f} (Hedges' g = {g:.2f}).",
        "en": "Largest significant change since the previous measurement: {org} on "
        "{dim}, from {a:.2f} to {b:.2f} (Hedges' g = {g:.2f}).",
    },
    "pair_change": {
        "nl": "Grootste verandering in vertrouwen tussen partners: {a} in {b}, van "
        "{x:.1f} naar {y:.1f} (significant, Hedges' g = {g:.2f}).",
        "en": "Largest change in trust between partners: {a} in {b}, from {x:.1f} "
        "to {y:.1f} (significant, Hedges' g = {g:.2f}).",
    },
    "distance": {
        "nl": "De culturen van {a} en {b} liggen het verst uiteen: {d:.0f} van de 100 "
        "punten zouden moeten verschuiven.",
        "en": "The cultures of {a} and {b} differ "
        "most: {d:.0f} of the 100 points would have to move.",
    },
    "no_change": {
        "nl": "Geen van de verschillen met de vorige meting is statistisch "
        "significant (na Holm-correctie).",
        "en": "None of the differences with the "
        "previous measurement is statistically significant (after Holm correction).",
    },
    "culture_gap": {
        "nl": "Grootste cultuurwens: {org} wil {dir} {type} ({gap:+.0f} punten).",
        "en": "Largest culture wish: {org} wants {dir} {type} ({gap:+.0f} points).",
    },
    "more": {"nl": "meer", "en": "more"},
    "less": {"nl": "minder", "en": "less"},
    "open_wave": {
        "nl": "Meting {name} loopt nog: alleen het aantal ingevulde vragenlijsten is "
        "zichtbaar; resultaten volgen na sluiting.",
        "en": "Measurement {name} is "
        "still open: only the number of completed questionnaires is shown; results "
        "follow after closing.",
    },
    "nothing": {
        "nl": "Geen enkele groep is groot genoeg (minimaal {k}) om uitkomsten te tonen.",
        "en": "No group is large enough (at least {k}) to show results.",
    },
    "comments": {"nl": "Opmerkingen", "en": "Comments"},
    "comments_of": {
        "nl": "Uit de meting {wave}, per organisatie in willekeurige volgorde.",
        "en": "From the measurement {wave}, per organisation in random order.",
    },
    "no_comments": {
        "nl": "Geen opmerkingen om te tonen (alleen groepen van minstens {k} mensen).",
        "en": "No comments to show (only groups of at least {k} people).",
    },
    "methods": {"nl": "Verantwoording", "en": "Methods"},
    "methods_text": {
        "nl": "Uitkomsten worden alleen getoond voor groepen van minstens {k} respondenten; "
        "waar een groep te klein is, worden zoveel andere groepen mee verborgen dat niets "
        "door aftrekken te herleiden is. Opmerkingen alleen voor groepen van minstens "
        "{kc}, in willekeurige volgorde. Stellingen in omgekeerde richting zijn "
        "gespiegeld; 'weet niet' telt als ontbrekend; een dimensiescore is het gemiddelde "
        "van de beantwoorde stellingen als minstens de helft is beantwoord. Intervallen: "
        "95% op basis van de t-verdeling. Veranderingen: Welch-t-toets, effectgrootte "
        "Hedges' g, Holm-correctie over één familie: precies de getoonde vergelijkingen van "
        "dit rapport (verborgen groepen worden niet getoetst). Rollen en stellingen: alleen "
        "organisaties waarvan de uitkomst getoond wordt; aantallen per rol binnen een "
        "organisatie worden net als scores aanvullend verborgen. Betrouwbaarheid: Cronbachs "
        "alfa per meting, over de stellingen die iedereen kreeg (onder 0,7 gemarkeerd).",
        "en": "Results are shown only for groups of at least {k} respondents; where a group "
        "is too small, enough other groups are hidden too that nothing can be derived by "
        "subtraction. Comments only for groups of at least {kc}, in random order. "
        "Reverse-worded statements are mirrored; 'don't know' counts as missing; a "
        "dimension score is the mean of the answered statements when at least half were "
        "answered. Intervals: 95% from the t distribution. Changes: Welch's t-test, effect "
        "size Hedges' g, Holm correction over one family: exactly the comparisons shown in "
        "this report (hidden groups are not tested). Roles and statements: only "
        "organisations whose results are shown; counts per role within an organisation "
        "get the same complementary suppression as scores. Reliability: Cronbach's alpha "
        "per measurement, over the statements everyone was asked (flagged below 0.7).",
    },
    "group_sizes": {"nl": "Aantal respondenten per groep", "en": "Respondents per group"},
    "oversubscribed": {
        "nl": "Meer antwoorden dan mensen",
        "en": "More responses than people",
    },
    "oversubscribed_org": {
        "nl": "{wave}, {org}: meer antwoorden dan de {headcount} mensen van de organisatie.",
        "en": "{wave}, {org}: more responses than the organisation's {headcount} people.",
    },
    "oversubscribed_role": {
        "nl": "{wave}, {org} / {role}: meer antwoorden dan de {headcount} mensen in deze rol.",
        "en": "{wave}, {org} / {role}: more responses than the {headcount} people in this role.",
    },
    "oversubscribed_note": {
        "nl": "De link is waarschijnlijk buiten de groep gedeeld; lees deze uitkomsten met "
        "die kanttekening.",
        "en": "The link probably travelled outside the group; read these results with that "
        "in mind.",
    },
    "culture_hidden": {
        "nl": "Geen cultuurprofiel voor {orgs}: minder dan {k} respondenten.",
        "en": "No culture profile for {orgs}: fewer than {k} respondents.",
    },
    "alpha": {"nl": "Betrouwbaarheid per dimensie", "en": "Reliability per dimension"},
    "col_wave": {"nl": "Meting", "en": "Measurement"},
    "col_org": {"nl": "Organisatie", "en": "Organisation"},
    "col_role": {"nl": "Rol", "en": "Role"},
    "col_dimension": {"nl": "Dimensie", "en": "Dimension"},
    "col_items": {"nl": "Stellingen", "en": "Statements"},
    "no_alpha": {
        "nl": "minder dan twee stellingen die iedereen kreeg: geen alfa",
        "en": "fewer than two statements asked of everyone: no alpha",
    },
    "low_alpha": {
        "nl": "onder 0,7: voorzichtig interpreteren",
        "en": "below 0.7: interpret with care",
    },
}


EVEN = 0.1  # a spread of dimension means below this names no strongest or weakest
ALPHA = 0.05  # significance level of the report's one Holm family
# the tables whose rows, together, are the one family of tests of a report
FAMILY = ("trust_matrix_changes", "changes")

# The charts of a chat album, most telling first (the HTML report has them all).
KEY_CHARTS = ("profile", "matrix", "trend", "distance", "culture", "items")


class _Numbers(string.Formatter):
    """Formats numbers with a decimal comma (Dutch); everything else as usual."""

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        is_number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        return text.replace(".", ",") if is_number else text


DUTCH_NUMBERS = _Numbers()


def tr(key: str, lang: str, **params: object) -> str:
    text = TEXT[key].get(lang, TEXT[key]["nl"])
    if not params:
        return text
    return DUTCH_NUMBERS.format(text, **params) if lang == "nl" else text.format(**params)


@dataclass(frozen=True)
class Context:
    """Names and thresholds the report needs, all passed explicitly."""

    k: int
    k_comments: int
    lang: str
    partnership: str
    orgs: dict[str, str]
    roles: dict[str, str]
    headcounts: dict[str, int | None] = field(default_factory=dict)
    oversubscribed: tuple[HeadcountFlag, ...] = ()


@dataclass(frozen=True, slots=True)
class HeadcountFlag:
    """A group with more completed responses than its configured headcount.

    Only the headcount is printed, never the group's own count: a role's count may be
    below k.
    """

    wave: int
    org: str
    role: str | None  # None: the organisation as a whole
    headcount: int


@dataclass
class Report:
    """Suppressed tables, findings and the charts to draw from them.

    Charts are drawn on first use of `figures`: statistics stay free of plotly's cost,
    and a caller that needs no pictures (an export) never pays it.
    """

    survey: Survey
    lang: str
    findings: list[str] = field(default_factory=list)
    charts: list[tuple[str, Callable[[], go.Figure]]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    comments: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    wave_names: dict[int, str] = field(default_factory=dict)
    context: Context | None = field(default=None, repr=False)
    dimension_names: dict[str, str] = field(default_factory=dict, repr=False)
    # where the findings about change sit among `findings`, and how many there are
    change_slot: int | None = field(default=None, repr=False)
    change_count: int = field(default=0, repr=False)

    def chart(self, name: str, draw: Callable[..., go.Figure], *args: Any, **kwargs: Any) -> None:
        """Add a chart, drawn later by `draw(*args, **kwargs)`."""
        self.charts.append((name, partial(draw, *args, **kwargs)))

    @cached_property
    def figures(self) -> list[tuple[str, go.Figure]]:
        return [(name, draw()) for name, draw in self.charts]

    def forget_figures(self) -> None:
        """Draw the charts again on next use of `figures` (the tables behind them changed)."""
        self.__dict__.pop("figures", None)

    def key_figures(self, limit: int = 3) -> list[go.Figure]:
        """The few charts that tell most, for a chat album: one of each kind in KEY_CHARTS.

        Only the response counts when there are no results (an open wave).
        """
        first = {}
        for name, figure in self.figures:
            first.setdefault(name, figure)
        chosen = [first[name] for name in KEY_CHARTS if name in first][:limit]
        return chosen or [figure for name, figure in self.figures if name == "counts"]


def _dimension_names(survey: Survey, lang: str) -> dict[str, str]:
    return {d.id: d.label.get(lang) for d in survey.dimensions}


def build_report(
    survey: Survey, data: WaveData, counts: dict[int, list[OrgCount]], ctx: Context
) -> Report:
    """All suppressed tables, charts and findings for the waves of one survey.

    What is shown is decided first, from group sizes alone; every test, pooled statistic
    and finding is then computed from the shown cells only, so answers inside hidden
    cells cannot move a shown number. The report's changes are one Holm family; when
    several surveys share a page, `one_family` makes them one family together.
    """
    suppression.check_k(ctx.k)
    lang = ctx.lang
    dims = _dimension_names(survey, lang)
    report = Report(
        survey,
        lang,
        wave_names={w.id: w.name for w in data.waves},
        context=ctx,
        dimension_names=dims,
    )
    for wave in data.waves:
        if wave.status != "closed":
            report.notes.append(tr("open_wave", lang, name=wave.name))
    report.chart(
        "counts",
        charts.response_counts,
        _counts_table(data.waves, counts, ctx),
        lang=lang,
        names=ctx.orgs,
    )
    released = suppression.releasable(data.waves)
    if not released:
        return report
    ids = [w.id for w in released]
    answers = data.answers[data.answers["wave"].isin(ids)]
    latest = released[-1].id
    scored = scoring.item_scores(answers, survey)  # once: reused by every table below
    scores = scoring.dimension_scores(answers, survey, scored)
    main_dims = [d.id for d in survey.dimensions if not d.id.startswith(("partner_", "culture_"))]
    main = scores[scores["dimension"].isin(main_dims)]

    main = main.assign(  # survey order for tables and charts
        dimension=main["dimension"].astype(str).astype(pd.CategoricalDtype(main_dims))
    )
    profile = suppression.suppress(
        stats.describe(main, "score", ["wave", "org", "dimension"]), ctx.k, by=["wave", "dimension"]
    )
    report.tables["dimension_scores"] = suppression.mask(
        profile, ["mean", "sd", "ci_low", "ci_high"]
    )
    shown = profile.loc[~profile["hidden"], ["wave", "org", "dimension"]]
    people = answers.loc[~answers["response"].duplicated().to_numpy(), ["wave", "org", "role"]]
    whole = _whole_orgs(profile if main_dims else None, people, ctx.k)
    latest_profile = profile[profile["wave"] == latest]
    if main_dims and (latest_profile.empty or latest_profile["hidden"].all()):
        report.notes.append(tr("nothing", lang, k=ctx.k))
    if len(latest_profile):
        report.chart(
            "profile",
            charts.dimension_profile,
            latest_profile,
            lang=lang,
            k=ctx.k,
            names=ctx.orgs,
            dimensions=dims,
        )
        _strengths(report, latest_profile, ctx, dims)

    # roles across the organisations shown: a hidden organisation's people stay out, or
    # its mean would follow from the role means and the shown organisations' means
    in_latest = main[(main["wave"] == latest).to_numpy()]
    in_latest = in_latest[_in_cells(in_latest, shown, ["wave", "org", "dimension"])]
    roles = suppression.suppress(
        stats.describe(in_latest, "score", ["wave", "role", "dimension"]),
        ctx.k,
        by=["wave", "dimension"],
    )
    # no counts: a role's count over the shown organisations minus the shown role counts
    # of some of them would give a hidden role count of one organisation
    report.tables["role_scores"] = suppression.mask(
        roles, ["mean", "sd", "ci_low", "ci_high"]
    ).drop(columns="n")
    if roles["role"].nunique() > 1:
        report.chart(
            "roles", charts.role_gap, roles, lang=lang, k=ctx.k, roles=ctx.roles, dimensions=dims
        )

    matrix_scores = scores[scores["dimension"] == "partner_trust"]
    if len(matrix_scores):
        matrix = suppression.suppress(
            stats.trust_matrix(matrix_scores), ctx.k, by=["wave", "org", "target"]
        )
        report.tables["trust_matrix"] = stats.reciprocity(
            suppression.mask(matrix, ["mean", "sd", "ci_low", "ci_high"])
        )
        latest_matrix = matrix[matrix["wave"] == latest]
        report.chart(
            "matrix", charts.trust_heatmap, latest_matrix, lang=lang, k=ctx.k, names=ctx.orgs
        )
        _one_sided(report, latest_matrix, ctx)
        if len(released) > 1:
            cells = matrix.loc[~matrix["hidden"], ["wave", "org", "target"]]
            both = _in_both(cells, released[-2].id, latest, ["org", "target"])
            tested = matrix_scores[_in_cells(matrix_scores, both, ["wave", "org", "target"])]
            pairs = stats.wave_changes(tested, released[-2].id, latest, by=("org", "target"))
            if not pairs.empty:
                report.tables["trust_matrix_changes"] = pairs

    if len(released) > 1 and main_dims:
        both = _in_both(shown, released[-2].id, latest, ["org", "dimension"])
        tested = main[_in_cells(main, both, ["wave", "org", "dimension"])]
        report.tables["changes"] = stats.wave_changes(tested, released[-2].id, latest)
        names = {w.id: w.name for w in released}
        for dim in main_dims[:3]:
            report.chart(
                "trend",
                _trend,
                report,
                profile,
                lang=lang,
                k=ctx.k,
                names=ctx.orgs,
                wave_names=names,
                dimension=dim,
                dimension_label=dims.get(dim, dim),
            )
    if len(released) > 1 and (main_dims or len(matrix_scores)):
        report.change_slot = len(report.findings)  # filled in by `one_family`

    culture_items = {
        q.id: q.dimension for q in survey.questions if q.type == "allocate" and q.dimension
    }
    if culture_items:
        _culture(report, answers[answers["wave"] == latest], culture_items, ctx)

    _items(report, answers[answers["wave"] == latest], survey, ctx, shown, whole, main_dims)
    sizes = people.groupby(["wave", "org"], observed=True).size()
    latest_comments = data.comments[data.comments["wave"] == latest]
    latest_comments = latest_comments[_in_cells(latest_comments, whole, ["wave", "org"])]
    report.comments = suppression.comments_to_show(  # earlier waves had their own report
        latest_comments, sizes, ctx.k_comments
    )
    # role counts within an organisation: complementary suppression, as for scores, so
    # no role count below k follows from the organisation's total by subtraction
    group_sizes = people.groupby(["wave", "org", "role"], observed=True).size()
    group_sizes = suppression.suppress(
        group_sizes.rename("n").reset_index(), ctx.k, by=["wave", "org"]
    )
    report.tables["group_sizes"] = suppression.mask(group_sizes, [])
    items = scored[scored["dimension"].isin(main_dims).to_numpy()]
    items = items.assign(dimension=items["dimension"].cat.set_categories(main_dims))
    reliability = suppression.suppress(
        stats.reliability(items[_in_cells(items, shown, ["wave", "org", "dimension"])]),
        ctx.k,
        by=["wave", "dimension"],
    )
    report.tables["reliability"] = suppression.mask(reliability, ["alpha", "low"])
    one_family([report])
    return report


def one_family(reports: Sequence[Report], alpha: float = ALPHA) -> None:
    """Holm over exactly the comparisons these reports show, as one family.

    Every comparison in the family has both of its groups shown (hidden ones were never
    tested). The adjusted p, the `significant` flags, the findings about change and the
    trend charts' stars all come from this one adjustment. `build_report` calls it for
    its own report; call it again with all reports that go out together (one page, one
    export) before using their tables, findings or charts. Calling it twice changes
    nothing.
    """
    parts = [
        (report, name)
        for report in reports
        for name in FAMILY
        if name in report.tables and not report.tables[name].empty
    ]
    p = [report.tables[name]["p"].to_numpy(dtype="float64") for report, name in parts]
    adjusted = stats.holm(np.concatenate(p) if p else np.empty(0))
    start = 0
    for report, name in parts:
        table = report.tables[name]
        new = adjusted[start : start + len(table)]
        start += len(table)
        old = table["p_holm"].to_numpy(dtype="float64")
        if np.array_equal(old, new, equal_nan=True):
            continue
        report.tables[name] = table.assign(p_holm=new, significant=new < alpha)
        report.forget_figures()  # drawn again, with the new stars
    for report in reports:
        _change_findings(report)


def _trend(report: Report, profile: pd.DataFrame, **kwargs: Any) -> go.Figure:
    """The trend chart, its stars from the report's changes as adjusted last."""
    return charts.trend(profile, report.tables.get("changes", pd.DataFrame()), **kwargs)


def _in_cells(frame: pd.DataFrame, cells: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Which rows of `frame` fall in one of `cells` (rows over the same `keys`).

    Looked up by integer codes: `frame` may hold millions of answers, `cells` a few dozen.
    """
    inside = np.ones(len(frame), dtype=bool)
    row_key = np.zeros(len(frame), dtype="int64")
    cell_key = np.zeros(len(cells), dtype="int64")
    for key in keys:
        column = frame[key]
        categorical = isinstance(column.dtype, pd.CategoricalDtype)
        if pd.api.types.is_numeric_dtype(column.dtype) and not categorical:
            wanted = np.asarray(cells[key], dtype=column.dtype)
        else:
            wanted = np.asarray(cells[key], dtype=object)
        values = pd.Index(pd.unique(wanted))
        if categorical:
            lookup = np.append(values.get_indexer(np.asarray(column.cat.categories, object)), -1)
            codes = lookup[column.cat.codes.to_numpy()]  # code −1 (missing) finds the −1
        else:
            codes = values.get_indexer(column.to_numpy())
        inside &= codes >= 0
        row_key = row_key * len(values) + np.maximum(codes, 0)
        cell_key = cell_key * len(values) + values.get_indexer(wanted)
    return inside & np.isin(row_key, cell_key)


def _in_both(cells: pd.DataFrame, before: int, after: int, keys: list[str]) -> pd.DataFrame:
    """The cells shown in both waves (rows for each wave): what a change may compare."""
    first = cells.loc[cells["wave"] == before, keys].astype(object)
    both = first.merge(cells.loc[cells["wave"] == after, keys].astype(object))
    return pd.concat([both.assign(wave=before), both.assign(wave=after)], ignore_index=True)


def _whole_orgs(profile: pd.DataFrame | None, people: pd.DataFrame, k: int) -> pd.DataFrame:
    """(wave, org) shown whole: every profile cell shown (without dimensions: enough people).

    Whatever belongs to an organisation but to no dimension (statements without one,
    comments) is used only for these organisations.
    """
    if profile is None:
        sizes = people.groupby(["wave", "org"], observed=True).size().rename("n").reset_index()
        counted = suppression.suppress(sizes, k, by=["wave"])
        return counted.loc[~counted["hidden"], ["wave", "org"]]
    hidden = profile.groupby(["wave", "org"], observed=True)["hidden"].any()
    return hidden[~hidden].reset_index()[["wave", "org"]]


def _counts_table(
    waves: tuple[Wave, ...], counts: dict[int, list[OrgCount]], ctx: Context
) -> pd.DataFrame:
    latest = waves[-1] if waves else None
    rows = [
        {"org": c.org, "completed": c.completed, "headcount": ctx.headcounts.get(c.org)}
        for c in (counts.get(latest.id, []) if latest else [])
    ]
    return pd.DataFrame(rows, columns=["org", "completed", "headcount"])


def _strengths(report: Report, profile: pd.DataFrame, ctx: Context, dims: dict[str, str]) -> None:
    for org, group in profile[~profile["hidden"]].groupby("org", observed=True):
        if len(group) < 2:
            continue
        best, worst = group.loc[group["mean"].idxmax()], group.loc[group["mean"].idxmin()]
        org_name = ctx.orgs.get(str(org), org)
        if best["mean"] - worst["mean"] < EVEN:
            report.findings.append(tr("even", ctx.lang, org=org_name, v=group["mean"].mean()))
            continue
        report.findings.append(
            tr(
                "strongest",
                ctx.lang,
                org=org_name,
                best=dims.get(best["dimension"], best["dimension"]),
                best_v=best["mean"],
                worst=dims.get(worst["dimension"], worst["dimension"]),
                worst_v=worst["mean"],
            )
        )


def _one_sided(report: Report, matrix: pd.DataFrame, ctx: Context) -> None:
    shown = matrix[~matrix["hidden"]]
    pairs = shown.merge(
        shown, left_on=["org", "target"], right_on=["target", "org"], suffixes=("", "_back")
    )
    if pairs.empty:
        return
    pairs["gap"] = (pairs["mean"] - pairs["mean_back"]).abs()
    top = pairs.loc[pairs["gap"].idxmax()]
    report.findings.append(
        tr(
            "one_sided",
            ctx.lang,
            a=ctx.orgs.get(top["org"], top["org"]),
            b=ctx.orgs.get(top["target"], top["target"]),
            x=top["mean"],
            y=top["mean_back"],
        )
    )


def _change_findings(report: Report) -> None:
    """The findings about change, from the one adjusted family: never contradicting.

    The largest significant change of directed trust between partners, the largest
    significant change of a dimension, or (neither significant) that none is.
    """
    ctx, lang = report.context, report.lang
    if report.change_slot is None or ctx is None:
        return
    found = []
    pairs = report.tables.get("trust_matrix_changes", pd.DataFrame())
    significant = pairs[pairs["significant"]] if not pairs.empty else pairs
    if not significant.empty:
        top = significant.loc[significant["diff"].abs().idxmax()]
        found.append(
            tr(
                "pair_change",
                lang,
                a=ctx.orgs.get(top["org"], top["org"]),
                b=ctx.orgs.get(top["target"], top["target"]),
                x=top["mean_before"],
                y=top["mean_after"],
                g=top["g"],
            )
        )
    changes = report.tables.get("changes", pd.DataFrame())
    significant = changes[changes["significant"]] if not changes.empty else changes
    if not significant.empty:
        top = significant.loc[significant["diff"].abs().idxmax()]
        dims = report.dimension_names
        found.append(
            tr(
                "change",
                lang,
                org=ctx.orgs.get(top["org"], top["org"]),
                dim=dims.get(top["dimension"], top["dimension"]),
                a=top["mean_before"],
                b=top["mean_after"],
                g=top["g"],
            )
        )
    if not found:
        found.append(tr("no_change", lang))
    slot = report.change_slot
    report.findings[slot : slot + report.change_count] = found
    report.change_count = len(found)


def _culture(report: Report, answers: pd.DataFrame, items: dict[str, str], ctx: Context) -> None:
    profiles = suppression.suppress(
        stats.culture_profiles(answers, dimensions=items), ctx.k, by=["wave", "type"]
    )
    if profiles.empty:
        report.notes.append(tr("nothing", ctx.lang, k=ctx.k))
        return
    shown = profiles[~profiles["hidden"]]
    report.tables["culture_profiles"] = suppression.mask(profiles, ["now", "preferred", "gap"])
    for org, group in shown.groupby("org", observed=True):
        report.chart(
            "culture", charts.culture_radar, group, lang=ctx.lang, org_name=ctx.orgs.get(org, org)
        )
    hidden = sorted(set(profiles.loc[profiles["hidden"], "org"]) - set(shown["org"]))
    if hidden:
        names = ", ".join(ctx.orgs.get(o, o) for o in hidden)
        report.notes.append(tr("culture_hidden", ctx.lang, orgs=names, k=ctx.k))
    if shown["org"].nunique() > 1:
        distance = stats.culture_distance(shown)
        report.tables["culture_distance"] = distance
        report.chart(
            "distance",
            charts.distance_heatmap,
            distance,
            lang=ctx.lang,
            names=ctx.orgs,
            hidden=hidden,
            k=ctx.k,
        )
        far = distance[distance["org"] < distance["other"]]
        top = far.loc[far["distance"].idxmax()]
        report.findings.append(
            tr(
                "distance",
                ctx.lang,
                a=ctx.orgs.get(top["org"], top["org"]),
                b=ctx.orgs.get(top["other"], top["other"]),
                d=top["distance"],
            )
        )
    if not shown.empty:
        top = shown.loc[shown["gap"].abs().idxmax()]
        report.findings.append(
            tr(
                "culture_gap",
                ctx.lang,
                org=ctx.orgs.get(top["org"], top["org"]),
                dir=tr("more" if top["gap"] > 0 else "less", ctx.lang),
                type=charts.CULTURE_TYPES.get(top["type"], {}).get(ctx.lang, top["type"]),
                gap=top["gap"],
            )
        )


def _items(
    report: Report,
    answers: pd.DataFrame,
    survey: Survey,
    ctx: Context,
    shown: pd.DataFrame,
    whole: pd.DataFrame,
    main_dims: list[str],
) -> None:
    """Answers per statement, from the organisations whose cell of its dimension is shown.

    A statement without a main dimension counts the organisations shown whole.
    """
    likert = [
        q
        for q in survey.questions
        if q.type == "likert" and not q.per_partner and q.scale is not None
    ]
    if not likert:
        return
    frame = answers[answers["item"].isin([q.id for q in likert])].dropna(subset=["value"])
    dimension = {q.id: q.dimension if q.dimension in main_dims else "" for q in likert}
    item = frame["item"].astype("category").cat
    keys = pd.Categorical([dimension.get(str(c), "") for c in item.categories])
    frame = frame.assign(  # looked up per item, not per answer
        dimension=pd.Categorical.from_codes(keys.codes[item.codes.to_numpy()], keys.categories)
    )
    cells = pd.concat([shown.astype({"dimension": object}), whole.assign(dimension="")])
    frame = frame[_in_cells(frame, cells, ["wave", "org", "dimension"])]
    counts = frame.groupby(["item", "value"], observed=True).size().unstack(fill_value=0)
    if counts.empty:
        return
    counts = counts.reindex([q.id for q in likert if q.id in counts.index])  # survey order
    # an item's distribution needs k answers behind it; items are not parts of a total,
    # so each is its own breakdown
    sizes = suppression.suppress(
        counts.sum(axis=1).rename("n").rename_axis("item").reset_index(), ctx.k, by=["item"]
    ).set_index("item")
    shares = counts.div(counts.sum(axis=1), axis=0) * 100
    shares.columns = [int(c) for c in shares.columns]
    shares.loc[sizes["hidden"].to_numpy()] = np.nan
    scale = likert[0].scale
    labels = {q.id: (q.label or q.text).get(ctx.lang) for q in likert}
    table = shares.reset_index()
    # a statement for one role only counts that role over the organisations: beside the
    # role counts per organisation that would give a hidden one by subtraction
    for_roles = table["item"].isin([q.id for q in likert if q.roles]).to_numpy()
    table.insert(1, "n", sizes["n"].where(~sizes["hidden"] & ~for_roles).to_numpy())
    report.tables["item_distribution"] = table
    report.chart(
        "items",
        charts.diverging_items,
        shares,
        lang=ctx.lang,
        items=labels,
        scale=[t.get(ctx.lang) for t in scale.labels],  # type: ignore[union-attr]
        k=ctx.k,
    )


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
                tr("col_wave", lang): [report.wave_names.get(w, w) for w in sizes["wave"]],
                tr("col_org", lang): [ctx.orgs.get(o, o) for o in sizes["org"]],
                tr("col_role", lang): [ctx.roles.get(r, r) or "–" for r in sizes["role"]],
                "n": counted(sizes["n"]),
            }
        )
        parts.append(f"<h4>{tr('group_sizes', lang)}</h4>" + shown.to_html(index=False))
    built = report.context or ctx  # the flags came with the data the report was built from
    flags = [f for f in built.oversubscribed if f.wave in report.wave_names]
    if flags:
        items = "".join(
            "<li>"
            + html.escape(
                tr(
                    "oversubscribed_role" if f.role else "oversubscribed_org",
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
            f"<h4>{tr('oversubscribed', lang)}</h4><p>{tr('oversubscribed_note', lang)}</p>"
            f"<ul>{items}</ul>"
        )
    alphas = report.tables.get("reliability")
    if alphas is not None and not alphas.empty:
        dims = _dimension_names(report.survey, lang)
        shown = pd.DataFrame(
            {
                tr("col_wave", lang): [report.wave_names.get(w, w) for w in alphas["wave"]],
                tr("col_dimension", lang): [dims.get(d, d) for d in alphas["dimension"]],
                tr("col_items", lang): alphas["items"],
                "n": counted(alphas["n"]),
                "alpha": [_alpha_cell(row, small, lang) for row in alphas.itertuples()],
                "": [_alpha_note(row, lang) for row in alphas.itertuples()],
            }
        )
        parts.append(f"<h4>{tr('alpha', lang)}</h4>" + shown.to_html(index=False))
    return parts


def _alpha_cell(row: Any, small: str, lang: str) -> str:
    """'n < k' when hidden, '–' when there is no alpha, else the alpha itself."""
    if row.hidden:
        return small
    return "–" if row.alpha != row.alpha else charts.number(row.alpha, ".2f", lang)


def _alpha_note(row: Any, lang: str) -> str:
    if not row.computed:
        return tr("no_alpha", lang)
    return tr("low_alpha", lang) if row.low is True else ""


PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; max-width: 1100px; margin: 0 auto;
       padding: 1rem; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.7rem; }} h2 {{ margin-top: 2.2rem; border-bottom: 2px solid #0072B2; }}
.findings li {{ margin: .4rem 0; }} .note {{ background: #FFF4D6; padding: .6rem 1rem; }}
blockquote {{ border-left: 4px solid #56B4E9; margin: .4rem 0; padding: .1rem .8rem; }}
.meta {{ color: #555; font-size: .92rem; }}
table {{ border-collapse: collapse; margin: .6rem 0; }}
td, th {{ border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }}
@media print {{ .figure {{ page-break-inside: avoid; }} }}
</style></head><body>
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
    parts = [f"<h1>{html.escape(ctx.partnership)} — {tr('title', lang)}</h1>"]
    parts.append(f"<h2>{tr('findings', lang)}</h2>")
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
        parts.extend(_comments(report, ctx))
    parts.append(
        f"<h2>{tr('methods', lang)}</h2><p>"
        + html.escape(tr("methods_text", lang, k=ctx.k, kc=ctx.k_comments))
        + "</p>"
    )
    for report in reports:
        parts.append(f"<h3>{html.escape(report.survey.title.get(lang))}</h3>")
        parts.extend(_appendix(report, ctx))
    return PAGE.format(lang=lang, title=html.escape(ctx.partnership), body="\n".join(parts))


def _comments(report: Report, ctx: Context) -> list[str]:
    """The latest wave's comments per organisation (each group ≥ the comment threshold)."""
    lang = ctx.lang
    parts = [f"<h3>{tr('comments', lang)}</h3>"]
    if report.comments.empty:
        parts.append(f"<p>{html.escape(tr('no_comments', lang, k=ctx.k_comments))}</p>")
        return parts
    wave = report.wave_names.get(int(report.comments["wave"].iloc[0]), "")
    parts.append(f"<p class='meta'>{html.escape(tr('comments_of', lang, wave=wave))}</p>")
    by_org = report.comments.groupby("org", sort=False)  # keeps the shuffled order inside
    for org in sorted(by_org.groups, key=lambda o: ctx.orgs.get(o, o)):
        texts = "".join(
            f"<blockquote>{html.escape(str(t))}</blockquote>" for t in by_org.get_group(org)["text"]
        )
        parts.append(f"<h4>{html.escape(ctx.orgs.get(org, org))}</h4>{texts}")
    return parts
