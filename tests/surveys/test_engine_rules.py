"""The engine: filtering, expansion, navigation, validation — and properties under random use."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.answers import DONT_KNOW
from surveys.engine import Done, Partner, Questionnaire, QuestionStep, Respondent, State
from surveys.errors import AnswerError
from surveys.loader import parse_survey

SURVEY = parse_survey(
    """
id = "all"
title = { nl = "Alles", en = "Everything" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4", "5"] }
dont_know = true

[[sections]]
id = "a"
title = { nl = "Deel A", en = "Part A" }

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
scale = "agree5"
roles = ["administrator"]
text = { nl = "Alleen bestuurders", en = "Administrators only" }

[[questions]]
id = "pick"
type = "choice"
section = "b"
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Kies", en = "Pick" }

[[questions]]
id = "ifx"
type = "multi"
section = "b"
min = 1
max = 2
when = { question = "pick", in = ["x"] }
options = [{ value = "p", label = { nl = "P", en = "P" } },
           { value = "q", label = { nl = "Q", en = "Q" } },
           { value = "r", label = { nl = "R", en = "R" } }]
text = { nl = "Alleen na x", en = "Only after x" }

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
text = { nl = "Aanbevelen?", en = "Recommend?" }

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
id = "why"
type = "text"
max_length = 20
text = { nl = "Waarom?", en = "Why?" }
""",
    "all.toml",
)
PARTNERS = (Partner("north", "Noord"), Partner("south", "Zuid"), Partner("east", "Oost"))
ROLES = ("staff", "administrator")


def engine(role: str = "staff", org: str = "north", lang: str = "nl") -> Questionnaire:
    return Questionnaire(SURVEY, Respondent(org, role, lang, PARTNERS))


def walk(q: Questionnaire, answers: dict[str, object]) -> State:
    """Answer by question id (or proceed past info) until the survey is done."""
    state = State()
    while isinstance(step := q.step(state), QuestionStep):
        if step.type == "info":
            state = q.proceed(state, step.index).state
        else:
            state = q.answer(state, step.index, answers[step.question.id]).state
    return state


FULL = {
    "l1": 4,
    "boss": 2,
    "pick": "x",
    "ifx": ("p",),
    "pp": 3,
    "n": 7,
    "alloc": (50, 30, 20),
    "why": "omdat",
}


def test_role_filter_and_per_partner_expansion() -> None:
    """Role-limited questions go only to that role; per-partner items skip the own org."""
    staff, admin = engine("staff"), engine("administrator")
    assert "boss" not in {i.question.id for i in staff.items}
    assert "boss" in {i.question.id for i in admin.items}
    targets = [i.target.id for i in staff.items if i.question.id == "pp"]
    assert targets == ["south", "east"]
    state = walk(staff, FULL)
    assert staff.is_done(state)
    assert state.answers["pp@south"] == 3 and "pp@north" not in state.answers


def test_partner_name_replaces_the_placeholder() -> None:
    """{partner} is rendered as the partner's name."""
    q = engine()
    index = next(i.index for i in q.items if i.key == "pp@east")
    state = walk(q, FULL)
    step = q.step(q.back(state, len(q.items)).state)
    while step.index != index:
        step = q.step(q.back(State(step.index, state.answers), step.index).state)
    assert step.text == "Vertrouw je Oost?"


def test_when_condition_shows_and_hides_the_follow_up() -> None:
    """The multi question is asked after 'x' and skipped after 'y'; progress total follows."""
    q = engine()
    with_x = walk(q, FULL)
    assert "ifx" in with_x.answers
    with_y = walk(q, {**FULL, "pick": "y"})
    assert "ifx" not in with_y.answers
    assert q.step(with_x).total == q.step(with_y).total + 1


def test_progress_and_section_titles() -> None:
    """Progress counts answerable questions; a section title shows only where it starts."""
    q = engine()
    state = State()
    first = q.step(state)
    assert first.section_title == "Deel A" and first.question.id == "hello"
    state = q.proceed(state, first.index).state
    step = q.step(state)
    assert (step.position, step.section_title) == (1, None)
    state = q.answer(state, step.index, 4).state
    step = q.step(state)
    assert step.question.id == "pick" and step.section_title == "Deel B" and step.position == 2


def test_back_keeps_the_answer_and_shows_it() -> None:
    """Going back shows the earlier answer as current; answering again replaces it."""
    q = engine()
    state = q.proceed(State(), 0).state
    state = q.answer(state, 1, 2).state
    back = q.back(state, state.cursor).state
    step = q.step(back)
    assert step.question.id == "l1" and step.current == 2 and step.can_back
    again = q.answer(back, step.index, 5).state
    assert again.answers["l1"] == 5 and again.cursor == state.cursor


def test_skip_dont_know_and_their_limits() -> None:
    """Skip only where optional, don't-know only where the scale allows it."""
    q = engine()
    state = q.proceed(State(), 0).state
    with pytest.raises(AnswerError) as info:
        q.skip(state, state.cursor)
    assert info.value.code == "required"
    state = q.dont_know(state, state.cursor).state
    assert state.answers["l1"] is DONT_KNOW
    assert q.step(state).question.id == "pick"
    with pytest.raises(AnswerError) as info:
        q.dont_know(state, state.cursor)  # a choice without dont_know = true
    assert info.value.code == "no_dont_know"


def test_stale_positions_are_refused() -> None:
    """An action for another position than the cursor raises 'stale'."""
    q = engine()
    with pytest.raises(AnswerError) as info:
        q.answer(State(), 3, 4)
    assert info.value.code == "stale"


@pytest.mark.parametrize(
    ("qid", "value", "code"),
    [
        ("alloc", (50, 30, 10), "allocate_total"),
        ("alloc", (50, 50), "allocate_shape"),
        ("ifx", ("p", "q", "r"), "choose_between"),
        ("ifx", (), "choose_between"),
        ("why", "x" * 21, "too_long"),
        ("why", "   ", "empty_text"),
        ("l1", 6, "out_of_range"),
        ("pick", "z", "unknown_option"),
    ],
)
def test_invalid_answers_are_refused_with_a_hint_code(qid: str, value: object, code: str) -> None:
    """Each kind of invalid answer has its own hint code and changes nothing."""
    q = engine()
    state = State()
    while (step := q.step(state)).question.id != qid:
        answer = FULL[step.question.id] if step.type != "info" else None
        state = (
            q.proceed(state, step.index) if answer is None else q.answer(state, step.index, answer)
        ).state
    with pytest.raises(AnswerError) as info:
        q.answer(state, step.index, value)
    assert info.value.code == code
    if code == "too_long":
        assert info.value.params["limit"] == 20


def test_changing_an_earlier_answer_makes_the_follow_up_stale() -> None:
    """After switching 'x' to 'y', the multi answer no longer applies and is listed as stale."""
    q = engine()
    state = walk(q, FULL)
    index = next(i.index for i in q.items if i.question.id == "pick")
    while state.cursor != index:
        state = q.back(state, state.cursor).state
    state = q.answer(state, index, "y").state
    assert q.stale_keys(state) == ("ifx",)
    assert q.missing_required(walk(q, {**FULL, "pick": "y"})) == []


# -- properties ---------------------------------------------------------------------------


def valid_answer(step: QuestionStep, data: st.DataObject) -> object:
    q = step.question
    match q.type:
        case "likert":
            return data.draw(st.integers(1, q.points))
        case "nps":
            return data.draw(st.integers(0, 10))
        case "choice":
            return data.draw(st.sampled_from([c.value for c in step.choices]))
        case "multi":
            values = [c.value for c in step.choices]
            return tuple(
                data.draw(
                    st.lists(
                        st.sampled_from(values),
                        min_size=q.min_choices,
                        max_size=q.max_choices,
                        unique=True,
                    )
                )
            )
        case "allocate":
            cuts = sorted(
                data.draw(
                    st.lists(
                        st.integers(0, q.total),
                        min_size=len(q.options) - 1,
                        max_size=len(q.options) - 1,
                    )
                )
            )
            bounds = [0, *cuts, q.total]
            return tuple(b - a for a, b in itertools.pairwise(bounds))
        case "text":
            return (
                data.draw(st.text(alphabet="abc ", min_size=1, max_size=q.max_length)).strip()
                or "a"
            )
    return None


def invalid_answer(step: QuestionStep, data: st.DataObject) -> object:
    return data.draw(st.sampled_from([99, -1, "nope", ("zz",), (1, 2), "x" * 5000, None]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), role=st.sampled_from(ROLES), org=st.sampled_from(["north", "south"]))
def test_random_use_keeps_every_rule(data: st.DataObject, role: str, org: str) -> None:
    """Under any sequence of actions the engine keeps its invariants."""
    q = engine(role, org)
    state = State()
    last_position = 0
    for _ in range(120):
        step = q.step(state)
        if isinstance(step, Done):
            assert q.missing_required(state) == []
            break
        question = step.question
        # role and `when` filtering hold for everything shown
        assert question.roles is None or role in question.roles
        item = q.items[step.index]
        assert q.applies(item, state.answers)
        assert item.target is None or item.target.id != org
        assert 1 <= step.position <= step.total
        action = data.draw(
            st.sampled_from(["answer", "answer", "answer", "invalid", "back", "skip", "dont_know"])
        )
        before = state
        try:
            if action == "answer":
                change = (
                    q.proceed(state, step.index)
                    if question.type == "info"
                    else q.answer(state, step.index, valid_answer(step, data))
                )
            elif action == "invalid":
                change = q.answer(state, step.index, invalid_answer(step, data))
            elif action == "back":
                change = q.back(state, step.index)
            elif action == "skip":
                change = q.skip(state, step.index)
            else:
                change = q.dont_know(state, step.index)
        except AnswerError:
            assert state is before  # a refused action changes nothing
            continue
        state = change.state
        new = q.step(state)
        if isinstance(new, QuestionStep) and question.answerable:
            if action == "back":
                assert new.position <= step.position
            else:  # progress never goes backwards except by Back
                assert new.position >= step.position
        last_position = new.position if isinstance(new, QuestionStep) else last_position
        for key, value in state.answers.items():
            it = q.item(key)
            if it is not None and it.question.type == "allocate":
                assert sum(value) == it.question.total  # type: ignore[arg-type]
