"""The survey loader: built-in definitions validate, and every mistake is reported precisely."""

from __future__ import annotations

import pytest

from surveys.errors import DefinitionError
from surveys.loader import builtin_paths, load_survey, load_surveys

# Two valid questions, so the question under test is always questions[2].
HEAD = """
id = "bad"
languages = ["nl", "en"]
title = { nl = "Slecht", en = "Bad" }

[scales.agree5]
points = 5
labels = { nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4", "5"] }

[[dimensions]]
id = "trust"
label = { nl = "Vertrouwen", en = "Trust" }

[[sections]]
id = "a"
title = { nl = "Deel A", en = "Part A" }

[[questions]]
id = "v1"
type = "likert"
section = "a"
scale = "agree5"
dimension = "trust"
text = { nl = "Stelling", en = "Statement" }

[[questions]]
id = "c1"
type = "choice"
options = [{ value = "yes", label = { nl = "Ja", en = "Yes" } },
           { value = "no", label = { nl = "Nee", en = "No" } }]
text = { nl = "Ja of nee?", en = "Yes or no?" }
"""

TEXT = 'text = { nl = "Vraag", en = "Question" }'
PARTNER_TEXT = 'text = { nl = "Over {partner}", en = "About {partner}" }'
OPTIONS = (
    'options = [{ value = "a", label = { nl = "A", en = "A" } },'
    ' { value = "b", label = { nl = "B", en = "B" } },'
    ' { value = "c", label = { nl = "C", en = "C" } }]'
)

TYPE_LIST = "likert, nps, choice, multi, allocate, text, info, ranking"


def question(qid: str, *lines: str, text: str = TEXT) -> str:
    """A [[questions]] table with `qid`, the given key lines and (by default) a valid text."""
    body = "\n".join((f'id = "{qid}"', *lines, text) if text else (f'id = "{qid}"', *lines))
    return f"\n[[questions]]\n{body}\n"


def at(qid: str, message: str, index: int = 2) -> str:
    """The expected problem line for the question at `index` with id `qid`."""
    return f"bad.toml: questions[{index}] (id '{qid}'): {message}"


# -- the built-in definitions ------------------------------------------------------------


def test_builtin_definitions_are_present() -> None:
    """At least the trust, culture and evaluation instruments ship in surveys/definitions."""
    paths = builtin_paths()
    assert len(paths) >= 3
    assert {"trust", "culture", "evaluation"} <= {p.stem for p in paths}


@pytest.mark.parametrize("path", builtin_paths(), ids=lambda p: p.name)
def test_builtin_definition_validates(path, known_roles) -> None:
    """Each built-in definition loads without a single problem, using only the known roles."""
    survey = load_survey(path, known_roles)
    assert survey.id == path.stem
    assert survey.questions
    used_roles = set().union(*(q.roles or () for q in survey.questions))
    assert used_roles <= set(known_roles)


def test_builtin_definitions_load_together(known_roles) -> None:
    """All built-ins load as one set with distinct survey ids."""
    surveys = load_surveys(builtin_paths(), known_roles)
    assert len(surveys) == len(builtin_paths())
    assert {"trust", "culture", "evaluation"} <= set(surveys)


def test_builtin_instruments_measure_what_they_promise(known_roles) -> None:
    """trust: 3-5 items per dimension with reverse items and per-partner questions;
    culture: 12 allocations of 100 over the four types; evaluation: role-only items."""
    surveys = load_surveys(builtin_paths(), known_roles)
    trust = surveys["trust"]
    for dimension in ("vertrouwen", "gunnen", "invloed"):
        items = [q for q in trust.questions if q.dimension == dimension]
        assert 3 <= len(items) <= 5
        assert any(q.reverse for q in items)
    assert {q.dimension for q in trust.questions if q.per_partner} == {
        "partner_trust",
        "partner_goodwill",
    }
    assert any(q.type == "text" for q in trust.questions)
    allocs = [q for q in surveys["culture"].questions if q.type == "allocate"]
    assert len(allocs) == 12 and all(q.params.total == 100 for q in allocs)
    assert {o.value for q in allocs for o in q.options} == {
        "clan",
        "adhocracy",
        "market",
        "hierarchy",
    }
    assert {q.dimension for q in allocs} == {"culture_now", "culture_preferred"}
    evaluation = surveys["evaluation"].questions
    assert any(q.roles == frozenset({"council"}) for q in evaluation)
    assert any(q.roles == frozenset({"administrator"}) for q in evaluation)


