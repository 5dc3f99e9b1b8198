"""The questionnaire engine: filtering, expansion, navigation, validation and random use."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.answers import DONT_KNOW
from surveys.engine import (
    Change,
    Done,
    Partner,
    Questionnaire,
    QuestionStep,
    Respondent,
    State,
    Step,
)
from surveys.errors import AnswerError
from surveys.model import Question, Survey
from tests.support.budget import examples

# Every question type, role filters, a `when` condition, per-partner items and two sections.
ALL_TYPES = """
id = "all"
languages = ["nl", "en"]
title = { nl = "Alles", en = "Everything" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4", "5"] }
dont_know = true

[scales.often3]
points = 3
labels = { nl = ["nooit", "soms", "vaak"], en = ["never", "sometimes", "often"] }

[[sections]]
id = "a"
title = { nl = "Deel A", en = "Part A" }
intro = { nl = "Over A", en = "About A" }

[[sections]]
id = "b"
title = { nl = "Deel B", en = "Part B" }

[[questions]]
id = "hello"
type = "info"
section = "a"
text = { nl = "Welkom", en = "Welcome" }

[[questions]]
id = "l1"
type = "likert"
section = "a"
scale = "agree5"
text = { nl = "Stelling", en = "Statement" }

[[questions]]
id = "boss"
type = "likert"
section = "a"
scale = "often3"
roles = ["administrator"]
text = { nl = "Alleen bestuurders", en = "Administrators only" }

[[questions]]
id = "pick"
type = "choice"
section = "b"
options = [{ value = "x", label = { nl = "Iks", en = "Ex" } },
           { value = "y", label = { nl = "IJ", en = "Why" } },
           { value = "z", label = { nl = "Zet", en = "Zed" } }]
text = { nl = "Kies", en = "Pick" }

[[questions]]
id = "ifx"
type = "multi"
section = "b"
min = 1
max = 2
when = { question = "pick", in = ["x", "z"] }
options = [{ value = "p", label = { nl = "P", en = "P" } },
           { value = "q", label = { nl = "Q", en = "Q" } },
           { value = "r", label = { nl = "R", en = "R" } }]
text = { nl = "Na x of z", en = "After x or z" }

[[questions]]
id = "pp"
type = "likert"
section = "b"
scale = "agree5"
per_partner = true
text = { nl = "Vertrouw je {partner}?", en = "Do you trust {partner}?" }

[[questions]]
id = "n"
type = "nps"
required = false
dont_know = true
text = { nl = "Aanbevelen?", en = "Recommend?" }

[[questions]]
id = "staffonly"
type = "choice"
roles = ["staff", "manager"]
options = [{ value = "a", label = { nl = "A", en = "A" } },
           { value = "b", label = { nl = "B", en = "B" } }]
text = { nl = "Alleen medewerkers", en = "Staff only" }

[[questions]]
id = "alloc"
type = "allocate"
total = 100
step = 10
options = [{ value = "c", label = { nl = "C", en = "C" } },
           { value = "m", label = { nl = "M", en = "M" } },
           { value = "h", label = { nl = "H", en = "H" } }]
text = { nl = "Verdeel", en = "Divide" }

[[questions]]
id = "rank"
type = "ranking"
options = [{ value = "k", label = { nl = "K", en = "K" } },
           { value = "q", label = { nl = "Q", en = "Q" } },
           { value = "v", label = { nl = "V", en = "V" } }]
text = { nl = "Volgorde", en = "Order" }

[[questions]]
id = "why"
type = "text"
max_length = 20
text = { nl = "Waarom?", en = "Why?" }
"""

CHOICE_XY = """
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
"""

PARTNERS = (Partner("north", "Noord"), Partner("south", "Zuid"), Partner("east", "Oost"))
ROLES = ("staff", "manager", "administrator", "council", None)
ORGS = ("north", "south", "west")  # west is not among the partners

VALID: dict[str, object] = {
    "l1": 4,
    "boss": 2,
    "pick": "x",
    "ifx": ("p",),
    "pp": 3,
    "n": 7,
    "staffonly": "a",
    "alloc": (50, 30, 20),
    "rank": (2, 3, 1),
    "why": "omdat",
}


@pytest.fixture(scope="module")
def survey(load_toml) -> Survey:
    """The all-types definition, loaded from a file."""
    return load_toml(ALL_TYPES, "all.toml")


def engine(
    survey: Survey, role: str | None = "staff", org: str = "north", lang: str = "nl"
) -> Questionnaire:
    return Questionnaire(survey, Respondent(org, role, lang, PARTNERS))


def walk(
    q: Questionnaire,
    answers: Mapping[str, object] = VALID,
    state: State | None = None,
    stop_at: str | None = None,
) -> tuple[State, list[QuestionStep]]:
    """Answer by question id (proceeding past info) until Done or the step with key `stop_at`."""
    state = state or State()
    steps = []
    while isinstance(step := q.step(state), QuestionStep) and step.key != stop_at:
        steps.append(step)
        if step.type == "info":
            state = q.proceed(state, step.index).state
        else:
            state = q.answer(state, step.index, answers[step.question.id]).state
    return state, steps


def back_to(q: Questionnaire, state: State, key: str) -> State:
    """Go back step by step until the step with `key` is shown."""
    while True:
        step = q.step(state)
        if isinstance(step, QuestionStep) and step.key == key:
            return state
        index = step.index if isinstance(step, QuestionStep) else len(q.items)
        state = q.back(state, index).state


def at_key(q: Questionnaire, key: str, answers: Mapping[str, object] = VALID) -> State:
    state, _ = walk(q, answers, stop_at=key)
    assert q.step(state).key == key
    return state


def error_of(action, *args) -> AnswerError:
    with pytest.raises(AnswerError) as info:
        action(*args)
    return info.value


# -- who is asked what ---------------------------------------------------------------------


def test_role_filter_hides_questions_of_other_roles(survey) -> None:
    """A question with roles is only shown to those roles; a respondent without a role skips it."""
    shown = {role: {s.question.id for s in walk(engine(survey, role))[1]} for role in ROLES}
    assert "boss" in shown["administrator"]
    assert "staffonly" not in shown["administrator"]
    assert {"staffonly"} <= shown["staff"] & shown["manager"]
    assert "boss" not in shown["staff"] | shown["manager"] | shown["council"] | shown[None]
    assert "staffonly" not in shown["council"] | shown[None]
    assert {"l1", "pick", "pp", "alloc"} <= shown[None]


@pytest.mark.parametrize(
    ("org", "targets"),
    [
        ("north", ["south", "east"]),
        ("south", ["north", "east"]),
        ("west", ["north", "south", "east"]),
    ],
)
def test_per_partner_question_is_asked_once_per_other_partner(survey, org, targets) -> None:
    """A per-partner question becomes one item per partner, never about the own organisation."""
    q = engine(survey, org=org)
    state, steps = walk(q)
    assert [s.key for s in steps if s.question.id == "pp"] == [f"pp@{t}" for t in targets]
    assert sorted(k for k in state.answers if k.startswith("pp")) == sorted(
        f"pp@{t}" for t in targets
    )


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("nl", ["Vertrouw je Zuid?", "Vertrouw je Oost?"]),
        ("en", ["Do you trust Zuid?", "Do you trust Oost?"]),
    ],
)
def test_partner_placeholder_is_replaced_by_the_partner_name(survey, lang, texts) -> None:
    """{partner} in a per-partner question is rendered as that partner's name."""
    _, steps = walk(engine(survey, lang=lang))
    assert [s.text for s in steps if s.question.id == "pp"] == texts


@pytest.mark.parametrize(("pick", "asked"), [("x", True), ("z", True), ("y", False)])
def test_when_condition_asks_follow_up_only_after_a_matching_answer(survey, pick, asked) -> None:
    """The follow-up is shown only when the earlier answer is one of the `when` values."""
    q = engine(survey)
    state, steps = walk(q, {**VALID, "pick": pick})
    keys = [s.key for s in steps]
    assert ("ifx" in keys) is asked
    assert ("ifx" in state.answers) is asked
    after_pick = keys[keys.index("pick") + 1]
    assert after_pick == ("ifx" if asked else "pp@south")


@pytest.mark.parametrize(
    ("tools", "asked"),
    [(("q",), False), (("q", "r"), True), (("p",), True), ((), False)],
)
def test_when_on_a_multi_question_matches_any_overlap(load_toml, tools, asked) -> None:
    """A condition on a multi question holds when any chosen option is among its values."""
    survey = load_toml(
        """
id = "m"
languages = ["nl", "en"]
title = { nl = "M", en = "M" }

[[questions]]
id = "tools"
type = "multi"
options = [{ value = "p", label = { nl = "P", en = "P" } },
           { value = "q", label = { nl = "Q", en = "Q" } },
           { value = "r", label = { nl = "R", en = "R" } }]
text = { nl = "Welke?", en = "Which?" }

[[questions]]
id = "follow"
type = "choice"
when = { question = "tools", in = ["p", "r"] }
"""
        + CHOICE_XY
        + 'text = { nl = "Hoe?", en = "How?" }\n',
        "m.toml",
    )
    q = Questionnaire(survey, Respondent("north", None, "nl"))
    state = q.answer(State(), 0, tools).state
    step = q.step(state)
    if asked:
        assert isinstance(step, QuestionStep) and step.key == "follow"
    else:
        assert step == Done(answered=1, total=1)


# -- what a step shows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pick", "progress"),
    [
        (
            "x",
            [
                ("hello", 1, 10),
                ("l1", 1, 10),
                ("pick", 2, 10),
                ("ifx", 3, 10),
                ("pp@south", 4, 10),
                ("pp@east", 5, 10),
                ("n", 6, 10),
                ("staffonly", 7, 10),
                ("alloc", 8, 10),
                ("rank", 9, 10),
                ("why", 10, 10),
            ],
        ),
        (
            "y",
            [
                ("hello", 1, 10),
                ("l1", 1, 10),
                ("pick", 2, 10),
                ("pp@south", 3, 9),
                ("pp@east", 4, 9),
                ("n", 5, 9),
                ("staffonly", 6, 9),
                ("alloc", 7, 9),
                ("rank", 8, 9),
                ("why", 9, 9),
            ],
        ),
    ],
)
def test_progress_counts_applicable_answerable_items(survey, pick, progress) -> None:
    """Position and total count the questions asked; info shares the next position.

    A follow-up counts until the answer it depends on rules it out: with "x" the total
    stays 10 when "ifx" appears (no 9 → 10 jump); with "y" it drops to 9 after "pick".
    """
    q = engine(survey)
    state, steps = walk(q, {**VALID, "pick": pick})
    assert [(s.key, s.position, s.total) for s in steps] == progress
    total = progress[-1][2]
    assert q.step(state) == Done(answered=total, total=total)


