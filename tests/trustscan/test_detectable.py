"""What the next wave can detect: expected n, the plan from the store, the printed lines."""

from __future__ import annotations

import dataclasses
import math
import random
from pathlib import Path

import pytest
from statsmodels.stats.power import TTestIndPower

from analysis import power
from analysis.report.tables import Shape
from surveys.engine import Partner
from surveys.loader import load_builtin
from surveys.store import Store
from tests.support.clock import CLOCK
from trustscan import detectable
from trustscan.config import Config, Organisation, load_config
from trustscan.simulation import respond

ORGS = (
    Organisation("north", "North", 25),  # a near-census group: a council of 25
    Organisation("south", "South", None),
    Organisation("east", "East", 200),
)

# the simulation knows the demo partnership's organisations
DEMO = (
    Organisation("dijkhoven", "Dijkhoven", 25),
    Organisation("veenstede", "Veenstede", None),
    Organisation("brugwoude", "Brugwoude", 200),
    Organisation("lindermeer", "Lindermeer", 40),
)


def test_expected_n_follows_headcount_and_last_response_rate() -> None:
    """Headcount × last rate; last count without headcount; default rate before a wave."""
    assert detectable.expected_n(25, 20) == 20
    assert detectable.expected_n(25, 30) == 25  # oversubscribed: capped at the headcount
    assert detectable.expected_n(None, 14) == 14
    assert detectable.expected_n(200, None) == round(200 * detectable.DEFAULT_RESPONSE_RATE)
    assert detectable.expected_n(None, None) is None


def test_expect_compares_last_wave_with_the_expected_one() -> None:
    """The MDC per organisation is statsmodels' d × SD; the FPC only with a headcount."""
    rows = {r.org: r for r in detectable.expect(ORGS, {"north": 20, "south": 12}, 0.8)}
    d = TTestIndPower().solve_power(nobs1=20, ratio=1, alpha=0.05, power=0.8)
    assert rows["north"].mdc == pytest.approx(d * 0.8, abs=1e-3)
    assert rows["north"].mdc_fpc == pytest.approx(d * 0.8 * math.sqrt(1 - 20 / 25), abs=1e-3)
    assert rows["south"].expected == 12 and rows["south"].mdc_fpc is None
    # East sent nobody last time: no comparison is possible
    assert rows["east"].last == 0 and math.isnan(rows["east"].mdc)


def test_expect_before_a_first_wave_uses_the_default_rate_twice() -> None:
    """No last wave: two waves of headcount × 60 %; no headcount either: unknown."""
    rows = {r.org: r for r in detectable.expect(ORGS, None, power.DEFAULT_SD)}
    assert rows["east"].expected == 120 and rows["east"].last is None
    expected = power.detectable_change(120, 120, power.DEFAULT_SD)
    assert rows["east"].mdc == pytest.approx(expected)
    assert rows["south"].expected is None and math.isnan(rows["south"].mdc)


@pytest.mark.parametrize("lang", ["nl", "en", "de"])
def test_detectable_lines_name_every_organisation_with_its_figures(lang: str) -> None:
    """A heading, the SD basis, one line per organisation, the FPC note; decimal commas."""
    rows = detectable.expect(ORGS, {"north": 20, "south": 12, "east": 0}, 0.75)
    plan = detectable.Plan("trust", 0.75, True, "voorjaar 2026", rows)
    lines = detectable.detectable_lines(plan, lang)
    assert len(lines) == 2 + len(ORGS) + 1
    assert "80 %" in lines[0] and "voorjaar 2026" in lines[1]
    north = rows[0]
    decimal = "." if lang == "en" else ","
    assert f"{north.mdc:.2f}".replace(".", decimal) in lines[2]
    assert f"{north.mdc_fpc:.2f}".replace(".", decimal) in lines[2] and "25" in lines[2]
    assert lines[3].strip().startswith("South") and "12" in lines[3]
    assert "East" in lines[4] and f"{north.mdc:.2f}".replace(".", decimal) not in lines[4]


def test_a_group_expected_below_k_is_told_it_will_be_hidden() -> None:
    """Four expected of k = 5: no detectable change promised, the hiding said instead."""
    rows = detectable.expect(ORGS[:1], {"north": 4}, 0.8)
    plan = detectable.Plan("trust", 0.8, True, "w1", rows, k=5)
    line = detectable.detectable_lines(plan, "en")[2]
    assert "fewer than 5" in line and "hidden" in line and "North" in line
    assert f"{rows[0].mdc:.2f}" not in line
    assert (
        "detectable change"
        in detectable.detectable_lines(detectable.Plan("trust", 0.8, True, "w1", rows, k=3), "en")[
            2
        ]
    )


async def _answer(store: Store, wave: int, org: str, count: int, seed: int) -> None:
    survey = load_builtin("trust")
    partners = tuple(Partner(o.id, o.name) for o in DEMO)
    for i in range(count):
        await respond(
            store, survey, wave, 1, org, "staff", seed * 1000 + i, partners, random.Random(seed + i)
        )


async def _plan(path: Path, config: Config, hidden: int, seed: int) -> detectable.Plan:
    """One closed wave: Dijkhoven 9, Veenstede 12, Lindermeer 20, Brugwoude `hidden` (< k)."""
    async with await Store.open(path, bytes(32), clock=CLOCK) as store:
        wave = await store.open_wave("trust", 1, [o.id for o in DEMO], name="w1")
        await _answer(store, wave.id, "dijkhoven", 9, 1)
        await _answer(store, wave.id, "veenstede", 12, 2)
        await _answer(store, wave.id, "lindermeer", 20, 5)
        await _answer(store, wave.id, "brugwoude", hidden, seed)
        await store.close_wave(wave.id)
        return await detectable.plan_next_wave(store, config, load_builtin("trust"))


async def test_plan_from_the_store_pools_the_sd_of_shown_groups_only(tmp_path: Path) -> None:
    """The plan reads the last closed wave; a hidden group's answers change nothing in it.

    Brugwoude (2 or 3 people, other answers) is hidden, and Dijkhoven with it (the
    smallest shown group, so the hidden ones hold k together): the SD is Veenstede's and
    Lindermeer's pooled, whatever Brugwoude answered.
    """
    config = dataclasses.replace(load_config(None, env={}), organisations=DEMO)
    async with await Store.open(tmp_path / "empty.db", bytes(32), clock=CLOCK) as store:
        before = await detectable.plan_next_wave(store, config, load_builtin("trust"))
    assert not before.sd_from_data and before.sd == power.DEFAULT_SD
    plan = await _plan(tmp_path / "a.db", config, 2, 3)
    other = await _plan(tmp_path / "b.db", config, 3, 4)
    assert plan.sd_from_data and plan.last_wave == "w1"
    assert 0.3 < plan.sd < 1.5
    assert other.sd == plan.sd  # Brugwoude's answers move no printed number
    rows = {r.org: r for r in plan.orgs}
    assert rows["dijkhoven"].last == 9 and rows["dijkhoven"].expected == 9
    # the α of the verdicts: Holm's first step over the family of dimension changes, three
    # organisations at k or more, a test per scale dimension
    scale = len(Shape.of(load_builtin("trust")).scale)
    assert plan.tests == 3 * scale and plan.alpha == pytest.approx(0.05 / plan.tests)
    assert rows["dijkhoven"].mdc == pytest.approx(
        power.detectable_change(9, 9, plan.sd, alpha=plan.alpha)
    )
    assert rows["dijkhoven"].mdc > power.detectable_change(9, 9, plan.sd)  # stricter than .05
    assert rows["veenstede"].expected == 12 and rows["veenstede"].mdc_fpc is None
