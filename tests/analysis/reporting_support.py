"""A store filled through the engine, its reports and its raw answers, for report tests.

The raw answers let a test recompute a shown number by hand from what people answered.
"""

from __future__ import annotations

import asyncio
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import load_waves
from analysis.report import Report
from surveys.store import Store
from tests.support.clock import CLOCK
from tests.support.shared import built_once
from trustscan.config import Config
from trustscan.reporting import build_reports
from trustscan.services import load_registry

from .test_hidden_answers import ORGS, ROLES, Person, Plan, respond


def people(survey: str, number: int, sizes: dict[str, int]) -> list[Person]:
    """`sizes[org]` people per organisation; the evaluation scan's roles take turns (the
    council too, so its questions are answered)."""
    roles = (*ROLES, "council") if survey == "evaluation" else ("staff",)
    return [
        Person(org, roles[i % len(roles)], zlib.crc32(f"{survey} {number} {org} {i}".encode()))
        for org, n in sizes.items()
        for i in range(n)
    ]


async def fill(path: Path, plan: Plan, config: Config) -> None:
    """Fill a new store at `path` as planned (every wave closed)."""
    registry = load_registry(config)
    async with await Store.open(path, bytes(32), clock=CLOCK) as store:
        user = 10**9
        for survey, groups in plan.items():
            for number, group in enumerate(groups, start=1):
                wave = await store.open_wave(survey, number, ORGS)
                for person in group:
                    user += 1
                    await respond(store, registry[survey], wave.id, person, user)
                await store.close_wave(wave.id)


async def read(path: Path, config: Config, lang: str = "en") -> Built:
    """A filled store's page, reports and answers."""
    async with await Store.open(path, bytes(32), clock=CLOCK) as store:
        waves = await store.waves()
        data = await load_waves(store, [w.id for w in waves])
        page, reports = await build_reports(store, config, load_registry(config), None, lang)
    surveys = {w.id: w.survey for w in waves}
    answers = data.answers.assign(survey=data.answers["wave"].map(surveys))
    return Built(page, reports, answers, data.comments)


async def built(path: Path, plan: Plan, config: Config, lang: str = "en") -> Built:
    """Fill a store as planned (every wave closed); its page, reports and answers."""
    await fill(path, plan, config)
    return await read(path, config, lang)


def built_from_shared(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    plan: Plan,
    config: Config,
    lang: str = "en",
) -> Built:
    """`built`, from a store filled once per test run and shared by the xdist workers
    (the filling takes the longest); each reads its reports from a private copy.

    `name` names the plan: one name, one plan, in the whole suite.
    """
    source = built_once(
        tmp_path_factory, name, lambda folder: asyncio.run(fill(folder / "r.db", plan, config))
    )
    path = tmp_path_factory.mktemp(name) / "r.db"
    shutil.copy2(source / "r.db", path)
    return asyncio.run(read(path, config, lang))


@dataclass(frozen=True)
class Built:
    """What a facilitator gets (page, reports) and what was answered (for hand checks)."""

    page: str
    reports: list[Report]
    answers: pd.DataFrame
    comments: pd.DataFrame

    def report(self, survey: str) -> Report:
        return next(r for r in self.reports if r.survey.id == survey)