# -- a valid definition ---------------------------------------------------------------------


def test_valid_definition_loads_into_the_model(load_toml) -> None:
    """A valid file becomes a Survey whose questions keep their order, types and settings."""
    survey = load_toml(
        HEAD
        + question(
            "p1", 'type = "likert"', 'scale = "agree5"', "per_partner = true", text=PARTNER_TEXT
        )
        + question(
            "m1",
            'type = "multi"',
            OPTIONS,
            "min = 1",
            "max = 2",
            'when = { question = "c1", in = ["yes"] }',
        )
        + question("a1", 'type = "allocate"', OPTIONS, "total = 100", "step = 10")
        + question("t1", 'type = "text"', "max_length = 200"),
        name="good.toml",
    )
    assert survey.id == "bad"
    assert survey.source == "good.toml"
    assert [q.id for q in survey.questions] == ["v1", "c1", "p1", "m1", "a1", "t1"]
    assert survey.question("v1").scale.points == 5
    assert survey.question("v1").dimension == "trust"
    assert survey.question("p1").per_partner
    assert (survey.question("m1").params.min_choices, survey.question("m1").params.max_choices) == (
        1,
        2,
    )
    assert survey.question("m1").when.question == "c1"
    assert survey.question("m1").when.values == ("yes",)
    assert (survey.question("a1").params.total, survey.question("a1").params.step) == (100, 10)
    assert survey.question("t1").params.max_length == 200
    assert not survey.question("t1").required
    assert survey.question("v1").required


# -- one problem per mistake ---------------------------------------------------------------

