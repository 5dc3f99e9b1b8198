"""Real respondents through the real `Store`, while the host copies the files as they go.

A `Plan` names the partnership (who belongs to which organisation and role, who
finishes, who stops midway, who never starts) and what the host does: copy the
database after every completion (and, if asked, after every answer), back it up every
few completions, run the nightly rebuild every so many completions (the clock moves a
day on), restore a backup as the database (and back up the restored backup), and copy
once more after the wave closes. `run` returns the series of copies in the order they
were made, and the truth the attack must never contradict: which finished response is
whose, under the id it waits with in `pending` and under the one it is released as.
The store releases completions k of a (wave, organisation, role) at a time
(`Plan.k`, its `min_group_size`); the restore is a restart, so completions waiting
in the restored file are released later without their authors' markers.

Respondents answer concurrently (`Plan.parallel` at a time), so a copy taken after one
person's completion finds others midway, as on a busy day. Everyone's answers are
distinct (`answers_of`), so the truth is read back from the answers alone.

How a copy is taken. The host's copy of two files (database and WAL) must be one
moment, as a file-system or VM snapshot is; copying one file and then the other while
SQLite checkpoints could pair a WAL with a file that has already absorbed and lost
frames of it. Every write of the store (answers, completions, WAL truncation, rebuild,
close) holds its write lock, so the files read while holding that lock are such a
moment, between two transactions: that is the one private attribute this driver
touches. A copy keeps only the pages that changed since the previous one
(`Snapshot.taken`), so hundreds of copies stay cheap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from surveys import flow
from surveys.engine import Done, Partner, Questionnaire, Respondent
from surveys.store import RoleRow, Store
from tests.anonymity import keyed
from tests.host_attack import Person, Snapshot
from tests.support.clock import FrozenClock
from tests.surveys.test_store import SURVEY

KEY = bytes(range(32))
ORGS = ("north", "south", "east", "west")
PARTNERS = tuple(Partner(o, o.title()) for o in ORGS)
ROLES = (
    RoleRow("staff", {"nl": "Medewerker", "en": "Staff"}),
    RoleRow("manager", {"nl": "Leidinggevende", "en": "Manager"}),
    RoleRow("council", {"nl": "Raadslid", "en": "Council member"}, restricted=True),
)
RESTRICTED = frozenset(r.id for r in ROLES if r.restricted)
FIRST_ID = 7_000_000_000  # Telegram ids are larger than 32 bits


@dataclass(frozen=True)
class Member:
    """One person of the partnership and what they do in this wave."""

    telegram_id: int
    org: str
    role: str
    fate: str  # "finish", "midway" (starts, never finishes) or "absent"
    number: int  # picks their distinct answers
    code: str | None = None  # the single-use code handed to a member of a restricted role


def partnership(groups: Mapping[tuple[str, str], tuple[int, int, int]]) -> tuple[Member, ...]:
    """Members per (organisation, role): (members, who finish, who stop midway)."""
    people: list[Member] = []
    for (org, role), (size, finish, midway) in groups.items():
        assert finish + midway <= size
        for i in range(size):
            fate = "finish" if i < finish else "midway" if i < finish + midway else "absent"
            number = len(people)
            code = f"CODE{number:05d}" if role in RESTRICTED else None
            people.append(Member(FIRST_ID + number, org, role, fate, number, code))
    return tuple(people)


def known(members: tuple[Member, ...], *, roles: bool = True, codes: bool = False) -> list[Person]:
    """The partnership as the host knows it: ids and organisations, roles and codes if asked."""
    return [
        Person(
            m.telegram_id,
            m.org,
            m.role if roles else None,
            m.code if codes else None,
        )
        for m in members
    ]


@dataclass(frozen=True)
class Plan:
    members: tuple[Member, ...]
    parallel: int = 6
    every_answer: bool = False  # a copy after every answer too
    backup_every: int = 0  # completions between backups (0: none)
    nightly_every: int = 0  # completions per day: then the clock moves on and the rebuild runs
    restore_at: int | None = None  # after this many completions: back up, restore, back up
    seed: int = 17
    k: int = 5  # the store's min_group_size: completions are released k of a group at once


@dataclass
class Run:
    """The host's series, and the truth about it."""

    series: list[Snapshot]
    truth: dict[bytes, int]  # finished response id (pending or released) → Telegram id
    finish_order: list[int]  # Telegram ids in the order their completions were acknowledged
    wave: int
    backups: int = 0
    rebuilds: int = 0  # nightly ones, the restore and the close


