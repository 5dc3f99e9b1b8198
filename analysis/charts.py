"""Charts: thin functions from suppressed, tidy tables to plotly figures.

Every input table has already been through `suppression`; hidden cells arrive with
`hidden = True` and `hidden_reason`, and are drawn as grey placeholders, never dropped,
labelled with their reason in the catalogue's words (`hidden_label`): "fewer than k", or
"hidden to protect a smaller group" (a cell that may hold many), or only "hidden" where
the reason is withheld. A chart of many marks names each reason once, in its legend,
so labels never pile up over each other.
Colours are the Okabe–Ito palette (safe for colour-blind readers); fonts are sized for
a phone screen and for print.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from surveys import i18n

from .suppression import PROTECT, SMALL, WITHHELD

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HIDDEN = "#BBBBBB"
DIVERGING = ["#B2182B", "#EF8A62", "#D9D9D9", "#67A9CF", "#2166AC"]
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 14}
TITLE_SIZE = 17
TITLE_CHARS = 36  # title characters per line that fit a 390 px phone at TITLE_SIZE
TITLE_LINE = 24  # px a further title line adds to the figure's height


def label(key: str, lang: str) -> str:
    """A chart's words from the catalogue (`charts.<key>`), unformatted."""
    return i18n.raw(f"charts.{key}", lang)


def hidden_label(reason: str, k: int, lang: str) -> str:
    """What a hidden cell shows instead of its figures: why it is hidden.

    `SMALL`: fewer than k; `PROTECT`: hidden only so that a smaller cell cannot be worked
    out (it may hold many respondents); anything else (`WITHHELD`, or a table that does
    not say): "hidden", no reason.
    """
    if reason == SMALL:
        return i18n.t("charts.hidden_small", lang, k=k)
    if reason == PROTECT:
        return label("hidden_protect", lang)
    return label("hidden", lang)


def reasons(table: pd.DataFrame) -> list[str]:
    """The `hidden_reason` of each row ("" shown), `WITHHELD` where a table gives none."""
    if "hidden_reason" not in table:
        hidden = table["hidden"].to_numpy(dtype=bool)
        return [WITHHELD if h else "" for h in hidden]
    return [str(r) if r == r else "" for r in table["hidden_reason"]]


PATTERN = {SMALL: "", PROTECT: "/", WITHHELD: "."}  # grey bars told apart without colour
SYMBOL = {SMALL: "x", PROTECT: "circle-open", WITHHELD: "square-open"}  # and grey marks


def number(value: float, spec: str, lang: str) -> str:
    """A number as the reader writes it (a decimal comma in Dutch and German)."""
    return i18n.number(value, spec, lang)


def _layout(fig: go.Figure, title: str, lang: str, height: int = 480) -> go.Figure:
    """Title, fonts, margins and legend that hold from a 390 px phone to a 1100 px screen.

    Plotly never wraps a title, so a long one is broken at words here (`TITLE_CHARS` fit
    a phone), and its lines get height of their own. The title pushes the plot down
    (`automargin`) and the legend sits at the foot of the figure, pushing the plot up:
    however many rows a narrow screen folds the legend into, it never covers the title.
    """
    lines = _title_lines(title)
    extra = TITLE_LINE * (len(lines) - 1)
    fig.update_layout(
        title={
            "text": "<br>".join(lines),
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 12},
            "font": {"size": TITLE_SIZE},
            "automargin": True,
        },
        separators=i18n.LOCALES[lang].decimal + i18n.LOCALES[lang].thousands,
        font=FONT,
        height=height + extra,
        margin={"l": 60, "r": 20, "t": 50 + extra, "b": 50, "autoexpand": True},
        legend={
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0,
            "xanchor": "left",
            "x": 0,
        },
    )
    _white(fig)
    return fig


@functools.cache
def _white_template() -> go.layout.Template:
    """The "plotly_white" template as `template="plotly_white"` would set it: a checked copy,
    made once."""
    return go.layout.Template(pio.templates["plotly_white"])


