"""The sections that make a report complete: every question, trust as a network, partners.

`build_report` calls `add_sections` once, after the profile, the matrix and the
culture tables are decided: everything here uses their shown cells only (DESIGN §4.7).
Tables come from `questions`, `network` and `partners`; the HTML page renders them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from .. import charts
from . import network, partners, questions
from .model import Context, Report
from .tables import Frames, Shape


def add_sections(
    report: Report,
    ctx: Context,
    shape: Shape,
    frames: Frames,
    shown: pd.DataFrame,
    whole: pd.DataFrame,
    counted: pd.DataFrame,
    groups: pd.DataFrame,
) -> None:
    """Fill the report's tables and charts of the questions, the network and the partners.

    `groups` is the decision on the group sizes (`tables.group_decision`): a question for
    some roles counts only where their groups are shown.
    """
    survey, lang, k = report.survey, ctx.lang, ctx.k
    report.tables["response_counts"] = _rates(counted)
    names = {d.id: d.label.get(lang) for d in survey.dimensions}
    start = len(report.charts)
    further = questions.further_matrices(frames.scores, survey, shape, k)
    if len(further):
        report.tables["matrices"] = further
    for dimension, table in further.groupby("dimension", sort=False) if len(further) else ():
        latest = table[(table["wave"] == frames.latest).to_numpy()]
        report.chart(
            "matrix",
            charts.trust_heatmap,
            latest,
            lang=lang,
            k=k,
            names=ctx.orgs,
            title=names.get(str(dimension), str(dimension)),
            pairs=pd.DataFrame(),  # no reciprocity test of this dimension: no ◆
        )
    _network(report, ctx, shape, frames, groups)
    _beside_trust(report, start)
    shares = questions.answer_shares(frames.answers, survey, whole, groups, k)
    if len(shares):
        report.tables["answer_shares"] = shares
        nps = questions.nps_scores(shares, survey)
        if len(nps):
            report.tables["nps"] = nps
        _choice_charts(report, ctx, shares, nps)
    if shape.allocate and "culture_profiles" in report.tables:
        aspects = questions.culture_aspects(
            frames.in_latest(frames.answers), shape, report.tables["culture_profiles"]
        )
        if len(aspects):
            report.tables["culture_aspects"] = aspects
    if shape.scale:
        report.tables["partnership_scores"] = partners.partnership_scores(frames, shown)
    report.tables["questions"] = questions.index(survey, shape, lang)


def _beside_trust(report: Report, start: int) -> None:
    """Move the charts added since `start` (goodwill, network) right after the trust matrix."""
    added = report.charts[start:]
    del report.charts[start:]
    names = [name for name, _ in report.charts]
    at = names.index("matrix") + 1 if "matrix" in names else len(names)
    report.charts[at:at] = added


def matrix_chart(report: Report, latest: pd.DataFrame, **kwargs: Any) -> go.Figure:
    """The trust matrix, its ◆ from the reciprocity tests as their family adjusted them last."""
    pairs = report.tables.get("reciprocity_tests", pd.DataFrame())
    return charts.trust_heatmap(latest, pairs=pairs, **kwargs)


def _rates(counted: pd.DataFrame) -> pd.DataFrame:
    """Completed responses per organisation with the response rate (%) where known."""
    headcount = pd.to_numeric(counted["headcount"], errors="coerce")
    rate = counted["completed"] / headcount.where(headcount > 0) * 100
    return counted.assign(rate=rate)


def _network(
    report: Report, ctx: Context, shape: Shape, frames: Frames, groups: pd.DataFrame
) -> None:
    """Strengths, density and familiarity of the trust matrix; the picture.

    Reciprocity is `reciprocity_tests` (in its measurement's family, built with the matrix).
    """
    matrix = report.tables.get("trust_matrix")
    if matrix is None or matrix.empty:
        return
    latest = matrix[(matrix["wave"] == frames.latest).to_numpy()]
    report.tables["strength"] = network.strengths(matrix)
    dimension = report.survey.dimension(shape.matrix)
    points = _points(report, shape.matrix)
    orgs = len(set(frames.people["org"].astype(str)) | set(ctx.orgs))
    report.tables["density"] = network.density(matrix, orgs, strong=points - 1)
    familiar = network.familiarity(frames.answers, report.survey, groups, ctx.k)
    if len(familiar):
        report.tables["familiarity"] = familiar
    report.chart(
        "network",
        _network_chart,
        report,
        latest,
        lang=ctx.lang,
        k=ctx.k,
        names=ctx.orgs,
        points=points,
        title=dimension.label.get(ctx.lang) if dimension else "",
    )
    if len(familiar):
        shown_familiar = familiar[(familiar["wave"] == frames.latest).to_numpy()]
        report.chart(
            "familiarity",
            charts.familiarity_heatmap,
            shown_familiar,
            lang=ctx.lang,
            k=ctx.k,
            names=ctx.orgs,
        )


def _network_chart(report: Report, latest: pd.DataFrame, **kwargs: Any) -> go.Figure:
    """The network picture, its one-sided pairs from its measurement's family as adjusted last."""
    pairs = report.tables.get("reciprocity_tests", pd.DataFrame())
    return charts.trust_network(latest, pairs, **kwargs)


def _points(report: Report, dimension: str | None) -> int:
    """The scale length of a matrix dimension's questions (5 unless declared otherwise)."""
    for q in report.survey.questions:
        if q.dimension == dimension and q.points:
            return q.points
    return 5


def _choice_charts(report: Report, ctx: Context, shares: pd.DataFrame, nps: pd.DataFrame) -> None:
    """A chart per choice/multi question (latest wave) and one per NPS question."""
    latest = shares[(shares["wave"] == shares["wave"].max()).to_numpy()]
    score_ids = set(nps["question"]) if len(nps) else set()
    for question_id in dict.fromkeys(latest["question"]):
        q = report.survey.question(str(question_id))
        rows = latest[(latest["question"] == question_id).to_numpy()]
        title = (q.label or q.text).get(ctx.lang)
        if question_id in score_ids:
            scores = nps[(nps["question"] == question_id) & (nps["wave"] == rows["wave"].iloc[0])]
            report.chart(
                "nps",
                charts.nps_bars,
                scores,
                lang=ctx.lang,
                k=ctx.k,
                names=ctx.orgs,
                title=title,
            )
        else:
            options = {o.value: o.label.get(ctx.lang) for o in q.options}
            report.chart(
                "choices",
                charts.option_shares,
                rows,
                lang=ctx.lang,
                k=ctx.k,
                names=ctx.orgs,
                options=options,
                title=title,
            )
