"""Findings a reviewer can defend: the tests behind them, one family, honest labels.

The statistics against scipy; the tables behind the findings on hand-computed cases
(ties, hidden partners, degenerate groups: don't-know only, zero spread, one item, n = 6);
whole reports of the built-in trust scan built from hand-made answers, checked for one
Holm family over every comparison a finding rests on and for findings that never
contradict each other.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analysis import stats
from analysis.data import COMMENT_COLUMNS, WaveData, answers_frame
from analysis.report import (
    Context,
    Report,
    adjust_families,
    build_report,
    families,
    findings,
    tables,
)
from surveys import i18n
from surveys.loader import load_builtin
from surveys.store import Wave

TRUST = load_builtin("trust")
NAMES = {"a": "Alpha", "b": "Beta", "c": "Gamma", "d": "Delta"}
CTX = Context(k=5, k_comments=5, lang="en", partnership="P", orgs=NAMES, roles={})
ITEMS = {
    d.id: [q for q in TRUST.questions if q.dimension == d.id and not q.per_partner]
    for d in TRUST.dimensions_of("scale")
}


# -- statistics against scipy -----------------------------------------------------------


def test_paired_t_matches_scipy() -> None:
    """t, df and p of scipy's ttest_rel; d_z is the mean difference over its SD."""
    high, low = np.array([4, 5, 4, 5, 4, 5.0]), np.array([2, 3, 3, 2, 2, 3.0])
    test = stats.paired_t(high, low)
    reference = scipy_stats.ttest_rel(high, low)
    assert (test.t, test.p) == pytest.approx((reference.statistic, reference.pvalue), rel=1e-12)
    assert test.n == 6 and test.df == 5 and test.diff == 2.0
    assert test.dz == pytest.approx(2.0 / np.std(high - low, ddof=1))


def test_paired_t_without_spread_has_no_p() -> None:
    """Every respondent gave the same difference: no t, p or d_z, and `spread` says why."""
    test = stats.paired_t(np.array([4, 5, 3.0]), np.array([3, 4, 2.0]))
    assert test.diff == 1.0 and not test.spread
    assert math.isnan(test.p) and math.isnan(test.dz)
    with pytest.raises(ValueError):
        stats.paired_t(np.array([1.0]), np.array([2.0]))


def direction_scores(cells: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = [
        (1, org, target, i, value)
        for (org, target), values in cells.items()
        for i, value in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["wave", "org", "target", "response", "score"])


def test_directions_match_scipy_welch() -> None:
    """A→B against B→A: scipy's Welch t, df, p, and the interval of the difference."""
    ab, ba = [4, 5, 4, 5, 4, 5, 4, 5.0], [2, 3, 2, 3, 2, 3, 3, 2, 3.0]
    table = stats.directions(direction_scores({("a", "b"): ab, ("b", "a"): ba}))
    [row] = table.to_dict("records")
    reference = scipy_stats.ttest_ind(ab, ba, equal_var=False)
    interval = reference.confidence_interval()
    assert (row["org"], row["target"], row["n_to"], row["n_from"]) == ("a", "b", 8, 9)
    assert row["diff"] == pytest.approx(np.mean(ab) - np.mean(ba))
    assert (row["t"], row["p"], row["df"]) == pytest.approx(
        (reference.statistic, reference.pvalue, reference.df), rel=1e-10
    )
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        (interval.low, interval.high), rel=1e-10
    )


def test_directions_without_spread_are_not_tested() -> None:
    """Each side answered alike: no t, p or g; a one-way cell gives no pair at all."""
    table = stats.directions(
        direction_scores({("a", "b"): [3.0] * 6, ("b", "a"): [5.0] * 6, ("a", "c"): [4.0] * 6})
    )
    [row] = table.to_dict("records")
    assert row["diff"] == -2.0 and not row["spread"]
    assert math.isnan(row["p"]) and math.isnan(row["g"]) and row["ci_low"] == row["ci_high"]


def test_a_change_everyone_gave_has_no_effect_size_and_no_p() -> None:
    """Wave 1 all 3, wave 2 all 4: never g = 0 or 'not significant', no p for Holm."""
    scores = pd.DataFrame(
        {
            "wave": [1] * 6 + [2] * 6,
            "org": "a",
            "dimension": "x",
            "score": [3.0] * 6 + [4.0] * 6,
        }
    )
    [row] = stats.wave_changes(scores, 1, 2).to_dict("records")
    assert row["diff"] == 1.0 and not row["spread"]
    assert math.isnan(row["g"]) and math.isnan(row["p"]) and not row["significant"]


