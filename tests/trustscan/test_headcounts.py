"""Oversubscription flags (more completions than people) and signed opt-in buttons."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from bot.optin import MAC_CHARS, opt_in_data, opt_in_key, verified_org
from surveys.store import GroupCount
from trustscan.cli import main
from trustscan.config import Organisation, load_config
from trustscan.headcounts import Oversubscribed, count_completed, oversubscribed
from trustscan.services import load_registry, open_store
from trustscan.simulation import respond

KEY = "cd" * 32
ORGS = (
    Organisation("north", "North", 10, (("council", 3), ("administrator", 2))),
    Organisation("south", "South", None, (("council", 5),)),
    Organisation("east", "East"),
)


def test_oversubscribed_flags_organisations_and_roles_over_their_headcount() -> None:
    """Exactly the groups above their headcount, organisation first, in config order."""
    completed = {
        (1, "north", "staff"): 7,
        (1, "north", "council"): 4,  # 4 > 3
        (1, "north", "administrator"): 2,  # at the headcount: fine
        (1, "south", "council"): 6,  # 6 > 5; south has no overall headcount
        (1, "east", "staff"): 500,  # no headcount at all: never flagged
        (2, "north", "staff"): 10,  # exactly the headcount: fine
    }
    assert oversubscribed(ORGS, completed) == [
        Oversubscribed(1, "north", None, 13, 10),
        Oversubscribed(1, "north", "council", 4, 3),
        Oversubscribed(1, "south", "council", 6, 5),
    ]
    assert oversubscribed(ORGS, {}) == []
    # an open wave: the organisation's flag only, no role's (no live role differencing)
    assert oversubscribed(ORGS, completed, closed=set()) == [
        Oversubscribed(1, "north", None, 13, 10)
    ]


def test_count_completed_reads_the_stores_group_counts() -> None:
    rows = [GroupCount(1, "north", "council", 2), GroupCount(1, "north", "staff", 1)]
    assert count_completed(rows) == {(1, "north", "council"): 2, (1, "north", "staff"): 1}


def test_opt_in_data_is_bound_to_chat_and_organisation() -> None:
    """The mac verifies only for the chat and organisation it was made for."""
    key = opt_in_key(bytes(range(32)))
    assert key != bytes(range(32)) and key != opt_in_key(bytes(32))
    data = opt_in_data(key, 123456789, "dijkhoven")
    assert data.startswith("o:dijkhoven:") and len(data.rsplit(":", 1)[1]) == MAC_CHARS
    assert len(opt_in_data(key, -(10**15), "x" * 24).encode()) <= 64
    assert verified_org(key, 123456789, data) == "dijkhoven"
    assert verified_org(key, 123456780, data) is None
    assert verified_org(opt_in_key(bytes(32)), 123456789, data) is None
    mac = data.rsplit(":", 1)[1]
    for forged in ("o:dijkhoven", f"o:veenstede:{mac}", "o:dijkhoven:" + "é" * MAC_CHARS, "x"):
        assert verified_org(key, 123456789, forged) is None


CONFIG = """
[database]
path = "scan.db"

[[organisations]]
id = "dijkhoven"
name = "Dijkhoven"
headcount = 2
role_headcounts = { council = 1 }

[[organisations]]
id = "veenstede"
name = "Veenstede"
role_headcounts = { council = 10 }
"""


def test_wave_list_flags_oversubscribed_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`trustscan wave list` warns about groups with more completions than people."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("TRUSTSCAN_KEY", KEY)
    config = load_config(path)

    async def fill() -> None:
        survey = load_registry(config)["trust"]
        async with await open_store(config) as store:
            wave = await store.open_wave("trust", survey.version, ["dijkhoven", "veenstede"])
            people = [("dijkhoven", "council")] * 3 + [("veenstede", "council")]
            for i, (org, role) in enumerate(people):
                await respond(
                    store,
                    survey,
                    wave.id,
                    1,
                    org,
                    role,
                    10**9 + i,
                    config.partners(),
                    random.Random(i),
                )
            await store.close_wave(wave.id)  # role flags only for closed waves

    asyncio.run(fill())
    assert main(["--config", str(path), "wave", "list"]) == 0
    out = capsys.readouterr().out
    # the config's default language: Dutch
    assert "! dijkhoven: meer ingevulde vragenlijsten dan de 2 mensen" in out
    assert "! dijkhoven/council: meer ingevulde vragenlijsten dan de 1 mensen" in out
    assert "! veenstede" not in out
