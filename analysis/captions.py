"""What each chart shows, when it was measured and over how many: captions, slides, notes.

A chart that leaves the page — a photo in the chat, a slide in a workshop — loses the
headings around it, so it carries its own: the survey, the measurement, what it shows,
n, the method, and the finding it supports. n counts the respondents behind the cells
the chart shows (never a hidden group), so no hidden answer moves it.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from surveys import i18n
from surveys.i18n import t

from .report.findings import OF_CHART
from .report.model import KEY_CHARTS, Report

# The findings a chart supports, by the catalogue keys that word them (findings.py owns it).
FINDINGS_OF = OF_CHART
METHOD_OF = {
    "counts": "method_counts",
    "profile": "method_profile",
    "matrix": "method_matrix",
    "roles": "method_roles",
    "trend": "method_trend",
    "culture": "method_culture",
    "distance": "method_distance",
    "items": "method_items",
}
PER_REPORT = 3  # key charts per survey in a chat album
CULTURE_COLUMNS = 2  # culture kites side by side in the album's one picture, from 4 partners


@dataclass(frozen=True, slots=True)
class ChartNote:
    """One chart with everything a reader needs when it stands alone."""

    name: str  # the chart's kind: profile, matrix, trend, culture, …
    figure: go.Figure
    survey: str
    what: str  # the chart's own title, on one line
    measurement: str
    n: str
    method: str
    findings: tuple[str, ...]  # the report's findings this chart supports

    @property
    def title(self) -> str:
        """A slide's title: the chart's one finding, else what the chart shows."""
        return self.findings[0] if len(self.findings) == 1 else self.what

    def caption(self, lang: str) -> str:
        """The photo caption in the chat: survey, measurement, what it shows, n."""
        return t(
            "paper.caption", lang, survey=self.survey, measurement=self.measurement,
            what=self.what, n=self.n,
        )  # fmt: skip

    def notes(self, lang: str) -> str:
        """A slide's speaker notes: what, when, n, method, and the findings beside it."""
        text = t(
            "paper.notes", lang, what=self.what, measurement=self.measurement, n=self.n,
            method=self.method,
        )  # fmt: skip
        return "\n".join([text, *self.findings])


def chart_notes(report: Report) -> list[ChartNote]:
    """Every chart of a report, in the report's order, with its note."""
    drawn = zip(report.charts, report.figures, strict=True)
    notes = [_note(report, name, figure, _kwargs(draw)) for (name, draw), (_, figure) in drawn]
    claimed: set[str] = set()  # a finding titles one chart: the first that supports it
    for i, note in enumerate(notes):
        own = tuple(f for f in note.findings if f not in claimed)
        claimed.update(own)
        notes[i] = dataclasses.replace(note, findings=own)
    return notes


def album(reports: Sequence[Report], limit: int = 10) -> list[ChartNote]:
    """The key charts of each survey for a chat album, at most `limit` in all.

    One of each kind in KEY_CHARTS, `PER_REPORT` per survey; the culture kites of all
    partners become one picture, so no partner is left out. Only the response counts
    when a survey has no results yet (an open measurement).
    """
    chosen: list[ChartNote] = []
    for report in reports:
        notes = chart_notes(report)
        first: dict[str, ChartNote] = {}
        for note in notes:
            first.setdefault(note.name, note)
        if "culture" in first:
            first["culture"] = _all_cultures(report, [n for n in notes if n.name == "culture"])
        keys = [first[name] for name in KEY_CHARTS if name in first][:PER_REPORT]
        chosen.extend(keys or [n for n in notes if n.name == "counts"])
    return chosen[:limit]


def _note(report: Report, name: str, figure: go.Figure, kwargs: Mapping[str, Any]) -> ChartNote:
    lang = report.lang
    k = report.context.k if report.context else 0
    measurement, n = _measured(report, name, figure, kwargs)
    what = one_line(figure.layout.title.text or "")
    subject = kwargs.get("dimension_label") or kwargs.get("org_name")
    return ChartNote(
        name=name,
        figure=figure,
        survey=report.survey.title.get(lang),
        what=what,
        measurement=measurement,
        n=n,
        method=t(f"paper.{METHOD_OF.get(name, 'method_other')}", lang, k=k),
        findings=tuple(supported(report.findings, name, lang, subject)),
    )


def _measured(
    report: Report, name: str, figure: go.Figure, kwargs: Mapping[str, Any]
) -> tuple[str, str]:
    """The measurement(s) a chart shows and its n, as the caption prints them."""
    lang = report.lang
    waves = released(report)
    if name == "counts":  # the latest measurement, open or closed: counts are public
        wave = max(report.wave_names) if report.wave_names else None
        counted = figure.data[0].y if figure.data else None
        total = int(sum(counted)) if counted is not None else 0
        return report.wave_names.get(wave, "") if wave else "", _count(total, lang)
    if name == "trend":
        per_wave = [
            t(
                "paper.n_per_wave",
                lang,
                n=_count(respondents(report, w, kwargs.get("dimension")), lang),
                measurement=report.wave_names.get(w, str(w)),
            )
            for w in waves
        ]
        return " – ".join(report.wave_names.get(w, str(w)) for w in waves), ", ".join(per_wave)
    latest = waves[-1] if waves else max(report.wave_names, default=0)
    org = _org_id(report, kwargs.get("org_name"))
    return report.wave_names.get(latest, ""), _count(respondents(report, latest, org=org), lang)


