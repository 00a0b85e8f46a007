"""``duban status`` builds its as-of context once and asks the database a fixed handful of
questions, however many reporting cycles its completeness rates span."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event
from typer.testing import CliRunner

from duban.cli import app

LIMIT = 15
"""Statements `duban status` may run to read, the schema check included."""
SETTINGS = 3
"""Planner settings besides (PostgreSQL: hash joins for the transaction, nested loops allowed
again around the statement that joins the logs to a range of days)."""


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the test does."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


@pytest.mark.parametrize(
    ("day", "settled"),
    [(date(2021, 10, 11), False), (date(2021, 10, 15), True)],
    ids=["replayed", "settled"],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_status_runs_a_fixed_handful_of_statements(
    week: Engine, statements: list[str], day: date, settled: bool, as_json: bool
) -> None:
    """On a day the history has moved past (the logs replayed) and on a settled day, with the
    completeness rates over eight weekly cycles: at most LIMIT statements, none per cycle."""
    args = ["status", "--as-of", day.isoformat(), "--json"]
    runner = CliRunner()
    payload = json.loads(runner.invoke(app, args, catch_exceptions=False).output)
    window = date.fromisoformat(payload["completeness"]["window_end"]) - date.fromisoformat(
        payload["completeness"]["window_start"]
    )
    assert window.days + 1 == 8 * 7  # eight cycles counted
    assert sum(payload["summary"].values()) == 15
    statements.clear()
    result = runner.invoke(app, args if as_json else args[:-1], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    settings = [s for s in statements if s.startswith("SELECT set_config(")]
    reads = [s for s in statements if s not in settings]
    assert 0 < len(reads) <= LIMIT, "\n\n".join(reads)
    assert len(settings) <= SETTINGS, settings
    if week.dialect.name == "postgresql" and not settled:
        # the eight cycles' owing units join the logs to a range of days: nested loops allowed
        at = next(i for i, s in enumerate(statements) if "replayed_days" in s)
        assert "'enable_nestloop', 'on'" in statements[at - 1]
        assert "'enable_nestloop', 'off'" in statements[at + 1]
    calendar = [s for s in statements if "FROM calendar_day" in s and "min(" in s]
    assert len(calendar) <= 1, "the calendar's coverage is checked once"
    # the counts from the tally on a settled day, from the replayed logs otherwise
    assert any("work_item_tally" in s for s in statements) is settled
