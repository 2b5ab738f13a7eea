"""The product knows no district: the demo's places and case-id prefix appear only in the demo and its tests.

What is looked for, in every tracked (or new, not ignored) ``.py``, ``.sql`` and ``.toml`` file:
the demo district's administrative code ``330108`` (its id, and the prefix of its streets' and
communities' ids), its names (滨江, Binjiang, and its streets 西兴, 长河, 浦沿), and the ``BJ``
prefix of the case ids the demo mints.

Where they may appear (the allow-list):

* ``data/demo/``: the demo itself (tessellation, catalogue, generator, simulator);
* ``tests/data/demo/``: the demo's own tests;
* test modules that read the demo warehouse: a module (or conftest) with a test or fixture that
  requests a fixture built from the demo (``small_demo``, ``fresh_demo``, ``etl_base``, ``etl_env``,
  and, found by reading every ``conftest.py``, each fixture that requests one of those, transitively).
  The values such a test asserts are the demo's, so naming the demo's places is the honest way to
  write it. A test that does not read the demo (a pure function on a tiny frame) uses neutral names.

Everything else, ``bench/`` included, must not name them: a deployment's identity comes from its
own warehouse and settings.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED_DIRS = ("data/demo/", "tests/data/demo/")
DEMO_FIXTURES = frozenset({"small_demo", "fresh_demo", "etl_base", "etl_env"})
FORBIDDEN = re.compile(r"330108|滨江|binjiang|西兴|长河|浦沿", re.IGNORECASE)
CASE_PREFIX = re.compile(r"\bBJ(?![A-Za-z])")


def _files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.py",
                              "*.sql", "*.toml"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return sorted({f for f in out.splitlines() if (ROOT / f).is_file()})


def _arguments(tree: ast.AST) -> list[tuple[str, set[str]]]:
    """(name, argument names) of every function in a module."""
    return [(node.name, {a.arg for a in node.args.args + node.args.kwonlyargs})
            for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _demo_fixtures(files: list[str]) -> set[str]:
    """The demo fixtures and every conftest fixture that requests one of them, transitively."""
    functions = []
    for f in files:
        if f.startswith("tests/") and f.endswith("conftest.py"):
            functions += _arguments(ast.parse((ROOT / f).read_text(encoding="utf-8")))
    names = set(DEMO_FIXTURES)
    while True:
        more = {name for name, args in functions if args & names} - names
        if not more:
            return names
        names |= more


def _allowed(path: str, text: str, demo_fixtures: set[str]) -> bool:
    if path.startswith(ALLOWED_DIRS):
        return True
    if not (path.startswith("tests/") and path.endswith(".py")):
        return False
    return any(args & demo_fixtures for _, args in _arguments(ast.parse(text)))


def offending_lines() -> list[str]:
    """``file:line: text`` of every forbidden name outside the allow-list."""
    files = _files()
    demo_fixtures = _demo_fixtures(files)
    found = []
    for path in files:
        if path == "tests/test_demo_boundary.py":
            continue
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        if not (FORBIDDEN.search(text) or CASE_PREFIX.search(text)) or _allowed(path, text, demo_fixtures):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line) or CASE_PREFIX.search(line):
                found.append(f"{path}:{number}: {line.strip()[:100]}")
    return found


def test_the_demo_fixtures_are_found_through_the_conftests():
    fixtures = _demo_fixtures(_files())
    assert DEMO_FIXTURES <= fixtures and "demo" in fixtures  # tests/metrics/conftest.py: demo(small_demo)


def test_the_checker_sees_a_demo_name_outside_the_demo(tmp_path):
    assert FORBIDDEN.search("Scope('330108001')") and FORBIDDEN.search("滨江区") and FORBIDDEN.search("BINJIANG")
    assert CASE_PREFIX.search("f'BJ{day}'") and CASE_PREFIX.search("'BJ' || day") and CASE_PREFIX.search("BJ2026")
    assert not CASE_PREFIX.search("OBJECT BJT subject")


def test_no_demo_place_or_case_prefix_outside_the_demo():
    found = offending_lines()
    assert not found, "the demo's ids, names or case-id prefix outside data/demo/ and its tests:\n" + "\n".join(found)
