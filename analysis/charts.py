"""Charts: thin functions from suppressed, tidy tables to plotly figures.

Every input table has already been through `suppression`; hidden cells arrive with
`hidden = True` and are drawn as grey placeholders labelled "n < k", never dropped.
Colours are the Okabe–Ito palette (safe for colour-blind readers); fonts are sized for
a phone screen and for print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from surveys import i18n

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HIDDEN = "#BBBBBB"
DIVERGING = ["#B2182B", "#EF8A62", "#D9D9D9", "#67A9CF", "#2166AC"]
ONE_SIDED = 0.4  # trust A→B and B→A this far apart is worth a conversation
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 14}


def label(key: str, lang: str) -> str:
    """A chart's words from the catalogue (`charts.<key>`), unformatted."""
    return i18n.raw(f"charts.{key}", lang)


def small(k: int) -> str:
    return f"n < {k}"


def number(value: float, spec: str, lang: str) -> str:
    """A number as the reader writes it (a decimal comma in Dutch and German)."""
    return i18n.number(value, spec, lang)


def _layout(fig: go.Figure, title: str, lang: str, height: int = 480) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        separators=i18n.LOCALES[lang].decimal + i18n.LOCALES[lang].thousands,
        font=FONT,
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 110, "b": 60},
        # above the plot, under the title: never on top of an axis title, on any height
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    )
    return fig


def dimension_profile(
    table: pd.DataFrame, *, lang: str, k: int, names: dict[str, str], dimensions: dict[str, str]
) -> go.Figure:
    """Grouped bars: mean per organisation and dimension with its CI; hidden cells grey."""
    fig = go.Figure()
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
        if len(hidden):
            fig.add_bar(
                name=small(k),
                x=[names.get(o, o) for o in hidden["org"]],
                y=[0.15] * len(hidden),
                base=[1] * len(hidden),
                marker_color=HIDDEN,
                offsetgroup=str(dim),
                text=[small(k)] * len(hidden),
                textposition="outside",
                showlegend=False,
                hoverinfo="skip",
            )
    fig.update_yaxes(range=[1, 5.4], title=label("score", lang))
    fig.update_layout(barmode="group")
    return _layout(fig, label("profile", lang), lang)


def trust_heatmap(matrix: pd.DataFrame, *, lang: str, k: int, names: dict[str, str]) -> go.Figure:
    """Directed trust: rows trust columns; one-sided pairs marked ◆; hidden cells 'n < k'."""
    orgs = sorted(set(matrix["org"]) | set(matrix["target"]))
    z = np.full((len(orgs), len(orgs)), np.nan)
    text = [["" for _ in orgs] for _ in orgs]
    cells = zip(matrix["org"], matrix["target"], matrix["hidden"], matrix["mean"], strict=True)
    for org, target, hidden, mean in cells:
        i, j = orgs.index(org), orgs.index(target)
        if hidden:
            text[i][j] = small(k)
        else:
            z[i, j] = mean
            text[i][j] = number(mean, ".1f", lang)
    one_sided = np.abs(z - z.T) >= ONE_SIDED  # NaN (hidden or missing) compares False
    for i, j in zip(*np.nonzero(one_sided), strict=True):
        text[i][j] += " ◆"
    labels = [names.get(o, o) for o in orgs]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=labels,
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=1,
            zmax=5,
            colorbar={"title": {"text": label("score", lang), "side": "right"}},
            hoverongaps=False,
        )
    )
    fig.update_xaxes(title=label("to", lang), side="top")
    fig.update_yaxes(title=label("from", lang), autorange="reversed")
    title = (
        label("matrix", lang)
        + " — ◆ "
        + label("one_sided", lang).format(d=number(ONE_SIDED, ".1f", lang))
    )
    return _layout(fig, title, lang, height=140 + 70 * len(orgs))


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
        if len(hidden):  # at the left edge, outside the scale: present, but no value
            fig.add_scatter(
                x=[1.0] * len(hidden),
                y=[dimensions.get(d, d) for d in hidden["dimension"]],
                mode="markers+text",
                name=f"{name} ({small(k)})",
                text=[f"{name}: {small(k)}"] * len(hidden),
                textposition="middle right",
                marker={"size": 10, "color": HIDDEN, "symbol": "x"},
                hoverinfo="skip",
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
        if len(hidden):  # suppressed waves stay visible as grey 'n < k' marks
            fig.add_scatter(
                x=[wave_names.get(w, str(w)) for w in hidden["wave"]],
                y=[1.25] * len(hidden),
                mode="markers+text",
                text=[small(k)] * len(hidden),
                textposition="top center",
                showlegend=False,
                marker={"color": HIDDEN, "size": 10, "symbol": "x"},
                hoverinfo="skip",
            )
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
    hidden: Sequence[str] = (),
    k: int = 5,
) -> go.Figure:
    """Points to move between each pair of cultures; hidden organisations marked 'n < k'."""
    orgs = [*dict.fromkeys(distance["org"]), *hidden]
    table = distance.pivot_table(
        index="org", columns="other", values="distance", observed=True
    ).reindex(index=orgs, columns=orgs)
    z = table.to_numpy()
    text = [
        [
            small(k) if a in hidden or b in hidden else number(z[i][j], ".0f", lang)
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
        items.get(i, i) + (f" ({small(k)})" if table.loc[i].isna().all() else "")
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
