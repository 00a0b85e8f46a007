"""The reporting commands as a coordinator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.settings import Settings
from duban.cli import app, main
from tests.fixtures.catalog import CatalogWriter
from tests.intake.signed import sign_csv

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def exit_code(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["duban", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


@pytest.fixture
def synced(settings: Settings, write_catalog: CatalogWriter) -> Settings:
    run("catalog", "sync", str(write_catalog()))
    return settings


def test_report_verify_and_return(
    synced: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Done needs the evidence M1 requires; return sends it back; verify closes it."""
    assert exit_code(monkeypatch, "report", "1", "--unit", "zzb", "--state", "done") == 2
    assert "填报“已完成”须在“佐证材料”中写明：印发文件" in capsys.readouterr().err
    assert "→ 已申请办结" in run(
        "report", "1", "--unit", "zzb", "--state", "已完成", "--evidence", "组织部文件"
    )
    assert "已退回 — 盖章件缺失" in run("return", "1", "--reason", "盖章件缺失")
    assert exit_code(monkeypatch, "verify", "1") == 2
    assert "不能从“已退回”转为“已销号”" in capsys.readouterr().err
    run("report", "1", "--unit", "zzb", "--state", "done", "--evidence", "盖章件")
    assert "已核验销号" in run("verify", "1")
    shown = run("item", "show", "1")
    assert "已申请办结 → 已退回，" in shown and "已申请办结 → 已销号，" in shown


def test_verify_refuses_an_item_submitted_without_evidence(
    synced: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item moved to submitted by hand, with no evidence reported, cannot be closed."""
    run("item", "move", "1", "--to", "submitted")
    assert exit_code(monkeypatch, "verify", "1") == 2
    assert "须有佐证材料（印发文件）才能销号" in capsys.readouterr().err


def test_report_on_another_units_item(
    synced: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The single-item command checks ownership like the inbox does."""
    assert exit_code(monkeypatch, "report", "1", "--unit", "mzj", "--state", "in_progress") == 2
    assert "事项 1 属于示例县委组织部，不属于示例县民政局" in capsys.readouterr().err


def test_workbook_needs_unit_or_all(synced: Settings, tmp_path: Path) -> None:
    """--unit and --all are exclusive; --all writes one workbook per unit with work or measures."""
    assert runner.invoke(app, ["workbook", "--out", str(tmp_path)]).exit_code == 2
    out = run("workbook", "--all", "--as-of", "2021-06-21", "--out", str(tmp_path))
    assert "已生成2021年6月21日所在报送期的 7 份填报表" in out  # zzb, t1, t2 and the 4 villages
    assert len(list(tmp_path.glob("*.xlsx"))) == 7


def test_collect_exits_2_when_a_file_is_rejected_and_reports_json(
    synced: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--json lists each file with its problems; any rejection makes the exit status 2."""
    inbox = synced.home / "inbox"
    inbox.mkdir()
    text = sign_csv("unit,item,state\nzzb,1,maybe\n")
    (inbox / "bad.csv").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["collect", "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    (entry,) = data["files"]
    assert entry["status"] == "rejected"
    assert entry["problems"][0]["row"] == 2
    assert entry["problems"][0]["column"] == "本期状态"
    assert (inbox / "rejected").is_dir()
    assert runner.invoke(app, ["collect"]).stdout.startswith("收件箱 ")


def test_closing_always_goes_through_verification(
    synced: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`item move --to closed` checks evidence like verify; prerequisites must be closed first."""
    run("item", "move", "1", "--to", "submitted")
    assert exit_code(monkeypatch, "item", "move", "1", "--to", "closed") == 2
    assert "须有佐证材料（印发文件）" in capsys.readouterr().err
    run("report", "2", "--unit", "t1", "--state", "done")
    assert exit_code(monkeypatch, "verify", "2") == 2
    assert "的前置事项尚未销号，不能先销号：#1（已申请办结）" in (capsys.readouterr().err)
