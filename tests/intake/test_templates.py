"""Signed CSV/JSON templates from `duban workbook --format`, filled in and collected back; and
`duban collect --trusted` for an operator's import."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from config.settings import Settings
from domain.rules.cell_text import csv_cell as as_text_cell
from duban.cli import app
from models.db import session_scope
from models.orm import InboxFile, Report
from tests.fixtures.catalog import CatalogWriter

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout


def test_csv_template_survives_excel_and_lands(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    """The template re-saved as Excel does (GBK, dates as 2021/6/21, only rows kept that say
    something) lands, formula-looking text without the apostrophe that kept it text; a row
    given another unit's code is refused."""
    run("catalog", "sync", str(write_catalog()))
    run(
        "workbook",
        "--unit",
        "t1",
        "--format",
        "csv",
        "--as-of",
        "2021-06-21",
        "--out",
        str(tmp_path),
    )
    (template,) = tmp_path.glob("t1-*.csv")
    rows = list(csv.reader(io.StringIO(template.read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[-1] == "签名" and body
    column = {h: i for i, h in enumerate(header)}
    assert {row[column["单位代码"]] for row in body} == {"t1（甲镇）"}  # Excel keeps it text
    body = body[:1]  # the unit deletes the rows it has nothing to say about
    body[0][column["本期状态"]], body[0][column["本期进度%"]] = "推进中", "30"
    body[0][column["报送期"]] = "2021/6/21"
    body[0][column["进展情况"]] = "'-3户未完成入户调查"  # as duban's own writer quotes it
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *body])
    inbox = settings.home / "inbox"
    inbox.mkdir()
    (inbox / "t1.csv").write_bytes(out.getvalue().encode("gbk"))
    assert "入库  t1.csv：甲镇，进展 1 条" in run("collect")
    with session_scope(engine) as session:
        assert session.scalars(select(Report.note)).all() == ["-3户未完成入户调查"]
    body[0][column["单位代码"]] = "t2"
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *body])
    (inbox / "t2.csv").write_text(out.getvalue(), encoding="utf-8")
    shown = run("collect", code=2)
    assert "签名不符" in shown


def test_json_template_lands_and_counts_for_its_unit(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    """A JSON template with one entry filled in lands for its unit, signed (no voucher)."""
    run("catalog", "sync", str(write_catalog()))
    run(
        "workbook",
        "--unit",
        "v11",
        "--format",
        "json",
        "--as-of",
        "2021-06-21",
        "--out",
        str(tmp_path),
    )
    (template,) = tmp_path.glob("v11-*.json")
    document = json.loads(template.read_text(encoding="utf-8"))
    assert all(e["signature"].startswith("s1-") for e in document["reports"] + document["measures"])
    document["reports"][0] |= {"state": "推进中", "percent": 20}
    households = next(m for m in document["measures"] if m["measure"] == "households")
    households["value"] = 300
    inbox = settings.home / "inbox"
    inbox.mkdir()
    (inbox / "v11.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert "指标值 1 个" in run("collect")
    with session_scope(engine) as session:
        assert session.scalars(select(InboxFile.vouched_by)).one() is None
        assert session.scalars(select(Report.actor)).one() == "unit:v11"


def test_trusted_import_is_recorded_with_the_actor(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """An unsigned CSV is refused with how to proceed; `--trusted --actor` lands it under that
    name, shown in the output and recorded on the file and its reports."""
    run("catalog", "sync", str(write_catalog()))
    inbox = settings.home / "inbox"
    inbox.mkdir()
    text = "单位代码,事项编号,本期状态\nt1,2,推进中\n"
    (inbox / "t1.csv").write_text(text, encoding="utf-8")
    refused = run("collect", code=2)
    assert "文件没有签名" in refused and "请协调单位核实后导入" in refused
    (inbox / "t1.csv").write_text(text, encoding="utf-8")
    shown = run("collect", "--trusted", "--actor", "县督查室张三")
    assert "未签名，由 县督查室张三 核实导入" in shown
    with session_scope(engine) as session:
        assert session.scalars(select(InboxFile.vouched_by)).one() == "县督查室张三"
        assert session.scalars(select(Report.actor)).one() == "县督查室张三"


def test_measure_template_lands_a_villages_values(
    settings: Settings, write_catalog: CatalogWriter, tmp_path: Path
) -> None:
    """A village's CSV template comes with a second file for its measures, signed per row."""
    run("catalog", "sync", str(write_catalog()))
    run(
        "workbook",
        "--unit",
        "v12",
        "--format",
        "csv",
        "--as-of",
        "2021-06-21",
        "--out",
        str(tmp_path),
    )
    (template,) = tmp_path.glob("v12-*-指标.csv")
    rows = list(csv.reader(io.StringIO(template.read_text(encoding="utf-8-sig"))))
    column = {h: i for i, h in enumerate(rows[0])}
    for row in rows[1:]:
        row[column["本期值"]] = "300" if row[column["指标项代码"]] == "households" else ""
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    inbox = settings.home / "inbox"
    inbox.mkdir()
    (inbox / template.name).write_text(out.getvalue(), encoding="utf-8")
    assert "甲一村，进展 0 条，指标值 1 个" in run("collect")


def test_unit_cells_read_with_or_without_the_name() -> None:
    """A 单位代码 cell is its code, whatever name follows it in brackets."""
    from domain.rules.intake.cells import unit_code  # noqa: PLC0415

    assert unit_code("530521101001（甸阳镇）") == "530521101001"
    assert unit_code("530521101001(甸阳镇)") == "530521101001"
    assert unit_code("530521101001") == "530521101001"
    assert unit_code("（甸阳镇）") == "（甸阳镇）"  # no code before the name: left for the checks


def test_formula_looking_text_is_written_as_text() -> None:
    """Text Excel would run as a formula gets a leading apostrophe; numbers and plain text not."""
    assert (
        as_text_cell('=HYPERLINK("http://evil/","点击")') == '\'=HYPERLINK("http://evil/","点击")'
    )
    assert [as_text_cell(v) for v in ("+1", "-1", "@x", "\tx")] == ["'+1", "'-1", "'@x", "'\tx"]
    assert [as_text_cell(v) for v in ("制度建设", 42, None)] == ["制度建设", 42, None]
