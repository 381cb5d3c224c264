"""The shape of the code (ARCHITECTURE.md): small modules by subject, short functions, thin views,
public surfaces. The import contracts (pure core, areas, cycles) are checked by ``lint-imports``
in ``make test``; this file checks what an import graph cannot see.

Each check is parametrised by area, so ``pytest tests/test_architecture.py -k depots`` checks one.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app import areas

APP = Path(__file__).resolve().parent.parent / "app"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
AREA_NAMES = [area.name for area in areas.AREAS]


def area_modules(area: str) -> list[Path]:
    return sorted((APP / area).rglob("*.py"))


def shell_modules() -> list[Path]:
    return sorted(APP.glob("*.py"))


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def long_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(APP.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def long_modules(paths) -> list[str]:
    return [f"{p.relative_to(APP.parent)} ({n} lines)" for p in paths
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]


@pytest.mark.parametrize("area", AREA_NAMES + ["(shell)"])
def test_modules_are_small_and_functions_short(area):
    paths = shell_modules() if area == "(shell)" else area_modules(area)
    problems = long_modules(paths) + [f for p in paths for f in long_functions(p)]
    assert problems == [], "split by subject:\n" + "\n".join(problems)


@pytest.mark.parametrize("area", AREA_NAMES + ["(shell)"])
def test_every_module_says_what_it_is_about(area):
    paths = shell_modules() if area == "(shell)" else area_modules(area)
    missing = [str(p.relative_to(APP.parent)) for p in paths if not ast.get_docstring(parse(p))]
    assert missing == []


def view_modules(area: str) -> list[Path]:
    """The modules that hold an area's routes: its pages (``views``) and its JSON API (``api``),
    as single modules or packages."""
    found = []
    for name in ("views", "api"):
        module, package = APP / area / f"{name}.py", APP / area / name
        found += [module] if module.exists() else []
        found += sorted(package.rglob("*.py")) if package.is_dir() else []
    return found


class _Offences(ast.NodeVisitor):
    """Calls a route may not make: permission checks and database session use belong in the
    area's services, which take the user and check first."""

    FORBIDDEN_CALLS = {"require", "can"}

    def __init__(self):
        self.found: list[tuple[int, str]] = []

    def visit_Call(self, node: ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in self.FORBIDDEN_CALLS:
            self.found.append((node.lineno, f"{name}(…)"))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute):
        if node.attr == "session" and isinstance(node.value, ast.Name) and node.value.id == "db":
            self.found.append((node.lineno, "db.session"))
        self.generic_visit(node)


@pytest.mark.parametrize("area", AREA_NAMES)
def test_views_and_api_check_no_permission_and_touch_no_session(area):
    problems = []
    for path in view_modules(area):
        visitor = _Offences()
        visitor.visit(parse(path))
        problems += [f"{path.relative_to(APP.parent)}:{line} {what}" for line, what in visitor.found]
    assert problems == [], "move into the service (permission first, one transaction):\n" + "\n".join(problems)


@pytest.mark.parametrize("area", AREA_NAMES)
def test_the_subtree_condition_is_written_once(area):
    """A region's subtree in SQL is ``regions.subtree_condition``; no area keeps its own copy of
    the code range it compares with."""
    copies = [str(p.relative_to(APP.parent)) for p in area_modules(area)
              if p != APP / "regions" / "service.py" and "int(prefix) + 1" in p.read_text(encoding="utf-8")]
    assert copies == [], "use regions.subtree_condition:\n" + "\n".join(copies)


#: Modules allowed their own LIKE escaping for now: auth's user search (auth is another
#: engineer's while this is written; it should use ``regions.name_contains`` too).
LIKE_ESCAPE_LEFT = {APP / "auth" / "service" / "users.py"}


@pytest.mark.parametrize("area", AREA_NAMES)
def test_the_like_escape_is_written_once(area):
    """A search box's text becomes a LIKE pattern through ``regions.name_contains`` (or
    ``like_contains``): no area escapes ``%`` and ``_`` itself, nor matches a name with an
    unescaped ``.contains``."""
    copies = [str(p.relative_to(APP.parent)) for p in area_modules(area)
              if p != APP / "regions" / "service.py" and p not in LIKE_ESCAPE_LEFT
              and ('replace("%"' in p.read_text(encoding="utf-8") or ".contains(q" in p.read_text(encoding="utf-8"))]
    assert copies == [], "use regions.name_contains:\n" + "\n".join(copies)


def test_the_offline_pages_share_their_dom_helpers():
    """The field form and the hand-out page draw with the offline kit's helpers
    (``JiuzaiOffline.el``, ``showErrors``, ``problemMessages`` in offline.js): no script keeps
    its own copy."""
    static = APP / "static"
    kit = (static / "offline.js").read_text(encoding="utf-8")
    for name in ("el", "showErrors", "problemMessages"):
        assert f"function {name}(" in kit and f"{name}: {name}" in kit
        copies = [str(p.relative_to(APP.parent)) for p in sorted(static.rglob("*.js"))
                  if p.name != "offline.js" and f"function {name}(" in p.read_text(encoding="utf-8")]
        assert copies == [], f"use JiuzaiOffline.{name}:\n" + "\n".join(copies)
    for page in ("reports/field-form.js", "distribution/handout.js"):
        script = (static / page).read_text(encoding="utf-8")
        assert all(f"JiuzaiOffline.{name}" in script for name in ("el", "showErrors", "problemMessages")), page


@pytest.mark.parametrize("area", AREA_NAMES)
def test_each_area_names_its_public_surface(area):
    init = APP / area / "__init__.py"
    tree = parse(init)
    names = [node for node in tree.body if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)]
    assert names, f"{init.relative_to(APP.parent)} must define __all__"
    exported = ast.literal_eval(names[0].value)
    assert "register" in exported
    module = __import__(f"app.{area}", fromlist=["*"])
    assert [name for name in exported if not hasattr(module, name)] == []


def test_every_area_is_in_the_registry_and_every_package_is_an_area():
    packages = sorted(p.name for p in APP.iterdir()
                      if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("translations", "templates", "static"))
    assert packages == sorted(AREA_NAMES)


def test_every_navigation_entry_and_home_panel_resolves(app):
    with app.test_request_context():
        from flask import url_for

        for entry in areas.nav_entries():
            assert url_for(entry.endpoint)
            assert str(entry.label) and str(entry.help) and entry.action in areas.policy()
    for area in areas.AREAS:
        if area.home_panel:
            assert callable(areas.resolve(area.home_panel))
        for _step, _label, target in area.demo:
            assert callable(areas.resolve(target))
