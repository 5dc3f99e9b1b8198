"""Exports of suppressed results as files: XLSX (one sheet per table).

The same tables always give the same bytes: the workbook's created/modified stamps and
the zip entries' dates are fixed, so an export can be compared with another byte for
byte (and says nothing about when it was made). Charts as PNG live in `analysis.png`.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

STAMP = "2000-01-01T00:00:00Z"  # what the workbook says about its creation
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def xlsx_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per suppressed table (sheet names cut to Excel's 31 characters).

    A hidden cell keeps its row, every figure blank, and its `hidden` column says it is
    hidden rather than missing (a blank alone could be either).
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31], index=False)
    return _fixed_dates(buffer.getvalue())


def _fixed_dates(xlsx: bytes) -> bytes:
    """The workbook with its time stamps replaced by constants, entries in the same order."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "docProps/core.xml":
                data = _DATES.sub(rb"\g<1>" + STAMP.encode() + rb"\g<3>", data)
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = entry.external_attr
            target.writestr(info, data)
    return out.getvalue()


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write `xlsx_bytes(tables)` to `path` (folders created as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes(tables))
    return path
