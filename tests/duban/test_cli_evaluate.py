"""``duban evaluate`` as the coordinator runs it: the day it describes, its files, and its
refusals (a missing or unreadable conclusions file, a day before the plan) in Chinese with exit
status 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.duban.test_cli_owner import duban


def test_while_the_plan_runs_it_describes_today_and_says_so(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The clock is at 2021-06-25 (the fixture): before the plan's end, the report is as of
    today and says the plan has not ended; without --conclusions it says the section waits."""
    out = tmp_path / "out"
    code, said = duban(monkeypatch, capsys, "evaluate", "--out", str(out), "--format", "md")
    assert code == 0, said
    assert "统计截至2021年6月25日" in said and "规划尚未期满" in said
    assert "待协调员填写" in said
    text = (out / "demo-plan" / "evaluation" / "evaluation-2021-06-25.md").read_text("utf-8")
    assert text.startswith("# 《示例规划》实施终期评估报告")
    assert "待协调员填写。" in text


def test_at_the_plan_end_with_conclusions_as_json(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notes = tmp_path / "结论.txt"
    notes.write_bytes("总体完成规划目标。\r\n\r\n建议结转未完成事项。\r\n".encode("gbk"))
    code, said = duban(
        monkeypatch,
        capsys,
        "evaluate",
        "--as-of",
        "2025-12-31",
        "--out",
        str(tmp_path / "out"),
        "--format",
        "md,html",
        "--conclusions",
        str(notes),
        "--json",
    )
    assert code == 0, said
    payload = json.loads(said)
    view = payload["evaluation"]
    assert view["ended"] is True and view["as_of"] == "2025-12-31"
    assert view["conclusions"] == ["总体完成规划目标。", "建议结转未完成事项。"]
    assert sorted(payload["files"]) == ["html", "md"]
    assert view["close_out_last"] is not None


@pytest.mark.parametrize(
    ("write", "said"),
    [
        (None, "找不到评估结论文件"),
        ("结论".encode("utf-16"), "无法读取"),
        (b"  \n", "文件是空的"),
    ],
)
def test_a_conclusions_file_that_cannot_be_used_is_refused(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    write: bytes | None,
    said: str,
) -> None:
    notes = tmp_path / "notes.txt"
    if write is not None:
        notes.write_bytes(write)
    out = tmp_path / "out"
    code, printed = duban(
        monkeypatch, capsys, "evaluate", "--out", str(out), "--conclusions", str(notes)
    )
    assert code == 2
    assert said in printed and "notes.txt" in printed and "Traceback" not in printed
    assert not out.exists()


def test_a_day_before_the_plan_is_a_usage_error(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    code, said = duban(monkeypatch, capsys, "evaluate", "--as-of", "2020-12-31", "--out", str(out))
    assert code == 2 and "早于规划起始日" in said
    assert not out.exists()


def test_a_conclusions_path_that_is_a_folder_is_refused_in_chinese(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, said = duban(
        monkeypatch,
        capsys,
        "evaluate",
        "--out",
        str(tmp_path / "o"),
        "--conclusions",
        str(tmp_path),
    )
    assert code == 2 and "这是一个目录，不是文件" in said and "Is a directory" not in said


def test_after_the_plan_end_the_close_out_year_is_drawn_too(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A day in the close-out (the items finished in January count): the yearly chart has a
    bar for the year after the end instead of failing on it."""
    out = tmp_path / "out"
    code, said = duban(monkeypatch, capsys, "evaluate", "--as-of", "2026-01-20", "--out", str(out))
    assert code == 0, said
    assert "统计截至2026年1月20日" in said and "规划已于2025年12月31日期满" in said
    folder = out / "demo-plan" / "evaluation"
    assert (folder / "evaluation-2026-01-20-years.png").stat().st_size > 0
    assert (folder / "evaluation-2026-01-20.docx").exists()


def test_the_conclusions_kept_beside_the_report_are_read_again(
    synced: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """评估结论.txt in the report's folder is read when no --conclusions is given, so running
    the command again (for --json, say) does not drop the coordinator's text."""
    out = tmp_path / "out"
    args = ("evaluate", "--as-of", "2025-12-31", "--out", str(out), "--format", "md")
    code, said = duban(monkeypatch, capsys, *args)
    assert code == 0 and "评估结论.txt" in said
    folder = out / "demo-plan" / "evaluation"
    (folder / "评估结论.txt").write_text("（一）总体评价\n目标基本实现。\n", encoding="utf-8")
    code, said = duban(monkeypatch, capsys, *args, "--json")
    assert code == 0, said
    assert json.loads(said)["evaluation"]["conclusions"] == ["（一）总体评价", "目标基本实现。"]
    assert "目标基本实现。" in (folder / "evaluation-2025-12-31.md").read_text("utf-8")
