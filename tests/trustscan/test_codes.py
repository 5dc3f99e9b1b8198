"""Single-use codes for restricted roles (issue 17, finding 6), through the application.

The codes are random and readable, `Operations.issue_codes` refuses what makes no sense
in one sentence and stores nothing then, a code from the command line's output (or its
sheet of slips) completes one council response and no second, and the database never
holds a code in clear.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys import flow
from surveys.engine import Done, Questionnaire, Respondent
from surveys.errors import CodeRefusedError
from surveys.store import Store
from tests.anonymity import db_bytes, decrypted, keyed
from tests.support.clock import CLOCK
from trustscan import codes
from trustscan.cli import main
from trustscan.config import Config, load_config
from trustscan.operations import OperationError, Operations, open_operations

KEY = "c0" * 32
USER = 5_321_000_111
FORMAT = re.compile(r"^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$")
MINI = """
id = "mini"
version = 1
title = { nl = "Raadsscan", en = "Council scan", de = "Ratsscan" }

[[questions]]
id = "q"
type = "text"
text = { nl = "Vraag", en = "Question", de = "Frage" }
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("TRUSTSCAN_KEY", KEY)  # the same key for the in-process command line
    (tmp_path / "mini.toml").write_text(MINI, encoding="utf-8")
    path = tmp_path / "c.toml"
    path.write_text(
        '[telegram]\nbot_username = "RaadBot"\n[database]\npath = "scan.db"\n'
        '[surveys]\npaths = ["mini.toml"]\n'
    )
    return load_config(path, env={"TRUSTSCAN_KEY": KEY})


@pytest.fixture
async def ops(config: Config) -> AsyncIterator[Operations]:
    async with open_operations(config, CLOCK) as opened:
        yield opened


async def open_mini(ops: Operations) -> int:
    return (await ops.open_wave("t", "mini")).id


async def answer_as_council(store: Store, ops: Operations, wave: int, user: int, code: str) -> bool:
    """A council member of Lindermeer answers the mini scan with `code`; False if refused."""
    session = await codes.begin(store, wave, user, "lindermeer", "council", "nl", code)
    if session is None:
        return False
    respondent = Respondent("lindermeer", "council", "nl", ops.config.partners())
    q = Questionnaire(ops.survey("mini"), respondent)
    state = flow.state_of(q, session)
    step = q.step(state)
    assert not isinstance(step, Done)
    change = q.answer(state, step.index, "Goed zo.")
    await flow.persist(store, q, session, state, change)
    await flow.finish(store, q, session, change.state)
    return True


def stored_codes(config: Config) -> list[tuple[str, str, int]]:
    with keyed(config.database, bytes.fromhex(KEY)) as db:
        return sorted(db.execute("SELECT org, role, used FROM codes"))


# -- the codes themselves ----------------------------------------------------------------------


def test_codes_are_long_random_and_easy_to_read_aloud() -> None:
    """≥ 60 bits, no 0/O/1/I/L, four groups of four; a thousand codes are all different."""
    assert codes.BITS >= 60
    assert not set("0O1IL") & set(codes.ALPHABET) and len(set(codes.ALPHABET)) == 31
    made = {codes.new_code() for _ in range(1000)}
    assert len(made) == 1000
    assert all(FORMAT.match(codes.formatted(code)) for code in made)
    assert set("".join(made)) == set(codes.ALPHABET)  # every symbol is used


@given(
    code=st.text(codes.ALPHABET, min_size=16, max_size=16),
    upper=st.lists(st.booleans(), min_size=16, max_size=16),
    gaps=st.lists(st.sampled_from(["", " ", "-", "  ", "\t", " - ", "."]), min_size=17),
)
def test_a_code_is_read_back_whatever_the_case_and_spacing(code, upper, gaps) -> None:
    """What a person types — any case, spaces or dashes anywhere — reads as the code."""
    typed = gaps[0] + "".join(
        (c if up else c.lower()) + gap for c, up, gap in zip(code, upper, gaps[1:], strict=False)
    )
    assert codes.normalise(typed) == code
    assert codes.normalise(codes.formatted(code).lower()) == code


