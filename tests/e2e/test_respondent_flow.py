"""Respondents take surveys through the real bot over HTTP; the database holds exactly that."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from analysis.data import load_waves
from surveys.i18n import t
from surveys.loader import builtin_paths
from tests.anonymity import keyed

from .conftest import (
    KEY,
    USER_ID,
    assert_no_user_id,
    complete_by_buttons,
    issue_codes,
    link_token,
    open_wave,
    questionnaire,
    start_survey,
    start_with_code,
    store_of,
)
from .fake_telegram import FakeUser


async def stored_answers(app: Any, wave: int) -> dict[tuple[str, str], Any]:
    """(question, target) -> value / text / {part: value} of the single finished response,
    read from the database file itself: released, or still waiting for k − 1 others."""
    with keyed(store_of(app).path, bytes.fromhex(KEY)) as db:
        rows = db.execute(
            "SELECT r.id, a.question, a.target, a.part, a.value, a.text FROM responses r "
            "JOIN answers a ON a.response = r.id WHERE r.complete = 1 AND r.wave = ?",
            (wave,),
        ).fetchall()
        waiting = db.execute("SELECT id, content FROM pending WHERE wave = ?", (wave,)).fetchall()
    rows += [(rid, *answer) for rid, content in waiting for answer in json.loads(content)["a"]]
    assert len({r[0] for r in rows}) == 1, "exactly one finished response"
    result: dict[tuple[str, str], Any] = {}
    for _, question, target, part, value, text in rows:
        if part:
            result.setdefault((question, target), {})[part] = value
        else:
            result[(question, target)] = text if text is not None else value
    return result


async def stored_comments(app: Any, wave: int) -> list[str]:
    """The free text of the wave, released or waiting, read from the database file."""
    released = [c.text for c in await store_of(app).comments([wave])]
    with keyed(store_of(app).path, bytes.fromhex(KEY)) as db:
        waiting = db.execute("SELECT content FROM pending WHERE wave = ?", (wave,)).fetchall()
    return released + [text for (content,) in waiting for _, _, text in json.loads(content)["c"]]


def expected_from(
    app: Any, survey: str, org: str, role: str, lang: str, given: dict[int, Any]
) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """What the presses in `given` must have stored, and the comments they must have left."""
    q = questionnaire(app, survey, org, role, lang)
    expected: dict[tuple[str, str], Any] = {}
    comments = []
    for position, value in given.items():
        item = q.items[position]
        question = item.question
        key = (question.id, item.target.id if item.target else "")
        match question.type:
            case "likert" | "nps":
                expected[key] = int(value)
            case "choice":
                expected[key] = value
            case "allocate" | "ranking":  # points or ranks: one number per option
                expected[key] = {o.value: p for o, p in zip(question.options, value, strict=True)}
            case "multi":
                expected[key] = {
                    o.value: 1 for i, o in enumerate(question.options) if value >> i & 1
                }
            case "text":
                comments.append(value)
    return expected, comments


@pytest.mark.parametrize("lang", ["nl", "en", "de"])
@pytest.mark.parametrize("survey", ["trust", "culture", "evaluation"])
async def test_scripted_users_complete_builtin_surveys(app, server, config, survey, lang):
    """A user completes each built-in survey through the buttons; the stored answers match."""
    assert len(builtin_paths()) >= 3
    wave = await open_wave(app, survey)
    role = "administrator" if survey == "evaluation" else "staff"
    user = FakeUser(server, USER_ID, language_code=lang)
    if role == "administrator":  # a restricted role: its own link, and a code from a slip
        [code] = await issue_codes(app, "veenstede", role, 1)
        await start_with_code(user, await link_token(app, "veenstede", role), code)
    else:
        await start_survey(user, await link_token(app, "veenstede"), role)
    progress = {"nl": "Vraag 1 van", "en": "Question 1 of", "de": "Frage 1 von"}[lang]
    given = await complete_by_buttons(user, random.Random(f"{survey}{lang}"))
    thanks = {"nl": "Hartelijk dank", "en": "Thank you", "de": "Vielen Dank"}[lang]
    assert thanks in user.last["text"]
    assert any(progress in text for text in user.seen)
    expected, comments = expected_from(app, survey, "veenstede", role, lang, given)
    stored = await stored_answers(app, wave.id)
    assert {k: v for k, v in stored.items() if k in expected} == expected
    assert set(stored) == set(expected)
    comments_now = await stored_comments(app, wave.id)
    assert sorted(comments_now) == sorted(comments)
    assert_no_user_id(config.database, USER_ID)


async def test_every_question_type_back_skip_and_dont_know(e2e_app, server, e2e_config):
    """Back keeps and shows the earlier answer, Skip and Don't know store what they mean."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID, language_code="en")
    [code] = await issue_codes(app, "dijkhoven", "administrator", 1)
    await start_with_code(user, await link_token(app, "dijkhoven", "administrator"), code)
    assert "Part one" in user.last["text"]  # the section title on its first question
    await user.press(user.button(lambda t, _: t.startswith("Next")))
    assert "Question 1 of" in user.last["text"]
    await user.press(user.button(lambda t, _: t == "agree"))  # v1 = 4
    await user.press(user.button(lambda t, _: t == "« Back"))
    assert "Partners keep their commitments." in user.last["text"]
    assert ("✓ agree", user.button(lambda t, _: t == "✓ agree").partition("|")[0]) in (
        user.buttons()
    )
    await user.press(user.button(lambda t, _: t == "strongly agree"))  # v1 = 5
    await user.press(user.button(lambda t, _: t == "Don't know"))  # v2 = don't know
    await user.press(user.button(lambda t, _: t == "Yes"))  # role question (administrator)
    for _ in range(3):  # three partners
        assert "I trust" in user.last["text"]
        await user.press(user.button(lambda t, _: t == "neutral"))
    await user.press(user.button(lambda t, _: t == "Fewer"))  # opens the 'why' question
    assert "Why fewer?" in user.last["text"]
    await user.send("x" * 60)  # too long: a hint, nothing stored
    assert "at most 50 characters" in user.last["text"]
    await user.send("Te veel vergaderen")
    assert "What does it deliver?" in user.last["text"]
    assert not any(d.startswith("M:") for _, d in user.buttons())  # min 1: no Done yet
    await user.press(user.button(lambda t, _: t.endswith("Quality")))
    await user.press(user.button(lambda t, _: t.startswith("Done")))
    await user.press(user.button(lambda t, _: t == "9"))  # nps
    # allocate: Done only when the points add up
    assert not any(d.startswith("L:") for _, d in user.buttons())
    for _ in range(3):
        await user.press(user.button(lambda _, d: d.endswith(":0+")))
    await user.press(user.button(lambda _, d: d.endswith(":0-")))
    assert "Clan: <b>20</b>" in user.last["text"]
    await user.press(user.button(lambda _, d: d.endswith(":3=")))  # the rest to hierarchy
    await user.press(user.button(lambda _, d: d.startswith("L:")))
    assert "Put these goals in order." in user.last["text"]
    for label in ("Care", "Speed", "Price"):
        await user.press(user.button(lambda t, _, label=label: t == label))
    await user.press(user.button(lambda _, d: d.startswith("P:")))
    assert "Anything else?" in user.last["text"]
    await user.press(user.button(lambda t, _: t == "Skip"))
    assert "Thank you" in user.last["text"]
    stored = await stored_answers(app, wave.id)
    assert stored[("v1", "")] == 5
    assert stored[("v2", "")] is None  # don't know: stored as missing
    assert stored[("role_q", "")] == "yes"
    assert {stored[("p_trust", o)] for o in ("veenstede", "brugwoude", "lindermeer")} == {3}
    assert stored[("m1", "")] == {"quality": 1}
    assert stored[("nps", "")] == 9
    assert stored[("cult", "")] == {"clan": 20, "adhocracy": 0, "market": 0, "hierarchy": 80}
    assert stored[("rank", "")] == {"care": 1, "speed": 2, "price": 3}
    assert ("open", "") not in stored
    assert await stored_comments(app, wave.id) == ["Te veel vergaderen"]
    assert_no_user_id(e2e_config.database, USER_ID)


