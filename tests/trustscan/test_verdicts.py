"""One verdict per finding, whatever the report's scope: the demo rendered every way.

The demo's three measurements of three surveys are reported as one wave, as one survey,
as everything, as a partner's page, as a deck and as a PDF. A finding (a contrast within
a measurement, a change between two) must get the same adjusted p and the same words in
each: its family belongs to its survey and measurement, not to what else is shown.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pytest
from pptx import Presentation
from pypdf import PdfReader

from analysis import paper, power, slides, stats
from analysis.captions import album, chart_notes
from analysis.report import Report, families, render_html
from surveys.store import Store
from tests.analysis.conftest import Browser, browser  # noqa: F401 (a fixture)
from tests.analysis.test_paper import fake_png
from tests.support.clock import CLOCK
from trustscan.config import load_config
from trustscan.reporting import build_reports, context_for
from trustscan.services import load_registry

from .command import Demo

DAY = CLOCK.today()
# the demo's waves: trust 1, 4, 7; culture 2, 5, 8; evaluation 3, 6, 9
SCOPES: dict[str, list[int] | None] = {
    "everything": None,
    "one survey": [1, 4, 7],
    "one wave": [7],
    "one wave of each survey": [7, 8, 9],
}


@dataclass(frozen=True)
class Scoped:
    """The demo's reports of every scope, and the page of everything."""

    reports: dict[str, list[Report]]
    page: str


