"""The printable sheet of single-use codes: one slip to cut out per code.

Each slip carries what one member needs and nothing else: the organisation, the role,
the code in large type, the role's own link (as text and as a QR code) and three short
steps, in the partnership's language. A sheet is HTML that prints on A4 as it is; the
PDF is the same page printed by the browser the reports use (`analysis.png`).

The sheet is the only place besides the terminal where the codes ever appear in clear:
trustscan writes it 0600 and keeps no copy.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from surveys.cipher import private_file
from surveys.i18n import t

from .invites import qr_png
from .operations import CodeSheet

CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.35 Arial, Helvetica, sans-serif; color: #111; margin: 0; }
.note { margin: 0 0 6mm; padding: 3mm 4mm; background: #f2f2f2; font-size: 9.5pt; }
.note h1 { font-size: 12pt; margin: 0 0 1mm; }
.slips { display: grid; grid-template-columns: 1fr 1fr; gap: 0; }
.slip { border: 1px dashed #777; padding: 5mm; break-inside: avoid; min-height: 52mm;
        display: grid; grid-template-columns: 1fr 24mm; column-gap: 3mm; }
.slip .who { font-weight: bold; margin: 0; }
.slip .label { font-size: 8.5pt; color: #444; margin: 2mm 0 0; }
.slip .code { font: bold 15pt/1.2 "DejaVu Sans Mono", "Courier New", monospace;
              letter-spacing: 0.04em; margin: 0 0 2mm; white-space: nowrap; }
.slip .link { grid-column: 1 / -1; font-size: 7.5pt; word-break: break-all; margin: 2mm 0 0; }
.slip ol { margin: 2mm 0 0; padding-left: 4.5mm; font-size: 8.5pt; }
.slip img { width: 24mm; height: 24mm; }
"""


def sheet_html(sheet: CodeSheet, partnership: str, survey_title: str, lang: str) -> str:
    """The whole sheet as one self-contained HTML page (the QR code inlined)."""
    org = html.escape(sheet.org.name)
    role = html.escape(sheet.role.label.get(lang) if lang in sheet.role.label else sheet.role.id)
    url = html.escape(sheet.link.url)
    qr = base64.b64encode(qr_png(sheet.link.url)).decode("ascii")
    button = t("bot.consent_button", lang)
    steps = "".join(
        f"<li>{html.escape(t(f'codes.slip_step{i}', lang, button=button))}</li>" for i in (1, 2, 3)
    )
    head = (
        f"<p class='who'>{org} · {role}</p>"
        f"<p class='label'>{html.escape(survey_title)}</p>"
        f"<p class='label'>{html.escape(t('codes.slip_code', lang))}</p>"
    )
    tail = (
        f"<ol>{steps}</ol></div><img alt='' src='data:image/png;base64,{qr}'>"
        f"<p class='link'>{url}</p>"
    )
    slips = "".join(
        f"<section class='slip'><div>{head}<p class='code'>{html.escape(code)}</p>{tail}</section>"
        for code in sheet.codes
    )
    title = t("codes.sheet_title", lang, org=org, role=role)
    note = t("codes.sheet_note", lang, count=len(sheet.codes), partnership=html.escape(partnership))
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f"<header class='note'><h1>{title}</h1><p>{note}</p></header>"
        f"<main class='slips'>{slips}</main></body></html>"
    )


async def sheet_pdf(page: str) -> bytes:
    """The sheet printed to A4 PDF by headless Chromium (`ExportError` without one)."""
    from analysis.png import PngRenderer  # loads plotly: only when a PDF is asked for

    async with PngRenderer() as renderer:
        return await renderer.pdf(page)


def write_sheet(path: Path, data: bytes) -> None:
    """Write a sheet readable by its owner only (0600, whatever the umask)."""
    private_file(path)
    path.write_bytes(data)
