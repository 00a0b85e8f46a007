"""The command line as a user meets it: help everywhere, exit status 2 for mistakes, JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from config.errors import NotFoundError
from config.settings import Settings, temporary_settings
from duban.cli import app, main
from models.migrate import head_revision
from tests.fixtures.catalog import CatalogWriter

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run through `main()`, the console script, which turns user errors into exit 2."""
    monkeypatch.setattr("sys.argv", ["duban", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def all_commands() -> list[tuple[str, Any]]:
    """(name, command) for the app and every group and command below it (typer's click)."""
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        found.append((prefix, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{prefix} {name}".strip(), sub)

    walk("", typer.main.get_command(app))
    return found


def test_every_command_has_help_text() -> None:
    """Each command and group explains itself, and `--help` works for each."""
    for name, command in all_commands():
        assert (command.help or "").strip(), f"`duban {name}` has no help text"
        result = run(*name.split(), "--help")
        assert result.exit_code == 0
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"option {param.opts} of `duban {name}` has no help"


def test_every_command_is_documented_in_the_readme() -> None:
    """The README mentions every leaf command."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for name, command in all_commands():
        if name and not hasattr(command, "commands"):
            assert f"duban {name}" in readme, f"`duban {name}` missing from README"


def test_validate_prints_a_one_line_summary(write_catalog: CatalogWriter) -> None:
    """A valid catalogue: exit 0 and counts of tasks, milestones, items, units, indicators."""
    result = run("catalog", "validate", str(write_catalog()))
    assert result.exit_code == 0
    assert (
        "catalogue demo-plan is valid: 2 tasks, 4 milestones, 15 work items, 9 units, 1 indicator"
    ) in result.stdout


def test_invalid_catalogue_exits_2_and_names_the_line(
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bad input: status 2, file:line: field: message on stderr, no traceback."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["lead"] = "nosuch"

    path = write_catalog(edit=edit)
    assert run_main(monkeypatch, "catalog", "validate", str(path)) == 2
    err = capsys.readouterr().err
    assert f"{path / 'plan.yaml'}:" in err
    assert "tasks[0].lead: unknown unit 'nosuch'" in err
    assert "Traceback" not in err


def test_failed_sync_leaves_the_database_unchanged(
    settings: Settings, write_catalog: CatalogWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalogue with an error is refused whole: the database keeps its previous content."""
    path = write_catalog()
    assert run("catalog", "sync", str(path)).exit_code == 0
    before = json.loads(run("status", "--as-of", "2021-06-28", "--json").stdout)

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["due"] = "2021-13-01"
        c["tasks"].append({"number": 3, "title": "新任务", "lead": "mzj"})

    write_catalog(edit=edit)
    assert run_main(monkeypatch, "catalog", "sync", str(path)) == 2
    after = json.loads(run("status", "--as-of", "2021-06-28", "--json").stdout)
    assert after == before


def test_status_json_is_the_documented_shape(
    settings: Settings, write_catalog: CatalogWriter
) -> None:
    """--json has as_of, summary per light and items with the documented fields."""
    run("catalog", "sync", str(write_catalog()))
    result = run("status", "--as-of", "2021-06-28", "--json")
    data = json.loads(result.stdout)
    assert data["as_of"] == "2021-06-28"
    assert set(data["summary"]) == {"gray", "green", "yellow", "red", "done_late"}
    assert sum(data["summary"].values()) == len(data["items"]) == 15
    item = data["items"][0]
    for key in ("id", "task", "milestone", "unit", "due", "state", "light"):
        assert key in item
    assert {t["task"] for t in data["tasks"]} == {"T01", "T02"}


def test_commands_before_init_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before `duban init`, status says to run it (exit 2) and creates nothing; then init works
    twice."""
    from config.settings import temporary_settings  # noqa: PLC0415

    with temporary_settings(home=tmp_path / "fresh", database_url=None):
        assert run_main(monkeypatch, "status") == 2
        assert "请先运行 `duban init`" in capsys.readouterr().err
        assert not (tmp_path / "fresh").exists()
        assert f"schema empty → {head_revision()}" in run("init").stdout
        assert "is up to date" in run("init").stdout


def test_bad_date_is_a_usage_error(settings: Settings) -> None:
    """A malformed --as-of is rejected by the parser with status 2."""
    result = runner.invoke(app, ["status", "--as-of", "13/06/2025"])
    assert result.exit_code == 2
    assert "is not a date like 2025-06-13" in result.output


def test_unknown_item_and_task(
    settings: Settings,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Names that do not exist are reported plainly."""
    run("catalog", "sync", str(write_catalog()))
    assert run_main(monkeypatch, "item", "show", "99999") == 2
    assert run_main(monkeypatch, "status", "--task", "9") == 2
    err = capsys.readouterr().err
    assert "no work item 99999" in err
    assert "no task '9'" in err


def test_item_show_prints_history(settings: Settings, write_catalog: CatalogWriter) -> None:
    """`duban item show` shows the item and its audit trail."""
    run("catalog", "sync", str(write_catalog()))
    result = run("item", "show", "1")
    assert "M1 印发方案" in result.stdout
    assert "∅ → assigned by catalog-sync" in result.stdout


def test_calendar_command(settings: Settings) -> None:
    """`duban calendar` knows make-up working days and counts working days."""
    result = run("calendar", "2026-10-10", "--until", "2026-10-12")
    assert "is a working day" in result.stdout
    assert "working days from 2026-10-10 to 2026-10-12: 1" in result.stdout
    assert "is a day off (National Day)" in run("calendar", "2026-10-01").stdout


def test_item_move_follows_the_lifecycle_and_logs_the_actor(
    settings: Settings,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Allowed moves are logged with actor and reason; a disallowed one exits 2 and says why."""
    run("catalog", "sync", str(write_catalog()))
    assert (
        "#1: assigned → submitted"
        in run("item", "move", "1", "--to", "submitted", "--actor", "zzb-liaison").stdout
    )
    assert run_main(monkeypatch, "item", "move", "1", "--to", "returned") == 2
    assert "needs a reason" in capsys.readouterr().err
    run("item", "move", "1", "--to", "returned", "--reason", "缺印发文件", "--actor", "mzj")
    history = run("item", "show", "1").stdout
    assert "assigned → submitted by zzb-liaison" in history
    assert "submitted → returned by mzj — 缺印发文件" in history
    assert run_main(monkeypatch, "item", "move", "1", "--to", "closed") == 2
    assert "cannot move from returned to closed" in capsys.readouterr().err


def test_sync_refuses_to_retire_most_items_unless_allowed(
    settings: Settings,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An emptied task list would retire everything: refused (exit 2) until --allow-retire."""
    path = write_catalog()
    run("catalog", "sync", str(path))
    before = run("status", "--as-of", "2021-06-28", "--json").stdout

    def emptied(c: dict[str, Any]) -> None:
        c["tasks"] = []

    write_catalog(edit=emptied)
    assert run_main(monkeypatch, "catalog", "sync", str(path)) == 2
    captured = capsys.readouterr().err
    assert "defines no tasks" in captured
    assert "would retire 15 of 15 open work items" in captured
    assert run("status", "--as-of", "2021-06-28", "--json").stdout == before
    result = run("catalog", "sync", str(path), "--allow-retire")
    assert "retired 2 tasks, 4 milestones" in result.stdout


def test_dry_run_shows_changes_and_writes_nothing(
    settings: Settings, write_catalog: CatalogWriter
) -> None:
    """--dry-run prints the report with old → new values and leaves the database as it was."""
    path = write_catalog()
    run("catalog", "sync", str(path))

    def later(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 7, 31)

    write_catalog(edit=later)
    result = run("catalog", "sync", str(path), "--dry-run")
    assert "dry run: nothing was written" in result.stdout
    assert "changed milestone M1: due 2021-06-30 → 2021-07-31" in result.stdout
    assert "deadline of M1/zzb/1: 2021-06-30 → 2021-07-31" in result.stdout
    assert "changed milestone M1" in run("catalog", "sync", str(path)).stdout  # still pending


def test_a_bad_setting_is_reported_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DUBAN_YELLOW_WORKDAYS=abc names the variable and exits 2."""
    from config.settings import reload_settings  # noqa: PLC0415

    monkeypatch.setenv("DUBAN_YELLOW_WORKDAYS", "abc")
    reload_settings()
    try:
        assert run_main(monkeypatch, "status") == 2
    finally:
        monkeypatch.delenv("DUBAN_YELLOW_WORKDAYS")
        reload_settings()
    err = capsys.readouterr().err
    assert "设置 DUBAN_YELLOW_WORKDAYS='abc' 有误：应为整数" in err
    assert "Traceback" not in err


def test_item_show_lists_prerequisites_and_deadline_changes(
    settings: Settings, write_catalog: CatalogWriter
) -> None:
    """The record shows a deadline moved by the catalogue; prerequisites are listed."""
    path = write_catalog()
    run("catalog", "sync", str(path))

    def later(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 7, 31)

    write_catalog(edit=later)
    run("catalog", "sync", str(path))
    shown = run("item", "show", "1").stdout
    assert "due 2021-07-31 (originally 2021-06-30)" in shown
    assert "due 2021-06-30 → 2021-07-31 (catalog) by catalog-sync" in shown
    assert "evidence required: 印发文件" in shown
    assert "2 other item(s) wait for this one" in shown
    waiting = run("item", "show", "2").stdout
    assert "waits for:\n  #1 M1/zzb/1 印发方案" in waiting


def test_run_checks_its_options_before_starting_anything(week: Any, unused_tcp_port: int) -> None:
    """A typo in `duban run` is a usage error (exit 2), not a failed flow run and an alert."""
    from typer.testing import CliRunner  # noqa: PLC0415

    runner = CliRunner()
    for args, hint in (
        (["run", "weekly-briefing", "--week", "banana"], "不是ISO周"),
        (["run", "weekly-briefing", "--week", "2019-W10"], "before the plan starts"),
        (["run", "nosuch"], "no flow 'nosuch'"),
        (["run", "daily-cycle", "--week", "2021-W41"], "go with weekly-briefing"),
        (["run", "sync-catalog", "--as-of", "2021-10-15"], "takes no --as-of"),
        (["run", "daily-cycle", "--partitions", "t1,nosuch"], "no unit nosuch"),
        (["run", "daily-cycle", "--partitions", " , "], "at least one unit code"),
        (["run", "weekly-briefing", "--partitions", "t1"], "goes with daily-cycle"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert hint in result.output
    # work-pool commands need a server that outlives them (`main` exits 2 on NotFoundError);
    # the port is one nothing listens on, whatever else runs on this machine
    with temporary_settings(prefect_port=unused_tcp_port):
        for args in (["run", "daily-cycle", "--partitions", "t1"], ["deploy"], ["worker"]):
            result = runner.invoke(app, args)
            assert isinstance(result.exception, NotFoundError), (args, result.output)
            assert "start `duban server` first" in str(result.exception)