def released(report: Report) -> list[int]:
    """The measurements with results, oldest first (the counts alone: none)."""
    sizes = report.tables.get("group_sizes")
    if sizes is None or sizes.empty:
        return []
    return sorted(int(w) for w in set(sizes["wave"]))


def respondents(report: Report, wave: int, dimension: object = None, org: str | None = None) -> int:
    """Respondents behind the shown cells of a measurement: per organisation the largest
    shown n (of a dimension, if given), summed. Hidden cells add nothing."""
    counts = []
    for name in ("dimension_scores", "culture_profiles"):
        table = report.tables.get(name)
        if table is None or table.empty:
            continue
        keep = (table["wave"] == wave) & ~table["hidden"].astype(bool)
        if dimension is not None and "dimension" in table:
            keep &= table["dimension"] == dimension
        if org is not None:
            keep &= table["org"] == org
        counts.append(table[keep.to_numpy()].groupby("org", observed=True)["n"].max())
    if not counts:
        return 0
    return int(pd.concat(counts).groupby(level=0).max().sum())


def supported(
    findings: Sequence[str], name: str, lang: str, subject: str | None = None
) -> list[str]:
    """The findings worded by one of the chart's catalogue keys (about its subject, if any)."""
    patterns = [_pattern(i18n.raw(key, lang)) for key in FINDINGS_OF.get(name, ())]
    found = [f for f in findings if any(p.fullmatch(f) for p in patterns)]
    if subject:
        about = [f for f in found if subject in f]
        general = _pattern(i18n.raw("report.no_change", lang)) if name == "trend" else None
        found = about or [f for f in found if general is not None and general.fullmatch(f)]
    return found


def _pattern(template: str) -> re.Pattern[str]:
    """A catalogue template as a pattern: its fixed words literal, each field any text."""
    parts = [
        re.escape(literal) + (".+?" if field is not None else "")
        for literal, field, _, _ in string.Formatter().parse(template)
    ]
    return re.compile("".join(parts), re.DOTALL)


def _all_cultures(report: Report, notes: list[ChartNote]) -> ChartNote:
    """The culture kites of all partners as one picture, a kite per partner."""
    first = notes[0]
    if len(notes) == 1:
        return first
    columns = 1 if len(notes) <= 3 else CULTURE_COLUMNS  # a phone: one kite across if few
    rows = -(-len(notes) // columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        specs=[[{"type": "polar"}] * columns for _ in range(rows)],
        subplot_titles=[_subject(n) for n in notes],
        vertical_spacing=0.25 / rows,
        horizontal_spacing=0.3,
    )
    for i, note in enumerate(notes):
        for trace in note.figure.data:  # copies: the report's own figures stay as they are
            figure.add_trace(
                trace.to_plotly_json() | {"showlegend": i == 0},
                row=i // columns + 1,
                col=i % columns + 1,
            )
    figure.update_polars(
        radialaxis={"range": [0, 50], "tickfont": {"size": 10}},
        angularaxis={"tickfont": {"size": 12 if columns > 1 else 14}},
    )
    figure.update_annotations(yshift=34, font={"size": 16})  # the partner, above "Innovatie"
    what = t("paper.culture_all", report.lang)
    style = first.figure.layout
    figure.update_layout(
        font=style.font,
        separators=style.separators,
        template=style.template,
        legend=style.legend,
        margin=style.margin.to_plotly_json() | {"t": 130},  # room for the first partner's name
        title=style.title.to_plotly_json() | {"text": what},
        height=140 + (300 if columns > 1 else 380) * rows,
    )
    latest = released(report)
    return ChartNote(
        name="culture",
        figure=figure,
        survey=first.survey,
        what=what,
        measurement=first.measurement,
        n=_count(respondents(report, latest[-1]) if latest else 0, report.lang),
        method=first.method,
        findings=tuple(f for n in notes for f in n.findings),
    )


def _subject(note: ChartNote) -> str:
    """The partner a culture kite is about (its title after the last colon)."""
    return note.what.rsplit(":", 1)[-1].strip()


def _org_id(report: Report, name: object) -> str | None:
    if not name or report.context is None:
        return None
    return next((o for o, n in report.context.orgs.items() if n == name), str(name))


def _kwargs(draw: Callable[[], go.Figure]) -> Mapping[str, Any]:
    """The keyword arguments a chart is drawn with (its dimension, its partner)."""
    keywords = getattr(draw, "keywords", None)
    return keywords if isinstance(keywords, dict) else {}


def one_line(title: str) -> str:
    """A chart title as plain text on one line (the chart breaks long ones with <br>)."""
    return " ".join(re.sub(r"<[^>]+>", " ", title).split())


def _count(n: int, lang: str) -> str:
    return i18n.number(n, ",.0f", lang)
