"""Exports of suppressed results as files: XLSX (one sheet per table).

Charts as PNG live in `analysis.png`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """One sheet per suppressed table (sheet names cut to Excel's 31 characters)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.drop(columns=[c for c in ("hidden",) if c in table]).to_excel(
                writer, sheet_name=name[:31], index=False
            )
    return path
