"""The demo's simulated partnership: realistic alphas, suppression that shows, and the
report's detectable change and culture convergence on it."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis import power
from analysis.data import load_waves
from analysis.derivability import contradiction, exposed
from analysis.report import Report, families
from analysis.report.detectable import trend_dimension
from analysis.report.published import facts
from surveys.store import Store
from tests.support.clock import CLOCK
from trustscan import simulation
from trustscan.config import load_config
from trustscan.reporting import build_reports
from trustscan.services import load_registry

from .command import Demo


@pytest.fixture(scope="module")
def dutch(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Report]]:
    """The report in Dutch of the three measurements `trustscan demo` simulated (seeds and
    all), read from a private copy of its database."""
    assert demo.returncode == 0, demo.stderr
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(demo.folder / "demo.db", path)
    key = bytes.fromhex((demo.folder / "demo.key").read_text(encoding="utf-8"))

    async def report() -> tuple[str, list[Report]]:
        config = load_config(None, env={})
        async with await Store.open(path, key, clock=CLOCK) as store:
            return await build_reports(store, config, load_registry(config), None, "nl")

    page, reports = asyncio.run(report())
    return page, {r.survey.id: r for r in reports}


def test_every_multi_item_scale_of_the_demo_has_a_realistic_alpha(dutch: Any) -> None:
    """Each computed alpha of the report's reliability table lies in 0.70–0.85."""
    _, reports = dutch
    alphas = []
    for survey in ("trust", "evaluation"):
        table = reports[survey].tables["reliability"]
        computed = table[table["alpha"].notna()]
        assert len(computed) >= 9, survey  # every scale, every measurement
        alphas.extend(computed["alpha"])
    assert min(alphas) >= 0.70 and max(alphas) <= 0.85, sorted(alphas)


def test_item_noise_gives_the_target_alpha_of_parallel_items() -> None:
    """kρ/(1 + (k−1)ρ) with ρ = V/(V + e² + 1/12) is the target, for 2 to 7 items."""
    for items in range(2, 8):
        noise = simulation.item_noise(items, extra=0.1)
        true = simulation.TRUE_VARIANCE + 0.1
        rho = true / (true + noise**2 + 1 / 12)
        alpha = items * rho / (1 + (items - 1) * rho)
        assert alpha == pytest.approx(simulation.TARGET_ALPHA, abs=1e-9)
    assert simulation.item_noise(1) == simulation.DEFAULT_NOISE


def test_a_small_partner_is_suppressed_in_a_chart(dutch: Any) -> None:
    """Lindermeer sends a handful to the evaluation: hidden in the profile chart, named
    once in its legend as fewer than 5; Brugwoude (33) is shown, since no published total
    holds Lindermeer's count (issue 18: it was hidden on 36 of 72 cells for nothing)."""
    _, reports = dutch
    report = reports["evaluation"]
    scores = report.tables["dimension_scores"]
    latest = scores[scores["wave"] == scores["wave"].max()]
    hidden = set(latest.loc[latest["hidden"], "org"].astype(str))
    assert hidden == {"lindermeer"}
    assert not scores.loc[(scores["org"] == "brugwoude").to_numpy(), "hidden"].any()
    profile = next(figure for name, figure in report.figures if name == "profile")
    marked = [trace for trace in profile.data if trace.name == "minder dan 5"]
    assert marked and {x for trace in marked for x in trace.x} == {"Lindermeer"}
    assert [trace.showlegend for trace in marked].count(True) == 1  # one label, no pile
    assert "n < 5" not in profile.to_json() and "n \\u003c 5" not in profile.to_json()


async def test_the_simulated_waves_are_deterministic(tmp_path: Path) -> None:
    """The same seed gives the same answers, stored twice (the demo stays the same)."""
    config = load_config(None, env={})
    survey = load_registry(config)["evaluation"]
    frames = []
    for name in ("a.db", "b.db"):
        async with await Store.open(tmp_path / name, bytes(32), clock=CLOCK) as store:
            wave = await store.open_wave(survey.id, 1, [o.id for o in config.organisations])
            await simulation.simulate_wave(store, survey, wave.id, 1, config.partners(), seed=7)
            await store.close_wave(wave.id)
            answers = (await load_waves(store, [wave.id])).answers
        columns = ["org", "role", "item", "target", "value"]
        frames.append(
            sorted(tuple(map(str, row)) for row in answers[columns].itertuples(index=False))
        )
    assert frames[0] == frames[1]
    lindermeer = [row for row in frames[0] if row[0] == "lindermeer"]
    assert 0 < len({row[1] for row in lindermeer}) <= 3  # the small group: 4 people, 3 roles


