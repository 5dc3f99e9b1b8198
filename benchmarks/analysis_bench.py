"""Analysis at scale: load, score, suppress, statistics and the HTML report, with peak RSS.

A synthetic store holds R completed responses (default 100,000) over 3 waves of a
40-item survey (4 million answers), 20 organisations and 4 roles, written straight into
the store's schema (setup, not measured). Measured: loading into tidy frames, scoring +
suppression + all statistics (build_report), rendering the HTML page, and separately
the PNG export — next to a bare pandas groupby().agg(['count','mean','std']) over the
same loaded frame in the same run.

    python benchmarks/analysis_bench.py [--responses 100000] [--png] [--db FILE]

`--db FILE` keeps the synthetic store in FILE and reuses it on the next run (the setup
takes about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

from analysis.data import load_waves
from analysis.report import Context, build_report, render_html
from surveys import cipher, keys
from surveys.clock import ZoneClock
from surveys.loader import parse_survey
from surveys.store import Store

ITEMS, DIMENSIONS, WAVES = 40, 8, 3
ORGS = [f"org{i:02d}" for i in range(20)]
ROLES = ["staff", "manager", "administrator", "council"]
KEY = bytes(range(32))


def survey_toml() -> str:
    parts = [
        'id = "bench"\nlanguages = ["nl", "en"]\ntitle = { nl = "Bench", en = "Bench" }\n',
        "[scales.agree5]\npoints = 5\n"
        'labels = { nl = ["1","2","3","4","5"], en = ["1","2","3","4","5"] }\n'
        "dont_know = true\n",
    ]
    for d in range(DIMENSIONS):
        parts.append(f'[[dimensions]]\nid = "d{d}"\nlabel = {{ nl = "D{d}", en = "D{d}" }}\n')
    for i in range(ITEMS):
        parts.append(
            f'[[questions]]\nid = "q{i:02d}"\ntype = "likert"\nscale = "agree5"\n'
            f'dimension = "d{i % DIMENSIONS}"\nreverse = {str(i % 7 == 0).lower()}\n'
            f'text = {{ nl = "Vraag {i}", en = "Question {i}" }}\n'
        )
    return "\n".join(parts)


async def build_store(path: Path, responses: int) -> list[int]:
    """Create waves through the store, then bulk-insert completed responses."""
    store = await Store.open(path, KEY, clock=ZoneClock())
    waves = []
    for _ in range(WAVES):
        wave = await store.open_wave("bench", 1, ORGS)
        waves.append(wave.id)
    await store.close()
    rng = random.Random(1)
    db = cipher.connect(path, keys.database_key(KEY))  # the store's encrypted file
    db.execute("PRAGMA synchronous = OFF")
    per_wave = responses // WAVES
    for wave in waves:
        db.execute("BEGIN")  # the connection is in autocommit mode
        for start in range(0, per_wave, 5000):
            rows, answers = [], []
            for _ in range(min(5000, per_wave - start)):
                rid = secrets.token_bytes(16)
                org = ORGS[min(int(rng.expovariate(0.15)), len(ORGS) - 1)]
                rows.append((rid, wave, org, rng.choice(ROLES)))
                base = rng.gauss(3.3, 0.6)
                for i in range(ITEMS):
                    value = (
                        None if rng.random() < 0.03 else max(1, min(5, round(rng.gauss(base, 0.9))))
                    )
                    answers.append((rid, f"q{i:02d}", value))
            db.executemany(
                "INSERT INTO responses (id, wave, org, role, complete) VALUES (?, ?, ?, ?, 1)", rows
            )
            db.executemany(
                "INSERT INTO answers (response, question, target, part, value) "
                "VALUES (?, ?, '', '', ?)",
                answers,
            )
        db.execute("COMMIT")
    for wave in waves:
        db.execute("UPDATE waves SET status = 'closed', salt = NULL WHERE id = ?", (wave,))
    db.close()
    return waves


async def existing_waves(path: Path) -> list:
    async with await Store.open(path, KEY, clock=ZoneClock()) as store:
        return await store.waves(survey="bench")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main_async(args: argparse.Namespace) -> int:
    survey = parse_survey(survey_toml(), "bench.toml")
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "bench.db"
    t0 = time.perf_counter()
    if path.exists():
        waves = [w.id for w in await existing_waves(path)]
    else:
        waves = await build_store(path, args.responses)
    setup = time.perf_counter() - t0
    baseline_rss = rss_mb()

    store = await Store.open(path, KEY, clock=ZoneClock())
    t0 = time.perf_counter()
    data = await load_waves(store, waves)
    load_s = time.perf_counter() - t0
    counts = {w: await store.response_counts(w) for w in waves}
    await store.close()
    answers = data.answers

    t0 = time.perf_counter()
    answers.groupby(["wave", "org", "role", "item"], observed=True)["value"].agg(
        ["count", "mean", "std"]
    )
    bare_s = time.perf_counter() - t0

    ctx = Context(
        k=5,
        k_comments=10,
        lang="en",
        partnership="Bench",
        orgs={o: o for o in ORGS},
        roles={r: r for r in ROLES},
    )
    t0 = time.perf_counter()
    report = build_report(survey, data, counts, ctx)
    stats_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    page = render_html([report], ctx)
    html_s = time.perf_counter() - t0
    png_s = None
    if args.png:
        from analysis.png import figures_to_png

        t0 = time.perf_counter()
        await figures_to_png([fig for _, fig in report.figures])
        png_s = time.perf_counter() - t0

    total = load_s + stats_s + html_s
    print(
        f"analysis benchmark: {answers['response'].nunique():,} responses, {len(answers):,} "
        f"answers, {len(ORGS)} organisations, {len(ROLES)} roles, {WAVES} waves "
        f"(setup {setup:.0f} s, not measured)"
    )
    print(f"  load into tidy frames        {load_s:7.2f} s")
    print(f"  bare pandas groupby.agg      {bare_s:7.2f} s   (baseline)")
    print(
        f"  score + suppress + statistics{stats_s:7.2f} s   = {stats_s / bare_s:.1f}x the "
        f"baseline (target <= 5x)"
    )
    drawn = f"{len(report.charts)} charts drawn, {len(page) / 1e6:.1f} MB"
    print(f"  HTML report ({drawn}) {html_s:5.2f} s")
    print(f"  load + statistics + HTML     {total:7.2f} s   (target <= 10 s)")
    if png_s is not None:
        print(f"  PNG export of {len(report.figures)} charts    {png_s:7.2f} s")
    print(f"  peak RSS {rss_mb():.0f} MB (after setup {baseline_rss:.0f} MB; target <= 1500)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--png", action="store_true", help="also time the PNG export")
    parser.add_argument("--db", help="keep the synthetic store in this file and reuse it")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
