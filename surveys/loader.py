"""Read survey TOML files into `Survey` objects, reporting every problem at once.

A consultant editing a questionnaire should see all mistakes in one run, each with
the file, the question and what is wrong, e.g.
`trust.toml: questions[12] (id 'v3'): unknown scale 'agree7'`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import DefinitionError, Problem
from .model import (
    DIMENSION_KINDS,
    LANGS,
    Condition,
    Dimension,
    Lang,
    Params,
    Question,
    Scale,
    Section,
    Survey,
    Text,
)
from .qtypes import QUESTION_TYPES, ParseContext, QuestionType, type_keys

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
MAX_QUESTIONS = 999  # question positions must fit the bot's 64-byte callback data
TOP_KEYS = frozenset(
    {
        "id",
        "version",
        "languages",
        "title",
        "intro",
        "outro",
        "scales",
        "dimensions",
        "sections",
        "questions",
    }
)
SCALE_KEYS = frozenset({"points", "labels", "dont_know"})
DIMENSION_KEYS = frozenset({"id", "label", "description", "kind", "compares", "options"})
SECTION_KEYS = frozenset({"id", "title", "intro"})
COMMON_KEYS = frozenset(
    {
        "id",
        "type",
        "text",
        "label",
        "section",
        "required",
        "roles",
        "when",
        "per_partner",
        "dimension",
    }
)
PARTNER_PLACEHOLDER = "{partner}"


def builtin_dir() -> Path:
    """Folder of the built-in instruments shipped as package data."""
    return Path(str(resources.files("surveys") / "definitions"))


def builtin_paths() -> list[Path]:
    return sorted(builtin_dir().glob("*.toml"))


def load_builtin(survey_id: str, known_roles: Collection[str] | None = None) -> Survey:
    return load_survey(builtin_dir() / f"{survey_id}.toml", known_roles)


def load_survey(path: str | Path, known_roles: Collection[str] | None = None) -> Survey:
    """Parse and validate one file; raise `DefinitionError` listing every problem."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(
            [Problem(path.name, "", f"cannot read file: {exc.strerror}")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError([Problem(path.name, "", "file is not valid UTF-8")]) from exc
    return parse_survey(raw_text, path.name, known_roles)


def parse_survey(source: str, filename: str, known_roles: Collection[str] | None = None) -> Survey:
    """Parse TOML text; `filename` only names the source in problems."""
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError([Problem(filename, "", f"TOML syntax error: {exc}")]) from exc
    return _SurveyParser(filename, known_roles).parse(raw)


def load_surveys(
    paths: Iterable[str | Path], known_roles: Collection[str] | None = None
) -> dict[str, Survey]:
    """Load several files (all problems of all files together), keyed by survey id."""
    surveys: dict[str, Survey] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            survey = load_survey(path, known_roles)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        if survey.id in surveys:
            problems.append(
                Problem(
                    Path(path).name,
                    "id",
                    f"survey id '{survey.id}' is used by {surveys[survey.id].source} too",
                )
            )
        surveys[survey.id] = survey
    if problems:
        raise DefinitionError(problems)
    return surveys


def _a(word: str) -> str:
    """The word with its indefinite article: "an allocate", "a likert"."""
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _langs() -> str:
    return ", ".join(LANGS)


class _SurveyParser:
    """One parse of one file; accumulates problems instead of stopping at the first."""

    def __init__(self, filename: str, known_roles: Collection[str] | None) -> None:
        self.filename = filename
        self.known_roles = frozenset(known_roles) if known_roles is not None else None
        self.problems: list[Problem] = []
        self.languages: tuple[Lang, ...] = LANGS
        self._where = ""
        self._all_ids: set[object] = set()
        self._compares: list[tuple[str, Dimension]] = []  # checked once all are known

    def report(self, message: str) -> None:
        self.problems.append(Problem(self.filename, self._where, message))

    def at(self, where: str) -> _SurveyParser:
        self._where = where
        return self

    def unknown_keys(self, raw: dict[str, Any], allowed: frozenset[str]) -> None:
        for key in sorted(set(raw) - allowed):
            self.report(f"unknown key '{key}'")

    def parse(self, raw: dict[str, Any]) -> Survey:
        self.at("")
        self.unknown_keys(raw, TOP_KEYS)
        self.languages = self.parse_languages(raw.get("languages"))
        ctx = ParseContext({}, self.report, self.languages)
        survey_id = raw.get("id")
        if not isinstance(survey_id, str) or not ID_RE.match(survey_id):
            self.at("id").report("survey needs an 'id' of lowercase letters, digits and _")
            survey_id = ""
        version = ctx.integer(raw.get("version", 1), "version", 1)
        self.at("title")
        title = ctx.text(raw.get("title"), "title")
        if "title" not in raw:
            self.report("survey needs a 'title'")
        self.at("intro")
        intro = ctx.text(raw.get("intro"), "intro")
        self.at("outro")
        outro = ctx.text(raw.get("outro"), "outro")

        scales = self.parse_scales(raw.get("scales", {}), ctx)
        ctx.scales = {s.id: s for s in scales}
        dimensions = self.parse_named(
            raw.get("dimensions", []), "dimensions", DIMENSION_KEYS, ctx, self.dimension
        )
        self.check_compares({d.id: d for d in dimensions})
        sections = self.parse_named(
            raw.get("sections", []), "sections", SECTION_KEYS, ctx, self.section
        )
        questions = self.parse_questions(
            raw.get("questions"), ctx, {d.id: d for d in dimensions}, {s.id for s in sections}
        )
        if self.problems:
            raise DefinitionError(self.problems)
        assert title is not None
        return Survey(
            id=survey_id,
            version=version,
            title=title,
            intro=intro,
            outro=outro,
            scales=tuple(scales),
            dimensions=tuple(dimensions),
            sections=tuple(sections),
            questions=tuple(questions),
            source=self.filename,
            languages=self.languages,
        )

    def parse_languages(self, raw: object) -> tuple[Lang, ...]:
        """`languages = ["nl", "en"]`: the languages every text is written in (default: all).

        Only languages the catalogue has: the bot around the questions must speak them too.
        """
        if raw is None:
            return LANGS
        self.at("languages")
        if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
            self.report(f"'languages' must be a non-empty list of language codes ({_langs()})")
            return LANGS
        unknown = [x for x in raw if x not in LANGS]
        if unknown:
            self.report(f"unknown languages {unknown} (the catalogue has: {_langs()})")
        if len(set(raw)) != len(raw):
            self.report("a language is listed twice")
        known = tuple(dict.fromkeys(x for x in raw if x in LANGS))
        return known or LANGS

    def parse_scales(self, raw: object, ctx: ParseContext) -> list[Scale]:
        if not isinstance(raw, dict):
            self.at("scales").report("'scales' must be a table of named scales")
            return []
        scales = []
        for scale_id, body in raw.items():
            self.at(f"scales.{scale_id}")
            if not ID_RE.match(scale_id):
                self.report("scale name must be lowercase letters, digits and _")
            if not isinstance(body, dict):
                self.report("a scale must be a table with 'points' and 'labels'")
                continue
            self.unknown_keys(body, SCALE_KEYS)
            points = ctx.integer(body.get("points"), "points", 0)
            if not 2 <= points <= 11:
                self.report(f"'points' must be between 2 and 11 (got {points})")
                continue
            labels = body.get("labels")
            if not isinstance(labels, dict):
                shape = ", ".join(f"{lang} = [...]" for lang in self.languages)
                self.report(f"'labels' must be a table {{ {shape} }}")
                continue
            ctx.undeclared(labels, "labels")
            texts: dict[str, list[str]] = {}
            for lang in self.languages:
                values = labels.get(lang)
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    self.report(f"missing translation '{lang}' in 'labels'")
                elif len(values) != points:
                    self.report(f"labels.{lang} has {len(values)} labels for {points} points")
                else:
                    texts[lang] = values
            if len(texts) == len(self.languages):
                scales.append(
                    Scale(
                        id=scale_id,
                        points=points,
                        labels=tuple(
                            Text({lang: texts[lang][i] for lang in self.languages})
                            for i in range(points)
                        ),
                        dont_know=ctx.boolean(body.get("dont_know"), "dont_know", False),
                    )
                )
        return scales

    def parse_named(
        self, raw: object, key: str, allowed: frozenset[str], ctx: ParseContext, build: Any
    ) -> list[Any]:
        if not isinstance(raw, list):
            self.at(key).report(f"'{key}' must be an array of tables ([[{key}]])")
            return []
        items: list[Any] = []
        for i, body in enumerate(raw):
            item_id = body.get("id") if isinstance(body, dict) else None
            self.at(f"{key}[{i}]" + (f" (id '{item_id}')" if item_id else ""))
            if not isinstance(body, dict):
                self.report("must be a table")
                continue
            self.unknown_keys(body, allowed)
            if not isinstance(item_id, str) or not ID_RE.match(item_id):
                self.report("needs an 'id' of lowercase letters, digits and _ (max 24)")
                continue
            if any(x.id == item_id for x in items):
                self.report(f"duplicate id '{item_id}'")
                continue
            item = build(body, ctx)
            if item is not None:
                items.append(item)
        return items

    def dimension(self, body: dict[str, Any], ctx: ParseContext) -> Dimension | None:
        label = ctx.text(body.get("label"), "label")
        if "label" not in body:
            self.report("dimension needs a 'label'")
        description = ctx.text(body.get("description"), "description")
        kind = body.get("kind", "scale")
        if kind not in DIMENSION_KINDS:
            self.report(f"unknown kind {kind!r} (one of: {', '.join(DIMENSION_KINDS)})")
            return None
        compares = body.get("compares")
        if compares is not None and not isinstance(compares, str):
            self.report("'compares' must be the id of another profile dimension")
            return None
        for key in ("compares", "options"):
            if key in body and kind != "profile":
                self.report(f"'{key}' only applies to a dimension of kind \"profile\"")
        options = ctx.options(body["options"]) if "options" in body else ()
        if not label:
            return None
        dimension = Dimension(body["id"], label, description, kind, compares, options)
        if compares is not None and kind == "profile":
            self._compares.append((self._where, dimension))
        return dimension

    def check_compares(self, dimensions: dict[str, Dimension]) -> None:
        """A profile dimension compares itself with another profile dimension."""
        for where, dimension in self._compares:
            self.at(where)
            other = dimensions.get(dimension.compares or "")
            if other is None:
                self.report(f"'compares' names unknown dimension '{dimension.compares}'")
            elif other.id == dimension.id:
                self.report("'compares' names the dimension itself")
            elif other.kind != "profile":
                self.report(f"'compares' names '{other.id}', which is not of kind \"profile\"")

    def section(self, body: dict[str, Any], ctx: ParseContext) -> Section | None:
        title = ctx.text(body.get("title"), "title")
        if "title" not in body:
            self.report("section needs a 'title'")
        return Section(body["id"], title, ctx.text(body.get("intro"), "intro")) if title else None

    def parse_questions(
        self,
        raw: object,
        ctx: ParseContext,
        dimensions: dict[str, Dimension],
        sections: set[str],
    ) -> list[Question]:
        if not isinstance(raw, list) or not raw:
            self.at("questions").report("survey needs at least one [[questions]]")
            return []
        if len(raw) > MAX_QUESTIONS:
            self.at("questions").report(f"at most {MAX_QUESTIONS} questions")
        questions: list[Question] = []
        seen: set[str] = set()
        self._all_ids = {
            b["id"] for b in raw if isinstance(b, dict) and isinstance(b.get("id"), str)
        }
        for i, body in enumerate(raw):
            qid = body.get("id") if isinstance(body, dict) else None
            self.at(f"questions[{i}]" + (f" (id '{qid}')" if isinstance(qid, str) else ""))
            if not isinstance(body, dict):
                self.report("must be a table")
                continue
            question = self.question(body, ctx, questions, seen, dimensions, sections)
            if isinstance(qid, str):
                seen.add(qid)
            if question is not None:
                questions.append(question)
        return questions

    def question(
        self,
        body: dict[str, Any],
        ctx: ParseContext,
        earlier: list[Question],
        seen: set[str],
        dimensions: dict[str, Dimension],
        sections: set[str],
    ) -> Question | None:
        """One question; every problem is reported, and None returned if there was any."""
        before = len(self.problems)
        qid = body.get("id")
        if not isinstance(qid, str) or not ID_RE.match(qid):
            self.report("needs an 'id' of lowercase letters, digits and _ (max 24)")
        elif qid in seen:
            self.report(f"duplicate id '{qid}'")
        qtype = self.question_type(body)
        if qtype is None:
            return None
        type_name = qtype.name
        text = ctx.text(body.get("text"), "text")
        if "text" not in body:
            self.report("question needs a 'text'")
        label = ctx.text(body.get("label"), "label")
        section = body.get("section")
        if section is not None and section not in sections:
            self.report(f"unknown section '{section}'")
        dimension = body.get("dimension")
        if dimension is not None and dimension not in dimensions:
            self.report(f"unknown dimension '{dimension}'")
        per_partner = ctx.boolean(body.get("per_partner"), "per_partner", False)
        if per_partner and not qtype.per_partner:
            self.report(f"per_partner is not possible for a {type_name} question")
        if text is not None:
            self.partner_placeholder(text, per_partner)
        roles = self.roles(body.get("roles"))
        when = self.condition(body.get("when"), earlier, seen)
        params = qtype.parse(body, ctx)
        if isinstance(dimension, str) and dimension in dimensions:
            self.dimension_fits(dimensions[dimension], qtype, per_partner, params)
        required = ctx.boolean(body.get("required"), "required", qtype.required)
        if len(self.problems) > before or text is None or not isinstance(qid, str):
            return None
        return Question(
            id=qid,
            type=qtype.name,
            text=text,
            label=label,
            section=section,
            required=required and qtype.answerable,
            answerable=qtype.answerable,
            roles=roles,
            when=when,
            per_partner=per_partner,
            dimension=dimension,
            params=params,
        )

    def question_type(self, body: dict[str, Any]) -> QuestionType | None:
        """The question's type, with its keys checked against what that type takes."""
        type_name = body.get("type")
        qtype = QUESTION_TYPES.get(type_name) if isinstance(type_name, str) else None
        if qtype is None:
            self.report(
                f"unknown type {type_name!r} (one of: {', '.join(QUESTION_TYPES)})"
                if type_name is not None
                else "question needs a 'type'"
            )
            return None
        for key in sorted(set(body) - COMMON_KEYS - qtype.keys):
            if key in type_keys():
                self.report(f"'{key}' does not apply to a {type_name} question")
            else:
                self.report(f"unknown key '{key}'")
        return qtype

    def partner_placeholder(self, text: Text, per_partner: bool) -> None:
        """{partner} in every language of a per_partner question's text, and only there."""
        lacking = [lang for lang, value in text.items() if PARTNER_PLACEHOLDER not in value]
        if per_partner and lacking:
            self.report(
                "a per_partner question needs {partner} in its text "
                f"(missing in: {', '.join(lacking)})"
            )
        if not per_partner and len(lacking) < len(text):
            self.report("{partner} only works in a per_partner question")

    def dimension_fits(
        self, dimension: Dimension, qtype: QuestionType, per_partner: bool, params: Params
    ) -> None:
        """A question belongs to a dimension of the kind its answers make.

        Per-partner questions make a matrix, allocate questions a profile; analysis finds
        what to draw from the kinds, never from ids.
        """
        name, kind = dimension.id, dimension.kind
        if per_partner != (kind == "matrix"):
            self.report(
                f"dimension '{name}' of a per_partner question needs kind = \"matrix\""
                if per_partner
                else f"dimension '{name}' has kind \"matrix\": only per_partner questions"
            )
        elif qtype.makes_profile != (kind == "profile"):
            makers = " or ".join(t.name for t in QUESTION_TYPES.values() if t.makes_profile)
            self.report(
                f"dimension '{name}' of {_a(qtype.name)} question needs kind = \"profile\""
                if qtype.makes_profile
                else f"dimension '{name}' has kind \"profile\": only {makers} questions"
            )
        elif dimension.options:
            declared = [o.value for o in dimension.options]
            missing = [o.value for o in params.options if o.value not in declared]
            if missing:
                self.report(f"options {missing} are not among the options of dimension '{name}'")

    def roles(self, raw: object) -> frozenset[str] | None:
        if raw is None:
            return None
        if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
            self.report("'roles' must be a non-empty list of role ids")
            return None
        if self.known_roles is not None:
            for role in raw:
                if role not in self.known_roles:
                    self.report(
                        f"unknown role '{role}' (known: {', '.join(sorted(self.known_roles))})"
                    )
        return frozenset(raw)

    def condition(self, raw: object, earlier: list[Question], seen: set[str]) -> Condition | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) != {"question", "in"}:
            self.report("'when' must be { question = \"id\", in = [values] }")
            return None
        target_id, values = raw["question"], raw["in"]
        if not isinstance(target_id, str):
            self.report("'when.question' must be the id of an earlier question")
            return None
        target = next((q for q in earlier if q.id == target_id), None)
        if target is None:
            if target_id in seen:
                self.report(f"'when' points at question '{target_id}', which is invalid")
            elif target_id in self._all_ids:
                self.report(
                    f"'when' points at '{target_id}', which comes later (or is this "
                    "question): a condition can only test an earlier answer"
                )
            else:
                self.report(f"'when' points at unknown question '{target_id}'")
            return None
        if target.per_partner:
            self.report(f"'when' cannot test per_partner question '{target_id}'")
            return None
        allowed = QUESTION_TYPES[target.type].condition_values(target)
        if allowed is None:
            self.report(f"'when' cannot test a {target.type} question ('{target_id}')")
            return None
        if not isinstance(values, list) or not values:
            self.report("'when.in' must be a non-empty list")
            return None
        bad = [
            v
            for v in values
            if not isinstance(v, (int, str)) or isinstance(v, bool) or v not in allowed
        ]
        if bad:
            self.report(f"'when.in' has values {bad!r} that question '{target_id}' cannot have")
            return None
        return Condition(question=target_id, values=tuple(values))
