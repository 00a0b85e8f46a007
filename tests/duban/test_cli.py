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
        "目录 demo-plan 校验通过：重点任务 2 项，节点 4 个，事项 15 项，单位 9 个，指标 1 项"
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
    assert "tasks[0].lead: 未知的单位 'nosuch'" in err
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
        assert f"结构版本 空 → {head_revision()}" in run("init").stdout
        assert "已是最新" in run("init").stdout


def test_an_empty_database_names_the_setting_that_chose_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database without any plan (say, DUBAN_HOME mistyped) says which setting chose it."""
    from config.settings import temporary_settings  # noqa: PLC0415

    with temporary_settings(home=tmp_path / "typo", database_url=None):
        run("init")
        assert run_main(monkeypatch, "status") == 2
        said = capsys.readouterr().err
        assert "还没有规划" in said
        assert f"DUBAN_HOME={tmp_path / 'typo'}" in said


def test_bad_date_is_a_usage_error(settings: Settings) -> None:
    """A malformed --as-of is rejected by the parser with status 2."""
    result = runner.invoke(app, ["status", "--as-of", "13/06/2025"])
    assert result.exit_code == 2
    assert "不是 2025-06-13 这样的日期" in result.output


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
    assert "没有事项 99999" in err
    assert "没有重点任务 '9'" in err


def test_item_show_prints_history(settings: Settings, write_catalog: CatalogWriter) -> None:
    """`duban item show` shows the item and its audit trail."""
    run("catalog", "sync", str(write_catalog()))
    result = run("item", "show", "1")
    assert "M1 印发方案" in result.stdout
    assert "∅ → 已交办，目录同步 — 交办：按目录生成" in result.stdout


def test_calendar_command(settings: Settings) -> None:
    """`duban calendar` knows make-up working days and counts working days."""
    result = run("calendar", "2026-10-10", "--until", "2026-10-12")
    assert "2026年10月10日（星期六）是工作日（国庆节）" in result.stdout
    assert "2026年10月10日至2026年10月12日的工作日数：1" in result.stdout
    assert "是休息日（国庆节）" in run("calendar", "2026-10-01").stdout


def test_item_move_follows_the_lifecycle_and_logs_the_actor(
    settings: Settings,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Allowed moves are logged with actor and reason; a disallowed one exits 2 and says why."""
    run("catalog", "sync", str(write_catalog()))
    assert (
        "#1：已交办 → 已申请办结"
        in run("item", "move", "1", "--to", "submitted", "--actor", "zzb-liaison").stdout
    )
    assert run_main(monkeypatch, "item", "move", "1", "--to", "returned") == 2
    assert "须说明原因" in capsys.readouterr().err
    run("item", "move", "1", "--to", "returned", "--reason", "缺印发文件", "--actor", "mzj")
    history = run("item", "show", "1").stdout
    assert "已交办 → 已申请办结，zzb-liaison" in history
    assert "已申请办结 → 已退回，mzj — 缺印发文件" in history
    assert run_main(monkeypatch, "item", "move", "1", "--to", "closed") == 2
    assert "不能从“已退回”转为“已销号”" in capsys.readouterr().err


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
    assert "目录中没有任何重点任务" in captured
    assert "会撤销 15 项在办事项中的 15 项" in captured
    assert run("status", "--as-of", "2021-06-28", "--json").stdout == before
    result = run("catalog", "sync", str(path), "--allow-retire")
    assert "撤销 重点任务 2，节点 4" in result.stdout


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
    assert "试运行：没有写入" in result.stdout
    assert "修改节点 M1：完成时限 2021-06-30 → 2021-07-31" in result.stdout
    # Saturday 31 July is postponed (顺延) to Monday 2 August
    assert "事项 M1/zzb/1 的完成时限：2021年6月30日 → 2021年8月2日" in result.stdout
    assert "修改节点 M1" in run("catalog", "sync", str(path)).stdout  # still pending


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
    # Saturday 31 July is postponed (顺延) to Monday 2 August
    assert "至 2021年8月2日（原定 2021年6月30日）" in shown
    assert "完成时限 2021年6月30日 → 2021年8月2日（目录修改），目录同步" in shown
    assert "办结需佐证：印发文件" in shown
    assert "另有 2 项事项以本事项为前置" in shown
    waiting = run("item", "show", "2").stdout
    assert "前置事项：\n  #1 M1/zzb/1 印发方案" in waiting


def test_run_checks_its_options_before_starting_anything(week: Any, unused_tcp_port: int) -> None:
    """A typo in `duban run` is a usage error (exit 2), not a failed flow run and an alert."""
    from typer.testing import CliRunner  # noqa: PLC0415

    runner = CliRunner()
    for args, hint in (
        (["run", "weekly-briefing", "--week", "banana"], "不是ISO周"),
        (["run", "weekly-briefing", "--week", "2019-W10"], "早于规划起始日"),
        (["run", "nosuch"], "没有流程 'nosuch'"),
        (["run", "daily-cycle", "--week", "2021-W41"], "只用于 weekly-briefing"),
        (["run", "sync-catalog", "--as-of", "2021-10-15"], "不接受 --as-of"),
        (["run", "daily-cycle", "--partitions", "t1,nosuch"], "中没有单位"),
        (["run", "daily-cycle", "--partitions", " , "], "至少给出一个单位编号"),
        (["run", "weekly-briefing", "--partitions", "t1"], "只用于 daily-cycle"),
        (["run", "monthly-briefing", "--month", "2021-13"], "2021年没有13月"),
        (["run", "quarterly-briefing", "--quarter", "2021-Q5"], "2021年没有第5季度"),
        (["run", "monthly-briefing", "--quarter", "2021-Q4"], "只用于 quarterly-briefing"),
        (["run", "quarterly-briefing", "--month", "2020-12"], "只用于 monthly-briefing"),
        (["run", "monthly-briefing", "--month", "2020-12"], "早于规划起始日"),
        (["run", "daily-cycle", "--no-send"], "只用于简报流程"),
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
            assert "请先运行 `duban server`" in str(result.exception)


def test_an_item_done_shows_no_working_days_left_or_overdue(
    settings: Settings, write_catalog: CatalogWriter
) -> None:
    """The 工作日 column counts for items still open only: a done item's is a dash."""
    run("catalog", "sync", str(write_catalog()))
    run("item", "move", "1", "--to", "submitted", "--actor", "zzb-liaison")
    listed = run("status", "--task", "1", "--limit", "0").stdout  # today, after the move
    row = next(line for line in listed.splitlines() if line.lstrip("│ ").startswith("1 "))
    assert "逾期完成" in row and row.rstrip(" │").endswith("—"), row
