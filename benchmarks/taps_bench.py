"""Taps for the whole culture scan: scripted people through the real bot and a fake Bot API.

Each person (a seed) decides on realistic points for the 12 questions ("now" profiles,
"preferred" as a shift of them: `tests/e2e/culture_person.py`) and answers through the
real Application over HTTP against the fake Bot API server: once with the widget (every
tap counted, from the consent button to the thank-you) and once by typing the points
("40 30 20", the last one implied). For comparison it also computes what the widget before
issue 11 (+/− per 5 points and "tap the value for the rest") needed for the same answers.

    .venv/bin/python benchmarks/taps_bench.py [--people 20] [--json out.json]

Target (issue 11): at most 80 taps for the whole scan.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fake Bot API

from tests.e2e.conftest import (
    KEY,
    FakeClock,
    link_token,
    open_wave,
    questionnaire,
    running,
    write_config,
)
from tests.e2e.culture_person import (
    CountingUser,
    culture_answers,
    old_widget_taps,
    take_culture_scan,
)
from tests.e2e.fake_telegram import FakeTelegram
from trustscan.config import load_config

TARGET = 80
ORG = "veenstede"


@dataclass(frozen=True)
class Person:
    """One person's count: taps with the widget, taps and messages typing, old widget."""

    seed: int
    widget_taps: int
    typed_taps: int
    typed_messages: int
    old_widget_taps: int


async def one_person(seed: int, folder: Path) -> Person:
    """The same answers twice (widget, typed), each in a fresh bot and fake server."""
    counts: list[tuple[int, int]] = []
    old = 0
    for typed in (False, True):
        server = FakeTelegram()
        await server.start()
        workdir = folder / f"{seed}-{int(typed)}"
        workdir.mkdir()
        config = load_config(write_config(workdir, server), env={"TRUSTSCAN_KEY": KEY})
        try:
            async with running(config, FakeClock(dt.datetime(2026, 12, 1, 12))) as app:
                await open_wave(app, "culture")
                user = CountingUser(server, 5_000_000 + seed)
                q = questionnaire(app, "culture", ORG, "staff", "nl")
                allocate = [i.question for i in q.items if i.question.type == "allocate"]
                given = culture_answers(random.Random(seed), allocate)
                old = sum(old_widget_taps(question, given[question.id]) for question in allocate)
                await user.send(f"/start {await link_token(app, ORG)}")
                await user.press(user.button(lambda _, d: d.startswith("c:")))
                if any(d.startswith("r:") for _, d in user.buttons()):
                    await user.press(user.button(lambda _, d: d.endswith(":staff")))
                setup = user.taps + 1  # consent, role, the opening statement's Next
                await take_culture_scan(user, q, given, typed=typed)
                counts.append((user.taps, user.typed))
        finally:
            await server.stop()
    return Person(seed, counts[0][0], counts[1][0], counts[1][1], old + setup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20, help="scripted people (seeds 1..N)")
    parser.add_argument("--json", type=Path, help="write every person's counts here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        people = [asyncio.run(one_person(seed, Path(folder))) for seed in range(1, args.people + 1)]
    widget = [p.widget_taps for p in people]
    old = [p.old_widget_taps for p in people]
    print(f"culture scan, {len(people)} scripted people, taps from consent to thank-you")
    for name, values in (("widget (measured)", widget), ("old +/- widget (computed)", old)):
        print(
            f"  {name:28} mean {statistics.mean(values):5.1f}  "
            f"min {min(values):3}  max {max(values):3}"
        )
    typed = people[0]
    print(
        f"  typed points (measured)      {typed.typed_taps} taps + {typed.typed_messages} messages"
    )
    print(f"  target: at most {TARGET} taps -> {'met' if max(widget) <= TARGET else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in people], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