MISTAKES = {
    "unknown scale": (
        question("v3", 'type = "likert"', 'scale = "agree7"'),
        at("v3", "unknown scale 'agree7'"),
    ),
    "duplicate question id": (
        question("v1", 'type = "likert"', 'scale = "agree5"'),
        at("v1", "duplicate id 'v1'"),
    ),
    "missing nl translation": (
        question("q", 'type = "likert"', 'scale = "agree5"', text='text = { en = "Question" }'),
        at("q", "missing translation 'nl' in 'text'"),
    ),
    "missing en translation": (
        question("q", 'type = "likert"', 'scale = "agree5"', text='text = { nl = "Vraag" }'),
        at("q", "missing translation 'en' in 'text'"),
    ),
    "empty translation": (
        question(
            "q", 'type = "likert"', 'scale = "agree5"', text='text = { nl = "Vraag", en = "  " }'
        ),
        at("q", "missing translation 'en' in 'text'"),
    ),
    "missing translation of an option label": (
        question(
            "q",
            'type = "choice"',
            'options = [{ value = "a", label = { nl = "A" } },'
            ' { value = "b", label = { nl = "B", en = "B" } },'
            ' { value = "c", label = { nl = "C", en = "C" } }]',
        ),
        at("q", "missing translation 'en' in 'options[0].label'"),
    ),
    "when at a later question": (
        question(
            "q",
            'type = "likert"',
            'scale = "agree5"',
            'when = { question = "later", in = ["yes"] }',
        )
        + question(
            "later",
            'type = "choice"',
            'options = [{ value = "yes", label = { nl = "Ja", en = "Yes" } },'
            ' { value = "no", label = { nl = "Nee", en = "No" } }]',
        ),
        at(
            "q",
            "'when' points at 'later', which comes later (or is this question): "
            "a condition can only test an earlier answer",
        ),
    ),
    "when at the question itself": (
        question(
            "q",
            'type = "choice"',
            'options = [{ value = "yes", label = '
            '{ nl = "Ja", en = "Yes" } }, { value = "no", label = { nl = "N", en = "N" } }]',
            'when = { question = "q", in = ["yes"] }',
        ),
        at(
            "q",
            "'when' points at 'q', which comes later (or is this question): "
            "a condition can only test an earlier answer",
        ),
    ),
    "when at an unknown question": (
        question(
            "q", 'type = "likert"', 'scale = "agree5"', 'when = { question = "nope", in = ["yes"] }'
        ),
        at("q", "'when' points at unknown question 'nope'"),
    ),
    "when value a choice cannot have": (
        question(
            "q",
            'type = "likert"',
            'scale = "agree5"',
            'when = { question = "c1", in = ["yes", "maybe"] }',
        ),
        at("q", "'when.in' has values ['maybe'] that question 'c1' cannot have"),
    ),
    "when value outside the likert scale": (
        question("q", 'type = "text"', 'when = { question = "v1", in = [5, 6] }'),
        at("q", "'when.in' has values [6] that question 'v1' cannot have"),
    ),
    "when value of the wrong type": (
        question("q", 'type = "text"', 'when = { question = "v1", in = ["5"] }'),
        at("q", "'when.in' has values ['5'] that question 'v1' cannot have"),
    ),
    "allocate total zero": (
        question("q", 'type = "allocate"', OPTIONS, "total = 0"),
        at("q", "allocate total must be greater than 0 (got 0)"),
    ),
    "allocate total negative": (
        question("q", 'type = "allocate"', OPTIONS, "total = -10"),
        at("q", "allocate total must be greater than 0 (got -10)"),
    ),
    "allocate step not dividing the total": (
        question("q", 'type = "allocate"', OPTIONS, "total = 100", "step = 30"),
        at("q", "step 30 must be positive and divide the total 100"),
    ),
    "reverse on a choice question": (
        question("q", 'type = "choice"', OPTIONS, "reverse = true"),
        at("q", "'reverse' does not apply to a choice question"),
    ),
    "reverse on an nps question": (
        question("q", 'type = "nps"', "reverse = true"),
        at("q", "'reverse' does not apply to a nps question"),
    ),
    "unknown type": (
        question("q", 'type = "slider"'),
        at("q", f"unknown type 'slider' (one of: {TYPE_LIST})"),
    ),
    "unknown key": (
        question("q", 'type = "likert"', 'scale = "agree5"', "requried = false"),
        at("q", "unknown key 'requried'"),
    ),
    "per_partner without {partner}": (
        question("q", 'type = "likert"', 'scale = "agree5"', "per_partner = true"),
        at("q", "a per_partner question needs {partner} in its text (missing in: nl, en)"),
    ),
    "per_partner with {partner} in one language only": (
        question(
            "q",
            'type = "likert"',
            'scale = "agree5"',
            "per_partner = true",
            text='text = { nl = "Over {partner}", en = "About them" }',
        ),
        at("q", "a per_partner question needs {partner} in its text (missing in: en)"),
    ),
    "{partner} in a question that is not per_partner": (
        question("q", 'type = "likert"', 'scale = "agree5"', text=PARTNER_TEXT),
        at("q", "{partner} only works in a per_partner question"),
    ),
    "per_partner on a type that cannot be": (
        question("q", 'type = "allocate"', OPTIONS, "per_partner = true", text=PARTNER_TEXT),
        at("q", "per_partner is not possible for a allocate question"),
    ),
    "multi min above max": (
        question("q", 'type = "multi"', OPTIONS, "min = 3", "max = 1"),
        at("q", "needs 0 <= min (3) <= max (1) <= number of options (3)"),
    ),
    "multi max above the number of options": (
        question("q", 'type = "multi"', OPTIONS, "max = 4"),
        at("q", "needs 0 <= min (0) <= max (4) <= number of options (3)"),
    ),
    "text max_length zero": (
        question("q", 'type = "text"', "max_length = 0"),
        at("q", "max_length must be between 1 and 3500 (got 0)"),
    ),
    "text max_length too large": (
        question("q", 'type = "text"', "max_length = 5000"),
        at("q", "max_length must be between 1 and 3500 (got 5000)"),
    ),
    "option value with bad characters": (
        question(
            "q",
            'type = "choice"',
            'options = [{ value = "Ja!", label = { nl = "Ja", en = "Yes" } },'
            ' { value = "no", label = { nl = "Nee", en = "No" } },'
            ' { value = "maybe", label = { nl = "Misschien", en = "Maybe" } }]',
        ),
        at("q", "options[0]: value 'Ja!' must be 1-16 characters of a-z, 0-9 or _"),
    ),
    "option value too long": (
        question(
            "q",
            'type = "choice"',
            'options = [{ value = "abcdefghijklmnopq", label = { nl = "A", en = "A" } },'
            ' { value = "b", label = { nl = "B", en = "B" } },'
            ' { value = "c", label = { nl = "C", en = "C" } }]',
        ),
        at("q", "options[0]: value 'abcdefghijklmnopq' must be 1-16 characters of a-z, 0-9 or _"),
    ),
    "duplicate option value": (
        question(
            "q",
            'type = "choice"',
            'options = [{ value = "yes", label = { nl = "Ja", en = "Yes" } },'
            ' { value = "yes", label = { nl = "Ja", en = "Yes" } },'
            ' { value = "no", label = { nl = "Nee", en = "No" } }]',
        ),
        at("q", "options[1]: duplicate value 'yes'"),
    ),
    "unknown section": (
        question("q", 'type = "likert"', 'scale = "agree5"', 'section = "zz"'),
        at("q", "unknown section 'zz'"),
    ),
    "unknown dimension": (
        question("q", 'type = "likert"', 'scale = "agree5"', 'dimension = "zz"'),
        at("q", "unknown dimension 'zz'"),
    ),
    "likert without a scale": (
        question("q", 'type = "likert"'),
        at("q", "likert question needs a 'scale'"),
    ),
}