# -- the tables behind the findings ------------------------------------------------------


def main_scores(people: Mapping[str, Sequence[Mapping[str, float | None]]]) -> pd.DataFrame:
    """Dimension scores per respondent: org → one {dimension: score} per person."""
    rows = []
    response = 0
    for org, persons in people.items():
        for person in persons:
            response += 1
            rows += [
                (1, org, response, dim, score) for dim, score in person.items() if score is not None
            ]
    frame = pd.DataFrame(rows, columns=["wave", "org", "response", "dimension", "score"])
    return frame.assign(dimension=pd.Categorical(frame["dimension"], ["x", "y", "z"]))


def test_contrast_tests_the_extremes_and_pays_for_the_choice() -> None:
    """Alpha: x highest, y lowest, paired over the 6 who answered both; p × 3 pairs.
    Beta: the same means, but only 4 answered both: not tested (decoy)."""
    high, low = [4, 5, 4, 5, 4, 5], [2, 3, 3, 2, 2, 3]
    alpha = [{"x": h, "y": lo, "z": 3.5} for h, lo in zip(high, low, strict=True)]
    beta = (
        [{"x": h, "y": None, "z": 3.5} for h in high]
        + [{"x": None, "y": lo, "z": 3.5} for lo in low[:2]]
        + [{"x": h, "y": lo, "z": 3.5} for h, lo in zip(high[:4], low[:4], strict=True)]
    )
    main = main_scores({"a": alpha, "b": beta})
    profile = tables.profile(main, 5)
    table = tables.contrasts(main, profile, 5).set_index("org")
    reference = scipy_stats.ttest_rel(high, low).pvalue
    a = table.loc["a"]
    assert (a["high"], a["low"], a["n"], a["pairs"]) == ("x", "y", 6, 3)
    assert a["p"] == pytest.approx(3 * reference) and a["tested"]
    b = table.loc["b"].to_dict()
    assert (b["high"], b["low"]) == ("x", "y")
    assert not b["tested"] and math.isnan(b["p"]) and math.isnan(b["n"])  # 4: no count < k


