"""A process of concurrent respondents that tells, line by line, what the store acknowledged.

Run by `test_kill9.py` and killed with SIGKILL at some line. Each line is printed (and
flushed) only after the store call it reports has returned, so every line is a promise
the database must keep after the kill:

    begin <user> <secret hex>     the draft exists (the secret: what the chat would hold)
    step <user> <cursor>          the draft stands at least at this position
    done <user> <clan points>     the finished response exists (released or waiting)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from surveys import flow
from surveys.engine import Done
from surveys.store import Store
from tests.support.clock import CLOCK
from tests.surveys.test_store import KEY, SCRIPT, questionnaire

SAID = 0  # lines printed so far
NEWS = asyncio.Event()  # set whenever a line is printed


def say(*words: object) -> None:
    global SAID
    print(*words, flush=True)
    SAID += 1
    NEWS.set()


async def after(lines: int) -> None:
    """Wait until `lines` lines were printed: respondents start staggered, so beginnings,
    steps and completions (and releases) interleave all through the run."""
    while lines > SAID:
        NEWS.clear()
        await NEWS.wait()


async def respondent(store: Store, wave: int, user: int, clan: int) -> None:
    await after(3 * (clan - 1))
    q = questionnaire("north")
    session = await store.begin(wave, user, "north", "staff", "nl")
    say("begin", user, session.secret.hex())
    state = flow.state_of(q, session)
    script = {**SCRIPT, "a1": (clan, 100 - clan)}
    while not isinstance(step := q.step(state), Done):
        change = q.answer(state, step.index, script[step.question.id])
        await flow.persist(store, q, session, state, change)
        state = change.state
        say("step", user, state.cursor)
        await asyncio.sleep(0)  # let the others interleave
    await flow.finish(store, q, await store.find_session(wave, user), state)
    say("done", user, clan)


async def main(path: Path, wave: int, first_user: int, people: int) -> None:
    store = await Store.open(path, KEY, clock=CLOCK)
    await asyncio.gather(*(respondent(store, wave, first_user + i, i + 1) for i in range(people)))
    say("all")
    await asyncio.Event().wait()  # stay up until killed


if __name__ == "__main__":
    path, wave, first, people = sys.argv[1:]
    asyncio.run(main(Path(path), int(wave), int(first), int(people)))