@pytest.mark.parametrize(("body", "expected"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_is_reported_with_file_question_and_problem(toml_problems, body, expected) -> None:
    """Each kind of mistake yields exactly one problem naming file, question index/id and cause."""
    assert toml_problems(HEAD + body) == [expected]


def test_problem_string_names_file_question_and_problem(load_toml) -> None:
    """A problem reads `file: questions[i] (id 'x'): what is wrong`, also via its fields."""
    with pytest.raises(DefinitionError) as info:
        load_toml(HEAD + question("v3", 'type = "likert"', 'scale = "agree7"'))
    assert str(info.value) == "bad.toml: questions[2] (id 'v3'): unknown scale 'agree7'"
    (problem,) = info.value.problems
    assert problem.file == "bad.toml"
    assert problem.where == "questions[2] (id 'v3')"
    assert problem.message == "unknown scale 'agree7'"


def test_unknown_role_is_reported_when_roles_are_known(toml_problems, load_toml) -> None:
    """A role outside the known roles is named with the list of known ones; unchecked otherwise."""
    body = HEAD + question("q", 'type = "likert"', 'scale = "agree5"', 'roles = ["staff", "staf"]')
    roles = ["staff", "manager", "administrator", "council"]
    assert toml_problems(body, roles=roles) == [
        at("q", "unknown role 'staf' (known: administrator, council, manager, staff)")
    ]
    assert load_toml(body).question("q").roles == frozenset({"staff", "staf"})


def test_known_roles_are_accepted(load_toml) -> None:
    """Roles that are all known load into the question's role set."""
    body = HEAD + question("q", 'type = "likert"', 'scale = "agree5"', 'roles = ["council"]')
    survey = load_toml(body, roles=["staff", "council"])
    assert survey.question("q").roles == frozenset({"council"})


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            '{ nl = ["1", "2", "3", "4"], en = ["1", "2", "3"] }',
            "labels.en has 3 labels for 4 points",
        ),
        (
            '{ nl = ["1", "2", "3", "4", "5"], en = ["1", "2", "3", "4"] }',
            "labels.nl has 5 labels for 4 points",
        ),
        ('{ nl = ["1", "2", "3", "4"] }', "missing translation 'en' in 'labels'"),
    ],
)
def test_scale_with_wrong_labels_is_reported(toml_problems, labels, message) -> None:
    """A scale whose label lists do not match its points is named by its scale id."""
    body = HEAD.replace(
        "[[dimensions]]", f"[scales.agree4]\npoints = 4\nlabels = {labels}\n\n[[dimensions]]"
    )
    assert toml_problems(body) == [f"bad.toml: scales.agree4: {message}"]


