"""Hidden group sizes move no output (issue 17, DESIGN §4.13: hidden means blank).

test_hidden_answers.py varies the answers inside hidden cells; here two stores differ
only in how many people sit inside hidden cells, and every output must be the same:
the page, every partner's page, the chart JSON, XLSX, CSV, findings, captions, slide
titles and notes (test_hidden_answers_paper.py takes one case to PDF and PPTX).

Two kinds of hidden cell are varied, each kept hidden in both stores:

* an organisation too small in the first of two measurements (1 to k − 1 people, its
  staff): its count is published nowhere (the response counts are the latest
  measurement's);
* a role inside an organisation in the latest measurement: managers (1 to k − 1) and
  staff trade people, so the organisation's total — published — stays the same, and
  the staff stay hidden with the managers. Staff and managers are asked the same
  questions, and a person keeps their answers whichever of the two they are.

Which groups have respondents at all is published, as a row of the group sizes (blank
when hidden): like the response counts, it tells no more than who took part, which the
promise of issue 17 leaves to the facilitator. So the varied cells keep at
least one person in both stores. The suppression pattern stays the same by
construction too: the other
organisations are larger than k, so the small one is the only small cell of its
breakdowns and the one protecting it is picked from the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import zlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analysis.report import Report
from trustscan.config import Config

from ..support.budget import examples
from .test_hidden_answers import (
    CONFIG,
    ORGS,
    ROLES,
    Person,
    Plan,
    assert_nothing_derivable,
    build,
    outputs,
)


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Two stores' group sizes: the same everywhere but inside two hidden cells."""

    k: int
    small: str  # hidden in the first measurement of both scans
    first: tuple[int, int]  # its people there, in store a and in store b
    roles: str  # in the latest evaluation: managers hidden, staff hidden with them
    managers: tuple[int, int]  # its managers, in store a and in store b
    total: int  # its people there (managers + staff): published, so the same
    others: tuple[int, ...]  # every organisation's people elsewhere, in ORGS order

    def plan(self, store: int) -> Plan:
        """The people of store 0 (a) or 1 (b)."""

        def wave(survey: str, number: int) -> list[Person]:
            found = []
            for org, n in zip(ORGS, self.others, strict=True):
                roles = ROLES if survey == "evaluation" else ("staff",)
                if number == 1 and org == self.small:  # its staff only, in both stores
                    n, roles = self.first[store], ("staff",)
                if number == 2 and survey == "evaluation" and org == self.roles:
                    managers = self.managers[store]
                    found += [
                        person(survey, number, org, i, "manager" if i < managers else "staff")
                        for i in range(self.total)
                    ]
                    continue
                found += [person(survey, number, org, i, roles[i % len(roles)]) for i in range(n)]
            return found

        return {survey: [wave(survey, 1), wave(survey, 2)] for survey in ("trust", "evaluation")}


def person(survey: str, number: int, org: str, i: int, role: str) -> Person:
    """The i-th person of a group: the same seed, so the same answers, in either store."""
    return Person(org, role, zlib.crc32(f"{survey} {number} {org} {i}".encode()))


@st.composite
def sizes(draw: st.DrawFn) -> Sizes:
    k = draw(st.integers(3, 6))
    below = st.lists(st.integers(1, k - 1), min_size=2, max_size=2, unique=True)
    managers = draw(below)
    return Sizes(
        k=k,
        small=draw(st.sampled_from(ORGS)),
        first=tuple(draw(below)),  # type: ignore[arg-type]
        roles=draw(st.sampled_from(ORGS)),
        managers=tuple(managers),  # type: ignore[arg-type]
        total=draw(st.integers(k + max(managers), k + max(managers) + 3)),
        others=tuple(draw(st.integers(k + 2, k + 3)) for _ in ORGS),
    )


FIXED = Sizes(5, "lindermeer", (2, 4), "veenstede", (1, 4), 11, (7, 8, 7, 7))


def config_for(k: int) -> Config:
    return dataclasses.replace(CONFIG, min_group_size=k, min_group_size_comments=k)


@settings(max_examples=examples(10, floor=1))
@given(case=sizes())
@example(case=FIXED)
@example(
    case=dataclasses.replace(
        FIXED, k=3, first=(1, 2), managers=(2, 1), total=6, others=(5, 6, 5, 5)
    )
)
def test_hidden_group_sizes_change_no_output(
    tmp_path_factory: pytest.TempPathFactory, case: Sizes
) -> None:
    """Two stores that differ only in how many people sit inside hidden cells give the
    same outputs, and neither store's tables pin a hidden count."""
    config = config_for(case.k)
    folder = tmp_path_factory.mktemp("sizes")
    results = []
    for store in (0, 1):
        page, reports = asyncio.run(build(folder / f"{store}.db", case.plan(store), config))
        assert_nothing_derivable(reports, case.k)
        hidden_where_varied(reports, case)
        results.append(outputs(page, reports, folder / str(store), config))
    first, second = results
    for name in first:
        assert first[name] == second[name], name


def hidden_where_varied(reports: list[Report], case: Sizes) -> None:
    """Not vacuous: the varied cells are hidden, the organisation around the roles shown."""
    for report in reports:
        sizes = report.tables["group_sizes"]
        first, last = min(report.wave_names), max(report.wave_names)
        small = sizes[(sizes["wave"] == first) & (sizes["org"] == case.small)]
        assert len(small) and small["hidden"].all() and small["n"].isna().all()
        if report.survey.id == "evaluation":
            roles = sizes[(sizes["wave"] == last) & (sizes["org"] == case.roles)]
            assert set(roles["role"]) == {"manager", "staff"} and roles["hidden"].all()
            scores = report.tables["dimension_scores"]
            around = scores[(scores["wave"] == last) & (scores["org"] == case.roles)]
            assert not around["hidden"].all()  # a role cell inside a shown organisation


def test_the_two_stores_differ_inside_the_hidden_cells() -> None:
    """The fixed case: 2 against 4 people of Lindermeer in the first measurement, 1
    against 4 of Veenstede's 11 in the latest one managers, the rest the same."""

    def count(plan: Plan) -> dict[tuple[str, int, str, str], int]:
        found: dict[tuple[str, int, str, str], int] = {}
        for survey, waves in plan.items():
            for number, people in enumerate(waves, start=1):
                for p in people:
                    key = (survey, number, p.org, p.role)
                    found[key] = found.get(key, 0) + 1
        return found

    a, b = count(FIXED.plan(0)), count(FIXED.plan(1))
    differ = {key for key in a.keys() | b.keys() if a.get(key) != b.get(key)}
    assert {(s, n, o) for s, n, o, _ in differ} == {
        ("trust", 1, "lindermeer"),
        ("evaluation", 1, "lindermeer"),
        ("evaluation", 2, "veenstede"),
    }
    assert (
        a[("evaluation", 2, "veenstede", "manager")],
        b[("evaluation", 2, "veenstede", "manager")],
    ) == (1, 4)
    totals = [
        sum(v for (s, n, o, _), v in c.items() if (s, n, o) == ("evaluation", 2, "veenstede"))
        for c in (a, b)
    ]
    assert totals == [11, 11]