async def test_a_ranking_by_buttons_with_a_start_over(e2e_app, server, e2e_config):
    """Options tapped in order, Start over, tapped again, Done: the store holds each
    option's rank, and nothing before Done. Back shows the order again, Done at once."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID, language_code="en")
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    await complete_by_buttons(user, random.Random(5), until="Put these goals in order.")

    def ranking_buttons() -> list[str]:
        return [text for text, data in user.buttons() if data[:2] in ("p:", "P:")]

    assert ranking_buttons() == ["Speed", "Care", "Price"]  # no Start over, no Done yet
    await user.press(user.button(lambda t, _: t == "Price"))
    assert "1. Price" in user.last["text"]
    assert ranking_buttons() == ["Speed", "Care", "↺ Start over"]
    await user.press(user.button(lambda t, _: t == "Speed"))
    assert "2. Speed" in user.last["text"]
    await user.press(user.button(lambda t, _: t == "↺ Start over"))
    assert "1. Price" not in user.last["text"]
    assert ranking_buttons() == ["Speed", "Care", "Price"]
    session = await store_of(app).find_session(wave.id, USER_ID)
    assert not any(r.question == "rank" for r in session.rows)  # nothing half-made stored
    for label in ("Care", "Price", "Speed"):
        await user.press(user.button(lambda t, _, label=label: t == label))
    assert ranking_buttons() == ["↺ Start over", "Done ✓"]
    await user.press(user.button(lambda _, d: d.startswith("P:")))
    assert "Anything else?" in user.last["text"]
    await user.press(user.button(lambda t, _: t == "« Back"))
    shown = user.last["text"]
    assert shown.index("1. Care") < shown.index("2. Price") < shown.index("3. Speed")
    await user.press(user.button(lambda _, d: d.startswith("P:")))
    await user.press(user.button(lambda t, _: t == "Skip"))
    assert "Thank you" in user.last["text"]
    assert (await stored_answers(app, wave.id))[("rank", "")] == {"care": 1, "price": 2, "speed": 3}
    await store_of(app).close_wave(wave.id)  # alone in its group: released at the close
    data = await load_waves(store_of(app), [wave.id])  # as the report reads them
    ranks = data.answers[(data.answers["item"] == "rank").to_numpy()]
    assert dict(zip(ranks["target"].astype(str), ranks["value"], strict=True)) == {
        "care": 1.0,
        "price": 2.0,
        "speed": 3.0,
    }
    assert_no_user_id(e2e_config.database, USER_ID)


async def test_duplicates_outdated_and_forged_presses_store_nothing(e2e_app, server):
    """A double delivery, an old button and forged data change nothing; each gets a toast."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID)
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    await user.press(user.button(lambda _, d: d.startswith("n:")))
    first = user.button(lambda t, _: t == "eens")
    await user.press(first, twice=True)  # the same update delivered twice
    session = await store_of(app).find_session(wave.id, USER_ID)
    assert session.cursor == 2 and [r[:4] for r in session.rows] == [("v1", "", "", 4)]
    answer = await user.press(first, expect_change=False)  # an outdated button
    assert "eerdere vraag" in answer["text"]
    for forged in ("a:1:2:99", "a:999:2:1", "zz:1", "a:1:x:1", "L:1:2:1.2.3"):
        toast = await user.press(forged, expect_change=False)
        assert toast.get("text"), forged
    session = await store_of(app).find_session(wave.id, USER_ID)
    assert session.cursor == 2 and len(session.rows) == 1


