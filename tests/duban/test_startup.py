"""Start-up of the command line: ``import duban.cli`` loads no heavy library (bench/cli_startup.py
times it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from config.settings import Settings
from duban.cli_index import COMMANDS
from models.records import Notice

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


EVERY_COMMAND = "from duban.cli import app"


def test_importing_the_cli_loads_no_heavy_library() -> None:
    """`duban --help` and every command start without charts, workbooks, Word, apprise, Prefect."""
    assert loaded_after(EVERY_COMMAND) == []


def test_importing_the_cli_loads_neither_the_database_nor_the_settings() -> None:
    """`duban --help` and a command's usage errors need neither SQLAlchemy nor pydantic (0.5 s
    of CPU together): a command imports them in its body."""
    assert loaded_after(EVERY_COMMAND, ("sqlalchemy", "pydantic", "config.settings")) == []


def python(code: str, env: dict[str, str] | None = None) -> str:
    """What ``code`` prints in a fresh interpreter that imports this checkout (``env`` added to
    the environment)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=os.environ | (env or {}) | {"PYTHONPATH": str(ROOT)},
    )
    return done.stdout


COMMAND_MODULES = sorted({m for m in COMMANDS.values() if m != "duban.cli"})
RUN_HELP = """
import sys
from duban.cli import main
sys.argv = ["duban", "{command}", "--help"]
try:
    main()
except SystemExit:
    pass
print("loaded:", *[m for m in {modules!r} if m in sys.modules])
"""


@pytest.mark.parametrize(
    ("command", "modules"), [("status", []), ("brief", ["duban.cli_briefing"])]
)
def test_a_command_loads_no_other_commands_module(command: str, modules: list[str]) -> None:
    """`duban status` imports none of the modules that define other commands (building all 35
    commands and groups cost about 6 % of `status`'s instructions); `duban brief` its own only."""
    printed = python(RUN_HELP.format(command=command, modules=COMMAND_MODULES))
    assert printed.splitlines()[-1].split()[1:] == modules


WHERE_REGISTERED = """
import importlib, json
from duban import cli
from duban.cli_index import name_of

def names():
    root = cli.root
    return [name_of(c) for c in root.registered_commands] + [g.name for g in root.registered_groups]

where = dict.fromkeys(names(), "duban.cli")
for module in {modules!r}:
    importlib.import_module(module)
    where |= {{name: module for name in names() if name not in where}}
print(json.dumps(where))
"""


def test_the_command_index_names_each_commands_module() -> None:
    """`COMMANDS` names every command and group with the module that registers it (running one
    imports that module alone)."""
    where = json.loads(python(WHERE_REGISTERED.format(modules=COMMAND_MODULES)))
    assert where == COMMANDS, "a new command goes into duban.cli_index.COMMANDS"


STATUS_PATH = "import duban.cli, duban.database, domain.queries.status, domain.queries.completeness"


def test_the_status_path_loads_neither_alembic_nor_richs_help() -> None:
    """A command that reads the database checks its schema without Alembic, and Typer's help
    formatter (rich markdown, pygments) loads only when help or an error is shown."""
    assert loaded_after(STATUS_PATH, ("alembic", "typer.rich_utils", "markdown_it")) == []


def test_the_status_path_loads_what_only_other_commands_need() -> None:
    """chinesecalendar's tables load only to build a calendar (status reads one), the desk's view
    models and itsdangerous only for the desk."""
    unneeded = ("chinese_calendar", "domain.rules.desk", "itsdangerous")
    assert loaded_after(f"{STATUS_PATH}, duban.render", unneeded) == []


STATUS_THEN_RECORDS = """
import sys
from duban.cli import main
sys.argv = ["duban", "status", "--as-of", "{day}"{json}]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
print("loaded:", "models.records" in sys.modules)
from sqlalchemy import func, select
from models.db import session_scope
from models.orm import WorkItem
from models.records import Notice
with session_scope() as session:
    ladder = select(func.count()).select_from(Notice).join(WorkItem, Notice.item_id == WorkItem.id)
    print("notices:", session.scalar(ladder.where(Notice.kind == "ladder")))
"""


@pytest.mark.parametrize(
    ("day", "as_json"),
    [("2021-10-11", False), ("2021-10-15", True)],
    ids=["replayed-table", "settled-json"],
)
def test_status_maps_only_the_tables_it_reads(
    week: Engine, settings: Settings, day: str, as_json: bool
) -> None:
    """`duban status` (a replayed day and a settled one, as a table and as JSON) imports
    ``models.orm`` alone, not the 16 classes of ``models.records`` (outbox, briefings, measures
    …) it never reads. Imported after status's first query, they map and query as usual (a later
    module's mappers are configured at their first use)."""
    env = {"DUBAN_HOME": str(settings.home)}
    if settings.database_url:
        env["DUBAN_DATABASE_URL"] = settings.database_url
    code = STATUS_THEN_RECORDS.format(day=day, json=', "--json"' if as_json else "")
    printed = python(code, env).splitlines()
    assert printed[-2:] == ["loaded: False", f"notices: {ladder_notices(week)}"]


def ladder_notices(engine: Engine) -> int:
    """The ladder notices the fixture's escalation planned, counted in this process."""
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).where(Notice.kind == "ladder"))
    assert count, "the fixture plans ladder notices"
    return int(count)


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


GROUP_COMMANDS = """
import importlib, json
from duban import cli
from duban.cli_index import COMMANDS, SUBCOMMANDS

groups = {modules!r}
if groups is None:  # every module of the command line, whether the index names it or not
    import pkgutil, duban
    for found in pkgutil.iter_modules(duban.__path__, "duban."):
        if found.name.startswith("duban.cli"):
            importlib.import_module(found.name)
else:
    for name in groups:
        for module in (COMMANDS[name], *SUBCOMMANDS.get(name, ())):
            importlib.import_module(module)
print(json.dumps({{
    g.name: sorted(c.name or c.callback.__name__ for c in g.typer_instance.registered_commands)
    for g in cli.root.registered_groups
}}))
"""


def test_a_group_run_alone_has_every_subcommand() -> None:
    """`duban catalog …` run alone still has `carry-over`, which another module adds to the group:
    each group loaded as its command loads it has the subcommands the whole app has."""
    everything = json.loads(python(GROUP_COMMANDS.format(modules=None)))
    for group, commands in everything.items():
        alone = json.loads(python(GROUP_COMMANDS.format(modules=[group])))
        assert alone[group] == commands, f"{group}: add its modules to cli_index.SUBCOMMANDS"
