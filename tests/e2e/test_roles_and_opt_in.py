"""Forged role and opt-in presses through the real bot: refused, nothing stored.

Issue 8, findings 6 and 8: a role-fixing link's role always wins, restricted roles come
only with their own link, and only a real completion in this chat can opt in.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from surveys.i18n import t
from tests import anonymity
from trustscan.config import load_config

from .conftest import (
    E2E_SURVEY,
    FACILITATOR,
    KEY,
    USER_ID,
    complete_by_buttons,
    issue_codes,
    link_token,
    open_wave,
    running,
    start_survey,
    start_with_code,
    store_of,
    write_config,
)
from .fake_telegram import FakeTelegram, FakeUser


async def stored_roles(app, wave: int) -> list[tuple[str, str]]:
    """(org, role) of every finished response (released or waiting for k − 1 others)."""
    counts = await store_of(app).completed_counts([wave])
    return sorted((c.org, c.role) for c in counts for _ in range(c.completed))


async def test_a_role_fixing_link_ignores_a_forged_role(e2e_app, server):
    """`r:<token>:council` on a link that fixes 'staff' starts nothing; staff is stored."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    token = await link_token(app, "dijkhoven", "staff")
    user = FakeUser(server, USER_ID)
    await user.send(f"/start {token}")
    toast = await user.press(f"r:{token}:council", expect_change=False)
    assert toast.get("text")
    assert await store_of(app).find_session(wave.id, USER_ID) is None
    await start_survey(user, token)
    await complete_by_buttons(user, random.Random(1))
    assert await stored_roles(app, wave.id) == [("dijkhoven", "staff")]


async def test_restricted_roles_are_not_offered_and_cannot_be_forged(e2e_app, server):
    """A free link offers only open roles; a forged restricted role is refused politely."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    token = await link_token(app, "veenstede")
    user = FakeUser(server, USER_ID)
    await user.send(f"/start {token}")
    await user.press(user.button(lambda _, d: d.startswith("c:")))
    offered = [d.rsplit(":", 1)[1] for _, d in user.buttons() if d.startswith("r:")]
    assert offered == ["staff", "manager"]
    for role in ("council", "administrator"):
        toast = await user.press(f"r:{token}:{role}", expect_change=False)
        assert "eigen link" in toast["text"]
    assert await store_of(app).find_session(wave.id, USER_ID) is None
    assert all(c.in_progress == 0 for c in await store_of(app).response_counts(wave.id))
    # the role's own link, with a code from the slips, does let a council member in
    member = FakeUser(server, USER_ID + 1)
    [code] = await issue_codes(app, "veenstede", "council", 1)
    await start_with_code(member, await link_token(app, "veenstede", "council"), code)
    await complete_by_buttons(member, random.Random(2))
    assert await stored_roles(app, wave.id) == [("veenstede", "council")]


async def test_padding_the_council_through_its_link_is_refused(e2e_app, server):
    """Finding 6 of issue 17: four Telegram accounts with the council link and one code
    give one council response, not four; without a code none at all. The code is in no
    page or WAL frame of the database, decrypted with the master key."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    token = await link_token(app, "veenstede", "council")
    [code] = await issue_codes(app, "veenstede", "council", 1)
    refused = t("codes.refused", "nl")
    nobody = FakeUser(server, USER_ID + 9)  # no code: types something, taps nothing
    await nobody.send(f"/start {token}")
    await nobody.press(nobody.button(lambda _, d: d.startswith("c:")))
    await nobody.send("1234")
    assert nobody.last["text"] == refused and not nobody.buttons()
    for forged in (f"r:{token}:council", f"a:{wave.id}:0:1"):
        await nobody.press(forged, expect_change=False)
    first = FakeUser(server, USER_ID)
    await start_with_code(first, token, code.lower())
    await complete_by_buttons(first, random.Random(4))
    for i in range(1, 4):
        padder = FakeUser(server, USER_ID + i)
        await padder.send(f"/start {token}")
        await padder.press(padder.button(lambda _, d: d.startswith("c:")))
        await padder.send(code)
        assert padder.last["text"] == refused and not padder.buttons()
    assert await stored_roles(app, wave.id) == [("veenstede", "council")]
    assert all(c.in_progress == 0 for c in await store_of(app).response_counts(wave.id))
    path = store_of(app).path
    plain = anonymity.decrypted(path, bytes.fromhex(KEY)).everything
    for form in (code, code.replace("-", ""), code.lower()):
        assert form.encode() not in plain + anonymity.db_bytes(path)


