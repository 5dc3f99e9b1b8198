"""What the next wave can detect: the minimum detectable change per organisation.

Before a wave opens (`trustscan wave open`, `/openwave`), a facilitator should know which
change in an organisation's mean score the coming comparison with the last wave could
find — so that nobody reads noise as a trend afterwards. The expected n of each
organisation comes from its configured headcount and the response rate it reached in the
last closed wave of the same survey; the SD is pooled over the last wave's shown groups
(or `DEFAULT_SD` before the first wave). `analysis.power` does the arithmetic, at the α
the report's verdicts on that change will use: Holm's first step over the family of
dimension changes the comparison will hold (`planned_tests`,
`analysis.report.families.effective_alpha`).

Use: `plan = await plan_next_wave(store, config, survey)` then
`detectable_lines(plan, lang)`: texts from the catalogue, ready to print or send.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis import power
from analysis.data import load_waves
from analysis.report import families
from analysis.report.tables import Frames, Shape, profile
from surveys.i18n import t
from surveys.model import Survey
from surveys.store import Store, Wave

from .config import Config, Organisation

DEFAULT_RESPONSE_RATE = power.DEFAULT_RESPONSE_RATE  # before a first wave


@dataclass(frozen=True, slots=True)
class Expected:
    """One organisation's expected comparison: the last wave's n against the next one's.

    `last` is None before a first wave (then both waves are expected to be alike);
    `expected` is None when neither a headcount nor a last wave says anything.
    """

    org: str
    name: str
    headcount: int | None
    last: int | None
    expected: int | None
    mdc: float  # NaN: no test possible (fewer than two in a wave) or nothing known
    mdc_fpc: float | None  # with the finite population correction, when N is known


@dataclass(frozen=True, slots=True)
class Plan:
    """The detectable changes of the next wave of one survey."""

    survey: str
    sd: float
    sd_from_data: bool  # False: `DEFAULT_SD`, no earlier wave had shown scores
    last_wave: str | None  # the last closed wave's name
    orgs: tuple[Expected, ...]
    alpha: float = power.ALPHA  # per comparison: the dimension-change family's α/m
    power: float = power.POWER
    k: int = 5  # the minimum group size: a smaller group's scores will be hidden
    tests: int = 1  # the comparisons that family is expected to hold (m)


def expected_n(headcount: int | None, last: int | None) -> int | None:
    """The respondents to expect: headcount × last response rate (or the default rate).

    With a headcount and a last wave, that is the last wave's count (capped at the
    headcount: a shared link may have oversubscribed it); without a headcount the last
    count stands for itself; before a first wave, `DEFAULT_RESPONSE_RATE` of the headcount.
    """
    if headcount is not None and last is not None:
        rate = min(last / headcount, 1.0)
        return round(headcount * rate)
    if last is not None:
        return last
    if headcount is not None:
        return round(headcount * DEFAULT_RESPONSE_RATE)
    return None


def expect(
    organisations: Sequence[Organisation],
    last_counts: dict[str, int] | None,
    sd: float,
    alpha: float = power.ALPHA,
) -> tuple[Expected, ...]:
    """Expected n and detectable change per organisation (pure: no store).

    `last_counts` maps organisation → completed responses of the last wave (None: there
    was none). The comparison is the last wave's n against the expected n of the next;
    before a first wave, two waves of the expected n each.
    """
    rows = []
    for org in organisations:
        last = None if last_counts is None else last_counts.get(org.id, 0)
        expected = expected_n(org.headcount, last)
        before = last if last is not None else expected
        if expected is None or before is None:
            rows.append(Expected(org.id, org.name, org.headcount, last, None, float("nan"), None))
            continue
        mdc = float(power.detectable_change(before, expected, sd, alpha=alpha))
        corrected = None
        if org.headcount is not None:
            corrected = float(
                power.detectable_change(
                    before,
                    expected,
                    sd,
                    population_before=org.headcount,
                    population_after=org.headcount,
                    alpha=alpha,
                )
            )
        rows.append(Expected(org.id, org.name, org.headcount, last, expected, mdc, corrected))
    return tuple(rows)


async def plan_next_wave(store: Store, config: Config, survey: Survey) -> Plan:
    """The plan for the next wave of `survey`, from the last closed wave in the store.

    The SD is pooled over the scale-dimension cells of the last wave that a report would
    show (n ≥ k after suppression): a hidden group's answers move nothing printed here.
    """
    closed = [w for w in await store.waves(status="closed", survey=survey.id)]
    last = max(closed, key=lambda w: w.id) if closed else None
    k = config.min_group_size
    if last is None:
        tests = planned_tests(survey, config.organisations, None, k)
        alpha = families.effective_alpha(tests)
        orgs = expect(config.organisations, None, power.DEFAULT_SD, alpha)
        return Plan(survey.id, power.DEFAULT_SD, False, None, orgs, alpha, k=k, tests=tests)
    counts = Counter[str]()
    for row in await store.completed_counts([last.id]):
        counts[row.org] += row.completed
    sd = await _last_sd(store, survey, last, k)
    from_data = not np.isnan(sd)
    sd = sd if from_data else power.DEFAULT_SD
    tests = planned_tests(survey, config.organisations, dict(counts), k)
    alpha = families.effective_alpha(tests)
    orgs = expect(config.organisations, dict(counts), sd, alpha)
    return Plan(survey.id, sd, from_data, last.name, orgs, alpha, k=k, tests=tests)


def planned_tests(
    survey: Survey,
    organisations: Sequence[Organisation],
    last_counts: dict[str, int] | None,
    k: int,
) -> int:
    """How many comparisons the family of dimension changes will hold (m).

    Organisations expected at k or more in both waves are shown in both: each gets a
    test per scale dimension. An estimate (the real m is only known once both waves are
    in, and complementary suppression may hide one more group), counted the way the
    report counts that family.
    """
    shape = Shape.of(survey)
    shown = 0
    for org in organisations:
        last = None if last_counts is None else last_counts.get(org.id, 0)
        expected = expected_n(org.headcount, last)
        before = last if last is not None else expected
        if expected is not None and before is not None and min(expected, before) >= k:
            shown += 1
    return max(shown * len(shape.scale), 1)


async def _last_sd(store: Store, survey: Survey, wave: Wave, k: int) -> float:
    """The SD of the dimension scores pooled over the wave's shown (org, dimension) cells."""
    shape = Shape.of(survey)
    if not shape.scale:
        return float("nan")
    data = await load_waves(store, [wave.id])
    if data.answers.empty:
        return float("nan")
    frames = Frames.of(survey, data, [wave], shape)
    cells = profile(frames.main, k)
    shown = cells[~cells["hidden"].astype(bool)]
    return power.pooled_sd(shown["n"].to_numpy(), shown["sd"].to_numpy())


