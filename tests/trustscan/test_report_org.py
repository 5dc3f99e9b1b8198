"""`trustscan report --org ID`: the page of one partner organisation, through the command."""

from __future__ import annotations

import html
from pathlib import Path

from .command import Demo, with_demo


def test_report_of_one_partner(run, demo: Demo, tmp_path: Path) -> None:
    """--org writes that partner's page only; an unknown id is refused, naming the known ones."""
    with_demo(demo, tmp_path)
    result = run("--config", "c.toml", "report", "--org", "lindermeer", "--out", "l.html", key=None)
    assert result.returncode == 0, result.stderr
    page = html.unescape((tmp_path / "l.html").read_text(encoding="utf-8"))
    assert "Lindermeer</h1>" in page and "Page of Lindermeer only" in page
    assert "Scores against the partnership" in page and "Methods" in page
    assert "id='partner-" not in page and "Key findings" not in page  # no other partner
    full = run("--config", "c.toml", "report", "--out", "all.html", key=None)
    assert full.returncode == 0, full.stderr
    every = html.unescape((tmp_path / "all.html").read_text(encoding="utf-8"))
    start = every.index("id='partner-lindermeer'")
    section = every[start : every.index("</section>", start)]
    for table in ("Scores against the partnership", "Trust given and received"):
        assert table in section and table in page
    wrong = run("--config", "c.toml", "report", "--org", "nowhere", "--out", "x.html", key=None)
    assert wrong.returncode == 1 and "nowhere" in wrong.stderr and "lindermeer" in wrong.stderr
    assert not (tmp_path / "x.html").exists()
