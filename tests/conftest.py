"""Fixtures are grouped by concern in tests/fixtures/."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.catalog",
    "tests.fixtures.time",
    "tests.fixtures.plan_week",
    "tests.fixtures.prefect",
    "tests.fixtures.web",
    "tests.fixtures.desk",
    "tests.fixtures.imap",
    "tests.fixtures.two_plans",
]


_DATABASE_FIXTURES = frozenset({"settings", "engine", "session", "postgres_url"})


def _touches_the_database(item: pytest.Item) -> bool:
    """A test that asks for a database fixture, or whose module names the backend or PostgreSQL
    (it picks its database itself)."""
    if _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    path = getattr(module, "__file__", None)
    return path is not None and _names_the_backend(path)


@functools.cache
def _names_the_backend(path: str) -> bool:
    text = Path(path).read_text(encoding="utf-8")
    return "BACKEND" in text or "postgres" in text.lower()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The second backend's run (`dev.py test` runs SQLite, then PostgreSQL) keeps only the tests
    that touch a database: the others would give the same answer twice. DUBAN_TEST_EVERYTHING=1
    keeps them all."""
    backend = os.environ.get("DUBAN_TEST_BACKEND", "sqlite")  # as tests/fixtures/db.py reads it
    if backend != "postgresql" or os.environ.get("DUBAN_TEST_EVERYTHING") == "1":
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if _touches_the_database(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