async def test_text_instead_of_a_button_gets_a_hint(e2e_app, server):
    """Typing where a button is expected gives a short hint and the question again."""
    app = e2e_app
    await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID)
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    before = len(user.inbox())
    await user.send("ik typ gewoon iets")
    await server.wait_for(lambda: len(user.inbox()) >= before + 2)
    assert "knoppen" in user.inbox()[-2]["text"]
    assert "Eerst een paar stellingen." in user.last["text"]
    assert any(d.startswith("n:") for _, d in user.buttons())


async def test_duplicate_text_message_is_stored_once(e2e_app, server):
    """A typed answer delivered twice answers one question, not the next one too."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID, "en")
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    await user.press(user.button(lambda _, d: d.startswith("n:")))
    for label in ("agree", "agree", "agree", "agree", "agree"):
        await user.press(user.button(lambda t, _, label=label: t == label))
    await user.press(user.button(lambda t, _: t == "Fewer"))
    await user.send("Te duur", twice=True)
    await server.wait_for(lambda: "What does it deliver?" in user.last["text"])
    session = await store_of(app).find_session(wave.id, USER_ID)
    texts = [r for r in session.rows if r.text is not None and r.question in ("why", "open")]
    assert texts == [("why", "", "", None, "Te duur")]


async def test_flood_control_and_server_errors_are_retried(e2e_app, server):
    """A 429 with retry_after and a 500 from Telegram delay the answer but lose nothing."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID)
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    server.fail_next("editMessageText", 429, retry_after=1)
    server.fail_next("answerCallbackQuery", 500)
    await user.press(user.button(lambda _, d: d.startswith("n:")))
    assert "Vraag 1 van" in user.last["text"]
    await user.press(user.button(lambda t, _: t == "oneens"))
    session = await store_of(app).find_session(wave.id, USER_ID)
    assert [r[:4] for r in session.rows] == [("v1", "", "", 2)]
    assert not server.failures