def _white(fig: go.Figure) -> None:
    """Give `fig` the "plotly_white" template, the same bytes as `template="plotly_white"`.

    By name, plotly copies the template and checks every one of its properties again for
    each figure (about 8 ms, a quarter of a report's chart time). The copy made once is
    already checked, so it is set the way plotly sets a figure's default template: with
    the check off, as plain data.
    """
    layout = fig.layout
    checking = layout._validate
    layout._validate = False
    try:
        layout.template = _white_template()
    finally:
        layout._validate = checking


def _title_lines(title: str, width: int | None = None) -> list[str]:
    """The title broken at spaces into lines of at most `width` characters (one word may exceed)."""
    width = width or TITLE_CHARS
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def dimension_profile(
    table: pd.DataFrame, *, lang: str, k: int, names: dict[str, str], dimensions: dict[str, str]
) -> go.Figure:
    """Grouped bars: mean per organisation and dimension with its CI; hidden cells grey."""
    fig = go.Figure()
    named: set[str] = set()  # each reason in the legend once
    for i, (dim, group) in enumerate(table.groupby("dimension", observed=True, sort=False)):
        shown = group[~group["hidden"]]
        hidden = group[group["hidden"]]
        fig.add_bar(
            name=dimensions.get(str(dim), str(dim)),
            x=[names.get(o, o) for o in shown["org"]],
            y=shown["mean"],
            marker_color=PALETTE[i % len(PALETTE)],
            offsetgroup=str(dim),
            error_y={
                "type": "data",
                "symmetric": False,
                "array": shown["ci_high"] - shown["mean"],
                "arrayminus": shown["mean"] - shown["ci_low"],
            },
            hovertemplate="%{x}: %{y:.2f}<extra>" + dimensions.get(str(dim), str(dim)) + "</extra>",
        )
        for reason, marks in hidden.groupby(np.asarray(reasons(hidden)), sort=True):
            text = hidden_label(str(reason), k, lang)
            fig.add_bar(
                name=text,
                x=[names.get(o, o) for o in marks["org"]],
                y=[0.15] * len(marks),
                base=[1] * len(marks),
                marker={"color": HIDDEN, "pattern": {"shape": PATTERN.get(str(reason), "")}},
                offsetgroup=str(dim),
                legendgroup=f"hidden {reason}",
                showlegend=str(reason) not in named,
                hovertemplate=f"%{{x}}: {text}<extra></extra>",
            )
            named.add(str(reason))
    fig.update_yaxes(range=[1, 5.4], title=label("score", lang))
    fig.update_layout(barmode="group")
    return _layout(fig, label("profile", lang), lang)


def trust_heatmap(
    matrix: pd.DataFrame,
    *,
    lang: str,
    k: int,
    names: dict[str, str],
    title: str = "",
    pairs: pd.DataFrame,
) -> go.Figure:
    """Directed trust: rows trust columns; one-sided pairs marked ◆; hidden cells 'n < k'.

    `title` names a further matrix dimension (goodwill beside trust) in the title.
    `pairs` are the reciprocity tests (`org`/`target`/`significant`): ◆ marks only the
    pairs its measurement's family finds one-sided, as the findings and the network
    picture do — never a fixed gap, which could mark a pair a finding calls balanced
    (an empty frame: a matrix without a test, no ◆).
    """
    orgs, z, text = _pair_grid(matrix, "mean", k, lambda v: number(v, ".1f", lang), lang)
    one_sided = np.zeros(z.shape, dtype=bool)
    for a, b in _significant(pairs):
        if a in orgs and b in orgs:
            one_sided[orgs.index(a), orgs.index(b)] = one_sided[orgs.index(b), orgs.index(a)] = True
    for i, j in zip(*np.nonzero(one_sided), strict=True):
        text[i][j] += " ◆"
    fig = _pair_heatmap(
        orgs,
        z,
        text,
        names,
        lang,
        colorscale="Blues",
        zmin=1,
        zmax=5,
        colorbar={"title": {"text": label("score", lang), "side": "right"}},
    )
    heading = label("matrix", lang) + (f" ({title})" if title else "")
    if len(pairs):
        heading += " — " + _words("network.one_sided_legend", lang)
    return _layout(fig, heading, lang, height=140 + 70 * len(orgs))


