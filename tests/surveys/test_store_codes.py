"""Single-use codes in the store (issue 17, finding 6): the store API itself checks roles.

Whoever holds the council link cannot pad the council with extra Telegram accounts: a
restricted role's response starts only with a code, a code completes one response, and
the database keeps a keyed hash of each code, never the code, never beside an answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path

import pytest

from surveys import flow
from surveys.engine import Done, Questionnaire, Respondent
from surveys.errors import CodeRefusedError
from surveys.store import RoleRow, Store
from tests.anonymity import db_bytes, decrypted, keyed, located
from tests.support.clock import CLOCK
from tests.surveys.test_store import KEY, ORGS, PARTNERS, SCRIPT, SURVEY, USER

CODE = "KM7QX3RTBC9DHW2F"  # a normalised code as trustscan.codes makes them
OTHER_CODE = "ZP4NY8GJ6VAUE5SM"


def restated_hash(code: str) -> bytes:
    """The code's keyed hash as the store should keep it (keys.code_hash restated)."""
    key = hmac.new(KEY, b"trustscan/code-hash/v1", hashlib.sha256).digest()
    return hmac.new(key, code.encode(), hashlib.sha256).digest()


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    await s.sync_partnership(
        [(o, o.title(), None) for o in ORGS],
        [RoleRow("staff", {"nl": "Medewerker"}), RoleRow("council", {"nl": "Raadslid"}, True)],
    )
    yield s
    await s.close()


async def take_part(store: Store, wave: int, user: int, code: str | None, org: str = "north"):
    """A council member answers the mini survey to the end, starting with `code`."""
    q = Questionnaire(SURVEY, Respondent(org, "council", "nl", PARTNERS))
    token = store.code_token(code) if code is not None else None
    session = await store.begin(wave, user, org, "council", "nl", code=token)
    state = flow.state_of(q, session)
    while not isinstance(step := q.step(state), Done):
        change = q.answer(state, step.index, SCRIPT[step.question.id])
        await flow.persist(store, q, session, state, change)
        state = change.state
    await flow.finish(store, q, await store.find_session(wave, user), state)


async def test_the_restricted_flag_is_kept_with_the_role(store) -> None:
    """`sync_partnership` stores which roles are restricted; the store checks by it."""
    assert [(r.id, r.restricted) for r in await store.roles()] == [
        ("council", True),
        ("staff", False),
    ]


async def test_a_restricted_role_cannot_start_without_a_code(store, tmp_path) -> None:
    """No code, or a made-up one: refused, and nothing is stored, not even a count."""
    wave = await store.open_wave("mini", 1, ORGS)
    with pytest.raises(CodeRefusedError, match="needs a single-use code"):
        await store.begin(wave.id, USER, "north", "council", "nl")
    with pytest.raises(CodeRefusedError):
        await store.begin(wave.id, USER, "north", "council", "nl", code=store.code_token(CODE))
    assert await store.find_session(wave.id, USER) is None
    assert await store.daily_counts(wave.id) == []
    with keyed(tmp_path / "t.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM responses").fetchone() == (0,)
    # an open role needs none
    staff = await store.begin(wave.id, USER + 1, "north", "staff", "nl")
    assert staff.role == "staff"


async def test_a_code_completes_one_response_and_is_refused_after(store) -> None:
    """The code starts and completes one response; a second account cannot use it again."""
    wave = await store.open_wave("mini", 1, ORGS)
    await store.add_codes("north", "council", [store.code_token(CODE)])
    assert await store.code_usable(store.code_token(CODE), "north", "council")
    await take_part(store, wave.id, USER, CODE)
    # waiting for k − 1 others, the code is not marked used, yet nobody can use it
    assert not await store.code_usable(store.code_token(CODE), "north", "council")
    with pytest.raises(CodeRefusedError):
        await take_part(store, wave.id, USER + 1, CODE)
    assert await store.find_session(wave.id, USER + 1) is None
    # ... and in a later wave as well: used is used
    later = await store.open_wave("mini", 1, ORGS)
    with pytest.raises(CodeRefusedError):
        await take_part(store, later.id, USER + 2, CODE)
    await store.close_wave(wave.id)
    with pytest.raises(CodeRefusedError):  # spent at the close with its whole small group
        await take_part(store, later.id, USER + 2, CODE)
    assert [(r.org, r.role) for r in await store.completed_responses([wave.id, later.id])] == [
        ("north", "council")
    ]


