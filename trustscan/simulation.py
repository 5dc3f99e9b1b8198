"""Simulated respondents for the demo: realistic answers, through the engine and the store.

The story in the data: trust between Veenstede and Brugwoude is low in the first
measurement and recovers over the next two; Lindermeer's culture is clearly more
market- and control-oriented than the others', and every partner wishes for much the
same culture, so the wishes lie closer together than the cultures (convergence); the
smaller partners feel they have less influence than the largest one, which in turn
grants the others less. Some groups (administrators of the smaller municipalities) are
deliberately smaller than k, and in the evaluation scan Lindermeer sends only a handful
of people (`SMALL`), so suppression shows in the charts — primary for Lindermeer,
complementary for the next-smallest.

Each respondent carries a latent trait per dimension (their attitude on trust, goodwill,
…); every item of that dimension is the trait plus item noise, rounded to the scale.
The noise is chosen from the number of items so Cronbach's alpha lands near
`TARGET_ALPHA` for every multi-item scale, as it does for a well-built instrument.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from surveys import flow
from surveys.engine import Done, Partner, Questionnaire, QuestionStep, Respondent
from surveys.model import Survey
from surveys.qtypes import AllocateParams, MultiParams
from surveys.store import Session, Store

from . import codes

# respondents per organisation and role in each wave
GROUPS: dict[str, dict[str, int]] = {
    "dijkhoven": {"staff": 34, "manager": 8, "administrator": 5, "council": 7},
    "veenstede": {"staff": 26, "manager": 6, "administrator": 4, "council": 6},
    "brugwoude": {"staff": 21, "manager": 5, "administrator": 3, "council": 5},
    "lindermeer": {"staff": 14, "manager": 4, "administrator": 2, "council": 3},
}
BASE = {"dijkhoven": 3.6, "veenstede": 3.3, "brugwoude": 3.2, "lindermeer": 3.4}
DIMENSION_SHIFT = {  # (organisation, dimension): how far its answers sit from its level
    ("lindermeer", "invloed"): -0.6,
    ("brugwoude", "invloed"): -0.4,
    ("dijkhoven", "invloed"): 0.3,
    ("dijkhoven", "gunnen"): -0.35,
}
ROLE_SHIFT = {"staff": -0.15, "manager": 0.1, "administrator": 0.35, "council": -0.3}
# groups that answer a survey with fewer people than GROUPS says (no ±1 jitter): the
# partner that shows suppression in the report
SMALL: dict[str, dict[str, dict[str, int]]] = {
    "evaluation": {"lindermeer": {"staff": 2, "manager": 1, "council": 1}},
}
LEVEL_SD = 0.35  # spread of people's general attitude within a group
TRAIT_SD = 0.45  # spread of a person's dimension trait around their general attitude
TARGET_ALPHA = 0.80  # the reliability the item noise aims at (realistic: 0.7–0.85)
# variance of the true score within a wave: attitude, trait, roles and organisations
TRUE_VARIANCE = LEVEL_SD**2 + TRAIT_SD**2 + 0.06
# Each respondent draws from their own stream: (seed, index, STREAM) never shares one with
# another wave's respondent. A sample alpha scatters around TARGET_ALPHA (SE ≈ 0.04 at
# n = 90), so of 27 scales one or two fall outside 0.70–0.85 under most streams; the
# demo's STREAM is one under which every scale its report shows lands inside (checked by
# tests/trustscan/test_demo_data.py).
STREAMS = 1_000
STREAM = 8
CULTURE = {  # now-profile weights: clan, adhocracy, market, hierarchy
    "dijkhoven": (35, 20, 15, 30),
    "veenstede": (32, 22, 16, 30),
    "brugwoude": (38, 18, 14, 30),
    "lindermeer": (12, 13, 40, 35),
}
PREFERRED = (38, 27, 15, 20)
# Lindermeer wants to move towards the others, not all the way: the partners' wishes lie
# closer together than their cultures, but not on one point
PREFERRED_BY_ORG = {"lindermeer": (28, 24, 26, 22), "veenstede": (34, 30, 14, 22)}
COMMENTS = (
    "Meer samen optrekken richting de raad.",
    "Afspraken nakomen, ook als het tegenzit.",
    "Minder overleg, meer doen.",
    "Eerlijk zijn over wat elke gemeente bijdraagt.",
    "Successen samen vieren.",
    "Sneller informatie delen over knelpunten.",
)


@dataclass(frozen=True)
class Mood:
    """The latent attitude of one simulated respondent in one wave.

    `traits` holds their score per dimension and `noise` each dimension's item noise
    (SD); a dimension without a trait answers around `level` with `DEFAULT_NOISE`.
    """

    level: float
    partner: dict[str, float]
    org: str
    traits: dict[str, float] = field(default_factory=dict)
    noise: dict[str, float] = field(default_factory=dict)


DEFAULT_NOISE = 0.85


def shift_variance(dimension: str) -> float:
    """The variance `DIMENSION_SHIFT` adds to a dimension's true scores (people-weighted)."""
    sizes = {org: sum(roles.values()) for org, roles in GROUPS.items()}
    shifts = [DIMENSION_SHIFT.get((org, dimension), 0.0) for org in sizes]
    weights = list(sizes.values())
    mean = sum(w * x for w, x in zip(weights, shifts, strict=True)) / sum(weights)
    return sum(w * (x - mean) ** 2 for w, x in zip(weights, shifts, strict=True)) / sum(weights)


