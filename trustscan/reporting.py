"""Build reports from the config and the store; shared by `trustscan report` and `/report`."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis.data import load_waves
from analysis.report import (
    Context,
    HeadcountFlag,
    Report,
    adjust_families,
    build_report,
    render_html,
)
from surveys.cipher import private_file
from surveys.model import Survey
from surveys.store import OrgCount, Store, Wave

from .config import Config
from .headcounts import oversubscribed_groups

if TYPE_CHECKING:
    from analysis.png import PngRenderer

CAPTION_LIMIT = 1024  # characters Telegram keeps of a photo caption


@dataclass(frozen=True, slots=True)
class AlbumPhoto:
    """A chart for the chat: the PNG and the caption that says what, when and over how many."""

    png: bytes
    caption: str


def context_for(config: Config, lang: str) -> Context:
    return Context(
        k=config.min_group_size,
        k_comments=config.min_group_size_comments,
        lang=lang,
        partnership=config.partnership,
        orgs={o.id: o.name for o in config.organisations},
        roles={r.id: r.name(lang) for r in config.roles},
        headcounts={o.id: o.headcount for o in config.organisations},
    )


async def iter_reports(
    store: Store,
    config: Config,
    registry: dict[str, Survey],
    wave_ids: Sequence[int] | None,
    lang: str,
) -> AsyncIterator[Report]:
    """One report per survey among the given waves (default: `default_scope`), charts not
    yet drawn.

    The number crunching runs in a worker thread, so the bot keeps answering respondents
    while a report is being made. The charts are drawn once, later, by `settled` or
    `page_of` (also worker threads), never twice.
    """
    waves = [await store.wave(w) for w in wave_ids] if wave_ids else await store.waves()
    flags = await oversubscribed_groups(store, config.organisations, waves)
    ctx = dataclasses.replace(
        context_for(config, lang),
        oversubscribed=tuple(HeadcountFlag(f.wave, f.org, f.role, f.headcount) for f in flags),
    )
    counts = {w.id: await store.response_counts(w.id) for w in waves}
    for survey_id in dict.fromkeys(w.survey for w in waves):
        if survey_id not in registry:
            continue
        mine = [w for w in waves if w.survey == survey_id]
        scope = default_scope(mine, counts) if not wave_ids else Scope(mine, [])
        ids = [w.id for w in scope.results]
        data = await load_waves(store, ids)
        report = await asyncio.to_thread(
            build_report, registry[survey_id], data, {w: counts[w] for w in ids}, ctx
        )
        report.progress = progress_of(scope.progress, counts, ctx)
        yield report


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report of one survey covers: waves with results, waves shown as progress."""

    results: list[Wave]
    progress: list[Wave]


def default_scope(waves: Sequence[Wave], counts: dict[int, list[OrgCount]]) -> Scope:
    """The default report of one survey: every closed measurement with answers (a trend;
    the latest against the one before it), and the open ones as response progress only.

    A closed measurement nobody answered has nothing to report and would push the last real
    one out of the comparison; an open one has no results until it closes. With nothing
    closed and answered yet, the open waves are the report (counts only, as before).
    """
    answered = [
        w
        for w in waves
        if w.status == "closed" and sum(c.completed for c in counts.get(w.id, [])) > 0
    ]
    still_open = [w for w in waves if w.status != "closed"]
    if not answered:
        return Scope(still_open or list(waves), [])
    return Scope(answered, still_open)


def progress_of(
    waves: Sequence[Wave], counts: dict[int, list[OrgCount]], ctx: Context
) -> pd.DataFrame:
    """Completed questionnaires per organisation of each open wave (what the counts chart
    showed of an open wave before: counts only, no results)."""
    rows = [
        {
            "wave": w.id,
            "name": w.name,
            "org": c.org,
            "completed": c.completed,
            "headcount": ctx.headcounts.get(c.org),
        }
        for w in waves
        for c in counts.get(w.id, [])
    ]
    return pd.DataFrame(rows, columns=["wave", "name", "org", "completed", "headcount"])


async def settled(reports: Sequence[Report]) -> None:
    """Make sure every report's families are adjusted, and draw the charts.

    Each report's families are its own measurement's (`analysis.report.families`), so
    reports that go out together never change each other's verdicts; drawing here keeps
    plotly's work in a worker thread.
    """

    def adjust() -> None:
        adjust_families(reports)
        for report in reports:
            _ = report.figures

    await asyncio.to_thread(adjust)


async def build_reports(
    store: Store,
    config: Config,
    registry: dict[str, Survey],
    wave_ids: Sequence[int] | None,
    lang: str,
) -> tuple[str, list[Report]]:
    """The HTML page and the per-survey reports for the given waves (default: all)."""
    reports = [r async for r in iter_reports(store, config, registry, wave_ids, lang)]
    return await page_of(reports, config, lang), reports


async def page_of(reports: list[Report], config: Config, lang: str, org: str | None = None) -> str:
    """The self-contained HTML page of some reports (written, charts drawn, in a worker thread).

    With `org`, the page of that one partner organisation (its section and the methods).
    """
    return await asyncio.to_thread(render_html, reports, context_for(config, lang), org)


def write_csv(reports: list[Report], folder: Path) -> list[Path]:
    """The aggregated, suppressed tables as CSV files (never answers or identities); a
    hidden cell keeps its row, blank, marked in its `hidden` column."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        for name, table in report.tables.items():
            path = folder / f"{report.survey.id}_{name}.csv"
            table.to_csv(path, index=False)
            written.append(path)
    return written


def write_xlsx(reports: list[Report], path: Path) -> Path:
    """The same tables as one XLSX workbook, a sheet per table (byte-identical per content)."""
    from analysis.export import write_xlsx as write_workbook

    return write_workbook(
        {f"{r.survey.id}_{n}": t for r in reports for n, t in r.tables.items()}, path
    )


async def pdf_of(
    reports: Sequence[Report],
    page: str,
    config: Config,
    lang: str,
    renderer: PngRenderer,
    day: dt.date,
) -> bytes:
    """The page as A4 PDF with its cover (partnership, surveys, measurements, `day`)."""
    from analysis import paper

    cover = paper.Cover.of(reports, config.partnership, day)
    return await paper.pdf(page, cover, lang, renderer)


async def pptx_of(
    reports: Sequence[Report], config: Config, lang: str, renderer: PngRenderer, day: dt.date
) -> bytes:
    """The slide deck: a title slide, then one slide per chart with its finding and notes."""
    from analysis import paper, slides

    cover = paper.Cover.of(reports, config.partnership, day)
    return await slides.deck(reports, cover, lang, renderer)


async def album_of(
    reports: Sequence[Report], renderer: PngRenderer, limit: int
) -> list[AlbumPhoto]:
    """The chat album: the key charts at 2x with fonts legible on a phone, each captioned."""
    from analysis.captions import album
    from analysis.png import ALBUM_SCALE, ALBUM_WIDTH

    notes = album(reports, limit)
    pngs = await renderer.render(
        [note.figure for note in notes], width=ALBUM_WIDTH, scale=ALBUM_SCALE
    )
    lang = reports[0].lang if reports else "nl"
    return [
        AlbumPhoto(png, note.caption(lang)[:CAPTION_LIMIT])
        for note, png in zip(notes, pngs, strict=True)
    ]


def write_private(path: Path, data: bytes) -> Path:
    """Write a report file readable by its owner only (0600, whatever the umask)."""
    private_file(path)
    path.write_bytes(data)
    return path