def test_section_title_is_shown_only_on_the_first_question_of_a_section(survey) -> None:
    """The section title and intro come with its first question, not with the ones after."""
    _, steps = walk(engine(survey, lang="en"))
    titles = {s.key: (s.section_title, s.section_intro) for s in steps}
    assert titles["hello"] == ("Part A", "About A")
    assert titles["pick"] == ("Part B", None)
    untitled = {k for k, v in titles.items() if v == (None, None)}
    assert untitled == set(titles) - {"hello", "pick"}


def test_section_title_is_shown_again_when_going_back_to_its_first_question(survey) -> None:
    """Going back to the first question of a section shows the title again; not to others."""
    q = engine(survey)
    state = at_key(q, "ifx")
    pick = q.step(back_to(q, state, "pick"))
    assert pick.section_title == "Deel B"
    l1 = q.step(back_to(q, state, "l1"))
    assert l1.section_title is None


def test_step_renders_choices_and_text_in_the_respondent_language(survey) -> None:
    """Choices are (value, label) in the language asked; likert values are 1..points."""
    q = engine(survey, lang="en")
    pick = q.step(at_key(q, "pick"))
    assert [(c.value, c.label) for c in pick.choices] == [("x", "Ex"), ("y", "Why"), ("z", "Zed")]
    assert pick.text == "Pick"
    assert [c.label for c in q.step(at_key(q, "pick"), "nl").choices] == ["Iks", "IJ", "Zet"]
    l1 = q.step(at_key(q, "l1"))
    assert [c.value for c in l1.choices] == ["1", "2", "3", "4", "5"]