async def test_a_code_is_only_for_its_own_organisation_and_role(store) -> None:
    """South's council cannot use north's code; nor can an open role bring a code."""
    wave = await store.open_wave("mini", 1, ORGS)
    token = store.code_token(CODE)
    await store.add_codes("north", "council", [token])
    assert not await store.code_usable(token, "south", "council")
    with pytest.raises(CodeRefusedError):
        await store.begin(wave.id, USER, "south", "council", "nl", code=token)
    with pytest.raises(CodeRefusedError):
        await store.begin(wave.id, USER, "north", "staff", "nl", code=token)
    assert await store.find_session(wave.id, USER) is None
    assert await store.code_usable(token, "north", "council")  # still there for its owner


async def test_a_code_held_by_someone_busy_is_refused_to_another(store) -> None:
    """While one person is midway with a code, a second account cannot start with it."""
    wave = await store.open_wave("mini", 1, ORGS)
    token = store.code_token(CODE)
    await store.add_codes("north", "council", [token])
    first = await store.begin(wave.id, USER, "north", "council", "nl", code=token)
    assert not await store.code_usable(token, "north", "council")
    with pytest.raises(CodeRefusedError):
        await store.begin(wave.id, USER + 1, "north", "council", "nl", code=token)
    # the holder resumes without typing it again
    again = await store.begin(wave.id, USER, "north", "council", "nl")
    assert again.response == first.response


