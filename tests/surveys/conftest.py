"""Shared fixtures for the survey tests: write a TOML definition to disk and load it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Collection

import pytest

from surveys.errors import DefinitionError
from surveys.loader import load_survey
from surveys.model import Survey

# The role ids the bot configures; built-in definitions may only use these.
KNOWN_ROLES = ("staff", "manager", "administrator", "council")

LoadToml = Callable[..., Survey]
TomlProblems = Callable[..., list[str]]


@pytest.fixture(scope="session")
def known_roles() -> tuple[str, ...]:
    """The roles a deployment knows (staff, manager, administrator, council)."""
    return KNOWN_ROLES


@pytest.fixture(scope="session")
def load_toml(tmp_path_factory: pytest.TempPathFactory) -> LoadToml:
    """A function that writes TOML text to a fresh folder under `name` and loads it.

    Session-scoped so module-scoped fixtures and hypothesis tests can use it too; every
    call gets its own folder, so files never overwrite each other.
    """

    def load(text: str, name: str = "bad.toml", roles: Collection[str] | None = None) -> Survey:
        path = tmp_path_factory.mktemp("definition") / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_survey(path, roles)

    return load


@pytest.fixture(scope="session")
def toml_problems(load_toml: LoadToml) -> TomlProblems:
    """A function that loads TOML text expecting a DefinitionError; returns its problem lines."""

    def problems(
        text: str, name: str = "bad.toml", roles: Collection[str] | None = None
    ) -> list[str]:
        with pytest.raises(DefinitionError) as info:
            load_toml(text, name, roles)
        lines = [str(p) for p in info.value.problems]
        # The exception's message is every problem, one per line, in the same order.
        assert str(info.value).splitlines() == lines
        return lines

    return problems