# -- navigation -------------------------------------------------------------------------------


def test_back_keeps_answers_and_shows_the_earlier_answer(survey) -> None:
    """Going back changes no answer, and the earlier question shows its answer as `current`."""
    q = engine(survey)
    state = at_key(q, "pp@south")
    answers = dict(state.answers)
    state = q.back(state, q.step(state).index).state
    assert dict(state.answers) == answers
    assert q.step(state).key == "ifx"
    assert q.step(state).current == ("p",)
    state = q.back(state, q.step(state).index).state
    assert q.step(state).key == "pick"
    assert q.step(state).current == "x"
    # Answering the same again moves on, and the next question still shows its answer.
    state = q.answer(state, q.step(state).index, "x").state
    assert q.step(state).key == "ifx"
    assert q.step(state).current == ("p",)


def test_back_from_done_returns_to_the_last_question(survey) -> None:
    """From Done, back (with the end index) shows the last question and its answer."""
    q = engine(survey)
    state, _ = walk(q)
    state = q.back(state, len(q.items)).state
    step = q.step(state)
    assert (step.key, step.current) == ("why", "omdat")


def test_back_is_refused_at_the_first_question(survey) -> None:
    """The first step cannot go back: can_back is false and back raises 'at_start'."""
    q = engine(survey)
    first = q.step(State())
    assert first.key == "hello" and not first.can_back
    assert error_of(q.back, State(), first.index).code == "at_start"
    assert q.step(at_key(q, "l1")).can_back


