"""pyproject.toml declares every distribution the code imports directly: the app and the
libraries in ``[project].dependencies``, ``bench/`` in those or the ``bench`` extra, ``tests/`` in
those or the ``test`` extra. A package that only arrives through another one (werkzeug through
Flask, branca through folium) can go away with a release of that one."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"app", "response_levels", "stockpile", "gis", "wsgi", "tests", "migrations", "bench"}
RUNTIME = ("app", "response_levels", "stockpile", "gis", "migrations", "wsgi.py")


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {_name(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r).group()) for r in requirements}


def _imports(*paths: str) -> dict[str, set[str]]:
    """Top-level names of the absolute imports in the files below ``paths``: name → files."""
    found: dict[str, set[str]] = {}
    for path in map(ROOT.joinpath, paths):
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(), str(file))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in LOCAL and top not in sys.stdlib_module_names and top != "__future__":
                        found.setdefault(top, set()).add(str(file.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("paths, extras", [
    (RUNTIME, ()),
    (("bench",), ("bench",)),
    (("tests",), ("test",)),
], ids=["runtime", "bench", "tests"])
def test_direct_imports_are_declared(paths, extras):
    declared = _declared(*extras)
    providers = packages_distributions()
    missing = {}
    for module, files in _imports(*paths).items():
        distributions = {_name(d) for d in providers.get(module, [module])}
        if not distributions & declared:
            missing[module] = (sorted(distributions), sorted(files)[:3])
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
