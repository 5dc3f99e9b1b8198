"""Hidden answers move no shown number (DESIGN §4.7, issue 8 finding 7).

Two databases, built through the engine and the store, that differ only in the answers
of people inside hidden cells must give the same report page, charts, XLSX, CSV and
findings. Plus one plain test per way it used to fail: Holm over hidden comparisons,
alpha pooled over waves, and role counts recoverable by subtraction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import stats
from analysis.captions import album, chart_notes
from analysis.data import load_waves
from analysis.derivability import contradiction, exposed
from analysis.export import xlsx_bytes
from analysis.report import Report, families, render_html
from analysis.report.published import facts
from surveys import flow
from surveys.engine import Done, Partner, Questionnaire, Respondent
from surveys.model import Survey
from surveys.qtypes import QUESTION_TYPES
from surveys.store import Store
from tests.support.budget import examples
from tests.support.clock import CLOCK
from tests.support.shared import built_once
from trustscan.config import Config, load_config
from trustscan.reporting import build_reports, context_for, write_csv
from trustscan.services import load_registry

CONFIG = load_config(None, env={})
ORGS = tuple(o.id for o in CONFIG.organisations)
PARTNERS = tuple(Partner(o, o) for o in ORGS)
COMMENTS = ("Meer samen doen.", "Sneller delen.", "Afspraken nakomen.")

# the tables of per-option means (ranking: "mean_rank"), one per type that declares one
PER_OPTION = {t.per_option for t in QUESTION_TYPES.values() if t.per_option}
# whether the answer to question `item` about `target` ("" if none) is to be perturbed
Perturb = Callable[[str, str], bool]


def nothing(item: str, target: str) -> bool:
    return False


@dataclasses.dataclass(frozen=True)
class Person:
    """One respondent: group, their own random streams, and the range of their scale answers."""

    org: str
    role: str
    seed: int
    likert: tuple[int, int] = (1, 5)


async def respond(
    store: Store, survey: Survey, wave: int, person: Person, user: int, perturb: Perturb = nothing
) -> None:
    """`person` takes `survey` through the engine and the store, as a bot user would.

    Which questions are answered, skipped or "don't know" follows one random stream; the
    values follow a second one, or a third where `perturb` says so. Both value streams
    are drawn at every step, so the perturbed and the plain person stay in step.
    """
    pattern = random.Random(f"pattern{person.seed}")
    plain = random.Random(f"plain{person.seed}")
    other = random.Random(f"other{person.seed}")
    q = Questionnaire(survey, Respondent(person.org, person.role, "nl", PARTNERS))
    session = await store.begin(wave, user, person.org, person.role, "nl")
    state = flow.state_of(q, session)
    while not isinstance(step := q.step(state), Done):
        question = step.question
        values = plain, other
        changed = perturb(question.id, step.key.partition("@")[2])
        if step.type == "info":
            change = q.proceed(state, step.index)
        elif step.type == "likert":
            draws = [r.randint(*person.likert) for r in values]
            if question.dont_know and pattern.random() < 0.05:
                change = q.dont_know(state, step.index)
            else:
                change = q.answer(state, step.index, draws[changed])
        elif step.type == "nps":
            draws = [r.randint(0, 10) for r in values]
            change = q.answer(state, step.index, draws[changed])
        elif step.type == "choice":
            draws = [r.choice(step.choices).value for r in values]
            change = q.answer(state, step.index, draws[changed])
        elif step.type == "allocate":
            cuts = [r.randrange(0, question.params.total + 1, question.params.step) for r in values]
            cut = cuts[changed]
            change = q.answer(state, step.index, (cut, question.params.total - cut, 0, 0))
        elif step.type == "ranking":
            orders = [r.sample(range(len(step.choices)), len(step.choices)) for r in values]
            ranks = [0] * len(step.choices)
            for rank, option in enumerate(orders[changed], start=1):
                ranks[option] = rank
            change = q.answer(state, step.index, tuple(ranks))
        elif step.type == "text":
            texts = [r.choice(COMMENTS) for r in values]
            change = q.answer(state, step.index, texts[changed])
        else:  # multi: the fewest choices allowed, the same for everyone
            chosen = tuple(c.value for c in step.choices[: max(question.params.min_choices, 1)])
            change = q.answer(state, step.index, chosen)
        await flow.persist(store, q, session, state, change)
        state = change.state
    await flow.finish(store, q, session, state)


# a plan: per survey, per wave, the people who answer
Plan = dict[str, list[list[Person]]]
# what to perturb: (survey, wave number, person) → that person's perturbation
Hidden = Callable[[str, int, Person], Perturb]


def keep_all(survey: str, wave: int, person: Person) -> Perturb:
    return nothing


async def build(
    path: Path,
    plan: Plan,
    config: Config,
    hidden: Hidden = keep_all,
    waves: list[int] | None = None,
):
    """A store filled as planned, closed waves, and its reports as `trustscan export` makes
    them (of `waves`, default all)."""
    registry = load_registry(config)
    async with await Store.open(path, bytes(32), clock=CLOCK) as store:
        user = 10**9
        for survey, groups in plan.items():
            for number, people in enumerate(groups, start=1):
                wave = await store.open_wave(survey, number, ORGS)
                for person in people:
                    user += 1
                    perturb = hidden(survey, number, person)
                    await respond(store, registry[survey], wave.id, person, user, perturb)
                await store.close_wave(wave.id)
        return await build_reports(store, config, registry, waves, "en")


async def reports_of(path: Path, config: Config) -> tuple[str, list[Report]]:
    """The reports of a store filled before, as `trustscan export` makes them."""
    async with await Store.open(path, bytes(32), clock=CLOCK) as store:
        return await build_reports(store, config, load_registry(config), None, "en")


def outputs(
    page: str, reports: list[Report], folder: Path, config: Config = CONFIG
) -> dict[str, object]:
    """Everything a facilitator can take away: page, every partner's `--org` page, chart
    JSON, XLSX, CSV, findings, and the words charts carry off the page (photo captions,
    slide titles and speaker notes, the album's captions)."""
    tables = {f"{r.survey.id}_{n}": t for r in reports for n, t in r.tables.items()}
    csv = folder / "csv"
    ctx = context_for(config, "en")
    charts = [note for r in reports for note in chart_notes(r)]
    return {
        "page": page,
        "partner_pages": [render_html(reports, ctx, org=o) for o in sorted(ctx.orgs)],
        "figures": [(r.survey.id, n, f.to_json()) for r in reports for n, f in r.figures],
        "xlsx": xlsx_bytes(tables),
        "csv": {p.name: p.read_bytes() for p in write_csv(reports, csv)},
        "findings": [f for r in reports for f in r.findings],
        "notes": [n for r in reports for n in r.notes],
        "captions": [note.caption("en") for note in charts],
        "slides": [(note.title, note.notes("en")) for note in charts],
        "album": [note.caption("en") for note in album(reports)],
    }


def assert_nothing_derivable(reports: list[Report], k: int) -> None:
    """The derivability check on everything the reports publish together."""
    published = facts(reports, k)
    assert contradiction(published) is None
    assert exposed(published) == []


def hidden_cells(reports: list[Report]) -> Hidden:
    """The perturbation of exactly the answers inside hidden cells of these reports.

    A profile cell (wave, org, dimension) hidden: that organisation's statements of that
    dimension; all its cells hidden: everything it answered outside the matrices. A
    matrix cell A→B hidden (trust, goodwill: every matrix dimension): A's answers about B
    to that dimension's questions. A hidden culture profile or aspect: the
    organisation's points. A hidden per-option cell (a mean rank) or answer share (a
    choice, an NPS): the organisation's answers to that question. Waves are numbered per
    survey, as in the plan.
    """
    profile: set[tuple[str, int, str, str]] = set()
    whole: set[tuple[str, int, str]] = set()
    matrix: set[tuple[str, int, str, str, str]] = set()  # (…, org, target, dimension)
    per_option: set[tuple[str, int, str, str]] = set()  # (survey, wave, org, question)
    for report in reports:
        survey, number = report.survey.id, {w: i + 1 for i, w in enumerate(report.wave_names)}
        scores = report.tables.get("dimension_scores", pd.DataFrame())
        for row in scores[scores["hidden"]].itertuples() if len(scores) else ():
            profile.add((survey, number[row.wave], str(row.org), str(row.dimension)))
        if len(scores):
            every = scores.groupby(["wave", "org"], observed=True)["hidden"].all()
            whole |= {(survey, number[w], str(o)) for (w, o), h in every.items() if h}
        culture = report.tables.get("culture_profiles", pd.DataFrame())
        for row in culture[culture["hidden"]].itertuples() if len(culture) else ():
            whole.add((survey, number[row.wave], str(row.org)))
        aspects = report.tables.get("culture_aspects", pd.DataFrame())
        for row in aspects[aspects["hidden"]].itertuples() if len(aspects) else ():
            whole.add((survey, number[row.wave], str(row.org)))
        for name in (*PER_OPTION, "answer_shares"):
            table = report.tables.get(name, pd.DataFrame())
            for row in table[table["hidden"]].itertuples() if len(table) else ():
                per_option.add((survey, number[row.wave], str(row.org), str(row.question)))
        kinds = report.survey.dimensions_of("matrix")
        trust = report.tables.get("trust_matrix", pd.DataFrame())
        further = report.tables.get("matrices", pd.DataFrame())  # goodwill: every other one
        for cells in (trust.assign(dimension=kinds[0].id) if len(trust) else trust, further):
            for row in cells[cells["hidden"]].itertuples() if len(cells) else ():
                key = (survey, number[row.wave], str(row.org), str(row.target), row.dimension)
                matrix.add(key)
    dimension_of = {
        q.id: q.dimension or "" for s in load_registry(CONFIG).values() for q in s.questions
    }
    per_partner = {
        q.id for s in load_registry(CONFIG).values() for q in s.questions if q.per_partner
    }

    def hidden(survey: str, wave: int, person: Person) -> Perturb:
        def perturb(item: str, target: str) -> bool:
            if item in per_partner:
                return (survey, wave, person.org, target, dimension_of[item]) in matrix
            if (survey, wave, person.org, item) in per_option:
                return True
            if (survey, wave, person.org) in whole:
                return True
            return (survey, wave, person.org, dimension_of[item]) in profile

        return perturb

    return hidden


ROLES = ("staff", "manager", "administrator")
group_size = st.integers(0, 7)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Two waves of the trust and evaluation scans, one of the culture scan, small groups."""

    def wave(survey: str, number: int) -> list[Person]:
        people = []
        for org in ORGS:
            roles = ("staff",) if survey != "evaluation" else ROLES[: draw(st.integers(1, 3))]
            for role in roles:
                for i in range(draw(group_size)):
                    seed = zlib.crc32(f"{survey} {number} {org} {role} {i}".encode())
                    people.append(Person(org, role, seed))
        return people

    return {
        "trust": [wave("trust", 1), wave("trust", 2)],
        "evaluation": [wave("evaluation", 1), wave("evaluation", 2)],
        "culture": [wave("culture", 1)],
    }


def fixed_plan() -> Plan:
    """An example with every kind of hidden cell: small groups beside large ones."""
    sizes = {"dijkhoven": 8, "veenstede": 6, "brugwoude": 3, "lindermeer": 2}
    later = {"dijkhoven": 7, "veenstede": 2, "brugwoude": 6, "lindermeer": 5}

    def everyone(survey: str, number: int, counts: dict[str, int]) -> list[Person]:
        roles = ROLES if survey == "evaluation" else ("staff",)
        return [
            Person(org, roles[i % len(roles)], zlib.crc32(f"{survey} {number} {org} {i}".encode()))
            for org, n in counts.items()
            for i in range(n)
        ]

    return {
        "trust": [everyone("trust", 1, sizes), everyone("trust", 2, later)],
        "evaluation": [everyone("evaluation", 1, sizes), everyone("evaluation", 2, later)],
        "culture": [everyone("culture", 1, sizes)],
    }


def config_of(k: int) -> Config:
    """k for the tables and, for comments too: an organisation hidden only to protect
    another one could have enough people for its comments, and they are answers too."""
    return dataclasses.replace(CONFIG, min_group_size=k, min_group_size_comments=k)


FIXED_K = 5  # the fixed example's k


def fixed_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fixed example's two stores (`fixed_plan`, k = FIXED_K): a.db, and b.db with the
    answers inside a's hidden cells changed. Filled once per run for every test process
    (this file's tests and the paper's read them); each caller gets a private copy, since
    even reading a database writes beside it."""

    def fill(folder: Path) -> None:
        config = config_of(FIXED_K)
        _, reports = asyncio.run(build(folder / "a.db", fixed_plan(), config))
        asyncio.run(build(folder / "b.db", fixed_plan(), config, hidden_cells(reports)))

    shared = built_once(tmp_path_factory, "hidden-answers-fixed", fill)
    private = tmp_path_factory.mktemp("fixed")
    for path in shared.glob("?.db*"):  # with its write-ahead log, if one is left
        shutil.copyfile(path, private / path.name)
    return private / "a.db", private / "b.db"


@settings(max_examples=examples(6, floor=1))
@given(plan=plans(), k=st.integers(3, 6))
def test_answers_inside_hidden_cells_change_no_output(tmp_path_factory, plan: Plan, k: int):
    """Two stores that differ only in answers inside hidden cells give identical outputs:
    the HTML page with its chart JSON, the partner pages, every figure, the XLSX bytes,
    the CSV files, the findings, captions and slide notes; and the first store's tables
    pin no hidden count."""
    config = config_of(k)
    folder = tmp_path_factory.mktemp("hidden")
    page, reports = asyncio.run(build(folder / "a.db", plan, config))
    first = outputs(page, reports, folder / "a", config)
    assert_nothing_derivable(reports, k)
    hidden = hidden_cells(reports)
    page, reports = asyncio.run(build(folder / "b.db", plan, config, hidden))
    second = outputs(page, reports, folder / "b", config)
    for name in first:
        assert first[name] == second[name], name


def test_answers_inside_hidden_cells_of_the_fixed_example_change_no_output(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The property above for its fixed example, every kind of hidden cell beside large
    groups (a test of its own, in every profile, so that it shares its two stores)."""
    config = config_of(FIXED_K)
    a, b = fixed_stores(tmp_path_factory)
    page, reports = asyncio.run(reports_of(a, config))
    first = outputs(page, reports, a.parent / "a", config)
    assert_nothing_derivable(reports, FIXED_K)
    page, reports = asyncio.run(reports_of(b, config))
    second = outputs(page, reports, b.parent / "b", config)
    for name in first:
        assert first[name] == second[name], name


def test_the_perturbation_reaches_the_answers(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The differential test is not vacuous: in the fixed example, the two stores hold the
    same people in the same groups, and answers of every scan differ between them."""
    a, b = fixed_stores(tmp_path_factory)

    async def answers(path: Path) -> pd.DataFrame:
        async with await Store.open(path, bytes(32), clock=CLOCK) as store:
            data = await load_waves(store, [w.id for w in await store.waves()])
        frame = data.answers.drop(columns=["response", "choice"]).astype({"org": str})
        return frame.astype({c: str for c in ("role", "item", "target")})

    first, second = asyncio.run(answers(a)), asyncio.run(answers(b))
    groups = ["wave", "org", "role"]
    assert first.groupby(groups).size().equals(second.groupby(groups).size())
    keys = ["wave", "org", "role", "item", "target"]
    values = first.groupby(keys)["value"].sum().compare(second.groupby(keys)["value"].sum())
    assert set(values.index.get_level_values("wave")) == {1, 2, 3, 4, 5}  # every wave
    assert "goals_order" in set(values.index.get_level_values("item"))  # a ranking too


def group(
    org: str, n: int, likert: tuple[int, int] = (1, 5), role: str = "staff", tag: str = ""
) -> list[Person]:
    """`n` people of one organisation and role; `tag` tells groups of several waves apart."""
    return [
        Person(org, role, zlib.crc32(f"{org} {role} {i} {tag}".encode()), likert) for i in range(n)
    ]


def test_holm_adjusts_only_the_shown_comparisons(tmp_path: Path) -> None:
    """Changing only the answers of two hidden organisations leaves every shown adjusted p,
    star and finding as it was: hidden comparisons are not in the family."""

    def plan(hidden_after: tuple[int, int]) -> Plan:
        hidden = [
            group(org, 4, rng, tag=str(number))
            for number, rng in ((1, (1, 2)), (2, hidden_after))
            for org in ("brugwoude", "lindermeer")
        ]
        return {
            "trust": [
                group("dijkhoven", 10, (2, 4), tag="1")
                + group("veenstede", 10, tag="1")
                + hidden[0]
                + hidden[1],
                group("dijkhoven", 10, (3, 5), tag="2")
                + group("veenstede", 10, tag="2")
                + hidden[2]
                + hidden[3],
            ]
        }

    results = []
    for name, after in (("a", (4, 5)), ("b", (1, 2))):
        _, [trust] = asyncio.run(build(tmp_path / f"{name}.db", plan(after), CONFIG))
        changes = trust.tables["changes"]
        assert set(changes["org"]) == {"dijkhoven", "veenstede"}  # nothing hidden is tested
        results.append(
            (changes[["org", "dimension", "p", "p_holm", "significant"]], trust.findings)
        )
    (first, first_findings), (second, second_findings) = results
    pd.testing.assert_frame_equal(first, second)
    assert first_findings == second_findings


def test_alpha_is_per_wave(tmp_path: Path) -> None:
    """A wave of one respondent beside a wave of twenty leaves the larger wave's alpha as it
    is, and shows no alpha of its own."""
    plan: Plan = {
        "trust": [
            group("dijkhoven", 10, tag="1") + group("veenstede", 10, tag="1"),
            group("dijkhoven", 1, (5, 5), tag="2"),
        ]
    }

    async def go() -> tuple[pd.DataFrame, pd.DataFrame]:
        registry = load_registry(CONFIG)
        async with await Store.open(tmp_path / "r.db", bytes(32), clock=CLOCK) as store:
            user = 10**9
            for number, group in enumerate(plan["trust"], start=1):
                wave = await store.open_wave("trust", number, ORGS)
                for person in group:
                    user += 1
                    await respond(store, registry["trust"], wave.id, person, user)
                await store.close_wave(wave.id)
            _, [alone] = await build_reports(store, CONFIG, registry, [1], "en")
            _, [both] = await build_reports(store, CONFIG, registry, [1, 2], "en")
        return alone.tables["reliability"], both.tables["reliability"]

    alone, both = asyncio.run(go())

    def of_wave_one(table: pd.DataFrame) -> dict[str, float]:
        rows = table[table["wave"] == 1] if "wave" in table else table
        return dict(zip(rows["dimension"].astype(str), rows["alpha"], strict=True))

    assert of_wave_one(alone) == of_wave_one(both)
    assert len(of_wave_one(alone)) == 3 and all(a == a for a in of_wave_one(alone).values())
    second = both[both["wave"] == 2]
    assert second["hidden"].all() and second["alpha"].isna().all()


def test_no_role_count_below_k_follows_by_subtraction(tmp_path: Path) -> None:
    """An organisation's total minus its shown role counts is never a positive count below k;
    a role's count over the organisations, and a statement for one role, count only the
    groups shown within their organisations (issue 17: 11.1 / 55.6 / 33.3 % gave n = 9)."""
    k = CONFIG.min_group_size
    plan: Plan = {
        "evaluation": [
            group("dijkhoven", 8)
            + group("dijkhoven", 2, role="council")
            + group("dijkhoven", 3, role="administrator")
            + group("veenstede", 6)
            + group("veenstede", 5, role="manager")
            + group("veenstede", 1, role="administrator")
            + group("brugwoude", 7)
            + group("brugwoude", 6, role="manager")
            + group("brugwoude", 5, role="administrator")
        ]
    }
    _, [evaluation] = asyncio.run(build(tmp_path / "r.db", plan, CONFIG))
    sizes = evaluation.tables["group_sizes"]
    totals = {org: sum(p.org == org for p in plan["evaluation"][0]) for org in ORGS}
    for org, total in totals.items():
        shown = sizes.loc[sizes["org"] == org, "n"].dropna()
        left = total - shown.sum()
        assert left == 0 or left >= k or (shown.empty and left == total), (org, left)
    brugwoude = sizes[sizes["org"] == "brugwoude"]
    assert brugwoude["n"].notna().all()  # nothing hidden: nothing more hidden
    roles, within = evaluation.tables["role_scores"], evaluation.tables["org_role_scores"]
    for row in roles.itertuples():  # pooled over the groups shown within organisations
        parts = within[(within["role"] == row.role) & (within["dimension"] == row.dimension)]
        assert row.n == parts["n"].sum() >= k, (row.role, row.dimension)
    veenstede = within[within["org"] == "veenstede"].set_index("role")["n"]
    # its one administrator hidden, its five managers with them; its staff shown
    assert veenstede[["administrator", "manager"]].isna().all()
    assert veenstede["staff"].notna().all()
    items = evaluation.tables["item_distribution"].set_index("item")
    for_administrators = ["s_board_steer", "s_board_interest"]
    # brugwoude's five administrators only: dijkhoven's 3 and veenstede's 1 are hidden
    assert (items.loc[for_administrators, "n"] <= 5).all()
    assert items.loc[for_administrators].drop(columns="n").notna().all(axis=None)


def test_one_holm_family_per_measurement_not_per_page(tmp_path: Path) -> None:
    """Two scans on one page: Holm within each scan's own families (what stands out in
    its measurement; its changes), the same as the scan alone, and every finding and
    star follows it."""

    def waves(low: tuple[int, int], high: tuple[int, int], tag: str) -> list[list[Person]]:
        return [
            group("dijkhoven", 10, low, tag=f"{tag}1") + group("veenstede", 10, tag=f"{tag}1"),
            group("dijkhoven", 10, high, tag=f"{tag}2") + group("veenstede", 10, tag=f"{tag}2"),
        ]

    plan: Plan = {"trust": waves((2, 4), (3, 5), "t"), "evaluation": waves((1, 3), (3, 5), "e")}
    _, reports = asyncio.run(build(tmp_path / "page.db", plan, CONFIG))
    _, [alone] = asyncio.run(build(tmp_path / "alone.db", plan, CONFIG, waves=[1, 2]))
    for report in reports:
        for kind in families.KINDS:
            tables = [report.tables[n] for n in families.tables_of(report, kind)]
            if not tables:
                continue
            p = np.concatenate([t["p"].to_numpy() for t in tables])
            adjusted = np.concatenate([t["p_holm"].to_numpy() for t in tables])
            assert list(adjusted) == pytest.approx(list(stats.holm(p)), nan_ok=True)
    for name in families.FAMILY:  # the page moved no verdict of the trust scan
        if name in alone.tables:
            pd.testing.assert_frame_equal(alone.tables[name], reports[0].tables[name])
    for report in reports:
        changes = report.tables["changes"]
        pairs = report.tables.get("trust_matrix_changes", changes.iloc[:0])
        named = any("Largest significant change" in f for f in report.findings)
        assert named == changes["significant"].any()
        none = any("None of the differences" in f for f in report.findings)
        assert none == (not changes["significant"].any() and not pairs["significant"].any())
        dims = [d.id for d in report.survey.dimensions if not d.id.startswith("partner_")]
        trends = [fig for name, fig in report.figures if name == "trend"]
        for dim, fig in zip(dims, trends, strict=False):  # one trend chart per dimension
            stars = [a for a in fig.layout.annotations if a.text == "★"]
            shown = changes[(changes["dimension"] == dim) & changes["significant"]]
            assert len(stars) == len(shown)