def test_contrast_names_every_tied_dimension() -> None:
    """x and z share the top mean: both named; the test takes the first (x) against y."""
    people = [{"x": 4.0 + i % 2, "y": 2.0 + (i // 2) % 2, "z": 4.0 + (i + 1) % 2} for i in range(6)]
    main = main_scores({"a": people})
    [row] = tables.contrasts(main, tables.profile(main, 5), 5).to_dict("records")
    assert (row["high"], row["low"]) == ("x z", "y")


def test_a_small_organisation_hides_no_other_where_no_total_holds_it() -> None:
    """Beta (3) is too small; Gamma (6) stays shown: no published figure adds the
    organisations up (the partnership pools the shown ones), so hiding Gamma would
    protect nothing (issue 18)."""
    people = {
        "a": [{"x": 3.0, "y": 4.0}] * 10,
        "b": [{"x": 3.0, "y": 4.0}] * 3,
        "c": [{"x": 3.0, "y": 4.0}] * 6,
    }
    profile = tables.profile(main_scores(people), 5)
    hidden = tables.hidden_orgs(profile, 5)
    assert hidden.to_dict("records") == [{"org": "b", "reason": "small"}]
    assert not profile.loc[profile["org"] == "c", "hidden"].any()


def scored_items(
    people: int, items: dict[str, list[str]], answer: Mapping[str, float | None], wave: int = 1
) -> pd.DataFrame:
    """Item scores of `people` respondents of Alpha: each answers every item of `items`
    with `answer[item]` plus a wobble per person (None: don't know)."""
    rows = []
    for person in range(people):
        for dim, names in items.items():
            for item in names:
                value = answer.get(item)
                score = math.nan if value is None else value + (person % 3 if value > 0 else 0)
                rows.append((wave, "a", person, item, dim, score))
    frame = pd.DataFrame(rows, columns=["wave", "org", "response", "item", "dimension", "score"])
    return frame.assign(dimension=frame["dimension"].astype("category"))


def test_reliability_notes_say_why_there_is_no_alpha() -> None:
    """One item, role-specific items, don't know only, no spread: each its own note, none
    hidden as if it were a small group; a dimension with spread gets its alpha."""
    scale = ["one", "roles", "dk", "flat", "fine"]
    items = {"one": ["o1"], "flat": ["f1", "f2"], "fine": ["g1", "g2", "g3"]}
    answer = {"o1": 1, "f1": 0, "f2": 0, "g1": 1, "g2": 1, "g3": 2}
    scored = scored_items(8, items, answer)
    # role-specific: half the people got r1, r2, the other half r3, r4; nobody all four
    roles = scored_items(
        8, {"roles": ["r1", "r2", "r3", "r4"]}, dict.fromkeys(["r1", "r2", "r3", "r4"], 1)
    )
    roles = roles[(roles["response"] < 4) == roles["item"].isin(["r1", "r2"])]
    scored = pd.concat([scored, roles], ignore_index=True)
    scored = scored.assign(dimension=pd.Categorical(scored["dimension"].astype(str), scale))
    shown = pd.DataFrame(
        [(1, "a", d) for d in ["one", "roles", "flat", "fine"]],
        columns=["wave", "org", "dimension"],
    )
    unscored = pd.DataFrame({"wave": [1], "org": ["a"], "dimension": ["dk"]})
    sizes = {"one": 1, "roles": 4, "dk": 3, "flat": 2, "fine": 3}
    table = tables.reliability(scored, scale, shown, 5, unscored, sizes).set_index("dimension")
    notes = table["note"].to_dict()
    assert notes == {
        "one": "one_item",
        "roles": "role_specific",
        "dk": "dont_know",
        "flat": "no_spread",
        "fine": "",
    }
    assert not table["hidden"].any()
    assert table.loc["fine", "alpha"] == pytest.approx(
        stats.cronbach_alpha(
            scored[scored["dimension"] == "fine"].pivot(
                index="response", columns="item", values="score"
            )
        )
    )


# -- whole reports of the built-in trust scan -------------------------------------------


def answers_of(
    org: str,
    response: int,
    scores: Mapping[str, float | None],
    trust: dict[str, float] | None = None,
    wave: int = 1,
) -> list[tuple[object, ...]]:
    """One respondent's records: every item of a dimension gives its score (mirrored for
    reverse items, so the dimension score is exactly it); None is don't know."""
    rows: list[tuple[object, ...]] = []
    for dim, score in scores.items():
        for q in ITEMS[dim]:
            value = None if score is None else (6 - score if q.reverse else score)
            rows.append((wave, org, "", response, q.id, "", value))
    for target, value in (trust or {}).items():
        rows.append((wave, org, "", response, "p_trust", target, value))
    return rows


def wave(number: int) -> Wave:
    return Wave(number, "trust", f"M{number}", "closed", None, None, None, None, tuple(NAMES))


def report_of(records: list[tuple[object, ...]], waves: int = 1) -> Report:
    data = WaveData(
        answers_frame(records),
        pd.DataFrame(columns=COMMENT_COLUMNS),
        tuple(wave(w) for w in range(1, waves + 1)),
    )
    return build_report(TRUST, data, {}, CTX)


def wobble(i: int, base: float, width: int = 2) -> float:
    """base, base + 1, … in turn: spread without chance."""
    return float(min(5, base + i % width))


def test_at_n_6_a_modest_gap_between_directions_is_not_called_one_sided() -> None:
    """Alpha trusts Beta about 4.2, Beta trusts Alpha about 3.5, six raters each: the
    Welch test in the family does not support 'one-sided', and the finding says so."""
    records = []
    for i in range(6):
        records += answers_of("a", i, {"vertrouwen": wobble(i, 3)}, {"b": wobble(i, 4, 3)})
        records += answers_of("b", 10 + i, {"vertrouwen": wobble(i, 3)}, {"a": wobble(i, 3, 3)})
    report = report_of(records)
    [row] = report.tables["reciprocity_tests"].to_dict("records")
    assert row["p_holm"] >= 0.05 and not row["significant"]
    assert not [f for f in report.findings if f.startswith("Most one-sided")]
    assert any(f.startswith("No trust relation is clearly one-sided") for f in report.findings)


def test_a_clear_gap_between_directions_is_named_with_its_numbers() -> None:
    """Alpha → Beta 4.5 against Beta → Alpha 1.5 (ten raters each): named, n and g printed."""
    records = []
    for i in range(10):
        records += answers_of("a", i, {"vertrouwen": wobble(i, 3)}, {"b": wobble(i, 4)})
        records += answers_of("b", 10 + i, {"vertrouwen": wobble(i, 3)}, {"a": wobble(i, 1)})
    report = report_of(records)
    [row] = report.tables["reciprocity_tests"].to_dict("records")
    assert row["significant"]
    [finding] = [f for f in report.findings if "one-sided" in f]
    assert finding.startswith(
        "Most one-sided trust relation: Alpha trusts Beta 4.5 (n = 10), Beta trusts Alpha 1.5 "
        "(n = 10); a difference of 3.00"
    )
    assert f"g = {float(row['g']):.2f}" in finding


def test_strongest_and_weakest_come_from_the_paired_test_in_the_family() -> None:
    """Alpha: Trust 4.5 above Influence 2.5 for every one of 8 people (with spread): named.
    Beta: 3.5 / 3.0 / 3.0 with the gap varying: no dimension stands out."""
    records = []
    for i in range(8):
        records += answers_of(
            "a",
            i,
            {
                "vertrouwen": wobble(i, 4),
                "gunnen": 3.0 + (i % 3 == 0),
                "invloed": wobble(i // 2, 2),
            },
        )
        records += answers_of(
            "b",
            20 + i,
            {
                "vertrouwen": wobble(i, 3),
                "gunnen": wobble(i // 2, 3),
                "invloed": wobble(i // 4, 2.5, 1) + 0.5,
            },
        )
    report = report_of(records)
    table = report.tables["dimension_contrasts"].set_index("org")
    assert table.loc["a", "high"] == "vertrouwen" and table.loc["a", "low"] == "invloed"
    assert table.loc["a", "significant"] and not table.loc["b", "significant"]
    alpha = next(f for f in report.findings if f.startswith("Alpha:"))
    assert alpha.startswith("Alpha: strongest on Trust (4.5), weakest on Influence (2.5)")
    assert "same 8 respondents" in alpha and f"d_z = {table.loc['a'].to_dict()['dz']:.2f}" in alpha
    beta = next(f for f in report.findings if f.startswith("Beta:"))
    assert "no dimension stands out" in beta and "strongest" not in beta


def test_a_dont_know_dimension_is_noted_everywhere_and_never_compared() -> None:
    """Alpha answered Influence 'don't know' only: a finding, a reliability row with its
    note, and the sentence about the rest counts the 2 dimensions with scores."""
    records = []
    for i in range(8):
        records += answers_of(
            "a", i, {"vertrouwen": wobble(i, 3), "gunnen": wobble(i, 3), "invloed": None}
        )
    report = report_of(records)
    found = [f for f in report.findings if f.startswith("Alpha:")]
    assert (
        found[0] == 'Alpha: Influence was answered with "don\'t know" only: no score, not compared.'
    )
    assert "the 2 dimensions with scores" in found[1]
    notes = report.tables["reliability"].set_index("dimension")["note"]
    assert notes["invloed"] == "dont_know"


def test_hidden_partners_are_named_and_no_other_is_hidden_with_them() -> None:
    """Gamma (3 people) is too small; Beta (6) and Alpha are shown."""
    records = []
    for org, n in (("a", 10), ("b", 6), ("c", 3)):
        for i in range(n):
            records += answers_of(org, 100 * ord(org) + i, {"vertrouwen": wobble(i, 3)})
    report = report_of(records)
    assert "Gamma: too few respondents to show." in report.findings
    assert not [f for f in report.findings if "hidden to protect" in f]
    assert not [f for f in report.findings if f.startswith(("Alpha: too few", "Beta: too few"))]


def test_identical_answers_in_both_waves_are_reported_as_such() -> None:
    """Everyone answered Trust 3 in wave 1 and 4 in wave 2: no g, no p, no family member;
    the finding says it is a change every respondent gave; the intervals get a remark."""
    records = []
    for i in range(6):
        records += answers_of("a", i, {"vertrouwen": 3.0}, wave=1)
        records += answers_of("a", 10 + i, {"vertrouwen": 4.0}, wave=2)
    report = report_of(records, waves=2)
    [row] = report.tables["changes"].to_dict("records")
    assert not row["spread"] and math.isnan(row["p"]) and math.isnan(row["p_holm"])
    assert math.isnan(row["g"]) and not row["significant"]
    assert (
        "Alpha on Trust: everyone answered the same in both measurements (3.0, then 4.0; "
        "n = 6 and 6): a change every respondent gave, not tested." in report.findings
    )
    assert not [
        f
        for f in report.findings
        if f.startswith("None of the differences with the previous measurement is")
    ]
    assert any("the interval has no width" in note for note in report.notes)


def family_p(report: Report, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The raw and adjusted p of one family of the report (a kind of `families.KINDS`)."""
    parts = [report.tables[n] for n in families.KINDS[kind] if n in report.tables]
    if not parts:
        return np.empty(0), np.empty(0)
    return (
        np.concatenate([t["p"].to_numpy(dtype="float64") for t in parts]),
        np.concatenate([t["p_holm"].to_numpy(dtype="float64") for t in parts]),
    )


def scenario(seed: int) -> list[tuple[object, ...]]:
    """Two waves, four organisations of 5–12 people, dimensions and trust shifted at random."""
    rng = np.random.default_rng(seed)
    records: list[tuple[object, ...]] = []
    response = 0
    for number in (1, 2):
        for org in NAMES:
            shift = rng.normal(0, 1, size=4)
            for _ in range(int(rng.integers(5, 13))):
                response += 1

                def draw(centre: float) -> float:
                    return float(np.clip(np.rint(centre + rng.normal(0, 0.8)), 1, 5))

                scores = {
                    dim: draw(3 + shift[i])
                    for i, dim in enumerate(["vertrouwen", "gunnen", "invloed"])
                }
                trust = {t: draw(3 + shift[3] * (t < org)) for t in NAMES if t != org}
                records += answers_of(org, response, scores, trust, wave=number)
    return records


@pytest.mark.parametrize("seed", range(6))
def test_one_family_and_no_two_findings_contradict(seed: int) -> None:
    """Over random two-wave reports: one Holm adjustment within each family (the latest
    measurement's contrasts; its changes), and each claim agrees with the adjusted table
    and with every other finding."""
    report = report_of(scenario(seed), waves=2)
    for kind in families.KINDS:
        p, adjusted = family_p(report, kind)
        np.testing.assert_allclose(adjusted, stats.holm(p), equal_nan=True)
    found = report.findings
    change = report.tables["changes"]["significant"].any()
    pairs = report.tables.get("trust_matrix_changes")
    pair_change = pairs is not None and pairs["significant"].any()
    assert any(f.startswith("Largest significant change") for f in found) == change
    assert any(f.startswith("Largest change in trust") for f in found) == pair_change
    none = any(f.startswith("None of the differences") for f in found)
    assert none == (not change and not pair_change)
    directions = report.tables["reciprocity_tests"]
    assert any(f.startswith("Most one-sided") for f in found) == directions["significant"].any()
    assert any(f.startswith("No trust relation") for f in found) != directions["significant"].any()
    contrasts = report.tables["dimension_contrasts"].set_index("org")
    for org, name in NAMES.items():
        about = [f for f in found if f.startswith(f"{name}:")]
        strongest = [f for f in about if "strongest on" in f]
        close = [f for f in about if "stands out" in f]
        assert not (strongest and close)  # "strongest X" beside "X and Y are close"
        if org in contrasts.index:
            assert bool(strongest) == bool(contrasts.loc[org, "significant"]), about
    for finding in found:  # 'significant after Holm' only where the family says so
        if "significant after Holm" in finding and "not significant" not in finding:
            assert "Largest" in finding or "Most one-sided" in finding or "strongest" in finding


def test_two_reports_on_one_page_keep_their_own_families() -> None:
    """Two reports adjusted together keep the verdicts each has alone: a family belongs
    to a survey's measurement, not to the page (the spring and the year report agree)."""
    first, second = report_of(scenario(1), waves=2), report_of(scenario(2), waves=2)
    alone = {
        (i, n): r.tables[n].copy()
        for i, r in enumerate((first, second))
        for n in families.FAMILY
        if n in r.tables
    }
    findings_alone = [list(first.findings), list(second.findings)]
    adjust_families([first, second])
    for (i, name), table in alone.items():
        pd.testing.assert_frame_equal((first, second)[i].tables[name], table)
    assert [first.findings, second.findings] == findings_alone
    for report in (first, second):
        for kind in families.KINDS:
            p, adjusted = family_p(report, kind)
            np.testing.assert_allclose(adjusted, stats.holm(p), equal_nan=True)
        contrasts = report.tables["dimension_contrasts"].set_index("org")
        for org, row in contrasts.iterrows():
            said = any(f.startswith(f"{NAMES[str(org)]}: strongest") for f in report.findings)
            assert said == bool(row["significant"])


def test_no_finding_rests_on_a_hidden_cell() -> None:
    """Changing only the answers of the too-small Gamma changes no table of the family and
    no finding (the differential property, on the new tables)."""

    def build(gamma: float) -> Report:
        records = []
        for org, n in (("a", 10), ("b", 9), ("c", 3)):
            for i in range(n):
                mine = gamma if org == "c" else wobble(i, 3)
                trust = {
                    t: (gamma if org == "c" else wobble(i, 2 + (t == "c")))
                    for t in NAMES
                    if t != org
                }
                records += answers_of(
                    org, 100 * ord(org) + i, {"vertrouwen": mine, "gunnen": wobble(i, 2)}, trust
                )
        return report_of(records)

    low, high = build(1.0), build(5.0)
    assert low.findings == high.findings
    for name in families.FAMILY:
        if name in low.tables:
            pd.testing.assert_frame_equal(low.tables[name], high.tables[name])
    assert "c" not in set(low.tables["reciprocity_tests"][["org", "target"]].to_numpy().ravel())
    assert re.search("Gamma: too few respondents", " ".join(low.findings))


def test_every_family_table_is_adjusted_once_in_build() -> None:
    """build_report leaves no family table unadjusted (p_holm is set wherever p is)."""
    report = report_of(scenario(3), waves=2)
    assert {"changes", "trust_matrix_changes", "dimension_contrasts", "reciprocity_tests"} <= set(
        report.tables
    )
    for name in (n for n in families.FAMILY if n in report.tables):
        table = report.tables[name]
        assert (table["p"].isna() == table["p_holm"].isna()).all(), name


def test_tables_say_why_a_cell_is_hidden() -> None:
    """The masked profile keeps no n for Gamma and says it is too small (the label a chart
    prints); Beta (6 people) is shown, with its n."""
    records = []
    for org, n in (("a", 10), ("b", 6), ("c", 3)):
        for i in range(n):
            trust = {t: wobble(i, 3) for t in NAMES if t != org}
            records += answers_of(org, 100 * ord(org) + i, {"vertrouwen": wobble(i, 3)}, trust)
    report = report_of(records)
    scores = report.tables["dimension_scores"].set_index("org")
    assert scores["hidden_reason"].to_dict() == {"a": "", "b": "", "c": "small"}
    assert scores.loc["c", "n"] != scores.loc["c", "n"] and scores.loc["b", "n"] == 6
    matrix = report.tables["trust_matrix"].set_index(["org", "target"])["hidden_reason"]
    assert matrix[("c", "a")] == "small" and matrix[("a", "c")] == ""


def template(key: str) -> re.Pattern[str]:
    """A catalogue text as a pattern: its words literal, every field any text."""
    parts = [
        re.escape(literal) + (".+?" if field is not None else "")
        for literal, field, _, _ in string.Formatter().parse(i18n.raw(key, "en"))
    ]
    return re.compile("".join(parts), re.DOTALL)


def test_every_chart_finding_is_worded_by_a_key_of_its_chart() -> None:
    """Each finding about dimensions, trust and change fullmatches a template that
    `findings.OF_CHART` gives its chart (what captions and slide titles look for)."""
    patterns = {name: [template(k) for k in keys] for name, keys in findings.OF_CHART.items()}
    report = report_of(scenario(4), waves=2)
    sorted_out = {"profile": 0, "matrix": 0, "trend": 0}
    for finding in report.findings:
        charts = [n for n, found in patterns.items() if any(p.fullmatch(finding) for p in found)]
        assert len(charts) == 1, finding
        sorted_out[charts[0]] += 1
    assert sorted_out["profile"] == 4 and sorted_out["matrix"] >= 1 and sorted_out["trend"] >= 1
