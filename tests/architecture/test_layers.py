"""The folders of ``domain/`` hold what their names say, and the arrows between them run one way.

rules import no queries, adapters, services, settings or sessions; queries import no adapters or
services; adapters import no queries or services. Modules stay small enough to read in one sitting.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain"

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain.rules": (
        "domain.queries",
        "domain.adapters",
        "domain.services",
        "config.settings",
        "models.db",
        "sqlalchemy.orm",
    ),
    "domain.queries": ("domain.adapters", "domain.services"),
    "domain.adapters": ("domain.queries", "domain.services"),
}
"""Which packages each layer must not import (``services`` may import them all)."""

KNOWN_CROSSINGS: set[tuple[str, str]] = {
    ("domain.queries.escalation", "domain.adapters"),
    ("domain.queries.escalation", "domain.services"),
    ("domain.rules.dashboard", "domain.queries"),
}
"""Crossings still to be mended, each with the module that crosses; the list only shrinks."""

MAX_LINES = 400
LONG_MODULES: set[str] = {
    "domain.queries.escalation",
    "domain.queries.status",
}
"""Modules over ``MAX_LINES`` still to be split along their seams; the list only shrinks."""


def module_name(path: Path) -> str:
    """The dotted name of a source file under the repository root."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.Module) -> set[str]:
    """Every module a file imports, at any depth (``from a import b`` gives ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sources() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def crossings() -> set[tuple[str, str]]:
    """(module, forbidden import) pairs found in ``domain/``."""
    found: set[tuple[str, str]] = set()
    for path in sources():
        name = module_name(path)
        layer = next((lay for lay in FORBIDDEN if name == lay or name.startswith(lay + ".")), None)
        if layer is None:
            continue
        for target in imported(ast.parse(path.read_text())):
            for banned in FORBIDDEN[layer]:
                if target == banned or target.startswith(banned + "."):
                    found.add((name, banned))
    return found


def test_every_module_sits_in_a_layer() -> None:
    """Every module of ``domain/`` lives in rules, queries, adapters or services."""
    loose = [
        module_name(p)
        for p in sources()
        if module_name(p).count(".") == 1 and p.name != "__init__.py"
    ]
    assert loose == []


def test_arrows_run_one_way() -> None:
    """No layer imports what it must not, beyond the crossings still listed for mending."""
    found = crossings()
    assert found - KNOWN_CROSSINGS == set(), "new crossing"
    assert KNOWN_CROSSINGS - found == set(), "mended: remove it from KNOWN_CROSSINGS"


@pytest.mark.parametrize("path", sources(), ids=module_name)
def test_modules_stay_short(path: Path) -> None:
    """A module over MAX_LINES lines is split along its seams (the listed ones are still to do)."""
    name = module_name(path)
    lines = len(path.read_text().splitlines())
    if name in LONG_MODULES:
        assert lines > MAX_LINES, "now short enough: remove it from LONG_MODULES"
    else:
        assert lines <= MAX_LINES


PACKAGES: dict[str, set[str]] = {
    "config": set(),
    "models": {"config"},
    "tasks_catalog": {"models", "config"},
    "domain": {"tasks_catalog", "models", "config"},
    "flows": {"domain", "tasks_catalog", "models", "config"},
}
"""What each top-level package may import of ours; ``duban`` (the shell) may import everything."""


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_packages_import_downwards(package: str) -> None:
    """config ← models ← tasks_catalog ← domain ← flows ← duban: no package imports upwards."""
    ours = {*PACKAGES, "duban"}
    upward = sorted(
        f"{module_name(path)} imports {target}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for target in imported(ast.parse(path.read_text()))
        if target.split(".")[0] in ours - PACKAGES[package] - {package}
    )
    assert upward == []