def _pair_grid(
    table: pd.DataFrame, column: str, k: int, write: Callable[[float], str], lang: str
) -> tuple[list[str], np.ndarray, list[list[str]]]:
    """Organisation × organisation values and cell texts; hidden cells give their reason."""
    orgs = sorted(set(table["org"].astype(str)) | set(table["target"].astype(str)))
    z = np.full((len(orgs), len(orgs)), np.nan)
    text = [["" for _ in orgs] for _ in orgs]
    cells = zip(table["org"], table["target"], reasons(table), table[column], strict=True)
    for org, target, reason, value in cells:
        i, j = orgs.index(str(org)), orgs.index(str(target))
        if reason:  # one label per cell, each in its own box
            text[i][j] = hidden_label(reason, k, lang)
        else:
            z[i, j] = value
            text[i][j] = write(value)
    return orgs, z, text


def _pair_heatmap(
    orgs: list[str],
    z: np.ndarray,
    text: list[list[str]],
    names: dict[str, str],
    lang: str,
    **style: Any,
) -> go.Figure:
    """A directed pair grid: rows are the organisations that answer about the columns."""
    labels = [names.get(o, o) for o in orgs]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            text=text,
            texttemplate="%{text}",
            hoverongaps=False,
            **style,
        )
    )
    fig.update_xaxes(title=label("to", lang), side="top")
    fig.update_yaxes(title=label("from", lang), autorange="reversed")
    return fig


def _significant(pairs: pd.DataFrame) -> list[tuple[str, str]]:
    """The (org, target) pairs the reciprocity tests find one-sided."""
    if pairs.empty or "significant" not in pairs:
        return []
    chosen = pairs[pairs["significant"].fillna(False).astype(bool).to_numpy()]
    return [(str(a), str(b)) for a, b in zip(chosen["org"], chosen["target"], strict=True)]


def role_gap(
    table: pd.DataFrame, *, lang: str, k: int, roles: dict[str, str], dimensions: dict[str, str]
) -> go.Figure:
    """Dumbbell: one line per dimension, one dot per role; hidden cells as grey 'n < k' marks."""
    fig = go.Figure()
    dims = list(dict.fromkeys(table["dimension"]))
    for d in dims:
        shown = table[(table["dimension"] == d) & ~table["hidden"]]
        if len(shown) > 1:
            fig.add_scatter(
                x=[shown["mean"].min(), shown["mean"].max()],
                y=[dimensions.get(d, d)] * 2,
                mode="lines",
                line={"color": HIDDEN, "width": 6},
                showlegend=False,
                hoverinfo="skip",
            )
    for i, (role, group) in enumerate(table.groupby("role", observed=True, sort=False)):
        name = roles.get(str(role), str(role))
        shown, hidden = group[~group["hidden"]], group[group["hidden"]]
        if len(shown):
            fig.add_scatter(
                x=shown["mean"],
                y=[dimensions.get(d, d) for d in shown["dimension"]],
                mode="markers",
                name=name,
                marker={"size": 14, "color": PALETTE[i % len(PALETTE)]},
            )
        # at the left edge, outside the scale: present, but no value; named in the legend
        for reason, marks in hidden.groupby(np.asarray(reasons(hidden)), sort=True):
            text = hidden_label(str(reason), k, lang)
            fig.add_scatter(
                x=[1.0] * len(marks),
                y=[dimensions.get(d, d) for d in marks["dimension"]],
                mode="markers",
                name=f"{name} ({text})",
                marker={"size": 10, "color": HIDDEN, "symbol": "x"},
                hovertemplate=f"{name}: {text}<extra></extra>",
            )
    fig.update_xaxes(range=[0.9, 5], title=label("score", lang))
    return _layout(fig, label("role_gap", lang), lang, height=140 + 60 * len(dims))