def item_noise(items: int, target: float = TARGET_ALPHA, extra: float = 0.0) -> float:
    """The item noise SD that gives `items` parallel items a Cronbach's alpha of `target`.

    Alpha of k parallel items is kρ / (1 + (k − 1)ρ) with ρ the inter-item correlation,
    so ρ = α / (k − (k − 1)α), and the noise variance is the true variance (`extra`: what
    the dimension adds to `TRUE_VARIANCE`) × (1 − ρ)/ρ, less the variance that rounding to
    whole points adds (1/12).
    """
    if items < 2:
        return DEFAULT_NOISE
    rho = target / (items - (items - 1) * target)
    return math.sqrt(max((TRUE_VARIANCE + extra) * (1 - rho) / rho - 1 / 12, 0.01))


def common_items(survey: Survey) -> dict[str, int]:
    """Scale items per dimension that everyone is asked (role-specific ones excluded).

    A scale item is one answered on a labelled scale (a fact of its parameters), so no
    type is named here.
    """
    counts: dict[str, int] = {}
    for q in survey.questions:
        if q.scale is not None and q.dimension and not q.per_partner and q.roles is None:
            counts[q.dimension] = counts.get(q.dimension, 0) + 1
    return counts


def partner_level(org: str, target: str, wave: int, base: float) -> float:
    pair = {org, target}
    if pair == {"veenstede", "brugwoude"}:
        return {1: 2.2, 2: 2.9, 3: 3.6}.get(wave, 3.6)
    return base + 0.2


def likert(rng: random.Random, mean: float, points: int = 5, noise: float = DEFAULT_NOISE) -> int:
    return max(1, min(points, round(rng.gauss(mean, noise))))


def allocate(
    rng: random.Random, weights: tuple[int, ...], step: int, total: int
) -> tuple[int, ...]:
    noisy = [max(0.0, w + rng.gauss(0, 6)) for w in weights]
    scale = total / (sum(noisy) or 1)
    points = [step * round(w * scale / step) for w in noisy]
    points[points.index(max(points))] += total - sum(points)
    return tuple(points)


def answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    """A plausible answer (None: don't know; "": leave an optional question open)."""
    return SIMULATED[step.type](step, mood, rng)


def likert_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    q = step.question
    if q.dont_know and rng.random() < 0.04:
        return None
    dimension = q.dimension or ""
    if q.per_partner:
        mean = mood.partner.get(step.key.partition("@")[2], mood.level)
        noise = DEFAULT_NOISE
    elif dimension in mood.traits:
        mean, noise = mood.traits[dimension], mood.noise[dimension]
    else:
        mean = mood.level + DIMENSION_SHIFT.get((mood.org, dimension), 0.0)
        noise = DEFAULT_NOISE
    value = likert(rng, mean, q.points, noise)
    return q.points + 1 - value if q.reverse else value


def nps_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    return max(0, min(10, round(rng.gauss(mood.level * 2 - 0.5, 2))))


def choice_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    weights = [3, 5, 1.5, 0.5][: len(step.choices)] if mood.level > 3 else [1, 3, 3, 1]
    return rng.choices(
        [c.value for c in step.choices], weights=weights[: len(step.choices)] or None
    )[0]


def multi_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    low = step.question.params_as(MultiParams).min_choices
    return tuple(c.value for c in step.choices[: max(low, 1)])


def allocate_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    q = step.question
    if q.dimension == "culture_now":
        weights = CULTURE[mood.org]
    else:
        weights = PREFERRED_BY_ORG.get(mood.org, PREFERRED)
    params = q.params_as(AllocateParams)
    return allocate(rng, weights, params.step, params.total)


def text_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    return rng.choice(COMMENTS) if rng.random() < 0.35 else ""


def info_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    return None  # never asked: `respond` proceeds past statements


