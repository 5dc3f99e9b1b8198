"""The repository's own documents: every test they name exists, and nothing points
outside the repository (users of it have no ../shared)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
NAMED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_test_a_document_names_exists(doc: Path) -> None:
    """A rule's test renamed or removed makes its document wrong: this says where."""
    named = NAMED_TEST.findall(doc.read_text(encoding="utf-8"))
    missing = [
        f"{file}::{name}"
        for file, name in named
        if not (ROOT / file).is_file() or name not in defined_tests(ROOT / file)
    ]
    assert missing == []


def test_the_anonymity_rules_each_name_a_test() -> None:
    """Every numbered rule of docs/anonymity.md names at least one test."""
    text = (ROOT / "docs" / "anonymity.md").read_text(encoding="utf-8")
    rules = re.split(r"\n### ", text.split("## The rules", 1)[1].split("\n## ", 1)[0])[1:]
    assert len(rules) >= 14
    assert [r.splitlines()[0] for r in rules if not NAMED_TEST.search(r)] == []


def test_readme_and_docs_link_nothing_outside_the_repository() -> None:
    """The README and docs/ point to files users of the repository have."""
    for path in [ROOT / "README.md", *DOCS]:
        assert "../shared" not in path.read_text(encoding="utf-8"), path.name
    assert "docs/anonymity.md" in (ROOT / "README.md").read_text(encoding="utf-8")
