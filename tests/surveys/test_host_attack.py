"""The host's attack (tests/host_attack.py) against real respondents in the real store.

The promise (docs/anonymity.md): whoever holds the master key, every copy and backup of
the database ever made and the Telegram ids of everyone in the partnership learns no
answer of anyone still busy, and cannot narrow any finished response to fewer than k
people, while the wave is open and after it closes.

Four scenarios (`tests/host_scenario.py`), each a wave answered concurrently and then
closed, with a copy of the files after every completion, a backup every few
completions, a restore of a backup as the database and a backup of that restored
backup, and a copy and a backup after the close:

* "20": 20 of 36 people finish, 3 stop midway; a copy after every answer too;
  a backup every 5 completions, the restore after 10;
* "200": 200 of 288 people in four organisations and three roles (council members
  with single-use codes) finish, 8 stop midway; a backup every 10 completions, the
  restore after 100;
* "20 nightly", "200 nightly": the same with the nightly rebuild every 4 / 25
  completions (the clock moves a day on each time).

Every group of people (organisation and role) has at least k members, so a response's
group alone never narrows it below k: what narrows it is what the copies show.

Finished responses wait in `pending` until k of their (organisation, role) are released
together (the store's `min_group_size`, k = 5 here); the attack counts a `pending` row
as a finished response (its content is readable with the key) and follows it by its
content to the row it is released as. Every bound holds on every run: no unfinished
answer is read, no copy, backup, backup of a restored backup or copy after the close
narrows a finished response below k, by markers, used codes, content or a row's place.
The figures are in docs/anonymity.md.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.host_attack import (
    ALL,
    CODES,
    CONTENT,
    GROUP_ONLY,
    MARKERS,
    Copies,
    Facts,
    Findings,
    HostAttack,
    Snapshot,
    feasible,
)
from tests.host_scenario import KEY, Plan, Run, known, partnership, run
from tests.support.clock import frozen
from trustscan.config import DEFAULT_MIN_GROUP_SIZE

K = DEFAULT_MIN_GROUP_SIZE  # the configured k, as a deployment that keeps the default has it

# (org, role): (members, finish, stop midway)
TWENTY = {
    ("north", "staff"): (6, 5, 1),
    ("north", "manager"): (6, 2, 0),
    ("south", "staff"): (6, 4, 1),
    ("south", "manager"): (6, 2, 0),
    ("east", "staff"): (6, 5, 1),
    ("east", "manager"): (6, 2, 0),
}
ROLES = ("staff", "manager", "council")
TWO_HUNDRED = {
    (org, role): (size, finish, 2 if role == "staff" else 0)
    for org, finishing in {
        "north": (40, 8, 5),
        "south": (35, 7, 4),
        "east": (30, 6, 5),
        "west": (50, 6, 4),
    }.items()
    for role, size, finish in zip(ROLES, (55, 10, 7), finishing, strict=True)
}
PLANS = {
    "20": Plan(partnership(TWENTY), parallel=4, every_answer=True, backup_every=5, restore_at=10),
    "20 nightly": Plan(
        partnership(TWENTY),
        parallel=4,
        every_answer=True,
        backup_every=5,
        restore_at=10,
        nightly_every=4,
    ),
    "200": Plan(partnership(TWO_HUNDRED), parallel=8, backup_every=10, restore_at=100),
    "200 nightly": Plan(
        partnership(TWO_HUNDRED), parallel=8, backup_every=10, restore_at=100, nightly_every=25
    ),
}
SCENARIOS = tuple(PLANS)
WITH_CODES = ("200", "200 nightly")  # the scenarios with council members


@dataclass
class Scenario:
    """One run, and the host as this test lets it know the partnership."""

    plan: Plan
    run: Run
    host: HostAttack  # knows everyone's organisation and role
    host_with_codes: HostAttack  # also knows which council member got which code

    @property
    def live(self) -> list[Snapshot]:
        return [s for s in self.run.series if not s.backup]

    @property
    def backups(self) -> list[Snapshot]:
        return [s for s in self.run.series if s.backup]

    @property
    def after_close(self) -> list[Snapshot]:
        start = next(i for i, s in enumerate(self.run.series) if s.label == "after the close")
        return self.run.series[start:]

    def before_close(self) -> int:
        return next(i for i, s in enumerate(self.run.series) if s.label == "before the close")

    def authors(self, findings: Findings) -> list[int]:
        """Whose responses the attack judged: each finisher's exactly once, if it saw all."""
        return sorted(self.run.truth[r] for r in findings.candidates)

    def narrowed(self, findings: Findings) -> str:
        """The measured figure, as a failing bound reports it."""
        small = findings.narrowed(K)
        exact = sum(1 for c in small.values() if len(c) == 1)
        return f"{len(small)} of {len(findings.candidates)} narrowed below k={K} ({exact} exactly)"


