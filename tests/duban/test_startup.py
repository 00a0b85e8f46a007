"""Start-up of the command line: ``import duban.cli`` loads no heavy library (bench/cli_startup.py
times it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "numpy", "openpyxl", "docx", "apprise", "prefect")


def loaded_after(
    statement: str, heavy: tuple[str, ...] = HEAVY, cwd: Path | None = None
) -> list[str]:
    """The ``heavy`` libraries in ``sys.modules`` after ``statement`` in a fresh interpreter
    (run in ``cwd``, if given)."""
    probe = f"{statement}; import sys; print(*[m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=cwd,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    return done.stdout.split()


def test_importing_the_cli_loads_no_heavy_library() -> None:
    """`duban --help` and every command start without charts, workbooks, Word, apprise, Prefect."""
    assert loaded_after("import duban.cli") == []


def test_importing_the_cli_loads_neither_the_database_nor_the_settings() -> None:
    """`duban --help` and a command's usage errors need neither SQLAlchemy nor pydantic (0.5 s
    of CPU together): a command imports them in its body."""
    assert loaded_after("import duban.cli", ("sqlalchemy", "pydantic", "config.settings")) == []


@pytest.mark.parametrize("module", ["duban.render", "duban.app"])
def test_cli_helpers_load_no_heavy_library(module: str) -> None:
    """The console helpers the commands share import no heavy library either."""
    assert loaded_after(f"import {module}") == []


STATUS_PATH = "import duban.cli, duban.database, domain.queries.status, domain.queries.completeness"


def test_the_status_path_loads_neither_alembic_nor_richs_help() -> None:
    """A command that reads the database checks its schema without Alembic, and Typer's help
    formatter (rich markdown, pygments) loads only when help or an error is shown."""
    assert loaded_after(STATUS_PATH, ("alembic", "typer.rich_utils", "markdown_it")) == []


def test_the_models_load_no_postgresql_dialect() -> None:
    """The PostgreSQL-only partial index of the models does not load PostgreSQL's dialect on
    import: a command on SQLite never loads it."""
    assert loaded_after(STATUS_PATH, ("sqlalchemy.dialects.postgresql",)) == []


def test_reading_the_settings_loads_neither_pydantic_settings_nor_dotenv(tmp_path: Path) -> None:
    """Every command reads the settings: without a ``.env`` file that takes pydantic alone
    (pydantic-settings cost about 20 ms of CPU), python-dotenv only to read one."""
    probe = "from config.settings import get_settings; get_settings()"
    assert loaded_after(probe, ("pydantic_settings", "dotenv"), cwd=tmp_path) == []
    (tmp_path / ".env").write_text("DUBAN_YELLOW_WORKDAYS=3\n", encoding="utf-8")
    assert loaded_after(probe, ("pydantic_settings", "dotenv"), cwd=tmp_path) == ["dotenv"]


def test_the_probe_sees_a_heavy_import() -> None:
    """The probe itself works: a module that draws charts does show up as loaded."""
    assert "matplotlib" in loaded_after("import domain.adapters.briefing.charts")