def test_scale_points_out_of_range_is_reported(toml_problems) -> None:
    """A scale needs 2 to 11 points."""
    body = HEAD.replace(
        "[[dimensions]]",
        '[scales.one]\npoints = 1\nlabels = { nl = ["x"], en = ["x"] }\n\n[[dimensions]]',
    )
    assert toml_problems(body) == [
        "bad.toml: scales.one: 'points' must be between 2 and 11 (got 1)"
    ]


def test_toml_syntax_error_reports_its_line(toml_problems) -> None:
    """A TOML syntax error names the file and the line it is on."""
    text = 'id = "bad"\ntitle = { nl = "S", en = "B" }\n\n[[questions]]\nid = "q"\ntype = likert\n'
    (problem,) = toml_problems(text)
    assert problem.startswith("bad.toml: TOML syntax error: ")
    assert "line 6" in problem


def test_several_problems_are_all_reported_at_once(toml_problems) -> None:
    """Every problem in a file is reported in one error, in file order, not just the first."""
    body = (
        HEAD.replace(
            "[[dimensions]]",
            '[scales.agree4]\npoints = 4\nlabels = { nl = ["1"], '
            'en = ["1", "2", "3", "4"] }\n\n[[dimensions]]',
        )
        + question("v3", 'type = "likert"', 'scale = "agree7"')
        + question("v1", 'type = "likert"', 'scale = "agree5"')
        + question("t", 'type = "text"', "max_length = 0", text='text = { nl = "Vraag" }')
        + question(
            "w",
            'type = "likert"',
            'scale = "agree5"',
            "reverse = 1",
            'when = { question = "nope", in = [1] }',
        )
        + question("x", 'type = "slider"')
    )
    assert toml_problems(body) == [
        "bad.toml: scales.agree4: labels.nl has 1 labels for 4 points",
        at("v3", "unknown scale 'agree7'", 2),
        at("v1", "duplicate id 'v1'", 3),
        at("t", "missing translation 'en' in 'text'", 4),
        at("t", "max_length must be between 1 and 3500 (got 0)", 4),
        at("w", "'when' points at unknown question 'nope'", 5),
        at("w", "'reverse' must be true or false", 5),
        at(
            "x",
            f"unknown type 'slider' (one of: {TYPE_LIST})",
            6,
        ),
    ]


def test_problems_of_several_files_are_reported_together(tmp_path) -> None:
    """load_surveys reports the problems of every file, and a survey id used twice."""
    good = HEAD.replace('id = "bad"', 'id = "same"', 1)
    files = {"one.toml": good, "two.toml": good, "bad.toml": HEAD + question("q", 'type = "x"')}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_surveys([tmp_path / name for name in files])
    assert [str(p) for p in info.value.problems] == [
        "two.toml: id: survey id 'same' is used by one.toml too",
        at("q", f"unknown type 'x' (one of: {TYPE_LIST})"),
    ]


