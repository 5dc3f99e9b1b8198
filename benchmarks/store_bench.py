"""Durable answer throughput and latency of the store, next to raw aiosqlite in the same run.

Scenario: C respondents answer at once (default 200), each taking the whole survey
through the store (begin, one durable step per answer into an encrypted draft,
completion into the waiting table and, every k completions of a group, a release),
replaced by a new respondent when done, until N answers are in. The
writes are those the engine produces for the survey, computed once before timing (the
engine's own cost is part of bot_bench.py). Every answer is committed with
synchronous=FULL before its call returns.

Baselines: the raw aiosqlite rate of one INSERT, one commit per answer, from the same
number of concurrent tasks on one connection, with the same pragmas; and the same store
run on a plaintext file (SQLCipher swapped for sqlite3), for the cost of encryption.

    python benchmarks/store_bench.py [--answers 40000] [--concurrency 200] [--survey trust]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiosqlite
from plaintext import plaintext  # benchmarks/ is the script's folder, first on sys.path

from surveys.answers import DONT_KNOW
from surveys.clock import ZoneClock
from surveys.engine import Done, Partner, Questionnaire, QuestionStep, Respondent, State
from surveys.loader import load_builtin, load_survey
from surveys.model import Survey
from surveys.qtypes import encode
from surveys.store import Store

ORGS = ("dijkhoven", "veenstede", "brugwoude", "lindermeer")
PARTNERS = tuple(Partner(o, o.title()) for o in ORGS)
ROLES = ("staff", "manager", "administrator", "council")


def pick(step: QuestionStep, rng: random.Random) -> object:
    """A plausible answer for any question type."""
    q = step.question
    match q.type:
        case "likert" | "nps":
            if q.dont_know and rng.random() < 0.05:
                return DONT_KNOW
            return rng.randint(1, q.points) if q.type == "likert" else rng.randint(0, 10)
        case "choice":
            return rng.choice(step.choices).value
        case "multi":
            return tuple(c.value for c in step.choices[: max(q.params.min_choices, 1)])
        case "allocate":
            share = q.params.total // len(q.options)
            return (q.params.total - share * (len(q.options) - 1), *[share] * (len(q.options) - 1))
        case "text":
            return "benchmark comment " + str(rng.random())
    return None


def script(survey: Survey, rng: random.Random) -> list[tuple[int, int, dict]]:
    """One respondent's writes, made by walking the engine once (outside the timed loop)."""
    q = Questionnaire(survey, Respondent(ORGS[0], "administrator", "nl", PARTNERS))
    state = State()
    steps = []
    while not isinstance(step := q.step(state), Done):
        change = (
            q.answer(state, step.index, pick(step, rng))
            if step.question.answerable
            else q.proceed(state, step.index)
        )
        put = {
            (k.partition("@")[0], k.partition("@")[2]): encode(
                survey.question(k.partition("@")[0]), v
            )
            for k, v in change.put.items()
        }
        steps.append((state.cursor, change.state.cursor, put))
        state = change.state
    return steps


def vary(put: dict, rng: random.Random) -> dict:
    """The same writes with fresh likert values, so rows differ between respondents."""
    return {
        item: [
            row._replace(value=rng.randint(1, 5))
            if row.part == "" and isinstance(row.value, int)
            else row
            for row in rows
        ]
        for item, rows in put.items()
    }


async def bench_store(db_path: Path, survey_id: str, answers: int, concurrency: int) -> dict:
    survey = load_survey(survey_id) if survey_id.endswith(".toml") else load_builtin(survey_id)
    steps = script(survey, random.Random(1))
    comment_items = [(q.id, "") for q in survey.questions if q.type == "text"]
    store = await Store.open(db_path, bytes(32), clock=ZoneClock())
    wave = await store.open_wave(survey.id, survey.version, ORGS)
    latencies: list[float] = []
    next_user = iter(range(10**9, 2 * 10**9))
    done = 0
    completions = 0

    async def respondent(rng: random.Random) -> None:
        nonlocal done, completions
        while done < answers:
            user = next(next_user)
            org, role = rng.choice(ORGS), rng.choice(ROLES)
            session = await store.begin(wave.id, user, org, role, "nl")
            for before, after, put in steps:
                writes = vary(put, rng)
                t0 = time.perf_counter()
                await store.save_step(session, before, after, writes)
                latencies.append(time.perf_counter() - t0)
                done += 1
            await store.complete(session, steps[-1][1], comment_items=comment_items)
            completions += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(respondent(random.Random(i)) for i in range(concurrency)))
    elapsed = time.perf_counter() - t0
    await store.close()
    latencies.sort()
    return {
        "answers": len(latencies),
        "completions": completions,
        "seconds": elapsed,
        "rate": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "mean_ms": 1000 * statistics.fmean(latencies),
    }


async def bench_raw(db_path: Path, answers: int, concurrency: int) -> dict:
    db = await aiosqlite.connect(db_path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "secure_delete = ON"):
        await db.execute(f"PRAGMA {pragma}")
    await db.execute("CREATE TABLE answers (response BLOB, question TEXT, value INTEGER)")
    latencies: list[float] = []
    count = 0

    async def writer() -> None:
        nonlocal count
        while count < answers:
            count += 1
            t0 = time.perf_counter()
            await db.execute("INSERT INTO answers VALUES (randomblob(16), 'q', 3)")  # autocommit
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    await db.close()
    latencies.sort()
    return {
        "answers": len(latencies),
        "seconds": elapsed,
        "rate": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=40_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--survey", default="trust")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = asyncio.run(bench_raw(Path(tmp) / "raw.db", args.answers // 4, args.concurrency))
        with plaintext():
            plain = asyncio.run(
                bench_store(Path(tmp) / "plain.db", args.survey, args.answers, args.concurrency)
            )
        ours = asyncio.run(
            bench_store(Path(tmp) / "store.db", args.survey, args.answers, args.concurrency)
        )
    print(
        f"store benchmark: {args.concurrency} concurrent respondents, survey "
        f"'{args.survey}', synchronous=FULL, WAL"
    )
    print(
        f"  raw aiosqlite, one insert one commit: {raw['rate']:8.0f} answers/s   "
        f"p50 {raw['p50_ms']:6.2f} ms   p99 {raw['p99_ms']:6.2f} ms   ({raw['answers']} answers)"
    )
    for name, row in (("plaintext", plain), ("encrypted", ours)):
        print(
            f"  trustscan store, {name} (group commit): {row['rate']:5.0f} answers/s   "
            f"p50 {row['p50_ms']:6.2f} ms   p99 {row['p99_ms']:6.2f} ms   ({row['answers']} "
            f"answers, {row['completions']} completions, released in batches)"
        )
    print(f"  ratio encrypted store/raw: {ours['rate'] / raw['rate']:.2f}x")
    print(f"  cost of encryption: {plain['rate'] / ours['rate']:.2f}x answers/s")
    ok = ours["rate"] >= 10_000 and ours["p99_ms"] <= 20
    print(f"  targets, encrypted (>= 10000 answers/s, p99 <= 20 ms): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
