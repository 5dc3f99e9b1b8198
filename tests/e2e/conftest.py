"""Fixtures for end-to-end tests: the fake Bot API server and the real bot polling it."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.context import Services
from bot.timing import Timing
from surveys.clock import Clock
from surveys.engine import Questionnaire, Respondent
from surveys.store import Store, Wave
from tests import anonymity
from tests.support.clock import FrozenClock as FakeClock
from trustscan import codes
from trustscan.config import Config, load_config

from .fake_telegram import FakeTelegram, FakeUser

KEY = "ab" * 32
FACILITATOR = 4242
TOKEN = "123456:TEST-token"


def assert_no_user_id(path: Path, user_id: int) -> None:
    """The Telegram id is in no file, neither as stored nor in any decrypted page or frame."""
    anonymity.assert_no_user_id(path, user_id, bytes.fromhex(KEY))


def write_config(tmp_path: Path, server: FakeTelegram, **extra: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[telegram]
token = "{TOKEN}"
api_base_url = "{server.base_url}"
bot_username = "TestBot"
facilitators = [{FACILITATOR}]

[database]
path = "trustscan.db"
key_file = "trustscan.key"

[privacy]
min_group_size = 5
"""
        + "".join(extra.values()),
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def config(tmp_path: Path, server: FakeTelegram) -> Config:
    return load_config(write_config(tmp_path, server), env={"TRUSTSCAN_KEY": KEY})


@pytest.fixture
def clock() -> FakeClock:
    """The bot's, the scheduler's and the store's one clock, set by the test."""
    return FakeClock(dt.datetime(2026, 12, 1, 12, 0))


BRISK = Timing().paced(0.05)
"""The bot's timing where a test is not about Telegram's pace: every wait as in production
(a loaded machine never turns a press into "one moment"), but Telegram twenty times as
fast, so a conversation does not queue a second for each message (the fake Telegram
keeps no flood limits unless a test sets them, and then `paced` too)."""


def paced(server: FakeTelegram, factor: float) -> Timing:
    """For a test about the pace: Telegram's seconds `factor` seconds long for the bot
    (its pace, a flood control's "retry after") and for the fake (its flood limits), so
    every order and every count per second the test checks holds as at Telegram's own
    pace; the bot's other waits stay as in production."""
    server.second = factor
    return Timing().paced(factor)


@asynccontextmanager
async def running(
    config: Config, clock: Clock | None = None, timing: Timing | None = None
) -> AsyncIterator[Any]:
    """The real Application polling the fake server, with its lifecycle hooks.

    `timing` (default `BRISK`) shortens the bot's waits, so a long lock or outage plays
    out in a second.
    """
    app = build_application(config, clock=clock, timing=timing or BRISK)
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_shutdown(app)
        await app.shutdown()


@pytest.fixture
async def app(config: Config, clock: FakeClock) -> AsyncIterator[Any]:
    async with running(config, clock) as application:
        yield application


async def start_up_tick(app: Any) -> None:
    """Wait until the scheduler's tick has run once after start-up (it then waits a minute)."""
    [job] = app.job_queue.get_jobs_by_name("tick")
    while job.next_t is None or job.next_t - dt.datetime.now(dt.UTC) < dt.timedelta(seconds=30):
        await asyncio.sleep(0.02)  # polls the job's schedule: no fixed wait


def store_of(app: Any) -> Store:
    services: Services = app.bot_data["services"]
    assert services.store is not None
    return services.store


async def open_wave(app: Any, survey: str = "trust", closes: str | None = None) -> Wave:
    services: Services = app.bot_data["services"]
    definition = services.registry[survey]
    return await store_of(app).open_wave(
        survey, definition.version, [o.id for o in services.config.organisations], closes_on=closes
    )


async def link_token(app: Any, org: str, role: str | None = None) -> str:
    return (await store_of(app).ensure_invitation(org, role)).token


def questionnaire(app: Any, survey: str, org: str, role: str, lang: str) -> Questionnaire:
    services: Services = app.bot_data["services"]
    return Questionnaire(
        services.registry[survey], Respondent(org, role, lang, services.config.partners())
    )


async def start_survey(user: FakeUser, token: str, role: str | None = "staff") -> None:
    """/start with the link, consent, and the role choice if asked."""
    await user.send(f"/start {token}")
    await user.press(user.button(lambda _, d: d.startswith("c:")))
    if any(d.startswith("r:") for _, d in user.buttons()):
        await user.press(user.button(lambda _, d: d.endswith(f":{role}")))