def trend(
    table: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    lang: str,
    k: int,
    names: dict[str, str],
    wave_names: dict[int, str],
    dimension: str,
    dimension_label: str = "",
) -> go.Figure:
    """Lines per organisation over waves with CI bars; significant changes starred."""
    fig = go.Figure()
    data = table[table["dimension"] == dimension]
    named: set[str] = set()  # each reason in the legend once
    for i, (org, group) in enumerate(data.groupby("org", observed=True, sort=False)):
        group = group.sort_values("wave")
        shown = group[~group["hidden"]]
        fig.add_scatter(
            x=[wave_names.get(w, str(w)) for w in shown["wave"]],
            y=shown["mean"],
            mode="lines+markers",
            name=names.get(str(org), str(org)),
            line={"color": PALETTE[i % len(PALETTE)], "width": 3},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": shown["ci_high"] - shown["mean"],
                "arrayminus": shown["mean"] - shown["ci_low"],
            },
        )
        hidden = group[group["hidden"]]
        # suppressed waves stay visible as grey marks, each reason named once in the legend
        for reason, marks in hidden.groupby(np.asarray(reasons(hidden)), sort=True):
            text = hidden_label(str(reason), k, lang)
            fig.add_scatter(
                x=[wave_names.get(w, str(w)) for w in marks["wave"]],
                y=[1.25] * len(marks),
                mode="markers",
                name=text,
                legendgroup=f"hidden {reason}",
                showlegend=str(reason) not in named,
                marker={"color": HIDDEN, "size": 10, "symbol": SYMBOL.get(str(reason), "x")},
                hovertemplate=f"{names.get(str(org), str(org))}: {text}<extra></extra>",
            )
            named.add(str(reason))
        if not changes.empty:
            sig = changes[
                (changes["org"] == org)
                & (changes["dimension"] == dimension)
                & changes["significant"]
            ]
            for after, mean_after in zip(sig["after"], sig["mean_after"], strict=True):
                fig.add_annotation(
                    x=wave_names.get(int(after), str(after)),
                    y=mean_after,
                    text="★",
                    showarrow=False,
                    yshift=18,
                    font={"size": 20, "color": PALETTE[i % len(PALETTE)]},
                )
    fig.update_yaxes(range=[1, 5], title=label("score", lang))
    fig.update_xaxes(title=label("wave", lang), type="category")
    title = f"{label('trend', lang)}: {dimension_label} — ★ = {label('significant', lang)}"
    return _layout(fig, title, lang)


def culture_radar(
    profiles: pd.DataFrame, *, lang: str, org_name: str, types: Mapping[str, str]
) -> go.Figure:
    """Kite of one organisation: points per culture type, now and preferred.

    `types` names the types (the definition's option labels), in the order drawn.
    """
    present = set(profiles["type"])
    shown = [t for t in types if t in present]
    data = profiles.set_index("type").reindex(shown)
    theta = [types[t] for t in shown]
    fig = go.Figure()
    for column, colour, dash in (("now", PALETTE[0], "solid"), ("preferred", PALETTE[1], "dash")):
        values = [*data[column], data[column].iloc[0]]
        fig.add_scatterpolar(
            r=values,
            theta=[*theta, theta[0]],
            name=label(column, lang),
            line={"color": colour, "width": 3, "dash": dash},
        )
    fig.update_layout(polar={"radialaxis": {"range": [0, 50]}})
    return _layout(fig, f"{label('culture', lang)}: {org_name}", lang, height=420)


