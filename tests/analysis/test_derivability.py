"""No hidden count follows from what is published together (issue 17, DESIGN §4.13).

The check itself (`analysis.derivability`) first, on the leaks it must find: shares that
give a blank n, a total minus its shown parts, an interval's width, a mean of ranks,
with rounding; and on what it must not call a leak (what is public anyway). Then the
reports: Hypothesis partnerships of every group size, where it finds nothing, and a
report with the old leak put back, where it finds it. The demo report is checked in
tests/trustscan/test_demo_data.py, the engine-built partnerships in the differential
tests (test_hidden_answers.py, test_hidden_sizes.py).
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analysis import stats
from analysis.data import WaveData
from analysis.derivability import (
    AtMost,
    Bounds,
    Fact,
    Facts,
    Hidden,
    Interval,
    Mean,
    Shares,
    Shown,
    Sum,
    contradiction,
    exposed,
)
from analysis.report import Context, Report, build_report
from analysis.report.published import facts
from surveys.store import OrgCount, Wave

from ..support.budget import examples
from .test_report_properties import ORGS, ROLES, TRUST, synthetic


def veenstede(statement: list[Fact]) -> list[Fact]:
    """Issue 17's case: Dijkhoven shows 6 administrators; Veenstede (40, public) shows its
    26 staff and 6 council members and hides its administrators and managers (8 together);
    a statement for administrators over both prints 11.1 / 55.6 / 33.3 % with n blank."""
    admins = ("dijkhoven", "administrator"), ("veenstede", "administrator")
    roles = [("veenstede", r) for r in ("staff", "council", "administrator", "manager")]
    return [
        Shown(("dijkhoven", "administrator"), 6),
        Shown(("veenstede",), 40, public=True),
        Sum(("veenstede",), tuple(roles)),
        *(Bounds(cell, 1) for cell in roles),
        Shown(("veenstede", "staff"), 26),
        Shown(("veenstede", "council"), 6),
        Hidden(("veenstede", "administrator")),
        Hidden(("veenstede", "manager")),
        Hidden(("statement",)),
        Shares(("statement",), (0.0, 11.1, 0.0, 55.6, 33.3), places=1),
        Sum(("reach",), admins),
        *statement,
    ]


def test_shares_give_a_blank_n_and_subtraction_a_hidden_group() -> None:
    """The issue's arithmetic: the shares pin the blank n to 9; if everyone asked answered,
    9 minus Dijkhoven's 6 pins Veenstede's hidden administrators to 3."""
    asked = Facts.of(veenstede([AtMost(("statement",), ("reach",))]))
    assert [(e.cell, e.values) for e in exposed(asked)] == [(("statement",), (9,))]
    everyone = Facts.of(
        veenstede(
            [Sum(("statement",), (("dijkhoven", "administrator"), ("veenstede", "administrator")))]
        )
    )
    found = {e.cell: e.values for e in exposed(everyone)}
    assert found[("veenstede", "administrator")] == (3,)
    assert found[("veenstede", "manager")] == (5,)  # and the other hidden one by the total


def test_without_the_shares_nothing_is_pinned() -> None:
    """The same tables with the statement's shares blank too: every hidden cell keeps
    several values (the administrators and managers hold 8 together, each at least 1)."""
    plain = [
        f for f in veenstede([AtMost(("statement",), ("reach",))]) if not isinstance(f, Shares)
    ]
    assert exposed(Facts.of(plain)) == []


def test_a_total_minus_its_shown_parts() -> None:
    """An organisation of 12 (public) shows 10 staff: its hidden council is 2. With the
    staff hidden too (complementary suppression) the council is 1 to 11."""
    parts = (("o", "staff"), ("o", "council"))
    base = [Shown(("o",), 12, public=True), Sum(("o",), parts), Bounds(parts[0], 1)]
    base += [Bounds(parts[1], 1), Hidden(parts[1])]
    leak = exposed(Facts.of([*base, Shown(parts[0], 10)]))
    assert [(e.cell, e.values) for e in leak] == [(parts[1], (2,))]
    assert exposed(Facts.of([*base, Hidden(parts[0])])) == []


def test_an_honest_protect_label_can_pin_the_small_cell() -> None:
    """Labels are facts too: 12 people, 6 staff shown, the council (1) 'fewer than 5' and
    the managers (5) 'hidden to protect a smaller group' (so at least 5): the council
    can only be 1. Printed as 'n < 5' both, nothing is pinned (issue 18's labels)."""
    roles = (("o", "staff"), ("o", "manager"), ("o", "council"))
    base = [Shown(("o",), 12, public=True), Sum(("o",), roles), Shown(roles[0], 6)]
    base += [Hidden(roles[1]), Hidden(roles[2]), Bounds(roles[1], 1), Bounds(roles[2], 1)]
    labelled = [*base, Bounds(roles[1], 5, None), Bounds(roles[2], 1, 4)]
    found = {e.cell: e.values for e in exposed(Facts.of(labelled))}
    assert found == {roles[1]: (5,), roles[2]: (1,)}
    assert exposed(Facts.of(base)) == []


def test_an_organisation_of_one_is_public_not_a_leak() -> None:
    """One published respondent: each of its rows counts 1 by the public facts alone."""
    cell = ("o", "trust")
    found = Facts.of(
        [Shown(("o",), 1, public=True), AtMost(cell, ("o",)), Bounds(cell, 1), Hidden(cell)]
    )
    assert exposed(found) == []


def test_an_interval_gives_its_n() -> None:
    """An SD and a t interval printed without their n: the width gives n = 9 exactly.
    Without spread the width says nothing."""
    values = pd.DataFrame({"g": ["a"] * 9, "v": [1, 2, 2, 3, 3, 4, 4, 5, 5]})
    row = stats.describe(values, "v", ["g"]).iloc[0]
    cell = ("role", "administrator")
    interval = Interval(cell, float(row["sd"]), float(row["ci_low"]), float(row["ci_high"]))
    bounded = [Hidden(cell), Bounds(cell, 1, 200), interval]
    assert [e.values for e in exposed(Facts.of(bounded))] == [(9,)]
    flat = Interval(cell, 0.0, 3.0, 3.0)
    assert exposed(Facts.of([Hidden(cell), Bounds(cell, 1, 200), flat])) == []


def test_a_mean_of_whole_ranks_narrows_its_n() -> None:
    """A mean rank of 2.33 (printed to two places) of at most 5 people: only 3 can give it."""
    cell = ("rank", "x")
    found = Facts.of([Hidden(cell), Bounds(cell, 1, 5), Mean(cell, 2.33, places=2)])
    assert [e.values for e in exposed(found)] == [(3,)]


def test_fewer_than_k_values() -> None:
    """Shares of 1/9 and 8/9 of at most 20 people leave 9 or 18: not one value, but
    fewer than k = 5 when asked."""
    cell = ("s",)
    found = Facts.of([Hidden(cell), Bounds(cell, 1, 20), Shares(cell, (11.1, 88.9), places=1)])
    assert exposed(found) == []
    assert [e.values for e in exposed(found, fewer_than=5)] == [(9, 18)]


def test_facts_that_contradict_each_other_are_refused() -> None:
    parts = (("a",), ("b",))
    found = Facts.of([Sum(("t",), parts), Shown(("t",), 3), Shown(parts[0], 2), Shown(parts[1], 2)])
    assert "Sum(total=('t',)" in str(contradiction(found))  # where it breaks
    with pytest.raises(ValueError, match="contradict"):
        exposed(found)


def report_of(sizes: dict[tuple[str, str], int], k: int, seed: int = 0) -> Report:
    """One closed trust wave of synthetic answers, `sizes[(org, role)]` respondents each."""
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
    totals = {o: sum(n for (org, _), n in sizes.items() if org == o) for o in ORGS}
    return build_report(TRUST, data, {1: [OrgCount(o, totals[o], 0) for o in ORGS]}, ctx)


MIXED = {
    ("north", "staff"): 9,
    ("north", "manager"): 2,
    ("north", "council"): 6,
    ("south", "staff"): 7,
    ("south", "council"): 5,
    ("east", "staff"): 3,
    ("west", "staff"): 12,
    ("west", "manager"): 1,
}


@settings(max_examples=examples(100))
@given(
    sizes=st.dictionaries(
        st.tuples(st.sampled_from(ORGS), st.sampled_from(ROLES)),
        st.integers(1, 12),
        min_size=1,
        max_size=10,
    ),
    k=st.integers(3, 7),
    seed=st.integers(0, 1000),
)
@example(sizes=MIXED, k=5, seed=1)
def test_no_hidden_count_follows_from_a_report(
    sizes: dict[tuple[str, str], int], k: int, seed: int
) -> None:
    """Whatever the group sizes, the report's tables pin no hidden count, and the facts
    read from them fit together."""
    report = report_of(sizes, k, seed)
    published = facts([report], k)
    assert contradiction(published) is None
    assert exposed(published) == []


def test_the_check_finds_the_old_leaks_in_a_report() -> None:
    """Put back what the report printed before: role scores with their interval but no n
    (north's manager of 2 sits inside the pooled 'manager'), and a role row's blank n."""
    report = report_of(MIXED, 5, 1)
    published = facts([report], 5)
    assert exposed(published) == []
    roles = report.tables["role_scores"]
    report.tables["role_scores"] = roles.drop(columns="n")
    found = {e.cell[1] for e in exposed(facts([report], 5))}
    assert "role" in found  # the interval gives what the n column no longer says
    report.tables["role_scores"] = roles
    sizes = report.tables["group_sizes"]
    manager = ((sizes["org"] == "north") & (sizes["role"] == "manager")).to_numpy()
    assert sizes.loc[manager, "hidden"].all()
    # a hidden row that prints its count after all: north's 2 managers
    report.tables["group_sizes"] = sizes.assign(n=sizes["n"].where(~manager, 2.0))
    cells = [e.cell for e in exposed(facts([report], 5))]
    assert ("trust", "people", 1, "north", "manager") in cells