async def test_two_accounts_racing_with_one_code_only_one_completes(store) -> None:
    """Both type the same code at the same moment and answer on: exactly one gets through."""
    wave = await store.open_wave("mini", 1, ORGS)
    await store.add_codes("north", "council", [store.code_token(CODE)])
    results = await asyncio.gather(
        *(take_part(store, wave.id, USER + i, CODE) for i in range(2)), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["CodeRefusedError", "NoneType"]
    await store.close_wave(wave.id)
    assert len(await store.completed_responses([wave.id])) == 1


async def test_a_completion_whose_code_was_used_meanwhile_is_refused(tmp_path) -> None:
    """After a restart the process no longer knows which draft holds a code (that is in
    the draft, encrypted), so a second account may start with it; the two still complete
    only once."""
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    await store.sync_partnership(
        [(o, o.title(), None) for o in ORGS],
        [RoleRow("staff", {"nl": "Medewerker"}), RoleRow("council", {"nl": "Raadslid"}, True)],
    )
    wave = await store.open_wave("mini", 1, ORGS)
    await store.add_codes("north", "council", [store.code_token(CODE)])
    first = await store.begin(wave.id, USER, "north", "council", "nl", store.code_token(CODE))
    await store.close()
    store = await Store.open(tmp_path / "t.db", KEY, clock=CLOCK)
    try:
        second = await store.begin(
            wave.id, USER + 1, "north", "council", "nl", store.code_token(CODE)
        )
        await store.recall(USER, first.secret)
        first = await store.find_session(wave.id, USER)
        results = await asyncio.gather(
            *(store.complete(s, 0) for s in (first, second)), return_exceptions=True
        )
        assert sorted(type(r).__name__ for r in results) == ["CodeRefusedError", "NoneType"]
        assert {(await store.find_session(wave.id, USER + i)).status for i in range(2)} == {
            "completed",
            "in_progress",  # the refused one: nothing of it was completed
        }
        refused = second if isinstance(results[1], Exception) else first
        with pytest.raises(CodeRefusedError):  # and it stays refused
            await store.complete(refused, 0)
        await store.close_wave(wave.id)
        assert len(await store.completed_responses([wave.id])) == 1
    finally:
        await store.close()


async def test_delete_and_a_close_give_an_unfinished_code_back(store) -> None:
    """/delete or a close drops the unfinished response: its code can start again."""
    wave = await store.open_wave("mini", 1, ORGS)
    token = store.code_token(CODE)
    await store.add_codes("north", "council", [token])
    session = await store.begin(wave.id, USER, "north", "council", "nl", code=token)
    assert await store.delete_in_progress(session)
    assert await store.code_usable(token, "north", "council")
    await store.begin(wave.id, USER, "north", "council", "nl", code=token)
    await store.close_wave(wave.id)
    assert await store.code_usable(token, "north", "council")
    later = await store.open_wave("mini", 1, ORGS)
    await take_part(store, later.id, USER, CODE)
    await store.close_wave(later.id)
    assert len(await store.completed_responses([later.id])) == 1


async def test_codes_are_kept_as_keyed_hashes_never_beside_a_response(store, tmp_path) -> None:
    """In no decrypted page or WAL frame is a code in clear, in any spelling; after the
    completion its hash sits only in `codes`, which names no response and no session."""
    wave = await store.open_wave("mini", 1, ORGS)
    await store.add_codes("north", "council", [store.code_token(c) for c in (CODE, OTHER_CODE)])
    session = await store.begin(wave.id, USER, "north", "council", "nl", store.code_token(CODE))
    assert session.response is not None
    spellings = [
        CODE,
        CODE.lower(),
        "-".join(CODE[i : i + 4] for i in range(0, 16, 4)),
        " ".join(CODE[i : i + 4] for i in range(0, 16, 4)),
    ]
    for code in (CODE, OTHER_CODE):
        spellings += [code, code.lower(), code[:8], code[8:]]
    plain = decrypted(tmp_path / "t.db", KEY).everything + db_bytes(tmp_path / "t.db")
    for text in spellings:
        assert text.encode() not in plain, text
    # held inside the encrypted draft: its hash is in `codes` only
    assert len(located(decrypted(tmp_path / "t.db", KEY).current, restated_hash(CODE))) == 1
    await take_part(store, wave.id, USER, None)  # resumes and completes: it waits
    with keyed(tmp_path / "t.db", KEY) as db:
        assert sorted(db.execute("SELECT hash, used FROM codes")) == sorted(
            [(restated_hash(CODE), 0), (restated_hash(OTHER_CODE), 0)]  # no mark dates it
        )
    await store.close_wave(wave.id)  # alone in its group: released, the group's codes spent
    pages = decrypted(tmp_path / "t.db", KEY)
    for text in spellings:
        assert text.encode() not in pages.everything, text
    with keyed(tmp_path / "t.db", KEY) as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(codes)")}
        assert columns == {"hash", "org", "role", "used"}
        assert db.execute("SELECT count(*) FROM responses WHERE code IS NOT NULL").fetchone() == (
            0,
        )
        assert sorted(db.execute("SELECT hash, used FROM codes")) == sorted(
            [(restated_hash(CODE), 1), (restated_hash(OTHER_CODE), 1)]
        )
    # the used code's hash is on one page only, its row in `codes`: beside no response
    assert len(located(pages.pages, restated_hash(CODE))) == 1
    assert session.response not in pages.everything


async def test_a_backup_keeps_codes_as_unmarked_as_the_live_file(store, tmp_path) -> None:
    """A backup shows no more than the live file: a code held by a draft, or used by a
    completion still waiting, is neither marked nor found beside anything."""
    wave = await store.open_wave("mini", 1, ORGS)
    await store.add_codes("north", "council", [store.code_token(c) for c in (CODE, OTHER_CODE)])
    await take_part(store, wave.id, USER, CODE)
    await store.begin(wave.id, USER + 1, "north", "council", "nl", store.code_token(OTHER_CODE))
    await store.backup(tmp_path / "backup.db")
    with keyed(tmp_path / "backup.db", KEY) as db:
        assert db.execute("SELECT count(*) FROM responses WHERE code IS NOT NULL").fetchone() == (
            0,
        )
        assert sorted(db.execute("SELECT hash, used FROM codes")) == sorted(
            [(restated_hash(CODE), 0), (restated_hash(OTHER_CODE), 0)]
        )
        assert db.execute("SELECT count(*) FROM pending").fetchone() == (1,)
    pages = decrypted(tmp_path / "backup.db", KEY).pages
    for code in (CODE, OTHER_CODE):
        assert len(located(pages, restated_hash(code))) == 1  # in `codes`, nowhere else
