"""`trustscan report --pdf FILE --pptx FILE`: the installed command prints and builds the deck."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pptx import Presentation
from pypdf import PdfReader

from tests.analysis.test_report import wave_with
from trustscan.config import load_config
from trustscan.services import open_store

from .command import KEY, assert_private, run_in

CONFIG = '[database]\npath = "d/t.db"\nkey_file = "d/t.key"\n'


@pytest.mark.needs_chromium
async def test_report_writes_a_private_pdf_and_deck(tmp_path: Path) -> None:
    """Both files 0600; the PDF has the cover and the partnership; one slide per chart."""
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "c.toml", env={"TRUSTSCAN_KEY": KEY})
    store = await open_store(config)
    try:
        await wave_with(store, {"north": 9, "south": 8, "east": 6}, 1)
    finally:
        await store.close()
    result = run_in(
        tmp_path,
        *("--config", "c.toml", "report", "--out", "r.html", "--pdf", "p/r.pdf"),
        *("--pptx", "r.pptx"),
    )
    assert result.returncode == 0, result.stderr
    assert "PDF written to" in result.stdout and "slide deck written to" in result.stdout
    pdf = PdfReader(io.BytesIO((tmp_path / "p" / "r.pdf").read_bytes()))
    cover = pdf.pages[0].extract_text()
    assert config.partnership in cover and "Confidential" in cover and "trust 1" in cover
    deck = Presentation(str(tmp_path / "r.pptx"))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[0] == config.partnership
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert len(deck.slides) - 1 == page.count("class='figure'") >= 3
    assert_private(tmp_path, "c.toml", "d")  # page, PDF, deck, database: 0600; p/: 0700