@pytest.mark.parametrize(
    "typed",
    ["", "KM7Q-X3RT-BC9D-HW2", "KM7Q-X3RT-BC9D-HW2FF", "KM7Q-X3RT-BC9D-HW20", "KMOQ-X3RT-BC9D-HW2F",
     "KM7Q X3RT BC9D HWIF", "ЌМ7Q-X3RT-BC9D-HW2F", "/start KM7Q"],
)  # fmt: skip
def test_what_cannot_be_a_code_is_not_one(typed: str) -> None:
    """Too short or long, a 0/O/1/I/L, a letter of another script: no code at all."""
    assert codes.normalise(typed) is None


# -- issuing: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "role", "count", "code"),
    [
        ("lindermeer", "staff", 9, "codes.not_restricted"),
        ("lindermeer", "manager", 9, "codes.not_restricted"),
        ("nowhere", "council", 9, "unknown_org"),
        ("lindermeer", "mayor", 9, "unknown_role"),
        ("lindermeer", "council", 0, "codes.bad_count"),
        ("lindermeer", "council", -3, "codes.bad_count"),
        ("lindermeer", "council", codes.MAX_COUNT + 1, "codes.bad_count"),
    ],
)
async def test_bad_arguments_are_refused_and_store_nothing(
    ops: Operations, config: Config, org: str, role: str, count: int, code: str
) -> None:
    """Each refusal names its problem; no code is made and nothing is audited."""
    await open_mini(ops)
    with pytest.raises(OperationError) as refused:
        await ops.issue_codes("t", org, role, count)
    assert refused.value.code == code
    assert stored_codes(config) == []
    assert [e.action for e in await ops.store.audit_entries()] == ["wave.open"]


async def test_codes_need_one_survey_to_link_to(ops: Operations, config: Config) -> None:
    """No wave running: named; two surveys running: asked which; --survey settles both."""
    with pytest.raises(OperationError) as refused:
        await ops.issue_codes("t", "lindermeer", "council", 2)
    assert refused.value.code == "codes.no_survey"
    sheet = await ops.issue_codes("t", "lindermeer", "council", 2, survey_id="culture")
    assert sheet.link.survey == "culture"
    await open_mini(ops)
    await ops.open_wave("t", "evaluation")
    with pytest.raises(OperationError) as refused:
        await ops.issue_codes("t", "lindermeer", "council", 2)
    assert refused.value.code == "codes.which_survey"
    assert "mini, evaluation" in str(refused.value)
    assert stored_codes(config) == [("lindermeer", "council", 0)] * 2


# -- issuing and using -------------------------------------------------------------------------


async def test_issued_codes_are_audited_without_the_codes(ops: Operations, config: Config) -> None:
    """Nine council codes, all different, on the council's own link; the audit has no code."""
    wave = await open_mini(ops)
    sheet = await ops.issue_codes("griffie", "lindermeer", "council", 9)
    assert len(set(sheet.codes)) == 9 and all(FORMAT.match(c) for c in sheet.codes)
    assert (sheet.org.id, sheet.role.id, sheet.link.survey) == ("lindermeer", "council", "mini")
    invitation = await ops.store.invitation(sheet.link.url.split("start=")[1])
    assert invitation is not None and (invitation.org, invitation.role) == ("lindermeer", "council")
    [entry, *_] = await ops.store.audit_entries()
    assert (entry.actor, entry.action) == ("griffie", "codes")
    assert entry.detail == "org=lindermeer role=council count=9 survey=mini"
    assert stored_codes(config) == [("lindermeer", "council", 0)] * 9
    for code in sheet.codes:
        assert await codes.check(ops.store, "lindermeer", "council", code.lower())
        assert not await codes.check(ops.store, "veenstede", "council", code)
    assert wave == 1


async def test_a_code_completes_one_response_and_never_a_second(
    ops: Operations, config: Config
) -> None:
    """The padding attack: four accounts, one code. One council response, not four."""
    wave = await open_mini(ops)
    [code] = (await ops.issue_codes("t", "lindermeer", "council", 1)).codes
    assert await answer_as_council(ops.store, ops, wave, USER, code)
    for other in range(1, 4):
        assert not await answer_as_council(ops.store, ops, wave, USER + other, code)
    await ops.store.close_wave(wave)  # alone in its group, it waited for the close
    assert [(r.org, r.role) for r in await ops.store.completed_responses([wave])] == [
        ("lindermeer", "council")
    ]
    assert stored_codes(config) == [("lindermeer", "council", 1)]
    assert not await codes.check(ops.store, "lindermeer", "council", code)


