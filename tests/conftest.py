"""Fixtures are grouped by concern in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.catalog",
    "tests.fixtures.time",
    "tests.fixtures.plan_week",
    "tests.fixtures.prefect",
    "tests.fixtures.web",
    "tests.fixtures.desk",
    "tests.fixtures.imap",
]