def ram_folder() -> tempfile.TemporaryDirectory[str]:
    """A folder in memory where there is one (Linux: /dev/shm), else the usual temp folder.

    The attack reads what the files hold, not whether they reached the disk; on a busy
    disk the fsyncs of hundreds of completions and backups would cost seconds.
    """
    shm = Path("/dev/shm")
    in_memory = shm.is_dir() and os.access(shm, os.W_OK)
    return tempfile.TemporaryDirectory(prefix="host-attack-", dir=shm if in_memory else None)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Scenario]]:
    """Each scenario is run once per test run, when a test first asks for it.

    Under pytest-xdist the first process to ask runs it and reads every copy; the others
    wait for it and load what it found (a pickle beside their temporary folders).
    """
    made: dict[str, Scenario] = {}
    with ram_folder() as root:

        def make(name: str) -> tuple[Run, list[Facts]]:
            folder = Path(root) / name.replace(" ", "-")
            folder.mkdir()
            result = asyncio.run(run(PLANS[name], folder, frozen()))
            copies = Copies(KEY)
            return result, [copies.facts(s) for s in result.series]

        def get(name: str) -> Scenario:
            if name not in made:
                result, facts = shared(name, make, tmp_path_factory)
                copies = Copies(KEY)
                for copy, seen in zip(result.series, facts, strict=True):
                    copies.remember(copy, seen)
                members = PLANS[name].members
                made[name] = Scenario(
                    PLANS[name],
                    result,
                    HostAttack(KEY, known(members), copies),
                    HostAttack(KEY, known(members, codes=True), copies),
                )
            return made[name]

        yield get


