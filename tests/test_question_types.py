"""Every question type is known to every adapter's table, and `ranking` works in each of them."""

from __future__ import annotations

import ast
import dataclasses
import random
from collections.abc import Mapping
from pathlib import Path

import pytest

import surveys.qtypes
from analysis.report.questions import REPORTED
from bot.callbacks import PRESS_PATTERN, Action, decode, encode
from bot.widgets import WIDGETS
from surveys.answers import DONT_KNOW, ItemRow
from surveys.engine import Questionnaire, QuestionStep, Respondent, State
from surveys.errors import AnswerError, DefinitionError
from surveys.loader import load_survey, parse_survey
from surveys.model import Params, Question, Survey
from surveys.qtypes import QUESTION_TYPES, LikertType, ParseContext, QuestionType
from surveys.qtypes import decode as decode_rows
from surveys.qtypes import encode as encode_rows
from trustscan.preview import PREVIEWS, run_preview
from trustscan.simulation import SIMULATED, Mood, answer

ROOT = Path(__file__).resolve().parent.parent
# every table keyed by question type, by its dotted name (each is named in surveys/qtypes.py)
TABLES: dict[str, Mapping[str, object]] = {
    "bot.widgets.WIDGETS": WIDGETS,
    "trustscan.preview.PREVIEWS": PREVIEWS,
    "trustscan.simulation.SIMULATED": SIMULATED,
    "analysis.report.questions.REPORTED": REPORTED,
}

RANKING = """
id = "rank"
languages = ["nl", "en"]
title = { nl = "Volgorde", en = "Order" }

[[questions]]
id = "goals"
type = "ranking"
options = [{ value = "cost", label = { nl = "Kosten", en = "Cost" } },
           { value = "quality", label = { nl = "Kwaliteit", en = "Quality" } },
           { value = "clients", label = { nl = "Klantgerichtheid", en = "Client focus" } }]
text = { nl = "Zet deze doelen op volgorde.", en = "Rank these goals." }
"""


def test_every_adapter_table_covers_every_question_type() -> None:
    """Each adapter's table has an entry for each registered type, and nothing else."""
    missing = [
        f"{table} lacks type {name!r}"
        for table, entries in TABLES.items()
        for name in QUESTION_TYPES
        if name not in entries
    ]
    unknown = [
        f"{table} has unknown type {name!r}"
        for table, entries in TABLES.items()
        for name in entries
        if name not in QUESTION_TYPES
    ]
    assert not missing + unknown, "; ".join(missing + unknown)


class Gauge(QuestionType):
    """A type registered by a test only: no adapter has heard of it."""

    name = "gauge"


def test_a_type_without_an_entry_is_named_with_every_table_it_lacks(monkeypatch) -> None:
    """Registering a type and nothing else fails the table test, naming each table."""
    monkeypatch.setitem(QUESTION_TYPES, Gauge.name, Gauge())
    with pytest.raises(AssertionError) as failed:
        test_every_adapter_table_covers_every_question_type()
    for table in TABLES:
        assert f"{table} lacks type 'gauge'" in str(failed.value)


