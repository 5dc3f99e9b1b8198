"""Build a report: the sections in order, each a table from `tables`, a chart, findings.

`build_report` computes everything for the waves of one survey; only closed waves give
results (open waves: response counts only). What is shown is decided first (the
profile), and every later section uses the shown cells only. Every comparison a page
shows or a finding rests on (changes, strongest against weakest dimension, the two
directions of a trust relation, the partners' convergence) belongs to the family of its
survey, measurement and question (`families`): one for each question asked of the latest
measurement, one for each asked of its change since the one it is compared with. Holm
adjusts each family on its own (`adjust_families`), whatever else a page shows, and the
findings that depend on it are worded after it (`FindingSlot`). A new chart is a table
in `tables`, a function in `charts` and one section here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from surveys.i18n import t
from surveys.model import Survey
from surveys.store import OrgCount

from .. import charts, stats, suppression
from ..data import WaveData
from . import convergence, detectable, families, findings, labels, sections, tables
from .families import ALPHA
from .model import Context, FindingSlot, Report, dimension_names
from .tables import SCORES, Frames, Shape


@dataclass(frozen=True)
class _Build:
    """What every section reads: the report to fill, its context, shape and frames."""

    report: Report
    ctx: Context
    shape: Shape
    frames: Frames

    @property
    def lang(self) -> str:
        return self.ctx.lang


def build_report(
    survey: Survey, data: WaveData, counts: dict[int, list[OrgCount]], ctx: Context
) -> Report:
    """All suppressed tables, charts and findings for the waves of one survey.

    What is shown is decided first, from group sizes alone; every test, pooled statistic
    and finding is then computed from the shown cells only, so answers inside hidden
    cells cannot move a shown number. Its families are its measurement's own
    (`families`): no other report on the same page can change a verdict here.
    """
    suppression.check_k(ctx.k)
    report = Report(
        survey,
        ctx.lang,
        wave_names={w.id: w.name for w in data.waves},
        context=ctx,
        dimension_names=dimension_names(survey, ctx.lang),
    )
    for wave in data.waves:
        if wave.status != "closed":
            report.notes.append(t("report.open_wave", ctx.lang, name=wave.name))
    counted = tables.counts(data.waves, counts, ctx.headcounts)
    report.chart("counts", charts.response_counts, counted, lang=ctx.lang, names=ctx.orgs)
    released = suppression.releasable(data.waves)
    if not released:
        return report
    shape = Shape.of(survey)
    build = _Build(report, ctx, shape, Frames.of(survey, data, released, shape))
    profile = _profile(build)  # first: what is shown
    shown = tables.shown_cells(profile)
    whole = tables.whole_orgs(profile if shape.scale else None, build.frames.people, ctx.k)
    unscored = tables.unscored(build.frames.scored, profile, whole, shape.scale)
    groups = tables.group_decision(build.frames.people, ctx.k)  # every role breakdown's
    _strengths(build, profile, unscored)
    org_roles = _roles(build, shown, groups)
    has_matrix = _matrix(build)
    _changes(build, profile, shown)
    if build.frames.previous is not None and (shape.scale or has_matrix):
        _slot(report, _change_words)
    if shape.allocate:
        _culture(build)
    _items(build, shown, whole, groups)
    options = tables.per_option(build.frames.answers, survey, whole, groups, ctx.k)
    for name, table in options.items():
        report.tables[name] = suppression.mask(table, ["mean"])
    report.comments = tables.comments(data, build.frames, whole, ctx.k_comments)
    report.tables["group_sizes"] = tables.group_sizes(groups)
    report.tables["reliability"] = tables.reliability(
        build.frames.scored,
        shape.scale,
        shown,
        ctx.k,
        unscored[unscored["wave"].isin(build.frames.waves)],
        {d: sum(q.dimension == d for q in survey.questions) for d in shape.scale},
    )
    sections.add_sections(report, ctx, shape, build.frames, shown, whole, counted, groups)
    if shape.scale:
        report.tables["org_role_scores"] = suppression.mask(org_roles, SCORES)
    labels.settle(report)
    adjust_families([report])
    return report


def _profile(build: _Build) -> pd.DataFrame:
    """The scale dimensions per organisation: table, chart, strongest and weakest."""
    report, ctx, frames = build.report, build.ctx, build.frames
    profile = tables.profile(frames.main, ctx.k)
    report.tables["dimension_scores"] = suppression.mask(profile, SCORES)
    latest = profile[profile["wave"] == frames.latest]
    if build.shape.scale and (latest.empty or latest["hidden"].all()):
        report.notes.append(t("report.nothing", ctx.lang, k=ctx.k))
    if len(latest):
        dims = report.dimension_names
        masked = report.tables["dimension_scores"]  # a chart never sees a hidden figure
        report.chart(
            "profile",
            charts.dimension_profile,
            masked[(masked["wave"] == frames.latest).to_numpy()],
            lang=ctx.lang,
            k=ctx.k,
            names=ctx.orgs,
            dimensions=dims,
        )
    return profile


def _strengths(build: _Build, profile: pd.DataFrame, unscored: pd.DataFrame) -> None:
    """The latest wave's hidden organisations, strongest and weakest dimensions, and flat cells.

    Each shown organisation's highest dimension is tested against its lowest within its
    respondents (`tables.contrasts`, in the family); the sentences wait for the family.
    """
    report, ctx, frames = build.report, build.ctx, build.frames
    latest = profile[profile["wave"] == frames.latest]
    if latest.empty:
        return
    report.findings.extend(findings.hidden(tables.hidden_orgs(latest, ctx.k), ctx))
    contrasts = tables.contrasts(frames.main, latest, ctx.k)
    report.tables["dimension_contrasts"] = _untested(contrasts)
    shown = latest[~latest["hidden"]]
    counts = {str(o): int(n) for o, n in shown["org"].astype(str).value_counts().items()}
    gone = unscored[unscored["wave"] == frames.latest]
    _slot(
        report,
        partial(_strength_words, unscored=gone, counts=counts),
    )
    report.notes.extend(findings.zero_width(latest, ctx, report.dimension_names))


def _untested(table: pd.DataFrame) -> pd.DataFrame:
    """A family table before the family's adjustment: no adjusted p, nothing significant."""
    return table.assign(p_holm=np.nan, significant=False)