def test_proceed_moves_past_info_but_not_past_a_question(survey) -> None:
    """Info statements are passed with proceed; a question needs an answer ('needs_answer')."""
    q = engine(survey)
    state = q.proceed(State(), 0).state
    step = q.step(state)
    assert step.key == "l1"
    assert error_of(q.proceed, state, step.index).code == "needs_answer"


def test_skip_is_only_possible_for_optional_questions(survey) -> None:
    """Required questions refuse skip with 'required'; optional ones move on unanswered."""
    q = engine(survey)
    l1 = at_key(q, "l1")
    assert not q.step(l1).can_skip
    assert error_of(q.skip, l1, q.step(l1).index).code == "required"
    n = at_key(q, "n")
    assert q.step(n).can_skip
    change = q.skip(n, q.step(n).index)
    assert "n" not in change.state.answers
    assert change.drop == ()
    assert q.step(change.state).key == "staffonly"
    why = at_key(q, "why")
    assert q.step(why).can_skip  # text questions are optional unless required = true
    assert q.skip(why, q.step(why).index).state.answers == why.answers


def test_skip_erases_an_earlier_answer(survey) -> None:
    """Skipping an optional question that was answered before drops that answer."""
    q = engine(survey)
    state = back_to(q, walk(q)[0], "n")
    assert q.step(state).current == 7
    change = q.skip(state, q.step(state).index)
    assert change.drop == ("n",)
    assert "n" not in change.state.answers


def test_dont_know_is_stored_where_allowed(survey) -> None:
    """Don't-know is accepted on a scale with dont_know and on an nps with dont_know."""
    q = engine(survey)
    l1 = at_key(q, "l1")
    assert q.step(l1).can_dont_know
    change = q.dont_know(l1, q.step(l1).index)
    assert change.state.answers["l1"] is DONT_KNOW
    assert change.put == {"l1": DONT_KNOW}
    n = at_key(q, "n")
    assert q.dont_know(n, q.step(n).index).state.answers["n"] is DONT_KNOW


@pytest.mark.parametrize(("role", "key"), [("staff", "pick"), ("administrator", "boss")])
def test_dont_know_is_refused_where_not_allowed(survey, role, key) -> None:
    """A choice or a likert on a scale without dont_know refuses it with 'no_dont_know'."""
    q = engine(survey, role)
    state = at_key(q, key)
    assert not q.step(state).can_dont_know
    assert error_of(q.dont_know, state, q.step(state).index).code == "no_dont_know"


@pytest.mark.parametrize("key", ["ifx", "alloc", "rank", "why"])
def test_dont_know_on_multi_allocate_and_text_is_refused_as_no_dont_know(survey, key) -> None:
    """Multi, allocate, ranking and text refuse don't-know with the 'no_dont_know' hint."""
    q = engine(survey)
    state = at_key(q, key)
    assert not q.step(state).can_dont_know
    assert error_of(q.dont_know, state, q.step(state).index).code == "no_dont_know"


def test_stale_index_is_refused(survey) -> None:
    """Any action with an index other than the cursor raises 'stale' and names both."""
    q = engine(survey)
    state = at_key(q, "l1")
    index = q.step(state).index
    for action, args in [
        (q.answer, (index - 1, 3)),
        (q.answer, (index + 1, 3)),
        (q.skip, (index - 1,)),
        (q.dont_know, (index + 1,)),
        (q.proceed, (index - 1,)),
        (q.back, (index + 1,)),
    ]:
        error = error_of(action, state, *args)
        assert error.code == "stale"
        assert error.params == {"expected": index, "got": args[0]}
    done, _ = walk(q)
    assert error_of(q.answer, done, len(q.items), "x").code == "stale"


