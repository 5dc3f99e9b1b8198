"""What reports published together say about counts: the input of the derivability check.

`facts(reports, k)` reads every table of the reports that carries a count, or a figure
resting on one, and states it as `derivability` facts about named counts:

* people: the respondents per (wave, organisation) — public in the latest measurement,
  as the response counts show — and per role within it (`group_sizes`), which add up;
* every table's count per row (dimension, role, matrix cell, question answered, paired
  test, culture profile, alpha), at most the people it counts, printed or `Hidden`;
* every share, mean and interval printed beside a count, which only some counts produce;
* the pooled tables (partnership, roles over organisations, statements over
  organisations) as sums of the cells they pool, or at most the people they could hold.

A row that is hidden, or whose n is left blank, is a secret. A pooled table states the
cells it pools as the report computes it: change what a pooled table pools, and change
its facts here (tests/analysis/test_derivability.py runs the check on every report).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import pandas as pd

from surveys.model import Survey

from ..derivability import (
    AtMost,
    Bounds,
    Cell,
    Fact,
    Facts,
    Hidden,
    Interval,
    Mean,
    Shares,
    Shown,
    Sum,
)
from ..suppression import PROTECT, SMALL
from .model import Report
from .tables import reached_roles


def facts(reports: Sequence[Report], k: int) -> Facts:
    """Everything these reports publish together, as facts about counts."""
    return Facts.of(fact for report in reports for fact in _report(report, k))


def _report(report: Report, k: int) -> Iterator[Fact]:
    s = report.survey.id
    tables = report.tables
    yield from _people(s, tables, report, k)
    yield from _dimensions(s, tables, k)
    yield from _roles(s, tables, k)
    yield from _matrices(s, report, k)
    yield from _tests(s, tables)
    yield from _statements(s, tables, report.survey, k)
    yield from _answers(s, tables, report.survey, k)
    yield from _familiarity(s, tables, report.survey, k)
    yield from _culture(s, tables, k)
    yield from _alpha(s, tables, k)


def people(s: str, wave: object, org: object, role: object | None = None) -> Cell:
    """The respondents of an organisation in a wave (of one role, if given)."""
    base: Cell = (s, "people", _int(wave), str(org))
    return base if role is None else (*base, str(role))


def _int(value: object) -> int:
    return int(str(value))


def _rows(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    table = tables.get(name)
    return pd.DataFrame() if table is None else table


def _hidden(row: pd.Series) -> bool:
    return bool(row.get("hidden", False))


def _count(cell: Cell, row: pd.Series, k: int) -> Iterator[Fact]:
    """A row's count: printed, or a secret (hidden row, or n left blank), with what its
    printed reason says about it.

    A row hidden only to protect a smaller one, and saying so, says its count is k or
    more: that count is no secret of its own (counts per organisation may be shown),
    only a way to the smaller one's, which is a secret and checked as one.
    """
    n = row.get("n")
    reason = row.get("hidden_reason", "")
    secret = reason != PROTECT
    if n is None or n != n:
        if secret:
            yield Hidden(cell)
    else:
        yield Shown(cell, int(n))
        if _hidden(row):
            yield Hidden(cell)  # a hidden row that prints its count: exposed
    if reason == SMALL:  # at most k − 1 (a statement nobody shown answered: 0)
        yield Bounds(cell, 0, k - 1)
    elif reason == PROTECT:
        yield Bounds(cell, k, None)
    # WITHHELD: "hidden" only, which the row's presence says anyway


def _interval(cell: Cell, row: pd.Series) -> Iterator[Fact]:
    """The interval printed beside a count: its width and the SD give n."""
    if all(c in row for c in ("sd", "ci_low", "ci_high")) and row["sd"] == row["sd"]:
        yield Interval(cell, float(row["sd"]), float(row["ci_low"]), float(row["ci_high"]))


def _people(s: str, tables: dict[str, pd.DataFrame], report: Report, k: int) -> Iterator[Fact]:
    """The response counts (public) and the group sizes per role, which add up."""
    latest = max(report.wave_names) if report.wave_names else None
    for org, completed in _rows(tables, "response_counts")[["org", "completed"]].to_numpy():
        if latest is not None:
            yield Shown(people(s, latest, org), int(completed), public=True)
    sizes = _rows(tables, "group_sizes")
    if sizes.empty:
        return
    for (wave, org), group in sizes.groupby(["wave", "org"], sort=False, observed=True):
        roles = [people(s, wave, org, r) for r in group["role"]]
        yield Sum(people(s, wave, org), tuple(roles))
        for cell, (_, row) in zip(roles, group.iterrows(), strict=True):
            yield Bounds(cell, 1)
            yield from _count(cell, row, k)


def _dimensions(s: str, tables: dict[str, pd.DataFrame], k: int) -> Iterator[Fact]:
    """Scores per organisation, per role within it, per role over organisations, pooled."""
    scores = _rows(tables, "dimension_scores")
    shown: dict[tuple[int, str], list[Cell]] = {}
    for _, row in scores.iterrows():
        cell: Cell = (s, "dimension", _int(row["wave"]), str(row["org"]), str(row["dimension"]))
        yield Bounds(cell, 1)
        yield AtMost(cell, people(s, row["wave"], row["org"]))
        yield from _count(cell, row, k)
        yield from _interval(cell, row)
        if not _hidden(row):
            shown.setdefault((_int(row["wave"]), str(row["dimension"])), []).append(cell)
    for _, row in _rows(tables, "partnership_scores").iterrows():
        cell = (s, "partnership", _int(row["wave"]), str(row["dimension"]))
        yield Sum(cell, tuple(shown.get((_int(row["wave"]), str(row["dimension"])), [])))
        yield from _count(cell, row, k)
        yield from _interval(cell, row)


def _role_cell(s: str, wave: object, org: object, role: object, dimension: object) -> Cell:
    return (s, "dimension", _int(wave), str(org), str(dimension), str(role))


def _roles(s: str, tables: dict[str, pd.DataFrame], k: int) -> Iterator[Fact]:
    """Scores per role within each organisation (they add up to its score's n) and per
    role over the organisations: pooled over the shown cells of the first."""
    within = _rows(tables, "org_role_scores")
    pooled: dict[tuple[int, str, str], list[Cell]] = {}
    if len(within):
        for (wave, org, dim), group in within.groupby(
            ["wave", "org", "dimension"], sort=False, observed=True
        ):
            cells = [_role_cell(s, wave, org, r, dim) for r in group["role"]]
            yield Sum((s, "dimension", _int(wave), str(org), str(dim)), tuple(cells))
            for cell, (_, row) in zip(cells, group.iterrows(), strict=True):
                yield Bounds(cell, 1)
                yield AtMost(cell, people(s, wave, org, row["role"]))
                yield from _count(cell, row, k)
                yield from _interval(cell, row)
                if not _hidden(row):
                    key = (_int(wave), str(row["role"]), str(dim))
                    pooled.setdefault(key, []).append(cell)
    for _, row in _rows(tables, "role_scores").iterrows():
        cell = (s, "role", _int(row["wave"]), str(row["role"]), str(row["dimension"]))
        key = (_int(row["wave"]), str(row["role"]), str(row["dimension"]))
        yield Sum(cell, tuple(pooled.get(key, [])))
        yield from _count(cell, row, k)
        yield from _interval(cell, row)


def _matrices(s: str, report: Report, k: int) -> Iterator[Fact]:
    """Directed cells of every matrix dimension, hidden ones with their reason."""
    matrices = report.survey.dimensions_of("matrix")
    first = matrices[0].id if matrices else ""
    trust = _rows(report.tables, "trust_matrix")
    tables = [trust.assign(dimension=first) if len(trust) else trust]
    tables.append(_rows(report.tables, "matrices"))
    for table in tables:
        for _, row in table.iterrows():
            cell = _matrix_cell(s, row["wave"], row["dimension"], row["org"], row["target"])
            yield Bounds(cell, 1)
            yield AtMost(cell, people(s, row["wave"], row["org"]))
            yield from _count(cell, row, k)
            yield from _interval(cell, row)
    pairs = _rows(report.tables, "reciprocity_tests")
    for _, row in pairs.iterrows():
        there = _matrix_cell(s, row["wave"], first, row["org"], row["target"])
        back = _matrix_cell(s, row["wave"], first, row["target"], row["org"])
        yield Shown(there, int(row["n_to"]))
        yield Shown(back, int(row["n_from"]))
    for _, row in _rows(report.tables, "trust_matrix_changes").iterrows():
        for wave, n in ((row["before"], row["n_before"]), (row["after"], row["n_after"])):
            yield Shown(_matrix_cell(s, wave, first, row["org"], row["target"]), int(n))


def _matrix_cell(s: str, wave: object, dimension: object, org: object, target: object) -> Cell:
    return (s, "matrix", _int(wave), str(dimension), str(org), str(target))


def _tests(s: str, tables: dict[str, pd.DataFrame]) -> Iterator[Fact]:
    """The n of every change, detectable change and paired contrast printed."""
    for name in ("changes", "detectable_change"):
        for _, row in _rows(tables, name).iterrows():
            for wave, n in ((row["before"], row["n_before"]), (row["after"], row["n_after"])):
                cell: Cell = (s, "dimension", _int(wave), str(row["org"]), str(row["dimension"]))
                yield Shown(cell, int(n))
    for _, row in _rows(tables, "dimension_contrasts").iterrows():
        cell = (s, "paired", _int(row["wave"]), str(row["org"]))
        for dim in str(row["high"]).split()[:1] + str(row["low"]).split()[:1]:
            yield AtMost(cell, (s, "dimension", _int(row["wave"]), str(row["org"]), dim))
        n = row["n"]
        if n == n:
            yield Shown(cell, int(n))


def _groups(s: str, tables: dict[str, pd.DataFrame]) -> dict[Cell, bool]:
    """The (wave, organisation, role) groups with respondents, and whether each is hidden."""
    sizes = _rows(tables, "group_sizes")
    if sizes.empty:
        return {}
    rows = sizes[["wave", "org", "role", "hidden"]].to_numpy()
    return {people(s, w, o, r): bool(h) for w, o, r, h in rows}


def _population(
    s: str,
    wave: object,
    orgs: Iterable[object],
    roles: frozenset[str],
    groups: dict[Cell, bool],
    shown_only: bool = False,
) -> list[Cell]:
    """The people a question reaches in these organisations: everyone, or the groups of
    its roles; `shown_only`: only organisations where all of those groups are shown (a
    count pooled over organisations counts no other, `tables.in_shown_groups`)."""
    if not roles:
        return [people(s, wave, o) for o in orgs]
    cells = []
    for org in orgs:
        mine = [people(s, wave, org, r) for r in sorted(roles)]
        mine = [c for c in mine if c in groups]
        if not (shown_only and any(groups[c] for c in mine)):
            cells.extend(mine)
    return cells


def _statements(s: str, tables: dict[str, pd.DataFrame], survey: Survey, k: int) -> Iterator[Fact]:
    """Answers per statement over the organisations (latest measurement): shares and n.

    The organisations counted are those whose cell of the statement's dimension is
    shown (all shown whole without one); the statement reaches its roles among them.
    """
    items = _rows(tables, "item_distribution")
    if items.empty:
        return
    scores = _rows(tables, "dimension_scores")
    if scores.empty:
        return
    wave = scores["wave"].max()
    latest = scores[(scores["wave"] == wave).to_numpy()]
    shown = latest[~latest["hidden"].astype(bool)]
    whole = set(latest["org"].astype(str)) - set(latest.loc[latest["hidden"], "org"].astype(str))
    share_columns = [c for c in items.columns if c not in ("item", "n", "hidden_reason")]
    groups = _groups(s, tables)
    scale = set(latest["dimension"].astype(str))
    for _, row in items.iterrows():
        q = survey.question(str(row["item"]))
        cell: Cell = (s, "statement", _int(wave), q.id)
        if q.dimension in scale:
            orgs = set(shown.loc[shown["dimension"].astype(str) == q.dimension, "org"].astype(str))
        else:
            orgs = whole
        reach = (s, "reach", _int(wave), q.id)
        roles = reached_roles(q, survey)
        population = _population(s, wave, sorted(orgs), roles, groups, shown_only=True)
        yield Sum(reach, tuple(population))
        yield AtMost(cell, reach)
        yield from _count(cell, row, k)
        shares = tuple(float(row[c]) for c in share_columns)
        if any(v == v for v in shares):
            yield Shares(cell, shares)


def _answered(s: str, row: pd.Series) -> Cell:
    return (s, "answered", _int(row["wave"]), str(row["org"]), str(row["question"]))


def _answers(s: str, tables: dict[str, pd.DataFrame], survey: Survey, k: int) -> Iterator[Fact]:
    """Answers per option (shares), NPS (parts and mean) and mean ranks per organisation."""
    groups = _groups(s, tables)
    for name in ("answer_shares", "nps", "mean_rank"):
        table = _rows(tables, name)
        if table.empty:
            continue
        keys = ["wave", "org", "question"]
        for _, group in table.groupby(keys, sort=False, observed=True):
            row = group.iloc[0]
            cell = _answered(s, row)
            roles = reached_roles(survey.question(str(row["question"])), survey)
            reach = (s, "reach", _int(row["wave"]), str(row["org"]), str(row["question"]))
            population = _population(s, row["wave"], [row["org"]], roles, groups)
            yield Sum(reach, tuple(population))
            yield AtMost(cell, reach)
            yield Bounds(cell, 1)
            yield from _count(cell, row, k)
            if name == "answer_shares":
                shares = tuple(float(v) for v in group["share"])
                if any(v == v for v in shares):
                    yield Shares(cell, shares)
            elif name == "nps":
                parts = tuple(float(row[c]) for c in ("detractors", "passives", "promoters"))
                if any(v == v for v in parts):
                    yield Shares(cell, parts)
                    yield Mean(cell, float(row["mean"]))
            else:
                for mean in group["mean"]:
                    if mean == mean:
                        yield Mean(cell, float(mean))


def _familiarity(s: str, tables: dict[str, pd.DataFrame], survey: Survey, k: int) -> Iterator[Fact]:
    """The share of "don't know" per pair: of one answer per person and question."""
    table = _rows(tables, "familiarity")
    questions = [q for q in survey.questions if q.per_partner and q.answerable]
    plain = not any(reached_roles(q, survey) or q.when for q in questions)
    for _, row in table.iterrows():
        cell = (s, "familiarity", _int(row["wave"]), str(row["org"]), str(row["target"]))
        yield Bounds(cell, 1)
        yield AtMost(cell, people(s, row["wave"], row["org"]))
        yield from _count(cell, row, k)
        share = row["dont_know"]
        if plain and share == share:
            yield Shares(cell, (float(share),), per=len(questions))


def _culture(s: str, tables: dict[str, pd.DataFrame], k: int) -> Iterator[Fact]:
    """The respondents behind each organisation's culture profile."""
    profiles = _rows(tables, "culture_profiles")
    if profiles.empty:
        return
    for _, group in profiles.groupby(["wave", "org"], sort=False, observed=True):
        row = group.iloc[0]
        cell = (s, "culture", _int(row["wave"]), str(row["org"]))
        yield Bounds(cell, 1)
        yield AtMost(cell, people(s, row["wave"], row["org"]))
        yield from _count(cell, row, k)


def _alpha(s: str, tables: dict[str, pd.DataFrame], k: int) -> Iterator[Fact]:
    """The complete answers behind each alpha: at most the shown cells' respondents."""
    pooled = {
        (_int(r["wave"]), str(r["dimension"])): (
            s,
            "partnership",
            _int(r["wave"]),
            str(r["dimension"]),
        )
        for _, r in _rows(tables, "partnership_scores").iterrows()
    }
    for _, row in _rows(tables, "reliability").iterrows():
        if row.get("note") == "dont_know":
            continue
        cell = (s, "alpha", _int(row["wave"]), str(row["dimension"]))
        whole = pooled.get((_int(row["wave"]), str(row["dimension"])))
        if whole is not None:
            yield AtMost(cell, whole)
        yield from _count(cell, row, k)
