"""Answers go from the store into tidy frames."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from analysis import scoring, stats, suppression
from analysis.data import load_waves
from surveys import flow
from surveys.engine import Done, Partner, Questionnaire, Respondent
from surveys.loader import load_builtin
from surveys.store import Store
from tests.anonymity import keyed
from tests.support.clock import CLOCK
from trustscan.simulation import simulate_wave

ORGS = ("north", "south", "east")


async def fill(
    store: Store,
    wave: int,
    org: str,
    count: int,
    rng: random.Random,
    survey: str = "trust",
    comment: str = "opmerking {i}",
    likert: tuple[int, int] = (1, 5),
) -> None:
    """`count` respondents of `org` complete `survey` through the engine and the store.

    Scale answers are drawn uniformly from the `likert` range.
    """
    definition = load_builtin(survey)
    partners = tuple(Partner(o, o) for o in ORGS)
    for i in range(count):
        user = rng.randrange(10**9, 10**10)
        q = Questionnaire(definition, Respondent(org, "staff", "nl", partners))
        session = await store.begin(wave, user, org, "staff", "nl")
        state = flow.state_of(q, session)
        while not isinstance(step := q.step(state), Done):
            if step.type == "info":
                change = q.proceed(state, step.index)
            elif step.type == "text":
                change = q.answer(state, step.index, comment.format(i=i))
            elif step.type == "allocate":
                cut = rng.randrange(0, 101, 5)
                change = q.answer(state, step.index, (cut, 100 - cut, 0, 0))
            else:
                change = q.answer(state, step.index, rng.randint(*likert))
            await flow.persist(store, q, session, state, change)
            state = change.state
        await flow.finish(store, q, session, state)


async def test_completed_answers_load_into_tidy_frames(tmp_path: Path) -> None:
    """Scores per organisation come out of a real store; small groups are hidden."""
    store = await Store.open(tmp_path / "a.db", bytes(32), clock=CLOCK)
    try:
        wave = await store.open_wave("trust", 1, ORGS)
        rng = random.Random(3)
        await fill(store, wave.id, "north", 7, rng)
        await fill(store, wave.id, "south", 6, rng)
        await fill(store, wave.id, "east", 2, rng)
        await store.close_wave(wave.id)
        data = await load_waves(store, [wave.id])
    finally:
        await store.close()
    assert list(data.answers.columns) == [
        "wave",
        "org",
        "role",
        "response",
        "item",
        "target",
        "value",
        "choice",
    ]
    assert data.answers["response"].nunique() == 15
    assert len(data.comments) == 15 and "response" not in data.comments
    scores = scoring.dimension_scores(data.answers, load_builtin("trust"))
    table = stats.describe(scores[scores["dimension"] == "vertrouwen"], "score", ["org"])
    result = suppression.suppress(table, 5, by=[]).set_index("org")
    assert result.loc["east", "hidden"]  # 2 < 5
    assert result.loc["south", "hidden"]  # hidden too: east alone could be recovered
    assert not result.loc["north", "hidden"]
    assert len(suppression.releasable(data.waves)) == 1


async def test_every_stored_answer_arrives_in_the_frame_exactly(tmp_path: Path) -> None:
    """All question types of all three scans: the frame holds exactly the stored rows."""
    store = await Store.open(tmp_path / "all.db", bytes(32), clock=CLOCK)
    partners = tuple(Partner(o, o) for o in ("dijkhoven", "veenstede", "brugwoude", "lindermeer"))
    try:
        ids = []
        for number, survey in enumerate(("trust", "culture", "evaluation"), start=1):
            wave = await store.open_wave(survey, 1, [p.id for p in partners])
            await simulate_wave(store, load_builtin(survey), wave.id, number, partners, seed=number)
            await store.close_wave(wave.id)
            ids.append(wave.id)
        data = await load_waves(store, ids)
    finally:
        await store.close()
    with keyed(tmp_path / "all.db", bytes(32)) as db:
        stored = Counter(
            (wave, org, role or "", question, part or target, value, text)
            for wave, org, role, question, target, part, value, text in db.execute(
                "SELECT r.wave, r.org, r.role, a.question, a.target, a.part, a.value, a.text "
                "FROM responses r JOIN answers a ON a.response = r.id WHERE r.complete = 1"
            )
        )
    frame = data.answers
    loaded = Counter(
        (
            int(w),
            str(o),
            str(r),
            str(i),
            str(t),
            None if v != v else int(v),
            None if c != c or c is None else str(c),
        )
        for w, o, r, i, t, v, c in frame[
            ["wave", "org", "role", "item", "target", "value", "choice"]
        ].itertuples(index=False)
    )
    assert loaded == stored and sum(stored.values()) > 1000
    kinds = {q.type for s in ("trust", "culture", "evaluation") for q in load_builtin(s).questions}
    assert {"likert", "choice", "nps", "allocate"} <= kinds
    assert frame["choice"].notna().any()  # choice answers keep their option
    per_response = frame.groupby("response")["wave"].nunique()
    assert (per_response == 1).all()  # a response code never spans two waves


async def test_the_read_protocol_gives_the_frame_the_stored_rows_make(tmp_path: Path) -> None:
    """The frame from `AnswerColumns` equals one built straight from the decrypted tables.

    Responses are numbered in the order of their random ids and answers in key order,
    as the store reads them; categories are sorted; a missing role is ''.
    """
    import numpy as np
    import pandas as pd

    store = await Store.open(tmp_path / "same.db", bytes(32), clock=CLOCK)
    partners = tuple(Partner(o, o) for o in ("dijkhoven", "veenstede", "brugwoude"))
    try:
        ids = []
        for number, survey in enumerate(("trust", "evaluation"), start=1):
            wave = await store.open_wave(survey, 1, [p.id for p in partners])
            await simulate_wave(store, load_builtin(survey), wave.id, number, partners, seed=number)
            await store.close_wave(wave.id)
            ids.append(wave.id)
        frame = (await load_waves(store, ids)).answers
    finally:
        await store.close()
    with keyed(tmp_path / "same.db", bytes(32)) as db:
        rows = db.execute(
            "SELECT r.id, r.wave, r.org, ifnull(r.role, ''), a.question, "
            "CASE a.part WHEN '' THEN a.target ELSE a.part END, a.value, a.text "
            "FROM responses r JOIN answers a ON a.response = r.id WHERE r.complete = 1 "
            "ORDER BY r.id, a.question, a.target, a.part"
        ).fetchall()
    raw = pd.DataFrame(
        rows, columns=["id", "wave", "org", "role", "item", "target", "value", "choice"]
    )
    expected = pd.DataFrame(
        {
            "wave": raw["wave"].astype("int64"),
            "org": pd.Categorical(raw["org"]),
            "role": pd.Categorical(raw["role"]),
            "response": pd.factorize(raw["id"], sort=True)[0].astype("int64"),
            "item": pd.Categorical(raw["item"]),
            "target": pd.Categorical(raw["target"]),
            "value": pd.to_numeric(raw["value"]).astype("float64"),
            "choice": pd.Categorical(raw["choice"].to_numpy(dtype=object)),
        }
    )
    assert len(frame) > 1000 and frame["choice"].notna().any()
    pd.testing.assert_frame_equal(frame, expected)
    assert np.array_equal(frame["response"].unique(), np.arange(frame["response"].nunique()))