def distance_heatmap(
    distance: pd.DataFrame,
    *,
    lang: str,
    names: dict[str, str],
    hidden: Mapping[str, str] | None = None,
    k: int = 5,
) -> go.Figure:
    """Points to move between each pair of cultures; hidden organisations (`hidden`: each
    with its reason) marked with it."""
    hidden = hidden or {}
    orgs = [*dict.fromkeys(distance["org"]), *hidden]
    table = distance.pivot_table(
        index="org", columns="other", values="distance", observed=True
    ).reindex(index=orgs, columns=orgs)
    z = table.to_numpy()
    text = [
        [
            hidden_label(hidden.get(a) or hidden[b], k, lang)
            if a in hidden or b in hidden
            else number(z[i][j], ".0f", lang)
            for j, b in enumerate(orgs)
        ]
        for i, a in enumerate(orgs)
    ]
    labels = [names.get(o, o) for o in orgs]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Oranges",
            zmin=0,
            hoverongaps=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, label("distance", lang), lang, height=120 + 70 * len(orgs))


def diverging_items(
    table: pd.DataFrame, *, lang: str, items: dict[str, str], scale: list[str], k: int = 5
) -> go.Figure:
    """Diverging stacked bars: share per answer point per item, centred on neutral.

    Items with fewer than k answers keep their row, labelled 'n < k', without bars.
    """
    fig = go.Figure()
    points = len(scale)
    middle = (points + 1) / 2
    names = [
        items.get(i, i)
        + (f" ({hidden_label(SMALL, k, lang)})" if table.loc[i].isna().all() else "")
        for i in table.index
    ]
    # negative side: neutral's half first, so it sits next to zero and 'strongly
    # disagree' ends up outermost; the legend keeps the scale order
    low = [p for p in range(1, points + 1) if p <= middle][::-1]
    high = [p for p in range(1, points + 1) if p >= middle]
    for side, order in ((-1, low), (1, high)):
        for p in order:
            column = table.get(p, pd.Series(0.0, index=table.index))
            share = column * (0.5 if p == middle else 1)
            fig.add_bar(
                y=names,
                x=side * share,
                name=scale[p - 1],
                orientation="h",
                marker_color=DIVERGING[round((p - 1) * 4 / max(points - 1, 1))],
                legendrank=p,
                showlegend=not (p == middle and side < 0),
                legendgroup=str(p),
            )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(autorange="reversed")  # survey order from the top
    fig.update_xaxes(title=label("share", lang), range=[-100, 100])
    return _layout(fig, label("items", lang), lang, height=160 + 34 * len(table))


def response_counts(counts: pd.DataFrame, *, lang: str, names: dict[str, str]) -> go.Figure:
    """Completed responses per organisation, with the rate where the headcount is known."""
    text = [
        f"{n}" + (f" ({100 * n / h:.0f}% {label('rate', lang)})" if h else "")
        for n, h in zip(counts["completed"], counts["headcount"].fillna(0), strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=[names.get(o, o) for o in counts["org"]],
            y=counts["completed"],
            text=text,
            textposition="outside",
            marker_color=PALETTE[0],
        )
    )
    fig.update_yaxes(title=label("count", lang))
    return _layout(fig, label("responses", lang), lang, height=400)


def _words(key: str, lang: str, **params: object) -> str:
    """A chart's words from another area of the catalogue (`network.*`, `questions.*`)."""
    return i18n.t(key, lang, **params)


def _circle(count: int) -> np.ndarray:
    """`count` points on the unit circle, the first at the top, clockwise."""
    angle = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
    return np.column_stack([np.cos(angle), np.sin(angle)])