# -- answer validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "code", "params"),
    [
        ("l1", 0, "out_of_range", {"low": 1, "high": 5}),
        ("l1", 6, "out_of_range", {"low": 1, "high": 5}),
        ("l1", "3", "out_of_range", {"low": 1, "high": 5}),
        ("l1", True, "out_of_range", {"low": 1, "high": 5}),
        ("n", 11, "out_of_range", {"low": 0, "high": 10}),
        ("n", -1, "out_of_range", {"low": 0, "high": 10}),
        ("pick", "w", "unknown_option", {}),
        ("ifx", (), "choose_between", {"low": 1, "high": 2}),
        ("ifx", ("p", "q", "r"), "choose_between", {"low": 1, "high": 2}),
        ("ifx", ("p", "s"), "unknown_option", {}),
        ("ifx", "p", "unknown_option", {}),
        ("alloc", (50, 30, 10), "allocate_total", {"total": 100, "got": 90}),
        ("alloc", (50, 30, 30), "allocate_total", {"total": 100, "got": 110}),
        ("alloc", (50, 50), "allocate_shape", {"count": 3}),
        ("alloc", (-10, 60, 50), "allocate_shape", {"count": 3}),
        ("alloc", "100", "allocate_shape", {"count": 3}),
        ("rank", (1, 1, 2), "rank_all", {"count": 3}),
        ("rank", (1, 2), "rank_all", {"count": 3}),
        ("rank", (0, 1, 2), "rank_all", {"count": 3}),
        ("rank", (1, 2, True), "rank_all", {"count": 3}),
        ("rank", "123", "rank_all", {"count": 3}),
        ("why", "x" * 21, "too_long", {"limit": 20, "got": 21}),
        ("why", "   ", "empty_text", {}),
    ],
)
def test_invalid_answer_is_refused_with_its_hint_code(survey, key, value, code, params) -> None:
    """Each invalid answer raises AnswerError with the code and parameters of its hint."""
    q = engine(survey)
    state = at_key(q, key)
    error = error_of(q.answer, state, q.step(state).index, value)
    assert (error.code, error.params) == (code, params)
    assert q.step(state).key == key


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("alloc", [60, 30, 10], (60, 30, 10)),
        ("alloc", (100, 0, 0), (100, 0, 0)),
        ("rank", [3, 1, 2], (3, 1, 2)),
        ("ifx", ["r", "p"], ("p", "r")),
        ("ifx", {"q"}, ("q",)),
        ("why", "  " + "x" * 20 + "  ", "x" * 20),
        ("n", 0, 0),
    ],
)
def test_valid_answer_is_stored_in_its_canonical_form(survey, key, value, stored) -> None:
    """Valid answers are normalised: multi in option order, allocate as a tuple, text stripped."""
    q = engine(survey)
    state = at_key(q, key)
    change = q.answer(state, q.step(state).index, value)
    assert change.state.answers[key] == stored
    assert change.put == {key: stored}


def test_changing_an_earlier_answer_makes_the_follow_up_stale(survey) -> None:
    """When the follow-up no longer applies, stale_keys lists its answer and it is not asked."""
    q = engine(survey)
    done, _ = walk(q)
    assert q.stale_keys(done) == ()
    state = back_to(q, done, "pick")
    state = q.answer(state, q.step(state).index, "y").state
    assert q.step(state).key == "pp@south"
    assert q.stale_keys(state) == ("ifx",)
    assert "ifx" not in q.missing_required(state)
    state, steps = walk(q, state=state)
    assert "ifx" not in [s.key for s in steps]
    assert q.stale_keys(state) == ("ifx",)


def test_missing_required_lists_unanswered_applicable_questions(survey) -> None:
    """missing_required names every applicable required item until it is answered."""
    q = engine(survey)
    assert q.missing_required(State()) == [
        "l1",
        "pick",
        "pp@south",
        "pp@east",
        "staffonly",
        "alloc",
        "rank",
    ]
    state = at_key(q, "ifx")
    assert q.missing_required(state) == [
        "ifx",
        "pp@south",
        "pp@east",
        "staffonly",
        "alloc",
        "rank",
    ]


def test_missing_required_is_empty_when_done(survey) -> None:
    """A respondent who reached Done has answered every applicable required question."""
    for role in ROLES:
        q = engine(survey, role)
        state, _ = walk(q)
        assert isinstance(q.step(state), Done)
        assert q.is_done(state)
        assert q.missing_required(state) == []


# -- edge cases that were bugs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "after",
    [
        "",
        '[[questions]]\nid = "boss"\ntype = "choice"\nroles = ["administrator"]\n'
        'text = { nl = "B", en = "B" }\n' + CHOICE_XY,
    ],
    ids=["info last", "info before another role's question"],
)
def test_info_after_the_last_question_does_not_exceed_the_total(load_toml, after) -> None:
    """An info statement with no applicable question after it has position <= total."""
    survey = load_toml(
        """
id = "tail"
languages = ["nl", "en"]
title = { nl = "T", en = "T" }

[[questions]]
id = "q1"
type = "choice"
text = { nl = "V", en = "Q" }
"""
        + CHOICE_XY
        + """
[[questions]]
id = "bye"
type = "info"
text = { nl = "Tot slot", en = "Finally" }

"""
        + after,
        "tail.toml",
    )
    q = Questionnaire(survey, Respondent("north", "staff", "nl"))
    step = q.step(q.answer(State(), 0, "x").state)
    assert step.key == "bye"
    assert step.position <= step.total