async def start_with_code(user: FakeUser, token: str, code: str) -> None:
    """A restricted role's link: /start, consent, then the code from the slip is typed."""
    await user.send(f"/start {token}")
    await user.press(user.button(lambda _, d: d.startswith("c:")))
    assert not user.buttons() and "code" in user.last["text"].lower()
    await user.send(code)
    await user.server.wait_for(user.buttons)  # "accepted", then the first question
    user.seen.append(user.last.get("text", ""))


async def issue_codes(app: Any, org: str, role: str, count: int) -> list[str]:
    """Single-use codes as `trustscan codes` issues them (through the application)."""
    return list((await codes.issue(store_of(app), org, role, count)).codes)


def is_answer(data: str) -> bool:
    return data[:2] in ("a:", "L:", "M:", "n:")


def is_rank_pick(data: str) -> bool:
    """A ranking press that puts an option next (not Start over: that has no option)."""
    return data.startswith("p:") and data.count(":") == 4


def ranks_of(order: str) -> tuple[int, ...]:
    """Each option's rank from a ranking's order in the data ("2.0.1": option 2 first)."""
    picked = [int(i) for i in order.split(".")]
    return tuple(picked.index(option) + 1 for option in range(len(picked)))


async def complete_by_buttons(
    user: FakeUser,
    rng: random.Random,
    texts: dict[int, str] | None = None,
    until: str | None = None,
) -> dict[int, Any]:
    """Answer every question the way a person would; return what was given per position.

    With `until`, stop (unanswered) at the first message that contains it.
    """
    given: dict[int, Any] = {}
    for _ in range(400):
        message = user.last
        body = message.get("text", "")
        buttons = user.buttons(message)
        if until is not None and until in body:
            return given
        thanked = "Hartelijk dank" in body or "Thank you" in body
        if "notify" in str(buttons) or (not buttons and thanked):
            return given
        if any(d.startswith("o:") for _, d in buttons):
            return given
        datas = [d for _, d in buttons]
        if any(d.startswith("l:") for d in datas):  # allocate: give one option everything
            option = rng.randrange(sum(1 for d in datas if d.endswith("=")))
            await user.press(next(d for d in datas if d.endswith(f":{option}=")))
            done = user.button(lambda _, d: d.startswith("L:"))
            given[int(done.partition("|")[0].split(":")[2])] = tuple(
                int(p) for p in done.partition("|")[0].split(":")[3].split(".")
            )
            await user.press(done)
            continue
        if any(d.startswith("p:") for d in datas):  # ranking: the options in a random order
            while picks := [d for _, d in user.buttons() if is_rank_pick(d)]:
                await user.press(rng.choice(picks))
            done = user.button(lambda _, d: d.startswith("P:"))
            given[int(done.partition("|")[0].split(":")[2])] = ranks_of(
                done.partition("|")[0].split(":")[3]
            )
            await user.press(done)
            continue
        if any(d.startswith("m:") for d in datas):
            first = next(d for d in datas if d.startswith("m:"))
            await user.press(first)
            done = user.button(lambda _, d: d.startswith("M:"))
            given[int(done.partition("|")[0].split(":")[2])] = int(
                done.partition("|")[0].split(":")[3], 16
            )
            await user.press(done)
            continue
        answers = [d for d in datas if is_answer(d)]
        if answers:
            choice = rng.choice(answers)
            given[int(choice.split(":")[2])] = choice.split(":", 3)[3] if choice[0] == "a" else None
            await user.press(choice)
            continue
        if re.search(r"Typ uw antwoord|Type your answer|Schreiben Sie Ihre Antwort", body):
            skip = [d for _, d in buttons if d.startswith("s:")]
            position = int(skip[0].split(":")[2]) if skip else None
            text = (texts or {}).get(position or -1, f"Opmerking {rng.random():.6f}")
            await user.send(text)
            if position is not None:
                given[position] = text
            continue
        raise AssertionError(f"stuck at: {body!r} {buttons}")
    raise AssertionError("survey did not end")


E2E_SURVEY = Path(__file__).parent / "data" / "e2e.toml"
USER_ID = 5_987_654_321


@pytest.fixture
def e2e_config(tmp_path: Path, server: FakeTelegram):
    return load_config(
        write_config(tmp_path, server, s=f'[surveys]\npaths = ["{E2E_SURVEY}"]\n'),
        env={"TRUSTSCAN_KEY": KEY},
    )


@pytest.fixture
async def e2e_app(e2e_config, clock):
    async with running(e2e_config, clock) as app:
        yield app