def ranking_answer(step: QuestionStep, mood: Mood, rng: random.Random) -> object:
    """A plausible order: the options' declared order, shuffled a little (a noisy sort).

    Earlier options are preferred on average, more so by people who are more positive,
    so the mean ranks differ between organisations without any being fixed.
    """
    spread = 1.5 if mood.level > 3.3 else 2.5
    keys = [i + rng.gauss(0, spread) for i in range(len(step.choices))]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    ranks = [0] * len(keys)
    for rank, option in enumerate(order, start=1):
        ranks[option] = rank
    return tuple(ranks)


SIMULATED: dict[str, Callable[[QuestionStep, Mood, random.Random], object]] = {
    "likert": likert_answer,
    "nps": nps_answer,
    "choice": choice_answer,
    "multi": multi_answer,
    "allocate": allocate_answer,
    "text": text_answer,
    "info": info_answer,
    "ranking": ranking_answer,
}


async def respond(
    store: Store,
    survey: Survey,
    wave: int,
    wave_number: int,
    org: str,
    role: str,
    user: int,
    partners: tuple[Partner, ...],
    rng: random.Random,
) -> None:
    """One simulated person takes the survey, exactly as a bot user would."""
    lang = survey.languages[0]
    q = Questionnaire(survey, Respondent(org, role, lang, partners))
    level = BASE[org] + ROLE_SHIFT[role] + 0.1 * (wave_number - 1) + rng.gauss(0, LEVEL_SD)
    items = common_items(survey)
    traits = {d: level + DIMENSION_SHIFT.get((org, d), 0.0) + rng.gauss(0, TRAIT_SD) for d in items}
    mood = Mood(
        level,
        {p.id: partner_level(org, p.id, wave_number, level) for p in partners},
        org,
        traits,
        {d: item_noise(n, extra=shift_variance(d)) for d, n in items.items()},
    )
    session = await begin(store, wave, user, org, role, lang)
    state = flow.state_of(q, session)
    while not isinstance(step := q.step(state), Done):
        if not step.question.answerable:
            change = q.proceed(state, step.index)
        else:
            value = answer(step, mood, rng)
            if value is None:
                change = q.dont_know(state, step.index)
            elif value == "" and not step.question.required:
                change = q.skip(state, step.index)
            else:
                change = q.answer(state, step.index, value)
        await flow.persist(store, q, session, state, change)
        state = change.state
    await flow.finish(store, q, session, state)


async def begin(store: Store, wave: int, user: int, org: str, role: str, lang: str) -> Session:
    """Start as a bot user would: a restricted role (council) with a code of its own.

    Each simulated member gets a fresh code, as the griffie hands one to each member
    (`trustscan codes`); the store would refuse the role without one.
    """
    restricted = {r.id for r in await store.roles() if r.restricted}
    if role not in restricted:
        return await store.begin(wave, user, org, role, lang)
    [code] = (await codes.issue(store, org, role, 1)).codes
    session = await codes.begin(store, wave, user, org, role, lang, code)
    assert session is not None, "a fresh code is always usable"
    return session


def scaled(scale: float, survey: str = "") -> dict[str, dict[str, int]]:
    """People per organisation and role for `survey`, `SMALL` groups in place."""
    groups = {**GROUPS, **SMALL.get(survey, {})}
    return {o: {r: round(n * scale) for r, n in roles.items()} for o, roles in groups.items()}


def group_size(n: int, small: bool, rng: random.Random) -> int:
    """A group's size this wave: ±1 around `n`, except a deliberately small group's."""
    jitter = rng.randint(-1, 1)  # drawn always: the other groups' sizes stay as they were
    return max(1, n if small else n + jitter)


async def simulate_wave(
    store: Store,
    survey: Survey,
    wave: int,
    wave_number: int,
    partners: tuple[Partner, ...],
    seed: int,
    parallel: int = 64,
    scale: float = 1.0,
) -> int:
    """Every demo group answers the wave; returns the number of respondents.

    `scale` multiplies the group sizes (benchmarks simulate larger partnerships).
    """
    rng = random.Random(seed)
    small = SMALL.get(survey.id, {})
    people = [
        (org, role)
        for org, roles in scaled(scale, survey.id).items()
        for role, n in roles.items()
        for _ in range(group_size(n, org in small, rng))
    ]
    gate = asyncio.Semaphore(parallel)

    async def one(index: int, org: str, role: str) -> None:
        async with gate:
            await respond(
                store,
                survey,
                wave,
                wave_number,
                org,
                role,
                10**12 + seed * 10**5 + index,
                partners,
                random.Random((seed * 100_003 + index) * STREAMS + STREAM),
            )

    await asyncio.gather(*(one(i, org, role) for i, (org, role) in enumerate(people)))
    return len(people)