CHAIN = """
id = "chain"
languages = ["nl", "en"]
title = { nl = "K", en = "C" }

[[questions]]
id = "a"
type = "choice"
text = { nl = "A", en = "A" }
{xy}
[[questions]]
id = "b"
type = "choice"
when = { question = "a", in = ["x"] }
text = { nl = "B", en = "B" }
{xy}
[[questions]]
id = "c"
type = "choice"
when = { question = "b", in = ["x"] }
text = { nl = "C", en = "C" }
{xy}
"""


def chain_after_changing_a(load_toml) -> tuple[Questionnaire, State]:
    """a=x, b=x, c=x answered; then back to a and a changed to y (so b no longer applies)."""
    survey = load_toml(CHAIN.replace("{xy}", CHOICE_XY), "chain.toml")
    q = Questionnaire(survey, Respondent("north", None, "nl"))
    state, _ = walk(q, {"a": "x", "b": "x", "c": "x"})
    state = back_to(q, state, "a")
    return q, q.answer(state, 0, "y").state


def test_question_conditional_on_a_no_longer_asked_question_is_not_asked(load_toml) -> None:
    """With a -> b -> c conditions, making b inapplicable also stops c from being asked."""
    q, state = chain_after_changing_a(load_toml)
    assert isinstance(q.step(state), Done)
    assert q.missing_required(state) == []


def test_stale_keys_include_answers_that_are_stale_through_a_chain(load_toml) -> None:
    """With a -> b -> c conditions, making b inapplicable makes the answers of b and c stale."""
    q, state = chain_after_changing_a(load_toml)
    assert set(q.stale_keys(state)) == {"b", "c"}


def test_back_without_any_item_is_refused_as_at_start(load_toml) -> None:
    """A respondent whose role gets no question at all is Done, and back says 'at_start'."""
    survey = load_toml(
        """
id = "none"
languages = ["nl", "en"]
title = { nl = "N", en = "N" }

[[questions]]
id = "c"
type = "choice"
roles = ["council"]
text = { nl = "R", en = "C" }
"""
        + CHOICE_XY,
        "none.toml",
    )
    q = Questionnaire(survey, Respondent("north", "staff", "nl"))
    assert q.step(State()) == Done(answered=0, total=0)
    assert error_of(q.back, State(), 0).code == "at_start"


# -- properties under random use -----------------------------------------------------------------


def condition_holds(question: Question, answers: Mapping[str, object]) -> bool:
    """The `when` of a question evaluated independently of the engine (multi: any overlap)."""
    cond = question.when
    if cond is None:
        return True
    answer = answers.get(cond.question)
    if answer is None or answer is DONT_KNOW:
        return False
    chosen = answer if isinstance(answer, tuple) else (answer,)
    return any(v in cond.values for v in chosen)


def unanswered_required(
    survey: Survey, respondent: Respondent, answers: Mapping[str, object]
) -> list[str]:
    """Keys of applicable required items without an answer, computed from the definition."""
    missing = []
    for question in survey.questions:
        if not question.required or not condition_holds(question, answers):
            continue
        if question.roles is not None and respondent.role not in question.roles:
            continue
        targets = (
            [p.id for p in respondent.partners if p.id != respondent.org]
            if question.per_partner
            else [None]
        )
        for target in targets:
            key = f"{question.id}@{target}" if target else question.id
            if key not in answers:
                missing.append(key)
    return missing


