"""Wave administration without traps (issue 11), on a real encrypted store.

A link bound to a survey; a second open wave refused unless forced; names, renames and
closing dates that never go into the past nor reopen a closed wave; what closing would
freeze; exports of an open wave refused in a sentence; /waves paging; the migration.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from analysis.report import families
from surveys import keys
from surveys.i18n import t
from surveys.loader import load_builtin
from surveys.store import Store, Wave, schema
from tests.support.clock import CLOCK, ZONE, FrozenClock
from trustscan import detectable
from trustscan.cli import main
from trustscan.config import Config, load_config
from trustscan.operations import OperationError, Operations, open_operations
from trustscan.simulation import respond

KEY = "ab" * 32
TODAY = dt.date(2027, 3, 1)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("TRUSTSCAN_KEY", KEY)  # the same key for the in-process command line
    path = tmp_path / "c.toml"
    path.write_text('[database]\npath = "scan.db"\n[privacy]\nmin_group_size = 3\n')
    return load_config(path, env={"TRUSTSCAN_KEY": KEY})


@pytest.fixture
async def ops(config: Config) -> AsyncIterator[Operations]:
    clock = FrozenClock(dt.datetime.combine(TODAY, dt.time(12), ZONE))
    async with open_operations(config, clock) as opened:
        yield opened


async def refused(code: str, call: object) -> OperationError:
    with pytest.raises(OperationError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code == code
    return caught.value


async def test_a_second_open_wave_of_a_survey_is_refused_unless_forced(ops: Operations) -> None:
    first = await ops.open_wave("t", "trust", name="Vertrouwensscan voorjaar 2027")
    assert first.name == "Vertrouwensscan voorjaar 2027"
    error = await refused("waves.second_open", ops.open_wave("t", "trust"))
    assert error.params["wave"] == first.id and "--force" in str(error)
    await ops.open_wave("t", "culture")  # another survey: fine
    # scheduled to open after the open one closes: no overlap, no refusal
    await ops.extend_wave("t", first.id, "2027-03-31")
    later = await ops.open_wave("t", "trust", opens_on="2027-04-01")
    assert later.status == "scheduled"
    await refused("waves.second_open", ops.open_wave("t", "trust", opens_on="2027-03-15"))
    # the open wave runs to the end of its closing day: that day is still taken
    await refused("waves.second_open", ops.open_wave("t", "trust", opens_on="2027-03-31"))
    forced = await ops.open_wave("t", "trust", force=True)
    assert forced.is_open and len(await ops.store.waves(status="open", survey="trust")) == 2


async def test_rename_and_extend_never_shorten_into_the_past_nor_reopen(ops: Operations) -> None:
    wave = await ops.open_wave("t", "trust", closes_on="2027-03-10")
    assert (await ops.rename_wave("t", wave.id, "  Spring   2027 ")).name == "Spring 2027"
    await refused("waves.bad_name", ops.rename_wave("t", wave.id, "   "))
    await refused("waves.bad_name", ops.rename_wave("t", wave.id, "x" * 81))
    assert (await ops.extend_wave("t", wave.id, "2027-04-30")).closes_on == "2027-04-30"
    assert (await ops.extend_wave("t", wave.id, "2027-03-01")).closes_on == "2027-03-01"
    await refused("waves.closes_too_early", ops.extend_wave("t", wave.id, "2027-02-28"))
    assert (await ops.store.wave(wave.id)).closes_on == "2027-03-01"
    await refused("unknown_wave", ops.extend_wave("t", 99, "2027-04-30"))
    await ops.close_wave("t", wave.id)
    await refused("wave_closed", ops.extend_wave("t", wave.id, "2027-05-31"))
    closed = await ops.store.wave(wave.id)
    assert closed.status == "closed" and closed.closes_on == "2027-03-01"
    actions = [e.action for e in await ops.store.audit_entries()]
    assert {"wave.rename", "wave.extend"} <= set(actions)


async def test_closing_names_the_organisations_below_k(ops: Operations) -> None:
    wave = await ops.open_wave("t", "trust")
    survey, partners = ops.registry["trust"], ops.config.partners()
    rng = random.Random(4)
    # exactly k (shown) and exactly k - 1 (hidden): the boundary on both sides
    for user, org in enumerate(["dijkhoven"] * 3 + ["veenstede"] * 2 + ["brugwoude"]):
        await respond(ops.store, survey, wave.id, 1, org, "staff", user + 1, partners, rng)
    closing = await ops.closing(wave.id)
    assert closing.k == 3 and closing.completed == 6
    assert [(c.org, c.completed) for c in closing.below_k] == [
        ("brugwoude", 1),
        ("lindermeer", 0),
        ("veenstede", 2),
    ]
    assert (await ops.store.wave(wave.id)).is_open  # asking does not close
    await ops.close_wave("t", wave.id)
    await refused("wave_closed", ops.closing(wave.id))


async def test_links_are_bound_to_the_survey_they_are_made_for(ops: Operations) -> None:
    await refused("waves.no_survey_for_links", ops.links("t"))
    early = await ops.links("t", "dijkhoven", survey_id="culture")  # printed before it opens
    assert {link.invitation.survey for link in early} == {"culture"}
    trust = await ops.open_wave("t", "trust")
    await ops.open_wave("t", "culture")
    links = await ops.links("t", "dijkhoven")
    assert [(link.survey, link.role) for link in links if link.role is None] == [
        ("trust", None),
        ("culture", None),
    ]
    culture_link = next(x for x in links if x.survey == "culture" and x.role is None)
    assert culture_link.invitation.token == early[0].invitation.token  # the same link
    tied = await ops.links("t", "dijkhoven", wave_id=trust.id)
    assert {(x.invitation.wave, x.invitation.survey) for x in tied} == {(trust.id, "trust")}


async def test_an_unbound_link_is_bound_on_first_use(ops: Operations) -> None:
    legacy = await ops.store.ensure_invitation("dijkhoven")
    await ops.store.bind_invitation(legacy.token, "trust")
    await ops.store.bind_invitation(legacy.token, "culture")  # the first binding stays
    bound = await ops.store.invitation(legacy.token)
    assert bound is not None and bound.survey == "trust"


async def test_the_overview_pages_through_every_wave(ops: Operations) -> None:
    for n in range(12):
        wave = await ops.open_wave("t", "trust", name=f"round {n + 1}")
        await ops.close_wave("t", wave.id)
    newest = await ops.overview_page("t", None, 5)
    assert newest.start == 7 and newest.total == 12
    assert [s.wave.name for s in newest.statuses] == [f"round {n}" for n in range(8, 13)]
    oldest = await ops.overview_page("t", 0, 5)
    assert [s.wave.name for s in oldest.statuses] == [f"round {n}" for n in range(1, 6)]
    beyond = await ops.overview_page("t", 99, 5)  # an old button after waves went: clamped
    assert beyond.start == 7


def run_cli(config: Config, *args: str) -> int:
    """`trustscan --config … ARGS` in this process (it runs its own event loop)."""
    assert config.source is not None
    return main(["--config", str(config.source), "--lang", "en", *args])


def test_export_of_an_open_wave_says_counts_only_and_writes_nothing(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config, "wave", "open", "trust", "--name", "Spring") == 0
    assert run_cli(config, "export", "--wave", "1", "--xlsx", str(tmp_path / "t.xlsx")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "counts" in err and "'Spring' is still open" in err
    assert run_cli(config, "export", "--csv", str(tmp_path / "csv")) == 1
    assert "still open" in capsys.readouterr().err
    assert not (tmp_path / "t.xlsx").exists() and not (tmp_path / "csv").exists()
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    assert run_cli(config, "report", "--wave", "1", "--out", str(html), "--xlsx", str(xlsx)) == 1
    assert "still open" in capsys.readouterr().err
    assert not html.exists() and not xlsx.exists()


def test_the_command_line_asks_before_closing(
    config: Config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config, "wave", "open", "trust") == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert run_cli(config, "wave", "close", "1") == 1
    out = capsys.readouterr()
    assert "below the minimum of 3" in out.out and "Dijkhoven (0)" in out.out
    assert "not closed" in out.err
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert run_cli(config, "wave", "close", "1") == 0
    assert "is closed" in capsys.readouterr().out
    assert wave_of(config, 1).status == "closed"


def wave_of(config: Config, wave_id: int) -> Wave:
    async def read() -> Wave:
        async with open_operations(config) as ops:
            return await ops.store.wave(wave_id)

    return asyncio.run(read())


def test_rename_and_extend_on_the_command_line(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config, "wave", "open", "trust", "--name", "Spring") == 0
    assert run_cli(config, "wave", "open", "trust") == 1
    assert "--force" in capsys.readouterr().err
    assert run_cli(config, "wave", "open", "trust", "--force") == 0
    assert run_cli(config, "wave", "rename", "1", "Spring 2027") == 0
    assert run_cli(config, "wave", "extend", "1", "2099-12-31") == 0
    assert run_cli(config, "wave", "extend", "1", "2000-01-01") == 1
    assert "cannot close before" in capsys.readouterr().err
    wave = wave_of(config, 1)
    assert wave.name == "Spring 2027" and wave.closes_on == "2099-12-31"


async def test_migration_4_binds_old_links_and_marks_old_waves_announced(tmp_path: Path) -> None:
    """A database of schema 3: its links are bound to the survey they led to then, and its
    waves count as announced (nobody hears of a wave opened months ago)."""
    master = bytes.fromhex(KEY)
    path = tmp_path / "old.db"
    async with await Store.open(path, master, clock=CLOCK) as store:
        trust = await store.open_wave("trust", 1, ["a", "b"])
        culture = await store.open_wave("culture", 1, ["a"])
        await store.close_wave(trust.id)
        old = await store.ensure_invitation("a")
        tied = await store.ensure_invitation("b", None, trust.id)
        planned = await store.open_wave("trust", 1, ["a"], opens_on="2999-01-01")
    db = schema.connect_sync(path, keys.database_key(master))
    db.execute("UPDATE invitations SET survey = NULL")
    db.execute("DELETE FROM notifications_sent")
    db.execute("ALTER TABLE invitations DROP COLUMN survey")
    for undo in (  # migrations 5 (codes), 6 (rounds, consent) and 7 (drafts) came later
        "DROP TABLE drafts",
        "DROP TABLE draft_items",
        "DROP TABLE pending",
        "DROP TABLE finished",
        "DROP INDEX responses_code",
        "DROP TABLE codes",
        "ALTER TABLE responses DROP COLUMN code",
        "ALTER TABLE roles DROP COLUMN restricted",
        "ALTER TABLE notifications_sent DROP COLUMN done",
        "DROP TABLE notices_sent",
        "DROP TABLE consent_screens",
    ):
        db.execute(undo)
    db.execute("UPDATE schema_version SET version = 3")
    db.close()
    async with await Store.open(path, master, clock=CLOCK) as store:
        assert (await store.invitation(old.token)).survey == "culture"  # type: ignore[union-attr]
        assert (await store.invitation(tied.token)).survey == "trust"  # type: ignore[union-attr]
        assert not await store.mark_notified(culture.id, "opened")
        assert not await store.mark_notified(trust.id, "opened")
        assert await store.mark_notified(planned.id, "opened")  # not yet open: still due


@pytest.mark.parametrize("lang", ["nl", "en", "de"])
def test_every_new_refusal_has_its_sentence_for_both_adapters(lang: str) -> None:
    """A code of the [waves] area finds `waves.cli_<code>` and, where the bot can meet it,
    `waves.refusals_<code>`; the old codes keep `cli.<code>` / `refusals.<code>`."""
    for code in ("second_open", "bad_name", "closes_too_early", "no_survey_for_links"):
        error = OperationError(
            f"waves.{code}", survey="s", wave=1, name="n", limit=80, date="d", available="a"
        )
        assert error.key("refusals") == f"waves.refusals_{code}"
        said = t(
            error.key("refusals"),
            lang,
            survey="s",
            wave=1,
            name="n",
            limit=80,
            date="d",
            available="a",
        )
        assert said and "{" not in said
    for code in ("counts_only", "nothing_closed", "no_tables", "database_read_only"):
        error = OperationError(f"waves.{code}", wave=1, name="n", path="p", folder="f")
        assert "{" not in t(error.key("cli"), lang, **error.params)
    assert OperationError("unknown_wave", wave=3).key("refusals") == "refusals.unknown_wave"


def test_opening_a_wave_prints_the_change_each_organisation_can_detect(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before any closed wave: the default SD and each organisation's expected n."""
    assert run_cli(config, "wave", "open", "trust", "--name", "Spring") == 0
    out = capsys.readouterr().out
    assert t("detectable.sd_default", "en", sd=0.8) in out
    for org in config.organisations:
        assert f"  {org.name}: " in out
    tests = detectable.planned_tests(
        load_builtin("trust"), config.organisations, None, config.min_group_size
    )
    alpha = f"{families.effective_alpha(tests):.2g}"  # the verdicts' α/m, not .05
    said = t("detectable.heading", "en", power=80, alpha=alpha, family=0.05, tests=tests)
    heading = out.index(said)
    assert heading < out.index(t("cli.next_invite", "en"))


async def test_the_bot_and_the_command_line_print_the_same_plan(ops: Operations) -> None:
    """One use case: `/openwave` sends what `wave open` prints (both call Operations)."""
    from trustscan.detectable import detectable_lines, plan_next_wave

    plan = await plan_next_wave(ops.store, ops.config, ops.survey("trust"))
    assert await ops.detectable_lines("trust", "de") == detectable_lines(plan, "de")