async def test_opt_in_needs_a_real_completion_in_this_chat(e2e_app, server):
    """Forged `o:` data makes nobody a contact; the signed button of a completion does."""
    app = e2e_app
    await open_wave(app, "e2e")
    outsider = FakeUser(server, USER_ID + 7)
    await outsider.send("/start")
    for forged in ("o:dijkhoven", "o:dijkhoven:AAAAAAAAAA", "o:dijkhoven:" + "é" * 10):
        toast = await outsider.press(forged, expect_change=False)
        assert toast.get("text"), forged
    assert await store_of(app).contacts() == []

    user = FakeUser(server, USER_ID)
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    await complete_by_buttons(user, random.Random(3))
    genuine = user.button(lambda _, d: d.startswith("o:"))
    assert len(genuine.encode()) <= 64
    # the same data from another chat, or re-aimed at another organisation, is refused
    toast = await outsider.press(genuine, expect_change=False)
    assert toast.get("text")
    mac = genuine.rsplit(":", 1)[1]
    toast = await user.press(f"o:veenstede:{mac}", message=user.last, expect_change=False)
    assert toast.get("text")
    assert await store_of(app).contacts() == []

    await user.press(genuine)
    # alone in its group, the completion waits: so does the contact, which would date it
    assert user.last["text"].startswith(t("bot.notify_held", "nl", others=4)[:40])
    assert await store_of(app).contacts() == []


ORGANISATIONS = """
[[organisations]]
id = "dijkhoven"
name = "Dijkhoven"
headcount = 1
role_headcounts = { council = 1 }

[[organisations]]
id = "veenstede"
name = "Veenstede"
headcount = 50
"""


@pytest.fixture
async def small_app(tmp_path: Path, server: FakeTelegram, clock):
    config = load_config(
        write_config(tmp_path, server, o=ORGANISATIONS, s=f'[surveys]\npaths = ["{E2E_SURVEY}"]\n'),
        env={"TRUSTSCAN_KEY": KEY},
    )
    async with running(config, clock) as app:
        yield app


async def test_waves_flags_more_responses_than_people(small_app, server):
    """/waves warns when an organisation or a role has more completions than headcount.

    The organisation's flag shows at once (its count is shown anyway); the role's only
    after closing, or a new flag would tell which role the last finisher had.
    """
    app = small_app
    wave = await open_wave(app, "e2e")
    token = await link_token(app, "dijkhoven", "council")
    for i, code in enumerate(await issue_codes(app, "dijkhoven", "council", 2)):
        user = FakeUser(server, USER_ID + i)
        await start_with_code(user, token, code)
        await complete_by_buttons(user, random.Random(i))
    boss = FakeUser(server, FACILITATOR)
    await boss.send("/waves")
    text = boss.last["text"]
    assert "Dijkhoven: 2 klaar" in text
    assert "⚠️ Dijkhoven: 2 klaar, meer dan de 1 mensen" in text
    assert "Raadslid" not in text  # open wave: no role flag yet
    await store_of(app).close_wave(wave.id)
    await boss.send("/waves")
    await server.wait_for(lambda: "Raadslid" in boss.last["text"])
    text = boss.last["text"]
    assert "⚠️ Dijkhoven / Raadslid: meer antwoorden dan de 1 mensen in deze rol" in text
    assert "Veenstede" in text and "⚠️ Veenstede" not in text