def trust_network(
    matrix: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    lang: str,
    k: int,
    names: dict[str, str],
    points: int = 5,
    title: str = "",
) -> go.Figure:
    """Organisations on a circle, an arrow A → B per shown cell, thicker for more trust.

    The two directions of a pair run side by side; a pair whose directions differ
    (the reciprocity test, significant in its measurement's family) is drawn in orange
    and marked ◆. A hidden cell draws no arrow: the legend counts them.
    """
    orgs = sorted(set(matrix["org"].astype(str)) | set(matrix["target"].astype(str)))
    at = {org: xy for org, xy in zip(orgs, _circle(len(orgs)), strict=True)}
    one_sided = {pair for a, b in _significant(pairs) for pair in ((a, b), (b, a))}

    fig = go.Figure()
    shown = matrix[matrix["mean"].notna().to_numpy()]
    for org, target, mean in zip(shown["org"], shown["target"], shown["mean"], strict=True):
        _arrow(
            fig,
            at[str(org)],
            at[str(target)],
            float(mean),
            points,
            lang,
            (str(org), str(target)) in one_sided,
        )
    strength = shown.groupby(shown["target"].astype(str))["mean"].mean()
    fig.add_scatter(
        x=[at[o][0] for o in orgs],
        y=[at[o][1] for o in orgs],
        mode="markers+text",
        text=[names.get(o, o) for o in orgs],
        textposition=[_outside(at[o]) for o in orgs],
        marker={"size": 26, "color": PALETTE[0], "line": {"color": "white", "width": 2}},
        hovertext=[
            f"{names.get(o, o)}: {_words('network.in_strength', lang)} "
            + (number(strength[o], ".1f", lang) if o in strength else label("hidden", lang))
            for o in orgs
        ],
        hoverinfo="text",
        showlegend=False,
    )
    hidden = int(matrix["mean"].isna().sum())
    legend = [
        (_words("network.arrow_legend", lang), PALETTE[0], "solid"),
        (_words("network.one_sided_legend", lang), PALETTE[5], "solid"),
    ]
    if hidden:
        legend.append((_words("network.hidden_legend", lang, count=hidden, k=k), HIDDEN, "dot"))
    for name, colour, dash in legend:
        fig.add_scatter(
            x=[None],
            y=[None],
            mode="lines",
            name=name,
            line={"color": colour, "width": 4, "dash": dash},
        )
    fig.update_xaxes(visible=False, range=[-1.5, 1.5])
    fig.update_yaxes(visible=False, range=[-1.45, 1.45], scaleanchor="x", scaleratio=1)
    heading = (
        _words("network.title", lang, dimension=title)
        if title
        else _words("network.title_plain", lang)
    )
    return _layout(fig, heading, lang, height=560)


def _outside(xy: np.ndarray) -> str:
    """Where a node's name goes: away from the circle's centre, clear of the arrows."""
    x, y = float(xy[0]), float(xy[1])
    if abs(x) < 0.3:
        return "top center" if y > 0 else "bottom center"
    return ("top " if y > 0.3 else "bottom " if y < -0.3 else "middle ") + (
        "right" if x > 0 else "left"
    )


def _arrow(
    fig: go.Figure,
    start: np.ndarray,
    end: np.ndarray,
    mean: float,
    points: int,
    lang: str,
    one_sided: bool,
) -> None:
    """One directed relation: an arrow beside its reverse, its width and label the mean."""
    direction = end - start
    length = float(np.hypot(*direction)) or 1.0
    unit = direction / length
    side = np.array([unit[1], -unit[0]]) * 0.05  # to the right of travel: the reverse runs apart
    tail, head = start + unit * 0.14 + side, end - unit * 0.16 + side
    strength = (mean - 1) / max(points - 1, 1)
    colour = PALETTE[5] if one_sided else PALETTE[0]
    fig.add_annotation(
        x=head[0],
        y=head[1],
        ax=tail[0],
        ay=tail[1],
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        showarrow=True,
        arrowhead=2,
        arrowsize=1,
        arrowwidth=1 + 5 * max(strength, 0.0),
        arrowcolor=colour,
        opacity=0.35 + 0.65 * max(strength, 0.0),
    )
    middle = tail + (head - tail) * 0.4 + side * 1.6
    fig.add_annotation(
        x=middle[0],
        y=middle[1],
        text=number(mean, ".1f", lang) + (" ◆" if one_sided else ""),
        showarrow=False,
        font={"size": 12, "color": colour},
        bgcolor="rgba(255,255,255,0.8)",
    )


