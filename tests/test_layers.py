"""Dependencies point inward: surveys ← analysis ← trustscan ← bot, never back up.

Two checks per package, over every module it has: no import statement anywhere in its
source (also inside functions) names a package of an outer layer, and importing all of
its modules at once loads none of them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package: what it must never import (the outer layers, and the libraries they wrap)
FORBIDDEN = {
    "surveys": ("telegram", "pandas", "plotly", "analysis", "trustscan", "bot"),
    "analysis": ("telegram", "trustscan", "bot"),
    "trustscan": ("telegram", "bot"),
}


def modules(package: str) -> list[str]:
    """Every module of `package`, dotted, from its files (subpackages included)."""
    names = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imported(path: Path) -> set[str]:
    """The top-level names of every absolute import in a file, at any depth."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value).split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_names_an_outer_layer(package: str) -> None:
    """Not one import statement of the package, however deep, reaches outward."""
    bad = {
        str(path.relative_to(ROOT)): sorted(imported(path) & set(FORBIDDEN[package]))
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_importing_every_module_loads_no_outer_layer(package: str) -> None:
    """Importing all of the package's modules together loads none of the outer layers."""
    names = modules(package)
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(','.join(m for m in {FORBIDDEN[package]!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""
    assert len(names) > 3


# -- one clock --------------------------------------------------------------------------

CLOCK_MODULE = ROOT / "surveys" / "clock.py"
MACHINE_DATE = {  # (object the call is made on, attribute): reads the machine's date or time
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("time", "time"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
}
SQL_CLOCK = ("'now'", "current_date", "current_time", "current_timestamp")


def machine_date_reads(path: Path) -> list[str]:
    """Where a file reads the machine's date: a call such as `dt.date.today()` or SQL 'now'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if (name, node.func.attr) in MACHINE_DATE:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}.{node.func.attr}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            lowered = node.value.lower()
            if "select" in lowered or "insert" in lowered or "update" in lowered:
                found.extend(
                    f"{path.relative_to(ROOT)}:{node.lineno} SQL {word}"
                    for word in SQL_CLOCK
                    if word in lowered
                )
    return found


def test_only_the_clock_reads_the_machines_date() -> None:
    """Every calendar decision asks the injected clock: no other production module reads
    the machine's date or time of day (Python or SQL), so tests can pass on any day."""
    offenders = [
        hit
        for package in ("surveys", "analysis", "trustscan", "bot", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != CLOCK_MODULE
        for hit in machine_date_reads(path)
    ]
    assert offenders == []
    [reading] = machine_date_reads(CLOCK_MODULE)  # the check itself sees a read
    assert reading.endswith("datetime.now()")
