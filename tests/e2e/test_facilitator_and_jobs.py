"""Facilitator commands and the scheduler, through the real bot and a controllable clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import shutil

from bot import jobs
from surveys.i18n import t
from tests.anonymity import keyed

from .conftest import (
    FACILITATOR,
    KEY,
    USER_ID,
    assert_no_user_id,
    complete_by_buttons,
    link_token,
    open_wave,
    start_survey,
)
from .conftest import store_of as store
from .fake_telegram import FakeUser


async def test_facilitator_commands_work_and_are_audited(e2e_app, server, e2e_config):
    """/openwave, /waves, /invite and /closewave (with confirmation) do their job, audited."""
    app = e2e_app
    boss = FakeUser(server, FACILITATOR)
    await boss.send("/openwave e2e 2026-12-20")
    assert "is geopend" in boss.last["text"]
    [wave] = await store(app).waves(status="open")
    assert wave.survey == "e2e" and wave.closes_on == "2026-12-20"
    respondent = FakeUser(server, USER_ID)
    await start_survey(respondent, await link_token(app, "lindermeer", "staff"))
    await complete_by_buttons(respondent, random.Random(1))
    await boss.send("/waves")
    assert "Lindermeer: 1 klaar" in boss.last["text"]
    before = len(server.calls_of("sendMediaGroup"))
    await boss.send("/invite")
    await server.wait_for(lambda: len(server.calls_of("sendMediaGroup")) > before)
    links = boss.inbox()[-5]["text"]
    # per organisation its own link plus one for each restricted role (no QR code for those)
    assert links.count("https://t.me/TestBot?start=") == 4 * 3
    assert "Raadslid" in links and "niet op een poster" in links
    photos = server.calls_of("sendMediaGroup")[-1].params["media"]
    assert len(photos) == 4
    await boss.send(f"/closewave {wave.id}")
    assert "sluiten?" in boss.last["text"]
    await boss.press(boss.button(lambda _, d: d == f"W:{wave.id}"))
    assert "gesloten" in boss.last["text"]
    assert (await store(app).wave(wave.id)).status == "closed"
    actions = [a.action for a in await store(app).audit_entries()]
    assert {"wave.open", "waves", "invite", "wave.close"} <= set(actions)
    assert_no_user_id(e2e_config.database, USER_ID)


async def test_non_facilitators_are_refused_and_audited_without_their_id(
    e2e_app, server, e2e_config
):
    """A respondent trying facilitator commands is refused; the audit keeps no id of theirs."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID)
    for command in ("/waves", "/invite", "/openwave e2e", f"/closewave {wave.id}"):
        await user.send(command)
        assert "alleen voor begeleiders" in user.last["text"]
    toast = await user.press(f"W:{wave.id}", message=user.last, expect_change=False)
    assert "begeleiders" in toast["text"]
    assert (await store(app).wave(wave.id)).is_open
    entries = await store(app).audit_entries()
    assert len([e for e in entries if e[1] == "non-facilitator"]) == 5
    assert_no_user_id(e2e_config.database, USER_ID)