async def test_without_a_code_a_council_response_cannot_start(ops: Operations) -> None:
    """Neither through the application (a made-up code) nor past it, at the store."""
    wave = await open_mini(ops)
    assert await codes.begin(ops.store, wave, USER, "lindermeer", "council", "nl", "") is None
    made_up = codes.formatted(codes.new_code())
    assert await codes.begin(ops.store, wave, USER, "lindermeer", "council", "nl", made_up) is None
    with pytest.raises(CodeRefusedError):
        await ops.store.begin(wave, USER, "lindermeer", "council", "nl")
    assert await ops.store.find_session(wave, USER) is None


async def test_the_database_never_holds_a_code_in_clear(ops: Operations, config: Config) -> None:
    """Decrypted pages and WAL frames, after issuing and after using: no code, any spelling."""
    wave = await open_mini(ops)
    issued = (await ops.issue_codes("t", "lindermeer", "council", 5)).codes

    def spellings() -> list[bytes]:
        forms = []
        for code in issued:
            plain = code.replace("-", "")
            forms += [code, plain, plain.lower(), code.lower(), plain[:8], plain[8:]]
        return [f.encode() for f in forms]

    def everything() -> bytes:
        pages = decrypted(config.database, bytes.fromhex(KEY)).everything
        return pages + db_bytes(config.database)

    assert not any(form in everything() for form in spellings())
    await answer_as_council(ops.store, ops, wave, USER, issued[0].lower().replace("-", " "))
    assert not any(form in everything() for form in spellings())


# -- the command line --------------------------------------------------------------------------


def issue_by_command(
    config: Config, capsys: pytest.CaptureFixture[str], *extra: str, lang: str = "en"
) -> list[str]:
    """Open a wave, then `trustscan codes` for three Lindermeer council members; the codes."""
    c = str(config.source)
    assert main(["--config", c, "wave", "open", "mini"]) == 0
    capsys.readouterr()
    args = ["--config", c, "--lang", lang, "codes", "--org", "lindermeer", "--role", "council"]
    assert main([*args, "--count", "3", *extra]) == 0
    out, err = capsys.readouterr()
    printed = out.splitlines()
    assert len(printed) == 3 and all(FORMAT.match(line) for line in printed)
    said = {"en": "3 single-use codes for Lindermeer / Council member", "de": "3 Einmal-Codes"}
    assert said[lang] in err
    assert "https://t.me/RaadBot?start=" in err and not any(code in err for code in printed)
    return printed


def test_the_command_prints_one_code_per_line_and_a_sheet_of_slips(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdout: the codes alone; --html: one slip per code with org, role, link and steps."""
    path = tmp_path / "s" / "slips.html"
    printed = issue_by_command(config, capsys, "--html", str(path))
    page = path.read_text(encoding="utf-8")
    assert page.count("class='slip'") == 3
    for code in printed:
        assert page.count(code) == 1
    assert page.count("Lindermeer · Council member") == 5  # <title>, heading, each slip
    assert page.count("t.me/RaadBot?start=") == 3 and page.count("type the code above") == 3
    assert page.count("Council scan") == 3  # the survey the link leads to
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.needs_chromium
def test_the_sheet_prints_to_pdf(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--pdf: the same slips on A4, read back from the PDF's text (needs Chromium)."""
    path = tmp_path / "slips.pdf"
    printed = issue_by_command(config, capsys, "--pdf", str(path), lang="de")
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    for code in printed:
        assert text.count(code) == 1
    assert text.count("Lindermeer·Ratsmitglied") == 4 and text.count("Ratsscan") == 3
    assert "t.me/RaadBot?start=" in text
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--role", "staff", "--count", "2"], "role 'staff' is not restricted"),
        (["--role", "council", "--count", "0"], "--count must be a whole number from 1 to 1000"),
        (["--role", "council", "--count", "5000"], "(got 5000)"),
        (["--role", "council", "--count", "2", "--org", "x"], "unknown organisation 'x'"),
    ],
)
def test_the_command_refuses_in_one_sentence(
    config: Config, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    """Exit 1, nothing on stdout, one line on stderr naming the problem."""
    c = str(config.source)
    assert main(["--config", c, "wave", "open", "mini"]) == 0
    capsys.readouterr()
    assert main(["--config", c, "--lang", "en", "codes", "--org", "lindermeer", *args]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and said in err
    assert stored_codes(config) == []
