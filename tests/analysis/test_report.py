"""The HTML report: renders in every situation, escapes comments, shows nothing below k."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from analysis.report import Report
from surveys.store import Store
from tests.support.clock import CLOCK
from tests.support.shared import built_once
from trustscan.config import Organisation, load_config
from trustscan.reporting import build_reports, write_csv
from trustscan.services import load_registry

from .test_loading import fill

ORGS = ("north", "south", "east")


async def wave_with(
    store: Store,
    sizes: dict[str, int],
    seed: int,
    close: bool = True,
    survey: str = "trust",
    likert: dict[str, tuple[int, int]] | None = None,
) -> int:
    wave = await store.open_wave(survey, 1, ORGS)
    for org, n in sizes.items():
        await fill(
            store,
            wave.id,
            org,
            n,
            random.Random(f"{seed}{org}"),
            survey=survey,
            likert=(likert or {}).get(org, (1, 5)),
        )
    if close:
        await store.close_wave(wave.id)
    return wave.id


async def report(store: Store, waves: list[int] | None = None, lang: str = "en"):
    config = load_config(None, env={})
    return await build_reports(store, config, load_registry(config), waves, lang)


def reported(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    fill: Callable[[Store], Awaitable[object]],
    lang: str = "en",
) -> tuple[str, list[Report]]:
    """The page and reports of a store that `fill` filled, for a module fixture whose
    tests only read them. The store is filled once per test run and shared by the xdist
    workers (`name` names `fill`: one name, one fill, in the whole suite); each worker
    reports from a private copy."""

    async def filled(path: Path) -> None:
        async with await Store.open(path, bytes(32), clock=CLOCK) as store:
            await fill(store)

    async def go(path: Path) -> tuple[str, list[Report]]:
        async with await Store.open(path, bytes(32), clock=CLOCK) as store:
            return await report(store, lang=lang)

    source = built_once(tmp_path_factory, name, lambda f: asyncio.run(filled(f / "r.db")))
    path = tmp_path_factory.mktemp(name) / "r.db"
    shutil.copy2(source / "r.db", path)
    return asyncio.run(go(path))


async def test_one_closed_wave_gives_findings_and_charts(store) -> None:
    """One wave: key findings, the profile, the matrix; plotly.js inlined exactly once."""
    await wave_with(store, {"north": 11, "south": 9, "east": 7}, 1)
    page, [trust] = await report(store)
    # random answers: the paired and Welch tests (one family) support no claim of either
    assert sum("no dimension stands out" in f or "strongest on" in f for f in trust.findings) == 3
    assert any("one-sided" in f for f in trust.findings)
    assert page.count("<script>/**") == 1  # plotly.js inlined once, for offline use
    assert "<script src=" not in page  # nothing fetched from the network
    assert "Methods" in page and "Cronbach" in page


async def test_the_chat_album_holds_the_key_charts(store) -> None:
    """Profile, matrix and statements for one closed wave; only the counts for an open one."""
    await wave_with(store, {"north": 11, "south": 9, "east": 7}, 1)
    await wave_with(store, {"north": 6}, 2, close=False)
    _, [trust] = await report(store, [1])
    names = {id(fig): name for name, fig in trust.figures}
    assert [names[id(f)] for f in trust.key_figures()] == ["profile", "matrix", "items"]
    _, [running] = await report(store, [2])
    assert [n for n, f in running.figures if f is running.key_figures()[0]] == ["counts"]


async def test_several_waves_report_changes(store) -> None:
    """Two closed waves: the change table and trend charts appear."""
    await wave_with(store, {"north": 8, "south": 8}, 1)
    await wave_with(store, {"north": 9, "south": 8}, 2)
    _, [trust] = await report(store)
    assert "changes" in trust.tables
    assert sum(1 for name, _ in trust.figures if name == "trend") == 3  # one per dimension


async def test_a_real_change_is_starred_and_named(store) -> None:
    """A large shift of one organisation between waves is significant, starred and reported."""
    await wave_with(store, {"north": 10, "south": 10}, 1, likert={"north": (1, 2)})
    await wave_with(store, {"north": 10, "south": 10}, 2, likert={"north": (4, 5)})
    _, [trust] = await report(store)
    changes = trust.tables["changes"]
    north = changes[(changes["org"] == "north") & changes["significant"]]
    assert len(north) and (north["after"] > north["before"]).all()
    assert any("Largest significant change" in f and "north" in f.lower() for f in trust.findings)
    trends = [fig for name, fig in trust.figures if name == "trend"]
    stars = [a for fig in trends for a in fig.layout.annotations if a.text == "★"]
    assert stars and {a.x for a in stars} == {"trust 2"}  # on the later wave


async def test_every_group_below_k_shows_nothing(store) -> None:
    """When every group is smaller than k, no score is shown anywhere."""
    await wave_with(store, {"north": 4, "south": 3, "east": 2}, 1)
    page, [trust] = await report(store)
    assert trust.tables["dimension_scores"]["mean"].isna().all()
    assert not [f for f in trust.findings if "strongest" in f]
    assert "No group is large enough" in page


async def test_a_closed_wave_nobody_answered_still_reports(store) -> None:
    """Closing a wave without a single response gives a report that says so, per survey."""
    for survey in ("trust", "culture", "evaluation"):
        await wave_with(store, {}, 1, survey=survey)
    page, reports = await report(store)
    assert [r.survey.id for r in reports] == ["trust", "culture", "evaluation"]
    assert all(any("No group is large enough" in n for n in r.notes) for r in reports)
    assert page.count("No group is large enough") == 3


async def test_an_open_wave_gives_counts_only(store) -> None:
    """While a wave is open: the response counts, and no result at all."""
    await wave_with(store, {"north": 12, "south": 12}, 1, close=False)
    page, [trust] = await report(store)
    assert [name for name, _ in trust.figures] == ["counts"]
    assert not trust.findings and "still open" in page


async def test_comments_are_escaped_and_only_for_large_groups(store) -> None:
    """A comment with <script> appears escaped; groups under the threshold stay silent."""
    wave = await store.open_wave("trust", 1, ORGS)
    await fill(
        store, wave.id, "north", 10, random.Random(1), comment="<script>alert('x')</script> & meer"
    )
    await fill(store, wave.id, "south", 9, random.Random(2), comment="te klein om te tonen")
    await store.close_wave(wave.id)
    page, _ = await report(store)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; meer" in page
    assert "<script>alert" not in page
    assert "te klein om te tonen" not in page


async def test_a_survey_without_per_partner_items(store, tmp_path: Path) -> None:
    """The culture scan (no per-partner items) renders its profiles and distances."""
    await wave_with(store, {"north": 6, "south": 6, "east": 6}, 1, survey="culture")
    _page, [culture] = await report(store, lang="nl")
    assert "matrix" not in [name for name, _ in culture.figures]
    assert "culture_distance" in culture.tables
    assert any("cultuurwens" in f for f in culture.findings)
    files = write_csv([culture], tmp_path / "csv")
    assert files and all(p.read_text().strip() for p in files)


async def test_dutch_report_writes_decimal_commas(store) -> None:
    """Findings and chart labels in Dutch use a decimal comma, never a decimal point."""
    await wave_with(store, {"north": 11, "south": 9, "east": 7}, 1)
    _, [trust] = await report(store, lang="nl")
    numbers = [w for f in trust.findings for w in f.replace("(", " ").replace(")", " ").split()]
    decimals = [w.rstrip(".,") for w in numbers if any(c.isdigit() for c in w)]
    assert decimals and all("." not in d for d in decimals)
    assert any("," in d for d in decimals)
    assert all(fig.layout.separators == ",." for _, fig in trust.figures)
    _, [english] = await report(store, lang="en")
    assert any("." in w for f in english.findings for w in f.split() if w[:1].isdigit())


async def test_a_german_report_has_german_findings_and_decimal_commas(store) -> None:
    """German findings, headings, chart titles and numbers (decimal comma) from the catalogue."""
    await wave_with(store, {"north": 11, "south": 9, "east": 7}, 1)
    page, [trust] = await report(store, lang="de")
    assert any("keine Dimension sticht heraus" in f for f in trust.findings)
    assert any("Keine Vertrauensbeziehung ist eindeutig einseitig" in f for f in trust.findings)
    numbers = [w for f in trust.findings for w in f.replace("(", " ").replace(")", " ").split()]
    decimals = [w.rstrip(".,") for w in numbers if any(c.isdigit() for c in w)]
    assert decimals and all("." not in d for d in decimals)
    assert any("," in d for d in decimals)
    assert "Wichtigste Ergebnisse" in page and "Methodik" in page
    assert "Vertrauen" in page  # the dimension labels of the built-in, in German
    assert all(fig.layout.separators == ",." for _, fig in trust.figures)
    titles = [fig.layout.title.text for _, fig in trust.figures]
    assert any(title.startswith("Werte je Organisation") for title in titles)


async def test_a_culture_group_below_k_is_named_not_dropped(store) -> None:
    """A culture group below k is named as hidden, with its reason, and hides no other:
    distances and convergence use the shown profiles alone (issue 18)."""
    await wave_with(store, {"north": 7, "south": 6, "east": 2}, 1, survey="culture")
    _, [culture] = await report(store)
    [note] = [n for n in culture.notes if "No culture profile" in n]
    assert note == "No culture profile for east: fewer than 5 respondents."
    profiles = culture.tables["culture_profiles"]
    hidden = profiles[profiles["org"].isin(["east"])]
    assert hidden[["now", "preferred", "n"]].isna().all().all()
    assert profiles.loc[profiles["org"].isin(["north", "south"]), "now"].notna().all()
    assert [name for name, _ in culture.figures].count("culture") == 2


async def test_methods_name_groups_with_more_responses_than_people(store) -> None:
    """A role or organisation over its headcount is listed in the methods, its count never."""
    await wave_with(store, {"north": 11, "south": 6}, 1)  # everyone answers as staff
    config = load_config(None, env={})
    config = dataclasses.replace(
        config,
        organisations=(
            Organisation("north", "North", 10, (("staff", 4),)),
            Organisation("south", "South", 40, (("staff", 30),)),
        ),
    )
    page, _ = await build_reports(store, config, load_registry(config), None, "en")
    methods = page.split("More responses than people")[1]
    assert "North: more responses than the organisation's 10 people" in methods
    assert "North / Staff member: more responses than the 4 people in this role" in methods
    assert "South" not in methods.split("</ul>")[0]
    page_nl, _ = await build_reports(store, config, load_registry(config), None, "nl")
    assert "North / Medewerker: meer antwoorden dan de 4 mensen in deze rol" in page_nl