@pytest.fixture(scope="module")
def scoped(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Scoped:
    """Every scope's reports, built from one private copy of the demo's database."""
    assert demo.returncode == 0, demo.stderr
    path = tmp_path_factory.mktemp("verdicts") / "demo.db"
    shutil.copyfile(demo.folder / "demo.db", path)
    key = bytes.fromhex((demo.folder / "demo.key").read_text(encoding="utf-8"))

    async def build() -> Scoped:
        config = load_config(None, env={})
        registry = load_registry(config)
        found, page = {}, ""
        async with await Store.open(path, key, clock=CLOCK) as store:
            for name, waves in SCOPES.items():
                html, found[name] = await build_reports(store, config, registry, waves, "en")
                page = html if waves is None else page
        return Scoped(found, page)

    return asyncio.run(build())


def verdicts(report: Report) -> dict[tuple[object, ...], tuple[bool, float]]:
    """Every tested finding of a report by its key: (significant, adjusted p)."""
    found: dict[tuple[object, ...], tuple[bool, float]] = {}
    for kind in families.KINDS:
        key = families.key(report, kind)
        for name in families.tables_of(report, kind):
            for row in report.tables[name].to_dict("records"):
                who = tuple(str(row[c]) for c in ("org", "target", "dimension") if c in row)
                found[(key, name, who)] = (bool(row["significant"]), float(row["p_holm"]))
    return found


def worded(report: Report) -> dict[tuple[object, ...], list[str]]:
    """The sentences worded from the families, by survey, measurement(s) and wording."""
    said: dict[tuple[object, ...], list[str]] = {}
    measured = (
        report.tables["dimension_scores"]["wave"] if "dimension_scores" in report.tables else []
    )
    latest = max(measured, default=None)
    before = families.key(report, "dimension_changes") or families.key(report, "relation_changes")
    for slot in report.slots:
        word = slot.word.func if isinstance(slot.word, partial) else slot.word
        since = before.before if before and word.__name__ == "_change_words" else None
        key = (report.survey.id, latest, since)
        said.setdefault((key, word.__name__), []).extend(
            report.findings[slot.start : slot.start + slot.count]
        )
    return said


def every(scoped: Scoped) -> Iterator[tuple[str, Report]]:
    for name, reports in scoped.reports.items():
        for report in reports:
            yield name, report


def test_a_finding_has_one_verdict_in_every_scope(scoped: Scoped) -> None:
    """The same key, the same significance and adjusted p, in every scope it appears in;
    and the sentences worded from a family are the same wherever that family is."""
    seen: dict[tuple[object, ...], tuple[str, tuple[bool, float]]] = {}
    sentences: dict[tuple[object, ...], tuple[str, list[str]]] = {}
    for scope, report in every(scoped):
        for key, verdict in verdicts(report).items():
            first = seen.setdefault(key, (scope, verdict))
            assert verdict[0] == first[1][0], (key, scope, first)
            np.testing.assert_allclose(verdict[1], first[1][1], rtol=1e-12, err_msg=str(key))
        for key, said in worded(report).items():
            first_said = sentences.setdefault(key, (scope, said))
            assert said == first_said[1], (key, scope, first_said[0])
    kinds = {key[0].kind for key in seen if key[0] is not None}  # type: ignore[attr-defined]
    assert kinds == set(families.KINDS)
    # the trust survey's latest measurement is in every scope, its change 4 → 7 in two
    trust = [k for k in seen if k[0] == families.FamilyKey("trust", "relations", 7, None)]
    change = [k for k in seen if k[0] == families.FamilyKey("trust", "dimension_changes", 7, 4)]
    assert trust and change


def test_the_family_is_the_survey_measurement_s_whatever_else_is_on_the_page(
    scoped: Scoped,
) -> None:
    """Holm within each family of each report, never over the page: m is the family's own."""
    for _, report in every(scoped):
        for kind in families.KINDS:
            names = families.tables_of(report, kind)
            if not names:
                continue
            p = np.concatenate([report.tables[n]["p"].to_numpy(dtype="float64") for n in names])
            adjusted = np.concatenate(
                [report.tables[n]["p_holm"].to_numpy(dtype="float64") for n in names]
            )
            np.testing.assert_allclose(adjusted, stats.holm(p), equal_nan=True)
    alone = next(r for r in scoped.reports["one wave"] if r.survey.id == "trust")
    full = next(r for r in scoped.reports["everything"] if r.survey.id == "trust")
    for kind in ("dimensions", "relations"):
        assert families.size(alone, kind) == families.size(full, kind) > 0


def test_the_detectable_change_uses_the_verdicts_alpha(scoped: Scoped) -> None:
    """The MDC beside a trend is computed at the change family's α/m, and says so."""
    report = next(r for r in scoped.reports["everything"] if r.survey.id == "trust")
    table = report.tables["detectable_change"]
    m = families.size(report, "dimension_changes")
    assert m > 1 and (table["tests"] == m).all()
    assert table["alpha"].to_numpy() == pytest.approx(families.ALPHA / m)
    expected = power.detectable_change(
        table["n_before"], table["n_after"], table["sd"], alpha=families.ALPHA / m
    )
    np.testing.assert_allclose(table["mdc"], expected)
    plain = power.detectable_change(table["n_before"], table["n_after"], table["sd"])
    assert (table["mdc"] > plain).all()  # stricter than α = .05 per comparison
    level = f"{families.ALPHA / m:.2g}"
    assert f"at the α the verdicts on these changes use: {level} per comparison" in scoped.page
    assert f"over the {m} changes of mean scores in this comparison" in scoped.page
    # stated either way: with a headcount the correction applies, without it does not
    assert "finite population correction" in scoped.page


def test_the_partner_page_deck_and_album_say_what_the_report_says(scoped: Scoped) -> None:
    """`--org`: the one-sided verdicts of its pairs as in every scope; the deck's titles and
    the album's notes are the report's own sentences."""
    ctx = context_for(load_config(None, env={}), "en")
    for scope in ("everything", "one wave", "one survey"):
        reports = scoped.reports[scope]
        trust = next(r for r in reports if r.survey.id == "trust")
        pairs = trust.tables["reciprocity_tests"]
        for org in ("lindermeer", "dijkhoven"):
            page = render_html(reports, ctx, org)
            mine = pairs[(pairs["org"] == org) | (pairs["target"] == org)]
            assert page.count("yes, significant") == int(mine["significant"].sum()), scope
    reports = scoped.reports["everything"]
    findings = {f for r in reports for f in r.findings}
    notes = [n for r in reports for n in chart_notes(r)]
    deck = Presentation(
        io.BytesIO(
            slides.build_deck(
                paper.Cover.of(reports, "P", DAY), notes, [fake_png() for _ in notes], "en"
            )
        )
    )
    said = [s.shapes.title.text for s in list(deck.slides)[1:]]
    said += [s.notes_slide.notes_text_frame.text for s in list(deck.slides)[1:]]
    holm = {f for f in findings if "Holm" in f}
    assert holm and any(f in text for text in said for f in holm)
    for text in said:
        for sentence in re.findall(r"[^\n]*after Holm[^\n]*", text):
            assert sentence in findings
    for note in album(reports):
        assert set(note.findings) <= findings


@pytest.mark.needs_chromium
def test_the_pdf_prints_the_same_verdicts(scoped: Scoped, browser: Browser) -> None:  # noqa: F811
    """The printed report carries every verdict sentence of the page, word for word."""
    reports = scoped.reports["everything"]
    cover = paper.Cover.of(reports, "P", DAY)
    pdf = browser.run(paper.pdf(scoped.page, cover, "en", browser.renderer))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"\s+", "", text)
    holm = [f for r in reports for f in r.findings if "Holm" in f]
    assert holm
    for sentence in holm:
        assert re.sub(r"\s+", "", sentence) in flat, sentence