def test_every_trend_has_its_detectable_change_beside_it(dutch: Any) -> None:
    """One MDC table under each trend chart; each figure is statsmodels-grade t power of
    the shown cells' n and pooled SD, with the FPC from the configured headcount."""
    page, reports = dutch
    report = reports["trust"]
    table = report.tables["detectable_change"]
    scores = report.tables["dimension_scores"]
    before, after = sorted(scores["wave"].unique())[-2:]
    shown = scores[~scores["hidden"]]
    both = shown[shown["wave"] == before].merge(
        shown[shown["wave"] == after], on=["org", "dimension"], suffixes=("_1", "_2")
    )
    assert len(table) == len(both) == 12  # 4 organisations × 3 dimensions
    headcounts = {o.id: o.headcount for o in load_config(None, env={}).organisations}
    for row in both.itertuples():
        n1, n2 = row.n_1, row.n_2
        sd = np.sqrt(((n1 - 1) * row.sd_1**2 + (n2 - 1) * row.sd_2**2) / (n1 + n2 - 2))
        got = table[(table["org"] == row.org) & (table["dimension"] == row.dimension)].iloc[0]
        alpha = families.ALPHA / families.size(report, "dimension_changes")  # the verdicts' α/m
        assert got["alpha"] == pytest.approx(alpha)
        assert got["mdc"] == pytest.approx(
            power.detectable_change(n1, n2, sd, alpha=alpha), abs=1e-9
        )
        population = headcounts[str(row.org)]
        assert got["mdc_fpc"] == pytest.approx(
            power.detectable_change(
                n1, n2, sd, population_before=population, population_after=population, alpha=alpha
            ),
            abs=1e-9,
        )
    trends = [i for i, (name, _) in enumerate(report.charts) if name == "trend"]
    assert {trend_dimension(report, i) for i in trends} == set(table["dimension"].astype(str))
    tables = re.findall(r"<div class='detectable'>.*?</div>", page, flags=re.S)
    evaluation_trends = sum(name == "trend" for name, _ in reports["evaluation"].charts)
    assert len(tables) == len(trends) + evaluation_trends
    assert "Aantoonbare verandering: twee metingen" in page  # the methods paragraph


def test_the_partners_wishes_converge_beyond_chance_in_the_demo(dutch: Any) -> None:
    """Lindermeer's culture differs, the wishes are alike: convergence, significant in the
    report's one Holm family, with its finding and its table on the page."""
    page, reports = dutch
    report = reports["culture"]
    overall = report.tables["culture_convergence"].iloc[0]
    assert overall["convergence"] > 5 and overall["significant"]
    assert overall["p_holm"] >= overall["p"] and overall["p_holm"] < 0.05
    assert not overall["low"] <= overall["convergence"] <= overall["high"]
    pairs = report.tables["culture_convergence_pairs"]
    assert len(pairs) == 6  # four partners shown
    assert any(
        f.startswith("De gewenste culturen van de partners liggen dichter") for f in report.findings
    )
    assert "Willen de partners meer op elkaar gaan lijken?" in page


def test_no_hidden_count_of_the_demo_follows_from_its_tables(dutch: Any) -> None:
    """Every table of the demo report together pins no hidden count, nor narrows one to
    fewer than k values (issue 17: its administrators' statement gave 9 − 6 = 3 before)."""
    _, reports = dutch
    k = load_config(None, env={}).min_group_size
    published = facts(list(reports.values()), k)
    assert len(published.secret) > 50  # hidden groups, roles, cells of every scan
    assert contradiction(published) is None
    assert exposed(published) == []
    assert exposed(published, fewer_than=k) == []
    items = reports["evaluation"].tables["item_distribution"]
    board = (items["item"] == "s_board_steer").to_numpy()
    assert items.loc[board, "n"].notna().all()  # counted over shown groups: n printed
    blank = items.assign(n=items["n"].where(~board))  # the old table: shares, n blank
    reports["evaluation"].tables["item_distribution"] = blank
    try:
        found = [e.cell for e in exposed(facts(list(reports.values()), k))]
    finally:
        reports["evaluation"].tables["item_distribution"] = items
    assert found == [("evaluation", "statement", 9, "s_board_steer")]