async def test_reminders_and_new_wave_invitations_follow_the_clock(
    e2e_app, server, clock, e2e_config
):
    """Opt-in contacts get a new-wave invitation once, a reminder only while unfinished."""
    app = e2e_app
    first = await open_wave(app, "e2e")
    finisher, laggard, blocked = (FakeUser(server, USER_ID + i) for i in range(3))
    colleagues = [FakeUser(server, USER_ID + 10 + i) for i in range(2)]
    token = await link_token(app, "dijkhoven", "staff")
    for user in (finisher, laggard, blocked, *colleagues):  # k: released together
        await start_survey(user, token)
        await complete_by_buttons(user, random.Random(user.id))
    for user in (finisher, laggard, blocked):
        await user.press(user.button(lambda _, d: d.startswith("o:")))
        assert "volgende meting" in user.last["text"]
    await store(app).close_wave(first.id)
    server.blocked.add(blocked.id)

    # A scheduled wave opens itself on its date and invites the contacts, once.
    second = await store(app).open_wave(
        "e2e", 1, ["dijkhoven", "veenstede"], opens_on="2026-12-03", closes_on="2026-12-10"
    )
    assert second.status == "scheduled"
    await jobs.run_due(app)
    assert (await store(app).wave(second.id)).status == "scheduled"
    clock.current = clock.current.replace(day=3, hour=9)
    await jobs.run_due(app)  # before the configured hour (10): nothing yet
    assert (await store(app).wave(second.id)).status == "scheduled"
    clock.current = clock.current.replace(hour=10)
    await jobs.run_due(app)
    assert (await store(app).wave(second.id)).is_open
    for user in (finisher, laggard):
        assert "nieuwe meting" in user.last["text"]
        assert "Raadslid? Gebruik dan de eigen link" in user.last["text"]  # restricted roles
        assert "https://t.me/TestBot?start=" in user.last["text"]
    contacts = {c.chat_id: c for c in await store(app).contacts()}
    assert contacts[blocked.id].blocked
    await jobs.run_due(app)  # a second tick (or a restart) sends nothing again
    assert len([m for m in finisher.inbox() if "nieuwe meting" in m.get("text", "")]) == 1

    # The finisher completes the new wave through the link in the invitation.
    link_token_ = finisher.last["text"].split("start=")[1].split()[0]
    await start_survey(finisher, link_token_)
    await complete_by_buttons(finisher, random.Random(9))
    await start_survey(laggard, link_token_)  # starts, does not finish

    # Three days before closing: a reminder for the laggard only.
    clock.current = clock.current.replace(day=7, hour=11)
    sent_before = {u.id: len(u.inbox()) for u in (finisher, laggard)}
    await jobs.run_due(app)
    await server.wait_for(lambda: len(laggard.inbox()) > sent_before[laggard.id])
    assert "Herinnering" in laggard.last["text"]
    assert len(finisher.inbox()) == sent_before[finisher.id]
    await jobs.run_due(app)
    assert len(laggard.inbox()) == sent_before[laggard.id] + 1

    # The button under a reminder stops them; the reminder itself stays readable.
    reminder = laggard.last
    [(label, data)] = laggard.buttons(reminder)
    assert label == t("bot.unsubscribe_button", "nl")
    await laggard.press(data, reminder)
    await server.wait_for(lambda: laggard.last["text"] == t("bot.unsubscribed", "nl"))
    assert laggard.buttons(server.messages[(laggard.id, reminder["message_id"])]) == []
    assert "Herinnering" in server.messages[(laggard.id, reminder["message_id"])]["text"]
    assert laggard.id not in {c.chat_id for c in await store(app).contacts()}

    # After the closing date the wave closes itself.
    clock.current = dt.datetime(2026, 12, 11, 10, 30, tzinfo=clock.tz)
    await jobs.run_due(app)
    assert (await store(app).wave(second.id)).status == "closed"
    with keyed(e2e_config.database, bytes.fromhex(KEY)) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM responses WHERE complete = 0").fetchone() == (0,)


async def test_report_in_the_chat_sends_charts_and_the_html(e2e_app, server) -> None:
    """/report delivers the key charts as photos and the HTML report as a document."""
    app = e2e_app
    boss = FakeUser(server, FACILITATOR)
    await boss.send("/report")
    assert "nog geen meting" in boss.last["text"]  # nothing to report yet: said, not sent
    assert not server.calls_of("sendDocument")
    wave = await open_wave(app, "e2e")
    for i in range(6):
        user = FakeUser(server, USER_ID + i)
        await start_survey(user, await link_token(app, "dijkhoven", "staff"))
        await complete_by_buttons(user, random.Random(i))
    await store(app).close_wave(wave.id)
    app.bot_data["services"].forget_wave(wave.id)
    await boss.send(f"/report {wave.id}")
    document = await server.wait_for(lambda: server.calls_of("sendDocument"), timeout=120)
    html_bytes = document[0].params["document"]  # the HTML first, its PDF after it
    assert b"<html" in html_bytes and b"Testscan" in html_bytes
    photos = server.calls_of("sendMediaGroup") + server.calls_of("sendPhoto")
    if shutil.which("chromium"):  # PNG export needs the system browser
        assert photos
        pngs = [f for f in server.files.values() if f.startswith(b"\x89PNG\r\n\x1a\n")]
        assert len(pngs) >= 2  # the album of key charts: profile and matrix at least
    # the warm chart browser is closed again when no report follows for a while
    assert app.job_queue.get_jobs_by_name("close-chart-browser")
    for _ in range(50):  # the audit entry follows the document within moments
        if "report" in [a.action for a in await store(app).audit_entries()]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("/report was not audited")
    outsider = FakeUser(server, USER_ID + 99)
    await outsider.send("/report")
    assert "alleen voor begeleiders" in outsider.last["text"]


async def test_the_scheduler_rebuilds_the_file_once_a_night_while_a_wave_is_open(
    e2e_app, clock
) -> None:
    """From 03:00 the scheduler rewrites the file once that day, and only with a wave open."""
    app = e2e_app
    clock.current = clock.current.replace(day=2, hour=2)
    await jobs.run_due(app)
    assert not await store(app).rebuild_daily("2026-12-01")  # nothing open: nothing done
    await open_wave(app, "e2e")
    await jobs.run_due(app)  # 02:00: too early
    assert await store(app).rebuild_daily("2026-12-01")  # so yesterday's is still due
    clock.current = clock.current.replace(hour=3)
    await jobs.run_due(app)
    assert not await store(app).rebuild_daily("2026-12-02")  # done by the scheduler
