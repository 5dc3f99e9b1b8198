"""Links that stay put, announcements however a wave opens, wave administration (issue 11).

Through the real Application polling the fake Bot API; the command line runs as the
installed `trustscan` against the same database, as a facilitator would run it.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any

from bot import jobs
from trustscan.config import Config

from .conftest import (
    FACILITATOR,
    KEY,
    USER_ID,
    complete_by_buttons,
    link_token,
    open_wave,
    running,
    start_survey,
    start_up_tick,
)
from .conftest import store_of as store
from .fake_telegram import FakeTelegram, FakeUser


async def cli(config: Config, *args: str) -> tuple[int, str, str]:
    """The installed `trustscan --config … ARGS` on the bot's own database."""
    assert config.source is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSCAN_")}
    env["TRUSTSCAN_KEY"] = KEY
    command = shutil.which("trustscan") or str(Path(sys.executable).parent / "trustscan")
    proc = await asyncio.create_subprocess_exec(
        command,
        "--config",
        str(config.source),
        "--lang",
        "en",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,  # a question gets no answer: end of input
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def token_of(text: str) -> str:
    return text.split("start=")[1].split()[0].rstrip(".,)")


async def test_a_link_stays_with_its_survey_when_another_wave_opens(e2e_app, server):
    """A trust link keeps leading to trust after a second survey opens; a second trust
    wave is refused unless forced; an old wave's link points to its survey's open wave."""
    app = e2e_app
    boss = FakeUser(server, FACILITATOR)
    await boss.send("/openwave e2e")
    assert "is geopend" in boss.last["text"]
    await boss.send("/invite dijkhoven")
    poster = token_of(
        next(m["text"] for m in reversed(boss.inbox()) if "start=" in m.get("text", ""))
    )
    await server.wait_for(lambda: server.calls_of("sendPhoto"))  # the QR code came too
    # a second questionnaire opens: the e2e link must not switch to it
    await boss.send("/openwave trust")
    assert "is geopend" in boss.last["text"]
    user = FakeUser(server, USER_ID)
    await user.send(f"/start {poster}")
    assert "Testscan" in user.last["text"] and "Vertrouwen" not in user.last["text"]
    # a second open wave of the same survey is refused, in the facilitator's language
    await boss.send("/openwave e2e")
    assert "is nog open" in boss.last["text"] and "force" in boss.last["text"]
    assert len(await store(app).waves(status="open", survey="e2e")) == 1
    await boss.send("/openwave e2e force")
    assert "is geopend" in boss.last["text"]
    first, second = await store(app).waves(status="open", survey="e2e")
    # the poster link stays with the wave it was handed out for (the older)
    await start_survey(user, poster)
    await complete_by_buttons(user, random.Random(5))
    assert await store(app).has_completed(first.id, USER_ID)
    assert not await store(app).has_completed(second.id, USER_ID)
    # a link tied to the first wave, once it closed, points to the open one of its survey
    tied = (await store(app).ensure_invitation("dijkhoven", None, first.id, "e2e")).token
    await store(app).close_wave(first.id)
    app.bot_data["services"].forget_wave(first.id)
    other = FakeUser(server, USER_ID + 1)
    await other.send(f"/start {tied}")
    said = other.last["text"]
    assert "gesloten" in said and "huidige meting" in said
    await start_survey(other, token_of(said))
    await complete_by_buttons(other, random.Random(6))
    assert await store(app).has_completed(second.id, USER_ID + 1)


async def test_a_wave_opened_on_the_command_line_is_announced_once_across_restarts(
    server: FakeTelegram, e2e_config: Config, clock
):
    """Opened by `trustscan wave open` while the bot is down: announced at the bot's first
    tick after the start, and never again after another restart."""
    contacts = [FakeUser(server, USER_ID + i) for i in range(3)]
    async with running(e2e_config, clock) as app:
        for user in contacts[:2]:
            await store(app).set_contact(user.id, "veenstede", "nl")
        await store(app).set_contact(contacts[2].id, "nowhere", "nl")  # not in the wave
    code, _, err = await cli(e2e_config, "wave", "open", "e2e", "--name", "Spring 2027")
    assert code == 0, err
    async with running(e2e_config, clock) as app:
        for user in contacts[:2]:
            await server.wait_for(
                lambda u=user: any("nieuwe meting" in m.get("text", "") for m in u.inbox())
            )
        [wave] = await store(app).waves(status="open")
        assert wave.name == "Spring 2027"
        await jobs.run_due(app)
    async with running(e2e_config, clock) as app:
        await start_up_tick(app)
        await jobs.run_due(app)
    for user in contacts[:2]:
        assert sum("nieuwe meting" in m.get("text", "") for m in user.inbox()) == 1
    assert not contacts[2].inbox()


async def test_the_close_confirmation_lists_organisations_below_k(e2e_app, server, e2e_config):
    """/closewave shows the counts and names the organisations below the minimum (k = 5);
    the command line asks too, and only `--yes` or a typed yes closes."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    link = (await store(app).ensure_invitation("lindermeer", "staff", None, "e2e")).token
    for i in range(5):
        user = FakeUser(server, USER_ID + i)
        await start_survey(user, link)
        await complete_by_buttons(user, random.Random(i))
    few = (await store(app).ensure_invitation("dijkhoven", "staff", None, "e2e")).token
    user = FakeUser(server, USER_ID + 10)
    await start_survey(user, few)
    await complete_by_buttons(user, random.Random(10))
    boss = FakeUser(server, FACILITATOR, language_code="en")
    await boss.send(f"/closewave {wave.id}")
    text = boss.last["text"]
    assert "6 completed" in text
    below = text.split("Below the minimum of 5")[1].split("\n")[0]
    assert "Dijkhoven (1)" in below and "Veenstede (0)" in below and "Brugwoude (0)" in below
    assert "Lindermeer" not in below
    assert (await store(app).wave(wave.id)).is_open  # nothing closed before the button
    code, out, err = await cli(e2e_config, "wave", "close", str(wave.id))  # no answer: no
    assert code == 1 and "not closed" in err and "Dijkhoven (1)" in out
    assert (await store(app).wave(wave.id)).is_open
    await boss.press(boss.button(lambda _, d: d == f"W:{wave.id}"))
    assert (await store(app).wave(wave.id)).status == "closed"


async def test_waves_pages_through_all_waves_and_names_rename_and_extend(e2e_app, server):
    """/waves shows the newest page with buttons back to the oldest; /openwave takes a
    quoted name, /renamewave and /extendwave change it, never below today nor reopening."""
    app = e2e_app
    boss = FakeUser(server, FACILITATOR, language_code="en")
    await boss.send('/openwave e2e "Trust scan spring 2027" 2026-12-31')
    assert "Trust scan spring 2027" in boss.last["text"]
    [named] = await store(app).waves(status="open")
    assert named.name == "Trust scan spring 2027" and named.closes_on == "2026-12-31"
    await boss.send(f"/extendwave {named.id} 2027-01-15")
    assert (await store(app).wave(named.id)).closes_on == "2027-01-15"
    await boss.send(f"/extendwave {named.id} 2026-11-30")  # the clock says 2026-12-01
    assert "cannot close before" in boss.last["text"]
    assert (await store(app).wave(named.id)).closes_on == "2027-01-15"
    await boss.send(f'/renamewave {named.id} "Spring 2027"')
    assert (await store(app).wave(named.id)).name == "Spring 2027"
    await store(app).close_wave(named.id)
    await boss.send(f"/extendwave {named.id} 2027-02-01")
    assert "already closed" in boss.last["text"]
    assert (await store(app).wave(named.id)).status == "closed"
    for n in range(11):  # 12 waves in all
        wave = await open_wave(app, "e2e")
        await store(app).rename_wave(wave.id, f"Round {n + 2}")
        await store(app).close_wave(wave.id)
    await boss.send("/waves")
    first_page = boss.last
    assert "Round 12" in first_page["text"] and "Spring 2027" not in first_page["text"]
    assert "8–12 of 12" in first_page["text"]
    seen = []
    page: dict[str, Any] = first_page
    for _ in range(5):
        older = [d for label, d in boss.buttons(page) if "Older" in label]
        if not older:
            break
        await boss.press(older[0], message=page)
        page = boss.last
        seen.append(page["text"])
    assert len(seen) == 2 and "3–7 of 12" in seen[0] and "1–5 of 12" in seen[1]
    assert "Spring 2027" in seen[1] and "Round 12" not in seen[1]
    newer = boss.button(lambda label, _: "Newer" in label, page)
    await boss.press(newer, message=page)
    assert "6–10 of 12" in boss.last["text"]


async def test_a_link_made_before_binding_is_bound_on_its_first_use(e2e_app, server):
    """A link of an older trustscan (no survey) leads where it did, then stays there."""
    app = e2e_app
    legacy = await link_token(app, "brugwoude", "staff")
    await open_wave(app, "e2e")
    first = FakeUser(server, USER_ID)
    await first.send(f"/start {legacy}")
    assert "Testscan" in first.last["text"]
    assert (await store(app).invitation(legacy)).survey == "e2e"
    await open_wave(app, "trust")  # newer, but the link is bound now
    second = FakeUser(server, USER_ID + 1)
    await second.send(f"/start {legacy}")
    assert "Testscan" in second.last["text"]
