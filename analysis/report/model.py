"""What a report is made of: the context it is built in, and the report itself.

`Report` holds the suppressed tables, the findings and the charts to draw from them;
the modules beside this one fill it (`build`), word it (`findings`) and print it (`html`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from surveys.model import Survey

# The charts of a chat album, most telling first (the HTML report has them all).
KEY_CHARTS = ("profile", "matrix", "trend", "distance", "culture", "items")


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

    def org(self, org: object) -> str:
        """An organisation's name (its id when it has none)."""
        return self.orgs.get(str(org), str(org))


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


@dataclass(frozen=True, slots=True)
class FindingSlot:
    """Findings worded from the report's Holm families, so worded again after them.

    They sit at `findings[start : start + count]`; `word` makes them from the report's
    tables as adjusted last. `build.adjust_families` replaces them in place.
    """

    start: int
    count: int
    word: Callable[[Report], list[str]]


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
    # open measurements of the same survey: completed questionnaires per organisation
    # (wave, name, org, completed, headcount), shown in a block of their own, no results
    progress: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # the findings worded from the Holm families: where they sit among `findings`
    slots: list[FindingSlot] = field(default_factory=list, repr=False)

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
        first: dict[str, go.Figure] = {}
        for name, figure in self.figures:
            first.setdefault(name, figure)
        chosen = [first[name] for name in KEY_CHARTS if name in first][:limit]
        return chosen or [figure for name, figure in self.figures if name == "counts"]


def dimension_names(survey: Survey, lang: str) -> dict[str, str]:
    """Dimension id → label in `lang`."""
    return {d.id: d.label.get(lang) for d in survey.dimensions}