def type_tables() -> set[str]:
    """Module-level dict literals of the production packages keyed mostly by type names.

    Found in the source, not listed by hand: a table added for a new adapter (the way the
    report's `REPORTED` once was) shows up here even when nobody remembers it.
    """
    found = set()
    for package in ("surveys", "analysis", "trustscan", "bot"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
                target = node.targets[0] if isinstance(node, ast.Assign) else node
                name = getattr(getattr(target, "target", target), "id", None)
                if not isinstance(value, ast.Dict) or name is None:
                    continue
                keys = {k.value for k in value.keys if isinstance(k, ast.Constant)}
                if 2 * len(keys & set(QUESTION_TYPES)) >= len(QUESTION_TYPES):
                    found.add(f"{module}.{name}")
    return found


def test_every_table_keyed_by_type_is_checked_and_documented() -> None:
    """Each per-type table in the source is in TABLES and named in the registry's docstring."""
    assert type_tables() == set(TABLES)
    doc = " ".join((surveys.qtypes.__doc__ or "").split())
    undocumented = [t for t in TABLES if f"`{t}`" not in doc]
    assert not undocumented, f"surveys/qtypes.py's docstring does not name {undocumented}"


def test_press_letters_are_unique_and_the_pattern_matches_each() -> None:
    """One letter per action; the press pattern accepts each and nothing else's letters."""
    letters = [a.value for a in Action]
    assert len(set(letters)) == len(letters)
    import re

    for action in Action:
        assert re.match(PRESS_PATTERN, encode(action, 3, 7, "x"))
        assert decode(encode(action, 3, 7, "1.2", 0)) is not None
    for other in ("c:token", "r:tok:staff", "x", "X", "g:nl", "W:1", "Z", "o:org:mac"):
        assert not re.match(PRESS_PATTERN, other)
    assert decode("q:1:2") is None and decode("a:x:2") is None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SliderParams(Params):
    """A parameter set no production record has heard of: the ends of the slider."""

    low: int
    high: int


class Slider(QuestionType):
    """A type with keys of its own, defined here only: parsed and checked by itself."""

    name = "slider"
    keys = frozenset({"low", "high"})

    def parse(self, raw: Mapping[str, object], ctx: ParseContext) -> Params:
        low = ctx.integer(raw.get("low"), "low", 0)
        high = ctx.integer(raw.get("high"), "high", 100)
        if low >= high:
            ctx.report(f"'low' ({low}) must be below 'high' ({high})")
        return SliderParams(low=low, high=high)

    def validate_answer(self, question: Question, value: object) -> object:
        ends = question.params_as(SliderParams)
        if not isinstance(value, int) or not ends.low <= value <= ends.high:
            raise AnswerError("out_of_range", low=ends.low, high=ends.high)
        return value

    encode = LikertType.encode
    decode = LikertType.decode


def slider_file(folder: Path, ends: str) -> Path:
    path = folder / "slider.toml"
    path.write_text(
        f"""
id = "slide"
languages = ["nl", "en"]
title = {{ nl = "Schuif", en = "Slide" }}

[[questions]]
id = "pull"
type = "slider"
{ends}
text = {{ nl = "Hoe ver?", en = "How far?" }}

[[questions]]
id = "misfit"
type = "choice"
low = 3
options = [{{ value = "a", label = {{ nl = "A", en = "A" }} }},
           {{ value = "b", label = {{ nl = "B", en = "B" }} }}]
text = {{ nl = "Welke?", en = "Which?" }}
""",
        encoding="utf-8",
    )
    return path


def test_a_type_registered_by_a_test_loads_its_own_parameters(monkeypatch, tmp_path) -> None:
    """A new type's own keys become its own parameters, checked by it, with no shared edit.

    Registered here only: `Question` and `Params` are as they were, and the type's
    problems are reported like the built-in types', with the file and the question.
    """
    monkeypatch.setitem(QUESTION_TYPES, Slider.name, Slider())
    with pytest.raises(DefinitionError) as bad:
        load_survey(slider_file(tmp_path, "low = 10\nhigh = 10"))
    assert [str(p) for p in bad.value.problems] == [
        "slider.toml: questions[0] (id 'pull'): 'low' (10) must be below 'high' (10)",
        "slider.toml: questions[1] (id 'misfit'): 'low' does not apply to a choice question",
    ]

    path = slider_file(tmp_path, "low = 1\nhigh = 7")
    path.write_text(path.read_text().replace("low = 3\n", ""))
    survey = load_survey(path)
    pull = survey.question("pull")
    assert pull.params_as(SliderParams) == SliderParams(low=1, high=7)
    with pytest.raises(TypeError):
        survey.question("misfit").params_as(SliderParams)
    q = Questionnaire(survey, Respondent("north", "staff", "en"))
    assert q.answer(State(), 0, 7).put == {"pull": 7}
    with pytest.raises(AnswerError) as refused:
        q.answer(State(), 0, 8)
    assert refused.value.params == {"low": 1, "high": 7}
    shared = {f.name for record in (Question, Params) for f in dataclasses.fields(record)}
    assert not shared & Slider.keys


@pytest.fixture
def ranking() -> Survey:
    return parse_survey(RANKING, "rank.toml")


def step_of(survey) -> tuple[Questionnaire, QuestionStep]:
    q = Questionnaire(survey, Respondent("north", "staff", "en"))
    step = q.step(State())
    assert isinstance(step, QuestionStep)
    return q, step


def test_ranking_is_stored_as_one_rank_per_option_and_read_back(ranking) -> None:
    """Ranks in option order become one row per option (value = rank) and decode back."""
    question = ranking.question("goals")
    rows = encode_rows(question, (2, 3, 1))
    assert rows == [
        ItemRow("cost", 2, None),
        ItemRow("quality", 3, None),
        ItemRow("clients", 1, None),
    ]
    assert decode_rows(question, list(reversed(rows))) == (2, 3, 1)
    assert decode_rows(question, encode_rows(question, DONT_KNOW)) is DONT_KNOW


@pytest.mark.parametrize("value", [(1, 2), (1, 1, 2), (0, 1, 2), (1, 2, 4), "1 2 3", (1, 2, True)])
def test_ranking_refuses_anything_but_each_rank_once(ranking, value) -> None:
    """A ranking answer is a permutation of 1..n, or it is refused as rank_all."""
    q, step = step_of(ranking)
    with pytest.raises(AnswerError) as info:
        q.answer(State(), step.index, value)
    assert info.value.code == "rank_all" and info.value.params == {"count": 3}


def test_ranking_widget_appends_taps_starts_over_and_gives_ranks(ranking) -> None:
    """Taps append to the order, start over empties it, Done appears when all are ranked."""
    from bot.render import render_step

    q, step = step_of(ranking)
    widget = WIDGETS["ranking"]
    text, keyboard = render_step(step, 9, "en")
    datas = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert datas == ["p:9:0:-:0", "p:9:0:-:1", "p:9:0:-:2"]
    order = widget.redraw(decode("p:9:0:-:2"), step)
    order = widget.redraw(decode(f"p:9:0:{'.'.join(map(str, order))}:0"), step)
    text, keyboard = render_step(step, 9, "en", widget=order)
    assert "1. Client focus" in text and "2. Cost" in text
    labels = [b.text for row in keyboard.inline_keyboard for b in row]
    assert labels == ["Quality", "↺ Start over"]
    assert widget.redraw(decode("p:9:0:2.0"), step) == ()  # start over
    with pytest.raises(ValueError):
        widget.redraw(decode("p:9:0:2.0:2"), step)  # already ranked
    order = widget.redraw(decode("p:9:0:2.0:1"), step)
    _, keyboard = render_step(step, 9, "en", widget=order)
    done = keyboard.inline_keyboard[-1][-1].callback_data
    assert done == "P:9:0:2.0.1"
    ranks = widget.answer(decode(done), step.question)
    assert ranks == (2, 3, 1)
    assert q.answer(State(), 0, ranks).put == {"goals": (2, 3, 1)}
    with pytest.raises(AnswerError):  # an incomplete order is refused by the type
        q.answer(State(), 0, widget.answer(decode("P:9:0:2.0"), step.question))


def test_ranking_in_the_preview_takes_option_numbers_in_order(ranking) -> None:
    """ "3 1 2" ranks option 3 first; a short or repeated list gets the hint and a retry."""
    q = Questionnaire(ranking, Respondent("north", "staff", "en"))
    out: list[str] = []
    assert run_preview(q, iter(["3 1", "3 3 1", "3 1 2"]), out.append, "en")
    shown = "\n".join(out)
    assert "3. Client focus" in shown and "e.g. 3 1 2" in shown
    assert shown.count("Put all 3 options in order, each once.") == 2
    assert "goals: 2, 3, 1" in shown


def test_ranking_in_the_simulation_is_a_plausible_order(ranking) -> None:
    """Simulated rankings are valid, vary, and favour the earlier options on average."""
    _, step = step_of(ranking)
    rng = random.Random(1)
    given = [answer(step, Mood(3.5, {}, "north"), rng) for _ in range(200)]
    assert all(sorted(g) == [1, 2, 3] for g in given)
    assert len(set(given)) > 1
    assert sum(g[0] for g in given) < sum(g[2] for g in given)
