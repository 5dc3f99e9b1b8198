"""Survey definitions: the built-ins validate, and every kind of mistake is named precisely."""

from __future__ import annotations

import pytest

from surveys.errors import DefinitionError
from surveys.loader import builtin_paths, load_survey, parse_survey

ROLES = ["staff", "manager", "administrator", "council"]

HEAD = """
id = "bad"
title = { nl = "Slecht", en = "Bad" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4", "5"] }

[[dimensions]]
id = "trust"
label = { nl = "Vertrouwen", en = "Trust" }
"""

GOOD_Q = """
[[questions]]
id = "q1"
type = "likert"
scale = "agree5"
text = { nl = "Vraag", en = "Question" }
"""


def problems(body: str, roles: list[str] | None = None) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_survey(HEAD + body, "bad.toml", roles)
    return [str(p) for p in info.value.problems]


def test_every_builtin_definition_validates() -> None:
    """trust, culture and evaluation load without a single problem."""
    surveys = {load_survey(p, ROLES).id: load_survey(p, ROLES) for p in builtin_paths()}
    assert {"trust", "culture", "evaluation"} <= set(surveys)
    trust = surveys["trust"]
    for dimension in ("vertrouwen", "gunnen", "invloed"):
        items = [q for q in trust.questions if q.dimension == dimension]
        assert 3 <= len(items) <= 5
        assert any(q.reverse for q in items)
    assert any(q.per_partner for q in trust.questions)
    culture = surveys["culture"]
    allocs = [q for q in culture.questions if q.type == "allocate"]
    assert len(allocs) == 12 and all(q.total == 100 for q in allocs)
    assert {o.value for q in allocs for o in q.options} == {
        "clan",
        "adhocracy",
        "market",
        "hierarchy",
    }
    evaluation = surveys["evaluation"]
    assert any(q.roles == frozenset({"council"}) for q in evaluation.questions)
    assert any(q.roles == frozenset({"administrator"}) for q in evaluation.questions)


def test_a_problem_names_file_question_and_what_is_wrong() -> None:
    """The message reads `file: questions[i] (id 'x'): problem`."""
    found = problems(GOOD_Q.replace('"agree5"', '"agree7"'))
    assert found == ["bad.toml: questions[0] (id 'q1'): unknown scale 'agree7'"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GOOD_Q + GOOD_Q, "duplicate id 'q1'"),
        (GOOD_Q.replace('en = "Question"', 'de = "Frage"'), "missing translation 'en'"),
        (GOOD_Q.replace('nl = "Vraag", ', ""), "missing translation 'nl'"),
        (GOOD_Q.replace('type = "likert"', 'type = "slider"'), "unknown type 'slider'"),
        (GOOD_Q + 'dimention = "trust"\n', "unknown key 'dimention'"),
        (GOOD_Q + 'dimension = "trusst"\n', "unknown dimension 'trusst'"),
        (GOOD_Q + 'section = "nowhere"\n', "unknown section 'nowhere'"),
        (
            GOOD_Q.replace("[[questions]]", '[[questions]]\nwhen = { question = "q2", in = [1] }')
            + GOOD_Q.replace('"q1"', '"q2"'),
            "which comes later",
        ),
        (GOOD_Q + 'when = { question = "ghost", in = [1] }\n', "unknown question 'ghost'"),
        (
            GOOD_Q + GOOD_Q.replace('"q1"', '"q2"') + 'when = { question = "q1", in = [9] }\n',
            "cannot have",
        ),
        (
            """
[[questions]]
id = "a1"
type = "allocate"
total = 0
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Verdeel", en = "Divide" }
""",
            "allocate total must be greater than 0",
        ),
        (
            """
[[questions]]
id = "a1"
type = "allocate"
total = 100
step = 7
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Verdeel", en = "Divide" }
""",
            "must be positive and divide the total",
        ),
        (
            """
[[questions]]
id = "c1"
type = "choice"
reverse = true
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Kies", en = "Pick" }
""",
            "'reverse' does not apply to a choice question",
        ),
        (GOOD_Q + "per_partner = true\n", "needs {partner} in its text"),
        (GOOD_Q.replace('"Vraag"', '"Vraag over {partner}"'), "only works in a per_partner"),
        (
            GOOD_Q.replace("[[questions]]", '[[questions]]\nroles = ["mayor"]'),
            "unknown role 'mayor'",
        ),
        (
            """
[[questions]]
id = "m1"
type = "multi"
min = 3
max = 1
options = [{ value = "x", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Kies", en = "Pick" }
""",
            "needs 0 <= min (3) <= max (1)",
        ),
        (
            '[[questions]]\nid = "t1"\ntype = "text"\nmax_length = 0\n'
            'text = { nl = "T", en = "T" }\n',
            "max_length must be between 1 and",
        ),
        (
            """
[[questions]]
id = "c1"
type = "choice"
options = [{ value = "Bad Value!", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Kies", en = "Pick" }
""",
            "must be 1-16 characters",
        ),
        (
            """
[[questions]]
id = "c1"
type = "choice"
options = [{ value = "y", label = { nl = "X", en = "X" } },
           { value = "y", label = { nl = "Y", en = "Y" } }]
text = { nl = "Kies", en = "Pick" }
""",
            "duplicate value 'y'",
        ),
    ],
)
def test_each_kind_of_mistake_has_its_message(body: str, expected: str) -> None:
    """Every class of bad definition is reported with a message that says what is wrong."""
    found = problems(body, ROLES)
    assert any(expected in p for p in found), found
    assert all(p.startswith("bad.toml: ") for p in found)


def test_a_scale_with_the_wrong_number_of_labels_is_reported() -> None:
    """labels must have exactly `points` entries per language."""
    body = HEAD.replace('en = ["1", "2", "3", "4", "5"]', 'en = ["1", "2"]') + GOOD_Q
    with pytest.raises(DefinitionError) as info:
        parse_survey(body, "bad.toml")
    assert "labels.en has 2 labels for 5 points" in str(info.value)


def test_toml_syntax_errors_carry_their_line() -> None:
    """A TOML syntax error names the file and the line."""
    with pytest.raises(DefinitionError) as info:
        parse_survey('id = "x"\ntitle = { nl = "a", en = "b" }\n[[questions]\n', "broken.toml")
    message = str(info.value)
    assert message.startswith("broken.toml: TOML syntax error") and "line 3" in message


def test_all_problems_are_reported_at_once() -> None:
    """Three independent mistakes give three problems in one error, not just the first."""
    body = (
        GOOD_Q.replace('"agree5"', '"nope"')
        + GOOD_Q.replace('"q1"', '"q2"').replace('type = "likert"', 'type = "bogus"')
        + GOOD_Q.replace('"q1"', '"q3"').replace(', en = "Question"', "")
    )
    found = problems(body)
    assert len(found) >= 3
    assert any("questions[0] (id 'q1')" in p and "unknown scale" in p for p in found)
    assert any("questions[1] (id 'q2')" in p and "unknown type" in p for p in found)
    assert any("questions[2] (id 'q3')" in p and "missing translation 'en'" in p for p in found)


def test_a_missing_file_is_a_definition_error(tmp_path) -> None:
    """An unreadable path is reported like any other problem, naming the file."""
    with pytest.raises(DefinitionError, match=r"nothere\.toml: cannot read file"):
        load_survey(tmp_path / "nothere.toml")