def test_unreadable_file_is_a_definition_error(tmp_path) -> None:
    """A missing or non-UTF-8 file is reported as a problem of that file, not a crash."""
    with pytest.raises(DefinitionError, match=r"^gone\.toml: cannot read file"):
        load_survey(tmp_path / "gone.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('title = "caf\xe9"'.encode("latin-1"))
    with pytest.raises(DefinitionError, match=r"^latin\.toml: file is not valid UTF-8$"):
        load_survey(latin)


# -- malformed values are reported, never a crash --------------------------------------------


def test_question_id_that_is_a_list_is_reported(toml_problems) -> None:
    """A question whose id is a list is reported as a bad id, not a crash."""
    problems = toml_problems(
        HEAD + question("x", 'type = "info"').replace('id = "x"', 'id = ["x"]')
    )
    assert "bad.toml: questions[2]: needs an 'id' of lowercase letters, digits and _ (max 24)" in (
        problems
    )


def test_when_question_that_is_a_list_is_reported(toml_problems) -> None:
    """A `when.question` that is not a string is reported, not a crash."""
    problems = toml_problems(
        HEAD + question("q", 'type = "text"', 'when = { question = ["c1"], in = ["yes"] }')
    )
    assert len(problems) == 1 and problems[0].startswith(at("q", "'when"))


def test_when_value_that_is_a_list_is_reported(toml_problems) -> None:
    """A list nested inside `when.in` is reported as a value the target cannot have."""
    problems = toml_problems(
        HEAD + question("q", 'type = "text"', 'when = { question = "c1", in = [["yes"]] }')
    )
    assert problems == [at("q", "'when.in' has values [['yes']] that question 'c1' cannot have")]


@pytest.mark.parametrize(
    "anchors",
    ['anchors = "unlikely"', 'anchors = { low = { nl = "Nooit", en = "Never" } }'],
    ids=["not a table", "no high"],
)
def test_incomplete_nps_anchors_are_reported(toml_problems, anchors) -> None:
    """NPS anchors that are not a table with both `low` and `high` are a problem."""
    problems = toml_problems(HEAD + question("n", 'type = "nps"', anchors))
    assert len(problems) == 1 and problems[0].startswith(at("n", ""))


# -- dimension kinds: what analysis draws, declared ------------------------------------------


def dimension(did: str, *lines: str) -> str:
    """A [[dimensions]] table with `did`, a label and the given key lines."""
    body = "\n".join((f'id = "{did}"', 'label = { nl = "D", en = "D" }', *lines))
    return f"\n[[dimensions]]\n{body}\n"


def at_dimension(did: str, index: int, message: str) -> str:
    return f"bad.toml: dimensions[{index}] (id '{did}'): {message}"


TYPES = (
    'options = [{ value = "a", label = { nl = "Aa", en = "Aa" } },'
    ' { value = "b", label = { nl = "Bb", en = "Bb" } }]'
)
TWO_OPTIONS = (
    'options = [{ value = "a", label = { nl = "A", en = "A" } },'
    ' { value = "b", label = { nl = "B", en = "B" } }]'
)
PROFILES = dimension("now", 'kind = "profile"', TYPES) + dimension(
    "wish", 'kind = "profile"', 'compares = "now"'
)


def test_dimension_kinds_load_into_the_model(load_toml) -> None:
    """kind, compares and options load; the pair and the options' short names are found."""
    survey = load_toml(
        HEAD
        + dimension("pt", 'kind = "matrix"')
        + PROFILES
        + question(
            "p1",
            'type = "likert"',
            'scale = "agree5"',
            "per_partner = true",
            'dimension = "pt"',
            text=PARTNER_TEXT,
        )
        + question("a1", 'type = "allocate"', 'dimension = "now"', TWO_OPTIONS)
        + question("a2", 'type = "allocate"', 'dimension = "wish"', TWO_OPTIONS),
        name="good.toml",
    )
    assert [(d.id, d.kind) for d in survey.dimensions] == [
        ("trust", "scale"),
        ("pt", "matrix"),
        ("now", "profile"),
        ("wish", "profile"),
    ]
    assert [d.id for d in survey.dimensions_of("matrix")] == ["pt"]
    ((base, compared),) = survey.profile_pairs()
    assert (base.id, compared.id, compared.compares) == ("now", "wish", "now")
    labels = survey.option_labels(base, compared)
    assert {v: t.en for v, t in labels.items()} == {"a": "Aa", "b": "Bb"}


def test_option_labels_fall_back_to_the_first_question(load_toml) -> None:
    """Without declared options, a profile's types are named by its first question's options."""
    survey = load_toml(
        HEAD
        + dimension("now", 'kind = "profile"')
        + question("a1", 'type = "allocate"', 'dimension = "now"', OPTIONS),
        name="good.toml",
    )
    labels = survey.option_labels(survey.dimensions_of("profile")[0])
    assert list(labels) == ["a", "b", "c"]


DIMENSION_MISTAKES = {
    "unknown kind": (
        dimension("x", 'kind = "radar"'),
        at_dimension("x", 1, "unknown kind 'radar' (one of: scale, matrix, profile)"),
    ),
    "compares on a scale dimension": (
        dimension("x", 'compares = "trust"'),
        at_dimension("x", 1, "'compares' only applies to a dimension of kind \"profile\""),
    ),
    "options on a matrix dimension": (
        dimension("x", 'kind = "matrix"', TYPES),
        at_dimension("x", 1, "'options' only applies to a dimension of kind \"profile\""),
    ),
    "compares an unknown dimension": (
        dimension("x", 'kind = "profile"', 'compares = "zz"'),
        at_dimension("x", 1, "'compares' names unknown dimension 'zz'"),
    ),
    "compares itself": (
        dimension("x", 'kind = "profile"', 'compares = "x"'),
        at_dimension("x", 1, "'compares' names the dimension itself"),
    ),
    "compares a scale dimension": (
        dimension("x", 'kind = "profile"', 'compares = "trust"'),
        at_dimension("x", 1, "'compares' names 'trust', which is not of kind \"profile\""),
    ),
    "per_partner question in a scale dimension": (
        question(
            "q",
            'type = "likert"',
            'scale = "agree5"',
            "per_partner = true",
            'dimension = "trust"',
            text=PARTNER_TEXT,
        ),
        at("q", "dimension 'trust' of a per_partner question needs kind = \"matrix\""),
    ),
    "plain question in a matrix dimension": (
        dimension("pt", 'kind = "matrix"')
        + question("q", 'type = "likert"', 'scale = "agree5"', 'dimension = "pt"'),
        at("q", "dimension 'pt' has kind \"matrix\": only per_partner questions"),
    ),
    "allocate question in a scale dimension": (
        question("q", 'type = "allocate"', OPTIONS, 'dimension = "trust"'),
        at("q", "dimension 'trust' of an allocate question needs kind = \"profile\""),
    ),
    "likert question in a profile dimension": (
        PROFILES + question("q", 'type = "likert"', 'scale = "agree5"', 'dimension = "now"'),
        at("q", "dimension 'now' has kind \"profile\": only allocate questions"),
    ),
    "allocate option the profile does not declare": (
        PROFILES + question("q", 'type = "allocate"', OPTIONS, 'dimension = "now"'),
        at("q", "options ['c'] are not among the options of dimension 'now'"),
    ),
}


@pytest.mark.parametrize(
    ("body", "expected"), DIMENSION_MISTAKES.values(), ids=DIMENSION_MISTAKES.keys()
)
def test_dimension_kind_mistake_is_reported_with_its_place(toml_problems, body, expected) -> None:
    """Each misuse of kind, compares or options is one problem naming file, place and cause."""
    assert toml_problems(HEAD + body) == [expected]


def test_builtin_dimensions_declare_what_the_report_draws(known_roles) -> None:
    """trust: the per-partner dimensions are matrices; culture: preferred compares now."""
    surveys = load_surveys(builtin_paths(), known_roles)
    trust = surveys["trust"]
    assert [d.id for d in trust.dimensions_of("matrix")] == ["partner_trust", "partner_goodwill"]
    assert [d.id for d in trust.dimensions_of("scale")] == ["vertrouwen", "gunnen", "invloed"]
    ((now, preferred),) = surveys["culture"].profile_pairs()
    assert (now.id, preferred.id) == ("culture_now", "culture_preferred")
    labels = surveys["culture"].option_labels(now, preferred)
    assert [t.en for t in labels.values()] == ["Clan", "Adhocracy", "Market", "Hierarchy"]
    assert all(d.kind == "scale" for d in surveys["evaluation"].dimensions)


# -- languages -----------------------------------------------------------------------------


def test_builtin_definitions_declare_their_languages(known_roles) -> None:
    """Each built-in names its languages, so a language added to the catalogue breaks none."""
    import tomllib

    for path in builtin_paths():
        assert tomllib.loads(path.read_text("utf-8"))["languages"] == ["nl", "en", "de"]
    for survey in load_surveys(builtin_paths(), known_roles).values():
        assert survey.languages == ("nl", "en", "de")
        assert all(q.text.get("de") for q in survey.questions)
        assert survey.title.get("de")


def test_a_text_missing_for_a_declared_language_names_file_question_and_language(
    toml_problems,
) -> None:
    """Declaring German makes every text need German; the problem says where and which."""
    body = HEAD.replace('languages = ["nl", "en"]', 'languages = ["nl", "en", "de"]')
    problems = toml_problems(body)
    assert "bad.toml: title: missing translation 'de' in 'title'" in problems
    assert at("v1", "missing translation 'de' in 'text'", 0) in problems
    assert at("c1", "missing translation 'de' in 'options[0].label'", 1) in problems
    assert "bad.toml: scales.agree5: missing translation 'de' in 'labels'" in problems


def test_without_a_language_list_every_catalogue_language_is_required(toml_problems) -> None:
    """No `languages` key means all of the catalogue's languages, German included."""
    body = HEAD.replace('languages = ["nl", "en"]\n', "")
    assert at("v1", "missing translation 'de' in 'text'", 0) in toml_problems(body)


def test_a_declared_language_limits_the_texts_to_it(load_toml) -> None:
    """A Dutch-only survey has only Dutch texts, and asking it for English is refused."""
    import re

    from surveys.errors import TextError

    body = HEAD.replace('languages = ["nl", "en"]', 'languages = ["nl"]')
    survey = load_toml(re.sub(r', en = ("[^"]*"|\[[^\]]*\])', "", body))
    assert survey.languages == ("nl",)
    assert survey.question("v1").text.get("nl") == "Stelling"
    with pytest.raises(TextError):
        survey.question("v1").text.get("en")
    with pytest.raises(TextError):
        survey.require_language("en")
    assert survey.language_for("de") == "nl" and survey.language_for("nl") == "nl"


def test_a_text_in_an_undeclared_language_names_file_question_and_language(
    toml_problems,
) -> None:
    """Texts cover exactly the declared languages: a German one in an nl/en survey is named."""
    body = HEAD.replace(
        'text = { nl = "Stelling", en = "Statement" }',
        'text = { nl = "Stelling", en = "Statement", de = "Aussage" }',
    ).replace('en = ["1", "2", "3", "4", "5"] }', 'en = ["1", "2", "3", "4", "5"], de = [] }')
    assert toml_problems(body) == [
        "bad.toml: scales.agree5: 'labels' has a text in 'de', which is not among the "
        "survey's languages (nl, en)",
        at(
            "v1", "'text' has a text in 'de', which is not among the survey's languages (nl, en)", 0
        ),
    ]


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        ('["nl", "fr"]', "unknown languages ['fr'] (the catalogue has: nl, en, de)"),
        ("[]", "'languages' must be a non-empty list of language codes (nl, en, de)"),
        ('"nl"', "'languages' must be a non-empty list of language codes (nl, en, de)"),
        ('["nl", "nl", "en"]', "a language is listed twice"),
    ],
)
def test_a_bad_language_list_is_reported(toml_problems, languages, message) -> None:
    """Only the catalogue's languages, each once, in a non-empty list."""
    body = HEAD.replace('languages = ["nl", "en"]', f"languages = {languages}")
    assert f"bad.toml: languages: {message}" in toml_problems(body)