def _slot(report: Report, word: Callable[[Report], list[str]]) -> None:
    """Reserve the place of findings worded once the families are adjusted."""
    report.slots.append(FindingSlot(len(report.findings), 0, word))


def _strength_words(report: Report, unscored: pd.DataFrame, counts: dict[str, int]) -> list[str]:
    ctx = report.context
    table = report.tables.get("dimension_contrasts")
    if ctx is None or table is None:
        return []
    return findings.strengths(table, unscored, ctx, report.dimension_names, counts)


def _one_sided_words(report: Report) -> list[str]:
    ctx = report.context
    return [] if ctx is None else findings.one_sided(report.tables.get("reciprocity_tests"), ctx)


def _roles(build: _Build, shown: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Scores per role over the organisations (table, chart); those within each (returned).

    Both follow the group sizes: a role hidden among them is hidden within its
    organisation, and the pooled scores pool only the roles shown within theirs, so no
    pooled n minus shown parts gives a hidden group (DESIGN §4.13).
    """
    report, ctx = build.report, build.ctx
    org_roles = tables.org_role_scores(build.frames, shown, groups, ctx.k)
    roles = tables.role_scores(build.frames, org_roles, ctx.k)
    report.tables["role_scores"] = suppression.mask(roles, SCORES)
    if roles["role"].nunique() > 1:
        report.chart(
            "roles",
            charts.role_gap,
            report.tables["role_scores"],
            lang=ctx.lang,
            k=ctx.k,
            roles=ctx.roles,
            dimensions=report.dimension_names,
        )
    return org_roles


def _matrix(build: _Build) -> bool:
    """The trust matrix of the declared matrix dimension, if it has scores; its changes."""
    report, ctx, frames = build.report, build.ctx, build.frames
    if build.shape.matrix is None:
        return False
    scores = frames.scores[frames.scores["dimension"] == build.shape.matrix]
    if not len(scores):
        return False
    matrix = tables.matrix(scores, build.shape.matrix, ctx.k)
    report.tables["trust_matrix"] = stats.reciprocity(suppression.mask(matrix, SCORES))
    masked = report.tables["trust_matrix"]  # a chart never sees a hidden figure
    latest = masked[(masked["wave"] == frames.latest).to_numpy()]
    report.chart(
        "matrix", sections.matrix_chart, report, latest, lang=ctx.lang, k=ctx.k, names=ctx.orgs
    )
    pairs = tables.reciprocity_tests(scores, matrix, frames.latest)
    if not pairs.empty:
        report.tables["reciprocity_tests"] = _untested(pairs)
    _slot(report, _one_sided_words)
    if frames.previous is not None:
        pairs = tables.matrix_changes(scores, matrix, frames.previous, frames.latest)
        if not pairs.empty:
            report.tables["trust_matrix_changes"] = pairs.assign(
                before=frames.previous, after=frames.latest
            )
    return True


def _changes(build: _Build, profile: pd.DataFrame, shown: pd.DataFrame) -> None:
    """Changes of the scale dimensions since the previous wave, and the trend charts."""
    report, ctx, frames, scale = build.report, build.ctx, build.frames, build.shape.scale
    if frames.previous is None or not scale:
        return
    report.tables["changes"] = tables.dimension_changes(
        frames.main, shown, frames.previous, frames.latest
    ).assign(before=frames.previous, after=frames.latest)
    # the verdicts on these changes are Holm within this family: the MDC at its α/m
    tests = families.size(report, "dimension_changes")
    detectable.add(report, ctx, profile, frames.previous, frames.latest, tests)
    names = {w: report.wave_names[w] for w in frames.waves}
    masked = report.tables["dimension_scores"]  # a chart never sees a hidden figure
    for dim in scale:
        report.chart(
            "trend",
            _trend,
            report,
            masked,
            lang=ctx.lang,
            k=ctx.k,
            names=ctx.orgs,
            wave_names=names,
            dimension=dim,
            dimension_label=report.dimension_names.get(dim, dim),
        )


def _culture(build: _Build) -> None:
    """Culture profiles (now and preferred) of the latest wave, their distance, the wish."""
    report, ctx, frames = build.report, build.ctx, build.frames
    profiles = tables.culture_profiles(frames.in_latest(frames.answers), build.shape, ctx.k)
    if profiles.empty:
        report.notes.append(t("report.nothing", ctx.lang, k=ctx.k))
        return
    types = build.shape.type_names(ctx.lang)
    shown = profiles[~profiles["hidden"]]
    report.tables["culture_profiles"] = suppression.mask(profiles, ["now", "preferred", "gap"])
    for org, group in shown.groupby("org", observed=True):
        report.chart(
            "culture",
            charts.culture_radar,
            group,
            lang=ctx.lang,
            org_name=ctx.org(org),
            types=types,
        )
    hidden = _hidden_reasons(profiles, set(shown["org"]))
    for reason, key in (
        (suppression.SMALL, "culture_hidden"),
        (suppression.PROTECT, "culture_protected"),
    ):
        names = ", ".join(ctx.org(o) for o, why in hidden.items() if why == reason)
        if names:
            report.notes.append(t(f"report.{key}", ctx.lang, orgs=names, k=ctx.k))
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
        report.findings.extend(findings.distance(distance, ctx, findings.sizes_of(shown)))
        orgs = sorted({str(o) for o in shown["org"]})
        if convergence.add(report, frames.answers, build.shape, orgs, frames.latest):
            _slot(report, convergence.words)
    report.findings.extend(findings.culture_gap(shown, ctx, types, findings.sizes_of(shown)))


def _hidden_reasons(profiles: pd.DataFrame, shown: set[object]) -> dict[str, str]:
    """The organisations without a shown culture profile, each with why: fewer than k
    in any of its rows, else hidden to protect a smaller one."""
    hidden = profiles[profiles["hidden"].to_numpy(dtype=bool) & ~profiles["org"].isin(shown)]
    found: dict[str, str] = {}
    for org, rows in hidden.groupby(hidden["org"].astype(str), sort=True):
        small = (rows["hidden_reason"] == suppression.SMALL).any()
        found[str(org)] = suppression.SMALL if small else suppression.PROTECT
    return found


def _items(build: _Build, shown: pd.DataFrame, whole: pd.DataFrame, groups: pd.DataFrame) -> None:
    """Answers per statement of the latest wave, as a table and diverging bars."""
    report, ctx, frames = build.report, build.ctx, build.frames
    latest = frames.in_latest(frames.answers)
    items = tables.item_shares(
        latest, report.survey, shown, whole, build.shape.scale, groups, ctx.k
    )
    if items is None:
        return
    report.tables["item_distribution"] = items.table
    report.chart(
        "items",
        charts.diverging_items,
        items.shares,
        lang=ctx.lang,
        items={q.id: (q.label or q.text).get(ctx.lang) for q in items.questions},
        scale=[label.get(ctx.lang) for label in items.scale.labels],
        k=ctx.k,
    )


def adjust_families(reports: Sequence[Report], alpha: float = ALPHA) -> None:
    """Holm within each family of each report (`families.adjust`), then words and stars.

    The adjusted p, the `significant` flags, every finding worded from them (strongest
    and weakest, one-sided, change: the report's `slots`) and the trend charts' stars all
    come from this one adjustment. A report's families are its survey's and
    measurement's, so adjusting several reports together is adjusting each alone: the
    same finding gets the same verdict on every page and in every artefact. Calling it
    twice changes nothing.
    """
    for report in reports:
        if families.adjust([report], alpha):
            report.forget_figures()  # drawn again, with the new stars
        _reword(report)


def _reword(report: Report) -> None:
    """Word the findings of every slot again from the adjusted families, in place.

    A slot's sentences may grow or shrink in number; the slots after it move along.
    """
    moved, slots = 0, []
    for slot in report.slots:
        start = slot.start + moved
        found = slot.word(report)
        report.findings[start : start + slot.count] = found
        moved += len(found) - slot.count
        slots.append(FindingSlot(start, len(found), slot.word))
    report.slots[:] = slots


def _change_words(report: Report) -> list[str]:
    """The findings about change, from the adjusted family."""
    ctx = report.context
    if ctx is None:
        return []
    return findings.changes(
        report.tables.get("trust_matrix_changes"),
        report.tables.get("changes"),
        ctx,
        report.dimension_names,
    )


def _trend(report: Report, profile: pd.DataFrame, **kwargs: Any) -> go.Figure:
    """The trend chart, its stars from the report's changes as adjusted last."""
    return charts.trend(profile, report.tables.get("changes", pd.DataFrame()), **kwargs)
