"""Whatever the group sizes, no table of the report shows anything built on fewer than k."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import charts
from analysis.data import WaveData
from analysis.report import Context, build_report
from surveys.i18n import t
from surveys.loader import load_builtin
from surveys.store import OrgCount, Store, Wave
from tests.support.budget import examples
from tests.support.clock import CLOCK
from trustscan.config import load_config
from trustscan.reporting import build_reports
from trustscan.services import load_registry
from trustscan.simulation import simulate_wave

TRUST = load_builtin("trust")
ORGS = ("north", "south", "east", "west")
ROLES = ("staff", "manager", "council")
ITEMS = [q for q in TRUST.questions if q.type == "likert"]


def synthetic(sizes: dict[tuple[str, str], int], seed: int) -> pd.DataFrame:
    """Answers of `sizes[(org, role)]` respondents to every trust item, in one closed wave."""
    rng = np.random.default_rng(seed)
    rows, response = [], 0
    for (org, role), n in sizes.items():
        for _ in range(n):
            response += 1
            for q in ITEMS:
                targets = [o for o in ORGS if o != org] if q.per_partner else [""]
                for target in targets:
                    rows.append(
                        (1, org, role, response, q.id, target, float(rng.integers(1, 6)), None)
                    )
    frame = pd.DataFrame(
        rows, columns=["wave", "org", "role", "response", "item", "target", "value", "choice"]
    )
    for column in ("org", "role", "item", "target", "choice"):
        frame[column] = frame[column].astype("category")
    return frame


@settings(max_examples=examples(15))
@given(
    sizes=st.dictionaries(
        st.tuples(st.sampled_from(ORGS), st.sampled_from(ROLES)),
        st.integers(1, 12),
        min_size=1,
        max_size=8,
    ),
    k=st.integers(3, 7),
    seed=st.integers(0, 1000),
)
def test_no_output_rests_on_fewer_than_k(
    sizes: dict[tuple[str, str], int], k: int, seed: int
) -> None:
    """Every shown mean in every report table has n >= k behind it."""
    wave = Wave(1, "trust", "w1", "closed", None, None, None, "2026-01-01", ORGS)
    data = WaveData(
        synthetic(sizes, seed),
        pd.DataFrame(columns=["wave", "org", "item", "target", "text"]),
        (wave,),
    )
    ctx = Context(
        k=k,
        k_comments=max(k, 10),
        lang="en",
        partnership="p",
        orgs={o: o for o in ORGS},
        roles={r: r for r in ROLES},
    )
    counts = {
        1: [OrgCount(o, sum(n for (org, _), n in sizes.items() if org == o), 0) for o in ORGS]
    }
    report = build_report(TRUST, data, counts, ctx)
    for name, table in report.tables.items():
        if "n" in table:  # every count shown is at least k; smaller ones read 'n < k'
            assert (table["n"].dropna() >= k).all(), name
        if "hidden" in table:  # a hidden cell shows no statistic at all
            values = table.drop(columns=["hidden", "n", "wave", "items"], errors="ignore")
            numbers = values.select_dtypes("number")
            assert numbers[table["hidden"].to_numpy()].isna().all().all(), name
    matrix = report.tables.get("trust_matrix")
    if matrix is not None:  # a shown cell never carries the mean of a hidden reverse cell
        shown = matrix[~matrix["hidden"]].set_index(["org", "target"])
        for (org, target), row in shown.iterrows():
            if row["reverse_mean"] == row["reverse_mean"]:
                assert (target, org) in shown.index
    profile = report.tables["dimension_scores"]  # no published total: no second cell hidden
    for org, cells in profile.groupby("org", observed=True):
        truth = sum(n for (o, _), n in sizes.items() if o == org)
        assert cells["hidden"].all() == (truth < k), org  # every respondent scores each
        assert set(cells.loc[cells["hidden"], "hidden_reason"]) <= {"small"}
    shown_means = {
        round(float(v), 9)
        for table in report.tables.values()
        if "mean" in table
        for v in table["mean"].dropna()
    }
    for name, figure in report.figures:  # charts plot shown means only; placeholders are grey
        if name not in ("profile", "roles", "matrix"):
            continue
        for trace in figure.data:
            if getattr(getattr(trace, "marker", None), "color", None) == charts.HIDDEN:
                continue
            values = trace.z if name == "matrix" else trace.x if name == "roles" else trace.y
            for v in np.asarray(values, dtype="float64").ravel():
                assert v != v or round(float(v), 9) in shown_means, name
    named_hidden = {
        t(f"findings.hidden_{why}", "en", org=org) for org in ORGS for why in ("small", "protect")
    }
    for finding in report.findings:  # a finding only names organisations with enough people
        for org in ORGS:
            if f"{org}:" in finding and finding not in named_hidden:  # or names them as hidden
                assert sum(n for (o, _), n in sizes.items() if o == org) >= k


@settings(max_examples=examples(6))
@given(scale=st.floats(0.02, 0.3), seed=st.integers(0, 1000), k=st.integers(3, 6))
def test_every_survey_reports_whatever_the_group_sizes(
    tmp_path_factory, scale: float, seed: int, k: int
) -> None:
    """All three scans, simulated through engine and store at random small sizes: the
    report renders, and no table shows a count or a statistic of fewer than k."""
    config = dataclasses.replace(load_config(None, env={}), min_group_size=k)
    registry = load_registry(config)

    async def go() -> tuple[str, list]:
        path = tmp_path_factory.mktemp("sizes") / "r.db"
        async with await Store.open(path, bytes(32), clock=CLOCK) as store:
            for number, survey in enumerate(("trust", "culture", "evaluation"), start=1):
                wave = await store.open_wave(survey, 1, [o.id for o in config.organisations])
                await simulate_wave(
                    store, registry[survey], wave.id, 1, config.partners(), seed + number, 8, scale
                )
                await store.close_wave(wave.id)
            return await build_reports(store, config, registry, None, "en")

    page, reports = asyncio.run(go())
    assert len(reports) == 3 and "Methods" in page
    for report in reports:
        for name, table in report.tables.items():
            if "n" in table:
                assert (table["n"].dropna() >= k).all(), (report.survey.id, name)


@settings(max_examples=examples(40))
@given(
    sizes=st.dictionaries(
        st.tuples(st.sampled_from(ORGS), st.sampled_from(ROLES)),
        st.integers(1, 12),
        min_size=1,
        max_size=10,
    ),
    k=st.integers(3, 7),
)
def test_no_role_count_below_k_follows_from_an_organisation_total(
    sizes: dict[tuple[str, str], int], k: int
) -> None:
    """An organisation's total minus its shown role counts is 0, at least k, or the
    organisation's total itself (nothing shown); a role's row across organisations counts
    only the role's groups shown within their organisations."""
    wave = Wave(1, "trust", "w1", "closed", None, None, None, "2026-01-01", ORGS)
    data = WaveData(
        synthetic(sizes, 0),
        pd.DataFrame(columns=["wave", "org", "item", "target", "text"]),
        (wave,),
    )
    ctx = Context(k=k, k_comments=10, lang="en", partnership="p", orgs={}, roles={}, headcounts={})
    totals = {o: sum(n for (org, _), n in sizes.items() if org == o) for o in ORGS}
    report = build_report(TRUST, data, {1: [OrgCount(o, totals[o], 0) for o in ORGS]}, ctx)
    table = report.tables["group_sizes"]
    for org, total in totals.items():
        shown = table.loc[table["org"] == org, "n"].dropna()
        left = total - shown.sum()
        assert left == 0 or left >= k or (shown.empty and left == total), (org, left)
    roles, within = report.tables["role_scores"], report.tables["org_role_scores"]
    for row in roles.itertuples():
        parts = within[(within["role"] == row.role) & (within["dimension"] == row.dimension)]
        assert row.n == parts["n"].sum() >= k, (row.role, row.dimension)
    hidden = table.loc[table["hidden"], ["org", "role"]].astype(str).itertuples(index=False)
    for org, role in hidden:  # a role hidden among the group sizes is hidden within too
        rows = within[(within["org"].astype(str) == org) & (within["role"].astype(str) == role)]
        assert rows["hidden"].all() and rows["n"].isna().all(), (org, role)