def familiarity_heatmap(
    table: pd.DataFrame, *, lang: str, k: int, names: dict[str, str]
) -> go.Figure:
    """Share of "don't know" about each partner: rows do not know columns; hidden 'n < k'."""
    orgs, z, text = _pair_grid(table, "dont_know", k, lambda v: number(v, ".0f", lang) + "%", lang)
    fig = _pair_heatmap(
        orgs, z, text, names, lang, colorscale="Greys", zmin=0, zmax=100, showscale=False
    )
    return _layout(
        fig, _words("network.familiarity_title", lang), lang, height=140 + 70 * len(orgs)
    )


def nps_bars(
    scores: pd.DataFrame, *, lang: str, k: int, names: dict[str, str], title: str
) -> go.Figure:
    """Detractors, passives and promoters (%) per organisation, the NPS beside each bar."""
    orgs = [names.get(str(o), str(o)) for o in scores["org"]]
    hidden = scores["hidden"].to_numpy(dtype=bool)
    fig = go.Figure()
    parts = (("detractors", DIVERGING[0]), ("passives", DIVERGING[2]), ("promoters", DIVERGING[4]))
    for column, colour in parts:
        fig.add_bar(
            y=orgs,
            x=scores[column],
            name=_words(f"questions.{column}", lang),
            orientation="h",
            marker_color=colour,
        )
    labels = [  # one per organisation, each on its own row
        hidden_label(r, k, lang)
        if h
        else _words("questions.nps_score", lang, score=number(s, "+.0f", lang))
        for h, r, s in zip(hidden, reasons(scores), scores["score"].fillna(0), strict=True)
    ]
    fig.add_scatter(
        y=orgs,
        x=[101] * len(orgs),
        mode="text",
        text=labels,
        textposition="middle right",
        showlegend=False,
        hoverinfo="skip",
    )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=label("share", lang), range=[0, 125], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_layout(legend_traceorder="normal")
    heading = _words("questions.nps_title", lang, question=title)
    return _layout(fig, heading, lang, height=180 + 50 * len(orgs))


def option_shares(
    shares: pd.DataFrame,
    *,
    lang: str,
    k: int,
    names: dict[str, str],
    options: dict[str, str],
    title: str,
) -> go.Figure:
    """Share (%) per option and organisation of one choice or multi question; hidden 'n < k'."""
    fig = go.Figure()
    orgs = list(dict.fromkeys(shares["org"].astype(str)))
    labels = [names.get(o, o) for o in orgs]
    share = shares.assign(org=shares["org"].astype(str)).set_index(["option", "org"])["share"]
    for i, (value, name) in enumerate(options.items()):
        values = [float(share.get((value, o), np.nan)) for o in orgs]
        fig.add_bar(
            y=labels,
            x=values,
            name=name,
            orientation="h",
            marker_color=PALETTE[i % len(PALETTE)],
            text=[number(v, ".0f", lang) + "%" if v == v else "" for v in values],
            textposition="inside",
        )
    first = shares.assign(org=shares["org"].astype(str), reason=reasons(shares))
    first = first[first["hidden"].to_numpy(dtype=bool)].drop_duplicates("org")
    marks = dict(zip(first["org"], first["reason"], strict=True))  # one per organisation's row
    if marks:
        fig.add_scatter(
            y=[names.get(o, o) for o in marks],
            x=[2] * len(marks),
            mode="text",
            text=[hidden_label(r, k, lang) for r in marks.values()],
            textposition="middle right",
            showlegend=False,
            hoverinfo="skip",
        )
    multi = shares.groupby(["org"], observed=True)["share"].sum().max() > 100.5
    fig.update_layout(barmode="group" if multi else "stack", legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=label("share", lang), range=[0, 100])
    heading = _words("questions.shares_title", lang, question=title)
    return _layout(
        fig, heading, lang, height=200 + (40 * len(options) if multi else 50) * len(orgs)
    )