def detectable_lines(plan: Plan, lang: str) -> list[str]:
    """What the facilitator reads when a wave opens: a heading, a line per organisation.

    Printed by `trustscan wave open` and sent by `/openwave` after the wave is open.
    """
    basis = (
        t("detectable.sd_last", lang, sd=round(plan.sd, 2), wave=plan.last_wave or "")
        if plan.sd_from_data
        else t("detectable.sd_default", lang, sd=plan.sd)
    )
    lines = [
        t(
            "detectable.heading",
            lang,
            power=round(plan.power * 100),
            alpha=f"{plan.alpha:.2g}",
            family=families.ALPHA,
            tests=plan.tests,
        ),
        basis,
    ]
    for row in plan.orgs:
        lines.append(_line(row, plan.k, lang))
    if any(row.mdc_fpc is not None for row in plan.orgs):
        lines.append(t("detectable.fpc_note", lang))
    return lines


def _line(row: Expected, k: int, lang: str) -> str:
    """One organisation's line: its expected n and the change that n can detect."""
    if row.expected is None:
        return t("detectable.line_unknown", lang, org=row.name)
    if row.expected < k:
        return t("detectable.line_below_k", lang, org=row.name, expected=row.expected, k=k)
    if np.isnan(row.mdc):
        return t("detectable.line_no_test", lang, org=row.name, expected=row.expected)
    if row.mdc_fpc is not None and row.headcount is not None:
        return t(
            "detectable.line_fpc",
            lang,
            org=row.name,
            expected=row.expected,
            mdc=round(row.mdc, 2),
            headcount=row.headcount,
            mdc_fpc=round(row.mdc_fpc, 2),
        )
    return t("detectable.line", lang, org=row.name, expected=row.expected, mdc=round(row.mdc, 2))