def shared(
    name: str,
    make: Callable[[str], tuple[Run, list[Facts]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Run, list[Facts]]:
    """`make(name)`, once for all pytest-xdist processes of this run (else just made)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make(name)
    folder = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    stored = folder / f"host-attack-{name.replace(' ', '-')}.pickle"
    with open(f"{stored}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stored.exists():
            loaded: tuple[Run, list[Facts]] = pickle.loads(stored.read_bytes())
            return loaded
        found = make(name)
        stored.write_bytes(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
        return found


# -- the attack has teeth and is never wrong -------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_candidate_set_holds_the_true_author(scenario, name):
    """Whatever the attack combines, it sees every finished response and never errs.

    If a change of the store makes the attack drop an assumption (`dropped`), or miss
    or misplace a response, update the attack until this holds again; never loosen it.
    """
    s = scenario(name)
    attacks = [
        (host, use, target)
        for host, uses in ((s.host, (CONTENT, MARKERS, ALL)), (s.host_with_codes, (CODES, ALL)))
        for use in uses
        for target in ((s.before_close(), -1) if use is ALL else (-1,))
    ]
    for host, use, target in attacks:
        found = host.analyse(s.run.series, target=target, use=use)
        assert s.authors(found) == sorted(s.run.finish_order), use
        wrong = [r for r, c in found.candidates.items() if s.run.truth[r] not in c]
        assert wrong == [], use
        assert found.dropped == (), use
        assert all(s.run.truth[r] == p for p, r in found.followed.items())


async def test_the_attack_names_the_only_member_of_a_one_person_organisation():
    """A deliberately weak partnership: an organisation of one. The attack must find them.

    This holds however the store is built (k protects groups, and this one has a single
    member), so it proves the attack reads organisations off the pages, through a
    close and a backup, and does not merely report nothing.
    """
    groups = {**{k: v for k, v in TWENTY.items() if k[0] != "east"}, ("east", "staff"): (1, 1, 0)}
    plan = Plan(partnership(groups), parallel=3, backup_every=5)
    with ram_folder() as folder:
        result = await run(plan, Path(folder), frozen())
    person = plan.members[-1].telegram_id
    host = HostAttack(KEY, known(plan.members, roles=False))
    after_close = [s for s in result.series if s.label.endswith("after the close")]
    found = host.analyse(after_close, use=GROUP_ONLY).candidates
    [alone] = [r for r in found if result.truth[r] == person]
    assert found[alone] == {person}
    assert host.analyse(result.series, use=GROUP_ONLY).narrowed(K) == {alone: {person}}


def test_one_persons_known_response_decides_the_others():
    """The candidate sets are exact: a person pinned to one response is nobody else's."""
    r1, r2, r3 = b"r1", b"r2", b"r3"
    assert feasible({r1: {1}, r2: {1, 2}, r3: {2, 3}}) == {r1: {1}, r2: {2}, r3: {3}}
    assert feasible({r1: {1, 2}, r2: {1, 2}, r3: {1, 2, 3}}) == {r1: {1, 2}, r2: {1, 2}, r3: {3}}
    assert feasible({r1: {1, 2}, r2: {1, 2, 3}}) == {r1: {1, 2}, r2: {1, 2, 3}}
    assert feasible({r1: {1}, r2: {1}}) is None  # two responses, one possible author


# -- what already holds ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_after_the_close_the_host_narrows_no_response_below_k(scenario, name):
    """A host who starts copying only at the close learns each response's group, no more."""
    s = scenario(name)
    found = s.host.analyse(s.after_close, use=ALL)
    assert found.narrowed(K) == {}, s.narrowed(found)
    assert s.authors(found) == sorted(s.run.finish_order)


@pytest.mark.parametrize("name", SCENARIOS)
def test_after_the_close_no_unfinished_answer_is_left_to_read(scenario, name):
    """The close erased every draft, marker and salt and released what waited, in file and WAL."""
    s = scenario(name)
    assert s.host_with_codes.analyse(s.after_close).unfinished == {}
    for copy in s.after_close:
        facts = s.host.facts(copy)
        assert facts.responses and all(r.released for r in facts.responses.values())
        assert facts.pointers == set() and facts.held == set() and facts.finished == {}
        assert (facts.salts, facts.drafts) == ({}, {})


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_thief_without_the_key_reads_nothing_in_the_whole_series(scenario, name):
    """Another key decrypts every page of every copy and backup to noise."""
    s = scenario(name)
    thief = HostAttack(bytes(32), known(s.plan.members, codes=True))
    for copy in s.run.series:
        facts = thief.facts(copy)
        assert (facts.status, facts.responses, facts.codes, facts.remnants) == ({}, {}, {}, [])
    found = thief.analyse(s.run.series)
    assert (dict(found.candidates), dict(found.unfinished)) == ({}, {})


# -- the promise, channel by channel (issue 17) ----------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_copy_shows_a_known_person_their_unfinished_answers(scenario, name):
    """No copy links anyone's unfinished answers to their Telegram id."""
    s = scenario(name)
    read = s.host_with_codes.analyse(s.run.series, use=GROUP_ONLY).unfinished
    midway = sum(1 for m in s.plan.members if m.fate != "absent")
    assert read == {}, f"the unfinished answers of {len(read)} of {midway} people were read"


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_unfinished_answers_are_found_again_in_one_finished_response(scenario, name):
    """A copy taken midway leads to nobody's finished response (content, finding 1)."""
    s = scenario(name)
    found = s.host.analyse(s.run.series, use=CONTENT)
    followed = {p: r for p, r in found.followed.items() if s.run.truth[r] == p}
    assert followed == {}, (
        f"{len(followed)} of {len(s.run.truth)} people followed to their response; "
        + s.narrowed(found)
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_copy_after_every_completion_narrows_no_response_below_k(scenario, name):
    """Copies of the live file, compared, do not tell whose response appeared when."""
    s = scenario(name)
    found = s.host.analyse(s.live, use=MARKERS)
    assert found.narrowed(K) == {}, s.narrowed(found)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("roles", [True, False], ids=["roles known", "organisations only"])
def test_backups_and_a_restored_backup_narrow_no_response_below_k(scenario, name, roles):
    """Backups every few completions, a backup of a restored backup: no response below k."""
    s = scenario(name)
    host = s.host if roles else HostAttack(KEY, known(s.plan.members, roles=False))
    found = host.analyse(s.backups, use=MARKERS)
    assert found.narrowed(K) == {}, s.narrowed(found)


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_rows_place_in_its_page_narrows_no_response_below_k(scenario, name):
    """Pairing the k-th written response with the k-th finisher narrows nobody below k."""
    s = scenario(name)
    guesses = s.host.positions(s.live)
    right = {r: c for r, c in guesses.items() if len(c) < K and s.run.truth[r] in c}
    assert right == {}, f"{len(right)} of {len(guesses)} narrowed below k={K}, rightly"


@pytest.mark.parametrize("name", WITH_CODES)
def test_a_used_code_dates_no_completion(scenario, name):
    """Knowing who got which slip, a code turning used names no response below k."""
    s = scenario(name)
    found = s.host_with_codes.analyse(s.live, use=CODES)
    assert found.narrowed(K) == {}, s.narrowed(found)


@pytest.mark.parametrize("name", WITH_CODES)
def test_after_the_close_used_codes_narrow_no_response_below_k(scenario, name):
    """After the close the used codes still say which council members answered."""
    s = scenario(name)
    found = s.host_with_codes.analyse(s.after_close, use=CODES)
    assert found.narrowed(K) == {}, s.narrowed(found)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("when", ["before the close", "after the close"])
def test_the_host_narrows_no_finished_response_below_k(scenario, name, when):
    """The promise: every copy and backup, the key and every id: no response below k."""
    s = scenario(name)
    target = s.before_close() if when == "before the close" else -1
    found = s.host.analyse(s.run.series, target=target, use=ALL)
    assert found.narrowed(K) == {}, s.narrowed(found)


async def test_the_attack_would_read_a_draft_keyed_from_a_telegram_id(monkeypatch):
    """A positive control for the draft channel: a store that drew the session secret from
    the Telegram id (as a careless one might) is read by the attack, so its finding
    nothing in the real store's drafts means something."""
    from surveys import keys
    from surveys.store import Store
    from tests.host_attack import Person, session_key, wave_secret
    from tests.surveys.test_store import ORGS, USER, answer_all

    with ram_folder() as folder:
        path = Path(folder) / "t.db"
        store = await Store.open(path, KEY, clock=frozen())
        try:
            wave = await store.open_wave("mini", 1, ORGS)
            [(salt,)] = await store._base.read("SELECT salt FROM waves")  # the host's copy
            careless = session_key(wave_secret(KEY, salt), USER)[:12]
            monkeypatch.setattr(keys, "new_session_secret", lambda: careless)
            await answer_all(store, wave.id, USER, complete=False)
            wal = Path(f"{path}-wal")
            copy = Snapshot.taken(
                "midway", path.read_bytes(), wal.read_bytes() if wal.exists() else b""
            )
        finally:
            await store.close()
    host = HostAttack(KEY, [Person(USER, "north", "staff")])
    read = host.analyse([copy], wave=wave.id, use=GROUP_ONLY).unfinished
    assert read.get(USER), read
