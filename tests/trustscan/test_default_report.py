"""The default report: per survey the closed measurements (latest against the one before),
open ones as response progress in a block of their own; each output flag its own file."""

from __future__ import annotations

import asyncio
import html
import shutil
from pathlib import Path

from analysis.report import Report
from surveys.store import OrgCount, Store, Wave
from tests.support.clock import CLOCK
from trustscan.cli import build_parser, html_out
from trustscan.config import load_config
from trustscan.reporting import build_reports, default_scope
from trustscan.services import load_registry

from .command import Demo, with_demo


def wave(id: int, status: str) -> Wave:
    return Wave(id, "trust", f"w{id}", status, None, None, None, None, ("a", "b"))


def test_the_default_scope_is_the_answered_closed_waves_and_the_open_as_progress() -> None:
    """An empty closed wave is no measurement; an open one is progress only; with nothing
    closed and answered the open waves are all there is (counts only)."""
    counts = {
        1: [OrgCount("a", 9, 0)],
        2: [OrgCount("a", 7, 0)],
        3: [OrgCount("a", 0, 0)],  # closed, nobody answered
        4: [OrgCount("a", 2, 3)],  # open
    }
    waves = [wave(1, "closed"), wave(2, "closed"), wave(3, "closed"), wave(4, "open")]
    scope = default_scope(waves, counts)
    assert [w.id for w in scope.results] == [1, 2] and [w.id for w in scope.progress] == [4]
    alone = default_scope([wave(3, "closed"), wave(4, "open")], counts)
    assert [w.id for w in alone.results] == [4] and alone.progress == []


def test_an_open_and_an_empty_wave_leave_the_last_comparison_standing(
    demo: Demo, tmp_path: Path
) -> None:
    """After the demo, an empty wave of the trust scan is closed and another one opened:
    the default report still compares the last two answered measurements, draws no
    "0 responses" bars of the open one, and shows it in the progress block only."""
    assert demo.returncode == 0, demo.stderr
    path = tmp_path / "demo.db"
    shutil.copyfile(demo.folder / "demo.db", path)
    key = bytes.fromhex((demo.folder / "demo.key").read_text(encoding="utf-8"))
    config = load_config(None, env={})
    orgs = [o.id for o in config.organisations]

    async def go() -> tuple[str, list[Report]]:
        async with await Store.open(path, key, clock=CLOCK) as store:
            empty = await store.open_wave("trust", 1, orgs, name="empty")
            await store.close_wave(empty.id)
            await store.open_wave("trust", 1, orgs, name="running now")
            return await build_reports(store, config, load_registry(config), None, "en")

    page, reports = asyncio.run(go())
    trust = next(r for r in reports if r.survey.id == "trust")
    changes = trust.tables["changes"]
    assert set(changes["before"]) == {4} and set(changes["after"]) == {7}
    assert sorted(trust.tables["dimension_scores"]["wave"].unique()) == [1, 4, 7]
    assert "matrix" in {name for name, _ in trust.charts}  # the trust charts stay
    assert list(trust.progress["name"].unique()) == ["running now"]
    assert not any("running now" in note for note in trust.notes)
    text = html.unescape(page)
    block = text[text.index("<section class='progress'>") : text.index("</section>")]
    assert "Response so far in open measurements" in block and "running now" in block
    assert "empty" not in block
    assert text.count("running now") == block.count("running now")  # nowhere else


def test_each_output_flag_writes_only_its_own_file(run, demo: Demo, tmp_path: Path) -> None:
    """`report --xlsx` leaves an existing report.html alone; with no flag, report.html."""
    with_demo(demo, tmp_path)
    before = "<p>the Dutch report the facilitator wrote yesterday</p>"
    (tmp_path / "report.html").write_text(before, encoding="utf-8")
    result = run("--config", "c.toml", "report", "--xlsx", "t.xlsx", key=None)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "t.xlsx").stat().st_size > 0
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == before
    assert "report written" not in result.stdout.lower()


def test_the_page_goes_to_out_or_report_html_only_when_nothing_else_is_asked() -> None:
    """Every output flag alone writes no page; `--out` always does; nothing: report.html."""
    parser = build_parser()

    def out(*args: str) -> Path | None:
        return html_out(parser.parse_args(["report", *args]))

    assert out() == Path("report.html")
    assert out("--out", "p.html", "--pptx", "d.pptx") == Path("p.html")
    for flag, value in [("--pdf", "r.pdf"), ("--pptx", "d.pptx"), ("--png", "charts")]:
        assert out(flag, value) is None, flag
    assert out("--csv", "tables") is None and out("--xlsx", "t.xlsx") is None