def answers_of(number: int) -> dict[str, object]:
    """Distinct answers for person `number` (up to 525 people): the truth is in them."""
    return {
        "q1": 1 + (number // 21) % 5,
        "p1": 1 + (number // 105) % 5,  # the same for every partner
        "a1": (5 * (number % 21), 100 - 5 * (number % 21)),
        "t1": f"opmerking {number}",
    }


def decode(values: Mapping[tuple[str, str, str], object]) -> int:
    """The person number back from a finished response's answers (see `answers_of`)."""
    clan, q1 = values[("a1", "", "clan")], values[("q1", "", "")]
    p1 = next(v for (question, _, _), v in values.items() if question == "p1")
    assert isinstance(clan, int) and isinstance(q1, int) and isinstance(p1, int)
    return clan // 5 + 21 * (q1 - 1) + 105 * (p1 - 1)


class Recorder:
    """The host: copies and backups of the store's files, in the order they were made."""

    def __init__(self, folder: Path, store: Store, k: int) -> None:
        self.folder = folder
        self.store = store
        self.k = k
        self.series: list[Snapshot] = []
        self.rebuilds = 0
        self.backups = 0
        self._live: Snapshot | None = None
        self._backup: Snapshot | None = None

    async def copy(self, label: str) -> None:
        """The database file and its WAL at one moment, between two transactions."""
        path = self.store.path
        async with self.store._base.write_lock:  # see the module docstring
            database = path.read_bytes()
            wal_path = Path(f"{path}-wal")
            wal = wal_path.read_bytes() if wal_path.exists() else b""
        self._live = Snapshot.taken(
            label, database, wal, previous=self._live, rebuilds=self.rebuilds
        )
        self.series.append(self._live)

    async def backup(self, label: str) -> Path:
        """`store.backup` to a fresh file, which the host keeps (as every backup, forever)."""
        self.backups += 1
        target = self.folder / f"backup-{self.backups:03d}.db"
        store = self.store
        # The backup reads one moment, but only once its thread starts; holding the write
        # lock makes that moment the one at which it takes its place in the series.
        async with store._base.write_lock:
            await store.backup(target)
        self._backup = Snapshot.taken(
            label, target.read_bytes(), previous=self._backup, backup=True, rebuilds=self.rebuilds
        )
        self.series.append(self._backup)
        return target

    async def restore(self, clock: FrozenClock) -> None:
        """Back up, stop, open a copy of that backup as the database, and back it up.

        People midway lose their unfinished answers (a backup holds none); nobody who
        finished is lost, as nobody finishes between the backup and the restore.
        """
        saved = await self.backup("the backup that is restored")
        await self.store.close()
        restored = self.folder / "restored.db"
        shutil.copy(saved, restored)
        self.rebuilds += 1  # the restored file is a rebuilt one
        self.store = await Store.open(restored, KEY, clock=clock, min_group_size=self.k)
        await self.store.release_left_waiting()  # as the bot does when it starts on it
        self._live = None
        await self.copy("the restored backup, opened as the database")
        await self.backup("a backup of the restored backup")


async def run(plan: Plan, folder: Path, clock: FrozenClock) -> Run:
    """Run the wave of `plan` through a real store in `folder`; close it; return the series."""
    store = await Store.open(folder / "live.db", KEY, clock=clock, min_group_size=plan.k)
    await store.sync_partnership([(o, o.title(), None) for o in ORGS], ROLES)
    for m in plan.members:
        if m.code is not None:
            await store.add_codes(m.org, m.role, [store.code_token(m.code)])
    wave = (await store.open_wave("mini", 1, ORGS)).id
    host = Recorder(folder, store, plan.k)
    rng = random.Random(plan.seed)
    finishers = [m for m in plan.members if m.fate == "finish"]
    rng.shuffle(finishers)
    midway = [m for m in plan.members if m.fate == "midway"]
    order: list[int] = []
    done = 0

    async def completed(member: Member) -> None:
        nonlocal done
        done += 1
        number = done  # others complete while this one copies
        order.append(member.telegram_id)
        await host.copy(f"after completion {number}")
        if plan.backup_every and number % plan.backup_every == 0:
            await host.backup(f"backup after completion {number}")
        if plan.nightly_every and number % plan.nightly_every == 0:
            clock.set((clock.today() + dt.timedelta(days=1)).isoformat())
            # counted first: the last copy said to come before it is one from before it
            host.rebuilds += 1
            assert await host.store.rebuild_daily(clock.today().isoformat())

    async def phase(people: list[Member]) -> None:
        gate = asyncio.Semaphore(plan.parallel)

        async def one(member: Member) -> None:
            async with gate:
                if await respond(host, wave, member, plan.every_answer):
                    await completed(member)

        await asyncio.gather(*(one(m) for m in people))

    # the people who stop midway start among the first, so they are midway in many copies
    first = finishers if plan.restore_at is None else finishers[: plan.restore_at]
    later = [] if plan.restore_at is None else finishers[plan.restore_at :]
    await phase(_interleave(midway, first))
    if plan.restore_at is not None:
        await host.restore(clock)
        await phase(later)
    truth = _truth(host.store.path, wave, plan.members)
    await host.copy("before the close")
    host.rebuilds += 1  # the close rebuilds the file
    await host.store.close_wave(wave)
    truth |= _truth(host.store.path, wave, plan.members)  # what waited has new ids now
    await host.copy("after the close")
    await host.backup("a backup after the close")
    await host.store.close()
    return Run(host.series, truth, order, wave, host.backups, host.rebuilds)


def _interleave(early: list[Member], rest: list[Member]) -> list[Member]:
    """`early` spread over the first half of `rest`."""
    out = list(rest)
    for i, m in enumerate(early):
        out.insert(min(len(out), 1 + i * 3), m)
    return out


async def respond(host: Recorder, wave: int, member: Member, every_answer: bool) -> bool:
    """One person takes the survey as the bot would; True if they finished."""
    store = host.store
    q = Questionnaire(SURVEY, Respondent(member.org, member.role, "nl", PARTNERS))
    code = store.code_token(member.code) if member.code is not None else None
    session = await store.begin(wave, member.telegram_id, member.org, member.role, "nl", code)
    state = flow.state_of(q, session)
    script = answers_of(member.number)
    steps = 0
    while not isinstance(step := q.step(state), Done):
        if member.fate == "midway" and steps == 3:
            return False  # they never come back; the close erases what they gave
        change = q.answer(state, step.index, script[step.question.id])
        await flow.persist(store, q, session, state, change)
        state = change.state
        steps += 1
        if every_answer:
            await host.copy(f"after an answer of {member.telegram_id}")
    await flow.finish(store, q, session, state)
    return True


def _truth(path: Path, wave: int, members: tuple[Member, ...]) -> dict[bytes, int]:
    """Finished response id → Telegram id, read back from the answers (the test's view).

    Released responses from `answers`; those still waiting for their release from the
    content of their `pending` row (the same answers, under the id they wait with).
    """
    by_number = {m.number: m.telegram_id for m in members}
    with keyed(path, KEY) as db:
        rows = db.execute(
            "SELECT r.id, a.question, a.target, a.part, a.value FROM responses r "
            "JOIN answers a ON a.response = r.id WHERE r.complete = 1 AND r.wave = ?",
            (wave,),
        ).fetchall()
        waiting = db.execute("SELECT id, content FROM pending WHERE wave = ?", (wave,)).fetchall()
    for rid, content in waiting:
        for question, target, part, value, _ in json.loads(content)["a"]:
            rows.append((rid, question, target, part, value))
    values: dict[bytes, dict[tuple[str, str, str], object]] = {}
    for rid, question, target, part, value in rows:
        values.setdefault(rid, {})[(question, target, part)] = value
    return {rid: by_number[decode(v)] for rid, v in values.items()}
