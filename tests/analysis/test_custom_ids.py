"""The report draws what the definition declares, whatever its ids are called.

The built-in trust and culture definitions with every dimension and question id renamed
(a text replacement in the TOML) give the same report: the trust matrix, the culture
profiles and their distance, the same findings, the same tables.
"""

from __future__ import annotations

import asyncio
import re

import pandas as pd
import pytest

from analysis.data import WaveData, load_waves
from analysis.report import Context, Report, build_report
from surveys.loader import builtin_dir, load_builtin, parse_survey
from surveys.model import Survey
from surveys.store import Store
from tests.support.clock import CLOCK

from .test_report import wave_with

ORG_NAMES = {"north": "North", "south": "South", "east": "East"}
CTX = Context(k=5, k_comments=5, lang="en", partnership="P", orgs=ORG_NAMES, roles={})
ID_LINE = re.compile(r'^id = "(\w+)"', re.MULTILINE)


def renamed(survey_id: str) -> tuple[Survey, dict[str, str]]:
    """The built-in definition with new ids for every dimension and question (new → old)."""
    original = load_builtin(survey_id)
    new = {d.id: f"dim{i}" for i, d in enumerate(original.dimensions)}
    new |= {q.id: f"item{i}" for i, q in enumerate(original.questions)}
    lines, table = [], ""
    for line in (builtin_dir() / f"{survey_id}.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("[["):
            table = line.strip("[] ")
        elif table in ("dimensions", "questions") and (match := ID_LINE.match(line)):
            line = f'id = "{new[match.group(1)]}"'
        line = re.sub(
            r'\b(dimension|compares|question) = "(\w+)"',
            lambda m: f'{m.group(1)} = "{new.get(m.group(2), m.group(2))}"',
            line,
        )
        lines.append(line)
    text = "\n".join(lines).replace(f'id = "{survey_id}"', f'id = "own_{survey_id}"', 1)
    survey = parse_survey(text, f"own_{survey_id}.toml")
    assert not {q.id for q in survey.questions} & {q.id for q in original.questions}
    assert not {d.id for d in survey.dimensions} & {d.id for d in original.dimensions}
    return survey, {v: k for k, v in new.items()}


def with_items(data: WaveData, old_to_new: dict[str, str]) -> WaveData:
    """The same answers and comments, stored under the renamed question ids."""

    def rename(frame: pd.DataFrame) -> pd.DataFrame:
        items = frame["item"].astype(object).map(lambda i: old_to_new.get(i, i))
        if isinstance(frame["item"].dtype, pd.CategoricalDtype):
            items = items.astype("category")
        return frame.assign(item=items)

    return WaveData(rename(data.answers), rename(data.comments), data.waves)


def in_old_ids(table: pd.DataFrame, back: dict[str, str]) -> pd.DataFrame:
    table = table.copy()
    for column in ("dimension", "item", "question", "high", "low"):
        if column in table:
            table[column] = table[column].astype(object).map(lambda v: back.get(v, v))
    return table.reset_index(drop=True)


def same_report(ours: Report, builtin: Report, back: dict[str, str]) -> None:
    assert ours.findings == builtin.findings
    assert ours.notes == builtin.notes
    assert [name for name, _ in ours.charts] == [name for name, _ in builtin.charts]
    assert list(ours.tables) == list(builtin.tables)
    for name, table in builtin.tables.items():
        pd.testing.assert_frame_equal(
            in_old_ids(ours.tables[name], back), in_old_ids(table, {}), check_dtype=False
        )
    assert drawn(ours) == drawn(builtin)


def drawn(report: Report) -> list[tuple[str, str, list[str]]]:
    """Each chart's title and traces, but for plotly's grouping keys (dimension ids)."""
    return [
        (name, figure.layout.title.text, [trace(t) for t in figure.data])
        for name, figure in report.figures
    ]


def trace(t: object) -> str:
    data = t.to_plotly_json()  # type: ignore[attr-defined]
    data.pop("offsetgroup", None)
    return repr(sorted(data.items()))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WaveData]:
    """Two closed trust waves (a real change in north) and one closed culture wave, filled
    once for the module (the tests only read the answers)."""

    async def go(store: Store) -> dict[str, WaveData]:
        sizes = {"north": 9, "south": 8, "east": 7}
        first = await wave_with(store, sizes, 1, likert={"north": (1, 2)})
        second = await wave_with(store, sizes, 2, likert={"north": (4, 5)})
        culture = await wave_with(store, {"north": 8, "south": 7, "east": 6}, 3, survey="culture")
        return {
            "trust": await load_waves(store, [first, second]),
            "culture": await load_waves(store, [culture]),
        }

    async def filled() -> dict[str, WaveData]:
        path = tmp_path_factory.mktemp("ids") / "r.db"
        async with await Store.open(path, bytes(32), clock=CLOCK) as store:
            return await go(store)

    return asyncio.run(filled())


def test_renamed_trust_survey_keeps_matrix_changes_and_findings(loaded) -> None:
    """Other ids, same declared kinds: the trust matrix, its changes and the findings stay."""
    survey, back = renamed("trust")
    data = loaded["trust"]
    builtin = build_report(load_builtin("trust"), data, {}, CTX)
    ours = build_report(survey, with_items(data, {v: k for k, v in back.items()}), {}, CTX)
    assert {"trust_matrix", "trust_matrix_changes", "changes"} <= set(ours.tables)
    assert "matrix" in [name for name, _ in ours.charts]
    assert any("one-sided" in f for f in ours.findings)
    assert any("Largest significant change" in f for f in ours.findings)
    same_report(ours, builtin, back)


def test_renamed_culture_survey_keeps_profiles_and_distance(loaded) -> None:
    """Other ids, same declared pair: culture kites, the distance chart and the findings stay."""
    survey, back = renamed("culture")
    data = loaded["culture"]
    builtin = build_report(load_builtin("culture"), data, {}, CTX)
    ours = build_report(survey, with_items(data, {v: k for k, v in back.items()}), {}, CTX)
    names = [name for name, _ in ours.charts]
    assert names.count("culture") == 3 and "distance" in names
    assert {"culture_profiles", "culture_distance"} <= set(ours.tables)
    assert any("differ most" in f for f in ours.findings)
    assert any("Largest culture wish" in f for f in ours.findings)
    kite = next(f for name, f in ours.figures if name == "culture")
    assert list(kite.data[0].theta) == ["Clan", "Adhocracy", "Market", "Hierarchy", "Clan"]
    same_report(ours, builtin, back)