def valid_value(question: Question, data: st.DataObject) -> object:
    values = [o.value for o in question.options]
    match question.type:
        case "likert":
            return data.draw(st.integers(1, question.points))
        case "nps":
            return data.draw(st.integers(0, 10))
        case "choice":
            return data.draw(st.sampled_from(values))
        case "multi":
            chosen = st.lists(
                st.sampled_from(values),
                min_size=question.params.min_choices,
                max_size=question.params.max_choices,
                unique=True,
            )
            return data.draw(st.one_of(chosen, chosen.map(tuple)))
        case "allocate":
            cuts = data.draw(
                st.lists(
                    st.integers(0, question.params.total // question.params.step),
                    min_size=len(values) - 1,
                    max_size=len(values) - 1,
                )
            )
            edges = [0, *sorted(c * question.params.step for c in cuts), question.params.total]
            return tuple(b - a for a, b in itertools.pairwise(edges))
        case "ranking":
            ranks = st.permutations(range(1, len(values) + 1))
            return data.draw(st.one_of(ranks, ranks.map(tuple)))
        case "text":
            text = st.text("abc xyz", max_size=question.params.max_length - 1).map(
                lambda t: "a" + t
            )
            return data.draw(text)
    raise AssertionError(question.type)


def invalid_value(question: Question, data: st.DataObject) -> object:
    values = [o.value for o in question.options]
    junk = st.one_of(st.none(), st.just(True), st.floats(allow_nan=False))
    match question.type:
        case "likert":
            wrong = st.one_of(
                st.integers(max_value=0),
                st.integers(min_value=question.points + 1),
                st.integers(1, question.points).map(str),
            )
        case "nps":
            wrong = st.one_of(
                st.integers(max_value=-1), st.integers(min_value=11), st.integers(0, 10).map(str)
            )
        case "choice":
            wrong = st.one_of(
                st.text("abcwxyz", max_size=3).filter(lambda v: v not in values),
                st.integers(),
                st.just(tuple(values[:1])),
            )
        case "multi":
            wrong = st.one_of(
                st.just(tuple(values)),  # more than max
                st.just(()),  # fewer than min
                st.lists(st.sampled_from(values)).map(lambda v: (*v, "nope")),
                st.sampled_from(values),  # a bare string
            )
        case "allocate":
            n = len(values)
            wrong = st.one_of(
                st.lists(st.integers(0, question.params.total), min_size=n, max_size=n)
                .filter(lambda v: sum(v) != question.params.total)
                .map(tuple),
                st.just((question.params.total,)),
                st.just((question.params.total + 10, -10, *([0] * (n - 2)))),
                st.just(str(question.params.total)),
            )
        case "ranking":
            n = len(values)
            wrong = st.one_of(
                st.lists(st.integers(-1, n + 1), min_size=n, max_size=n)
                .filter(lambda v: sorted(v) != list(range(1, n + 1)))
                .map(tuple),
                st.permutations(range(1, n + 1)).map(lambda v: tuple(v[:-1])),  # one unranked
                st.permutations(range(1, n + 1)).map(lambda v: (*v, n + 1)),  # one too many
                st.permutations(range(1, n + 1)).map(lambda v: tuple(map(str, v))),
                st.just(1),
            )
        case "text":
            wrong = st.one_of(
                st.text(" \n\t", max_size=5),
                st.text(
                    "ab",
                    min_size=question.params.max_length + 1,
                    max_size=question.params.max_length + 20,
                ),
                st.integers(),
            )
        case _:
            raise AssertionError(question.type)
    return data.draw(st.one_of(wrong, junk))


# "rewind" is several backs in a row, so that earlier answers (like the `when` target) get
# changed often enough for follow-ups to become stale.
ANSWERABLE_ACTIONS = (
    "valid",
    "valid",
    "valid",
    "valid",
    "invalid",
    "back",
    "rewind",
    "skip",
    "dont_know",
    "proceed",
    "stale",
)
INFO_ACTIONS = ("valid", "valid", "back", "skip", "dont_know", "stale")
DONE_ACTIONS = ("stop", "back", "rewind", "rewind", "stale")


@dataclass(frozen=True)
class Transition:
    """One random action: the step and state before, the outcome and the step and state after."""

    action: str
    before: State
    before_step: Step
    snapshot: tuple[int, dict[str, object]]  # (cursor, answers) copied before the action
    change: Change | None
    error: AnswerError | None
    after: State
    after_step: Step


def snapshot(state: State) -> tuple[int, dict[str, object]]:
    return state.cursor, dict(state.answers)


def perform(q: Questionnaire, state: State, step: Step, action: str, data: st.DataObject):
    index = step.index if isinstance(step, QuestionStep) else len(q.items)
    match action:
        case "valid" if step.type == "info":
            return q.proceed(state, index)
        case "valid":
            return q.answer(state, index, valid_value(step.question, data))
        case "invalid":
            return q.answer(state, index, invalid_value(step.question, data))
        case "back":
            return q.back(state, index)
        case "skip":
            return q.skip(state, index)
        case "dont_know":
            return q.dont_know(state, index)
        case "proceed":
            return q.proceed(state, index)
        case "stale":
            wrong = data.draw(st.integers(-2, len(q.items) + 2).filter(lambda i: i != index))
            kind = data.draw(st.sampled_from(["answer", "skip", "back", "dont_know", "proceed"]))
            if kind == "answer":
                return q.answer(state, wrong, 1)
            return getattr(q, kind)(state, wrong)
    raise AssertionError(action)


def run(q: Questionnaire, data: st.DataObject, max_actions: int = 50) -> list[Transition]:
    """Drive the engine with random actions from the start; return every transition."""
    state = State()
    step = q.step(state)
    transitions: list[Transition] = []
    for _ in range(max_actions):
        if isinstance(step, Done):
            actions = DONE_ACTIONS
        else:
            actions = INFO_ACTIONS if step.type == "info" else ANSWERABLE_ACTIONS
        action = data.draw(st.sampled_from(actions))
        if action == "stop":
            break
        if action == "rewind":
            for _ in range(data.draw(st.integers(1, 8))):
                transitions.append(act(q, state, step, "back", data))
                state, step = transitions[-1].after, transitions[-1].after_step
            continue
        transitions.append(act(q, state, step, action, data))
        state, step = transitions[-1].after, transitions[-1].after_step
    return transitions


def act(q: Questionnaire, state: State, step: Step, action: str, data: st.DataObject) -> Transition:
    """Perform one action and record it, refused or not."""
    before = snapshot(state)
    try:
        change, error = perform(q, state, step, action, data), None
    except AnswerError as exc:
        change, error = None, exc
    after = change.state if change else state
    return Transition(action, state, step, before, change, error, after, q.step(after))


RANDOM_USE = settings(max_examples=examples(200))
RESPONDENTS = st.builds(
    Respondent,
    org=st.sampled_from(ORGS),
    role=st.sampled_from(ROLES),
    lang=st.sampled_from(["nl", "en"]),
    partners=st.just(PARTNERS),
)


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_never_reaches_done_with_a_required_question_unanswered(
    survey, data, respondent
) -> None:
    """Whenever the step is Done, every applicable required question has an answer."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        if isinstance(t.after_step, Done):
            assert q.missing_required(t.after) == []
            assert unanswered_required(survey, respondent, t.after.answers) == []
            assert q.is_done(t.after)


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_progress_only_goes_back_by_back(survey, data, respondent) -> None:
    """Position never decreases except by back, and always lies between 1 and the total."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        for step in (t.before_step, t.after_step):
            if isinstance(step, QuestionStep):
                assert 1 <= step.position <= step.total
        if isinstance(t.before_step, QuestionStep) and isinstance(t.after_step, QuestionStep):
            if t.action == "back" and t.error is None:
                assert t.after_step.position <= t.before_step.position
            else:
                assert t.after_step.position >= t.before_step.position


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_total_never_grows_going_forward(survey, data, respondent) -> None:
    """Answering, skipping or passing a question met for the first time never raises the total.

    Only changing an earlier answer (after going back) may bring a follow-up back in.
    """
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        before, after = t.before_step, t.after_step
        if t.error is not None or t.action == "back" or not isinstance(before, QuestionStep):
            continue
        if isinstance(after, QuestionStep) and before.key not in t.before.answers:
            assert after.total <= before.total, (before.key, before.total, after.total)


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_stores_only_allocations_that_sum_to_the_total(survey, data, respondent) -> None:
    """Every stored allocate answer has one non-negative count per option, adding up to total."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        for key, answer in t.after.answers.items():
            question = survey.question(key.partition("@")[0])
            if question.type == "allocate":
                assert len(answer) == len(question.options)
                assert all(isinstance(p, int) and p >= 0 for p in answer)
                assert sum(answer) == question.params.total


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_stores_only_complete_rankings(survey, data, respondent) -> None:
    """Every stored ranking gives each option its own rank, 1 to the number of options."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        for key, answer in t.after.answers.items():
            question = survey.question(key.partition("@")[0])
            if question.type == "ranking":
                assert isinstance(answer, tuple) and all(type(r) is int for r in answer)
                assert sorted(answer) == list(range(1, len(question.options) + 1))


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_never_shows_an_inapplicable_question(survey, data, respondent) -> None:
    """No step is shown for a question whose roles exclude the respondent or whose `when` fails."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        step = t.after_step
        if not isinstance(step, QuestionStep):
            continue
        question = step.question
        assert question.roles is None or respondent.role in question.roles
        assert condition_holds(question, t.after.answers)
        if question.per_partner:
            target = step.key.partition("@")[2]
            assert target in {p.id for p in PARTNERS} - {respondent.org}
            assert "{partner}" not in step.text


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_invalid_answers_raise_and_change_nothing(survey, data, respondent) -> None:
    """Invalid or stale actions raise AnswerError; any refused action leaves the state as it was."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        if t.action in ("invalid", "stale"):
            assert t.error is not None
        if t.action == "stale":
            assert t.error.code == "stale"
        if t.error is not None:
            assert snapshot(t.before) == t.snapshot
            assert t.after is t.before
            assert t.after_step == t.before_step


@RANDOM_USE
@given(data=st.data(), respondent=RESPONDENTS)
def test_random_use_changes_describe_exactly_what_to_persist(survey, data, respondent) -> None:
    """Applying a change's drop and put to the old answers gives exactly the new answers."""
    q = Questionnaire(survey, respondent)
    for t in run(q, data):
        if t.change is None:
            continue
        expected = {k: v for k, v in t.before.answers.items() if k not in t.change.drop}
        expected.update(t.change.put)
        assert dict(t.after.answers) == expected
        assert set(t.change.drop) <= set(t.before.answers)
