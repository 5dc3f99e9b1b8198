"""Exports of suppressed results: PNG charts (kaleido + the system Chromium), XLSX and CSV.

PNG rendering starts one headless browser and reuses it for every chart; MathJax is
off and plotly.js comes from the installed plotly package, so nothing is fetched from
the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import plotly
import plotly.graph_objects as go

PLOTLYJS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PNG_WIDTH = 1000
RENDER_TIMEOUT = 90  # seconds for one chart


class ExportError(RuntimeError):
    """PNG export is impossible here (no Chromium, or it failed to start)."""


async def figures_to_png(figures: Sequence[go.Figure], width: int = PNG_WIDTH) -> list[bytes]:
    """PNG bytes per figure, rendered by one reused headless Chromium."""
    import kaleido

    if not figures:
        return []
    try:
        async with kaleido.Kaleido(
            n=1, timeout=RENDER_TIMEOUT, mathjax=False, plotlyjs=str(PLOTLYJS)
        ) as renderer:
            return [
                await renderer.calc_fig(
                    fig,
                    opts={
                        "format": "png",
                        "width": width,
                        "height": int(fig.layout.height or 480),
                        "scale": 1,
                    },
                )
                for fig in figures
            ]
    except (TimeoutError, OSError, RuntimeError) as exc:
        raise ExportError(f"PNG export needs Chromium (apt-get install chromium): {exc}") from exc
    except Exception as exc:  # choreographer raises its own types when no browser is found
        raise ExportError(f"PNG export failed: {type(exc).__name__}: {exc}") from exc


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """One sheet per suppressed table (sheet names cut to Excel's 31 characters)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.drop(columns=[c for c in ("hidden",) if c in table]).to_excel(
                writer, sheet_name=name[:31], index=False
            )
    return path