async def test_invalid_link_closed_wave_and_second_attempt(e2e_app, server):
    """Each dead end gets its own friendly message."""
    app = e2e_app
    user = FakeUser(server, USER_ID)
    await user.send("/start")
    assert "link" in user.last["text"].lower()
    await user.send("/start not-a-real-token")
    assert "niet (meer) geldig" in user.last["text"]
    token = await link_token(app, "brugwoude", "staff")
    await user.send(f"/start {token}")
    assert "geen meting" in user.last["text"]
    wave = await open_wave(app, "e2e")
    await start_survey(user, token)
    await complete_by_buttons(user, random.Random(3))
    await user.send(f"/start {token}")
    assert "al ingevuld" in user.last["text"]
    await store_of(app).close_wave(wave.id)
    app.bot_data["services"].forget_wave(wave.id)
    other = FakeUser(server, USER_ID + 1)
    tied = (await store_of(app).ensure_invitation("brugwoude", None, wave.id)).token
    await other.send(f"/start {tied}")
    assert "gesloten" in other.last["text"]


async def test_stop_resume_delete_and_language(e2e_app, server, e2e_config):
    """/stop pauses, /start resumes at the same question, /delete erases, /language switches."""
    app = e2e_app
    wave = await open_wave(app, "e2e")
    user = FakeUser(server, USER_ID)
    await start_survey(user, await link_token(app, "dijkhoven", "staff"))
    await user.press(user.button(lambda _, d: d.startswith("n:")))
    await user.press(user.button(lambda t, _: t == "eens"))
    await user.send("/stop")
    assert "Gepauzeerd" in user.last["text"]
    await user.send("/start")
    await server.wait_for(lambda: "Partners zoeken" in user.last.get("text", ""))
    await user.send("/language")
    await user.press(user.button(lambda t, _: t == "English"))
    assert "English" in user.last["text"]
    await user.send("/start")
    await server.wait_for(lambda: "Partners mainly seek" in user.last.get("text", ""))
    await user.send("/delete")
    await user.press(user.button(lambda _, d: d == "x"))
    assert "erased" in user.last["text"]
    assert await store_of(app).find_session(wave.id, USER_ID) is None
    await user.send("/delete")
    await user.press(user.button(lambda _, d: d == "x"))
    assert "no answers in progress" in user.last["text"]
    assert_no_user_id(e2e_config.database, USER_ID)


async def test_the_thanks_tells_the_wait_and_no_reader_delays_it(e2e_app, server):
    """The thank-you says the answers join the results with k − 1 others of the group (or
    at the close); another program holding the WAL delays no completion any more, since
    completing erases nothing that links: the draft was never anyone's to find."""
    app = e2e_app
    store = store_of(app)
    await open_wave(app, "e2e")
    reader = keyed(store.path, bytes.fromhex(KEY))
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM answers").fetchone()  # a report, a browser: reading
    try:
        user = FakeUser(server, USER_ID)
        await start_survey(user, await link_token(app, "dijkhoven"))
        await complete_by_buttons(user, random.Random(3))
        assert user.last["text"].startswith(t("bot.thanks", "nl", others=4))
    finally:
        reader.close()
