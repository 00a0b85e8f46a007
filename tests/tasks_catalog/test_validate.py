"""Catalogue validation: every kind of mistake is reported with its file, line and field."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from config.errors import InputError, Problem
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_catalog(path)
    return caught.value.problems


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of plan.yaml containing ``needle``."""
    lines = (path / "plan.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def only_problem(path: Path) -> Problem:
    found = problems_of(path)
    assert len(found) == 1, found
    return found[0]


def test_minimal_catalogue_is_valid(write_catalog: CatalogWriter) -> None:
    """The fixture catalogue validates, with no warnings (its village count matches)."""
    catalog, warnings = load_catalog(write_catalog())
    assert catalog.plan.id == "demo-plan"
    assert warnings == []


def test_unknown_key_is_rejected_with_its_line(write_catalog: CatalogWriter) -> None:
    """A typo'd key is an error naming file, line and field path, with the allowed keys."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][1]["lead_unit"] = "zzb"

    path = write_catalog(edit=edit)
    problem = only_problem(path)
    assert problem.file == path / "plan.yaml"
    assert problem.field == "tasks[0].milestones[1].lead_unit"
    assert problem.line == line_of(path, "lead_unit")
    assert "未知的键" in problem.message
    assert "depends_on" in problem.message  # lists the allowed keys


def test_duplicate_milestone_id(write_catalog: CatalogWriter) -> None:
    """Two milestones with one id: the second is reported, pointing back at the first."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["id"] = "M1"

    path = write_catalog(edit=edit)
    problem = only_problem(path)
    assert problem.field == "tasks[1].milestones[0].id"
    assert "节点编号 'M1' 重复" in problem.message
    assert problem.line == line_of(path, "设施摸底") - 1 or problem.line == line_of(path, "id: M1")


def test_unknown_unit_reference(write_catalog: CatalogWriter) -> None:
    """A lead unit that does not exist is named with the line it is written on."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["lead"] = "nosuch"

    path = write_catalog(edit=edit)
    problem = only_problem(path)
    assert problem.field == "tasks[1].lead"
    assert problem.line == line_of(path, "lead: nosuch")
    assert "未知的单位 'nosuch'" in problem.message


def test_unknown_dependency(write_catalog: CatalogWriter) -> None:
    """depends_on must name an existing milestone."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][1]["depends_on"] = ["M9"]

    problem = only_problem(write_catalog(edit=edit))
    assert problem.field == "tasks[0].milestones[1].depends_on[0]"
    assert "未知的节点 'M9'" in problem.message


def test_dependency_cycle(write_catalog: CatalogWriter) -> None:
    """M1 → M3 → M2 → M1 is a cycle and the message spells it out."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["depends_on"] = ["M3"]

    problem = only_problem(write_catalog(edit=edit))
    assert "前后关系成环" in problem.message
    assert problem.line is not None
    for milestone in ("M1", "M2", "M3"):
        assert milestone in problem.message


def test_due_date_outside_plan_period(write_catalog: CatalogWriter) -> None:
    """A due date after the plan ends is an error at that line."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["due"] = date(2026, 3, 1)

    path = write_catalog(edit=edit)
    problem = only_problem(path)
    assert problem.field == "tasks[1].milestones[0].due"
    assert problem.line == line_of(path, "2026-03-01")
    assert "不在规划期" in problem.message


def test_invalid_rrule(write_catalog: CatalogWriter) -> None:
    """An RRULE that dateutil cannot parse is reported at recurrence.rrule."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["rrule"] = "FREQ=FORTNIGHTLY"

    path = write_catalog(edit=edit)
    problem = only_problem(path)
    assert problem.field == "tasks[0].milestones[2].recurrence.rrule"
    assert problem.line == line_of(path, "FORTNIGHTLY")
    assert "重复规则（RRULE）无效" in problem.message


def test_rrule_with_too_many_dates(write_catalog: CatalogWriter) -> None:
    """A daily rule over four years is surely a mistake and is refused."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["rrule"] = "FREQ=DAILY"
        c["tasks"][0]["milestones"][2]["recurrence"]["end"] = date(2025, 12, 31)

    assert "生成的日期超过 400 个" in only_problem(write_catalog(edit=edit)).message


def test_empty_fan_out_set(write_catalog: CatalogWriter) -> None:
    """Fanning out to a set that is empty in this plan (no urban community) is an error."""

    def edit(c: dict[str, Any]) -> None:
        for unit in c["units"]:
            unit["urban"] = False
        c["tasks"][1]["milestones"][0]["fan_out"] = "urban_communities"

    path = write_catalog(edit=edit)
    problem = only_problem(path)
    assert problem.field == "tasks[1].milestones[0].fan_out"
    assert "没有选中任何单位" in problem.message


def test_unknown_fan_out_name(write_catalog: CatalogWriter) -> None:
    """A fan-out naming neither a unit nor a set lists the sets that exist."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["fan_out"] = ["v11", "hamlets"]

    problem = only_problem(write_catalog(edit=edit))
    assert problem.field == "tasks[1].milestones[0].fan_out[1]"
    assert "urban_communities" in problem.message


def test_due_and_recurrence_are_exclusive(write_catalog: CatalogWriter) -> None:
    """A milestone gives a due date or a recurrence, not both."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["due"] = date(2022, 1, 1)

    problem = only_problem(write_catalog(edit=edit))
    assert problem.field == "tasks[0].milestones[2]"
    assert "`due` 和 `recurrence` 须有且只有一个" in problem.message


def test_wrong_type_and_missing_key(write_catalog: CatalogWriter) -> None:
    """Schema errors: a non-date due and a missing title are both reported, each located."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["due"] = "next spring"
        del c["tasks"][0]["title"]

    found = {p.field: p for p in problems_of(write_catalog(edit=edit))}
    assert "应为日期" in found["tasks[1].milestones[0].due"].message
    assert found["tasks[0].title"].message == "缺少必填项"
    assert found["tasks[0].title"].line is not None


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    """YAML would silently keep the last of two equal keys; we refuse it."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "plan.yaml").write_text("plan:\n  id: a\n  id: b\n", encoding="utf-8")
    problem = problems_of(folder)[0]
    assert (problem.line, problem.field) == (3, "plan.id")
    assert "键重复（第一次出现在第 2 行）" in problem.message


def test_broken_yaml_syntax(tmp_path: Path) -> None:
    """A syntax error names the line where the parser stopped."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "tasks.yaml").write_text("tasks:\n  - title: a: b\n", encoding="utf-8")
    problem = problems_of(folder)[0]
    assert problem.file == folder / "tasks.yaml"
    assert problem.line == 2
    assert "YAML 格式错误" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "meaning"),
    [
        ("tasks:\n  - title: 甲\n    due：2026-06-30\n", 3, "冒号是全角“：”，请改为半角“:”"),
        ("tasks:\n\t- title: 甲\n", 2, "用了制表符（Tab）缩进"),
        ("tasks:\n  - title: 甲\n     due: 2026-06-30\n", 3, "这里不能出现“键: 值”"),
        ('tasks:\n  - title: "甲\n', 3, "引号或括号没有配对"),
    ],
)
def test_syntax_slips_of_a_chinese_keyboard_are_named_in_chinese(
    tmp_path: Path, text: str, line: int, meaning: str
) -> None:
    """A full-width colon, a tab, a misaligned key, an unclosed quote: the line where the slip
    is, what it is and how to mend it, with no English of the parser's."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "tasks.yaml").write_text(text, encoding="utf-8")
    problem = problems_of(folder)[0]
    assert (problem.line, meaning in problem.message) == (line, True), problem.message
    assert not re.search("[A-Za-z]{4,}", problem.message.replace("YAML", "").replace("Tab", ""))


def test_errors_from_several_files_are_all_reported(write_catalog: CatalogWriter) -> None:
    """A plan split over files is merged; a unit defined twice across files is caught."""
    path = write_catalog()
    (path / "units_extra.yaml").write_text(
        "units:\n  - {id: mzj, name: 重复, kind: department}\n", encoding="utf-8"
    )
    problem = only_problem(path)
    assert problem.file == path / "units_extra.yaml"
    assert problem.line == 2
    assert "单位编号 'mzj' 重复（首次定义在 plan.yaml" in problem.message


def test_village_count_mismatch_is_a_warning(write_catalog: CatalogWriter) -> None:
    """The plan's own count of villages differing from the units listed warns, not fails."""

    def edit(c: dict[str, Any]) -> None:
        c["plan"]["declared_village_units"] = 5

    _, warnings = load_catalog(write_catalog(edit=edit))
    assert len(warnings) == 1
    assert "规划文本记村（社区）5 个，目录列出 4 个" in warnings[0].message


def test_missing_folder(tmp_path: Path) -> None:
    """A catalogue path that does not exist is an input error, not a crash."""
    assert problems_of(tmp_path / "nowhere")[0].message == "没有这个路径"


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=YEARLY;BYMONTH=3,6,9,13;BYMONTHDAY=-1", "13 超出 1..12"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=32", "32 超出 ±1..31"),
        ("FREQ=MONTHLY;INTERVAL=0", "0 超出 1..1000"),
    ],
)
def test_out_of_range_rrule_numbers(write_catalog: CatalogWriter, rule: str, says: str) -> None:
    """dateutil would silently drop BYMONTH=13; the validator refuses it."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["rrule"] = rule

    assert says in only_problem(write_catalog(edit=edit)).message


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "2月没有第30日"),
        ("FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31", "4月、6月都没有第31日"),
    ],
)
def test_a_rule_that_never_gives_a_date_says_why_at_once(
    write_catalog: CatalogWriter, rule: str, says: str
) -> None:
    """A day no month of the rule has is named (before dateutil would search to the year 9999
    and say only that the rule gives no date)."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][2]["recurrence"]["rrule"] = rule

    assert says in only_problem(write_catalog(edit=edit)).message


def test_every_unknown_name_in_a_list_is_reported(write_catalog: CatalogWriter) -> None:
    """Two bad names in one cooperating list give two problems, not one at a time."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][0]["cooperating"] = ["mzj", "mzjx", "township"]

    fields = [p.field for p in problems_of(write_catalog(edit=edit))]
    assert fields == ["tasks[0].cooperating[1]", "tasks[0].cooperating[2]"]


def test_unquoted_numeric_id_gets_a_hint(write_catalog: CatalogWriter) -> None:
    """A division code written without quotes is a number in YAML; the message says to quote it."""

    def edit(c: dict[str, Any]) -> None:
        c["units"][3]["id"] = 530521101

    problem = only_problem(write_catalog(edit=edit))
    assert problem.field == "units[3].id"
    assert '像数字的编号和代码请加引号："530521101"' in problem.message


def test_impossible_date_is_located(tmp_path: Path) -> None:
    """2021-06-31 is not a date: a located YAML error, not a crash."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "plan.yaml").write_text("plan:\n  id: x\n  due: 2021-06-31\n", encoding="utf-8")
    problem = only_problem(folder)
    assert problem.line == 3
    assert "'2021-06-31' 不是日历上有的日期" in problem.message


def test_empty_fan_out_list_is_an_error(write_catalog: CatalogWriter) -> None:
    """`fan_out: []` would silently make no work items; it is refused like an empty set."""

    def edit(c: dict[str, Any]) -> None:
        c["tasks"][1]["milestones"][0]["fan_out"] = []

    problem = only_problem(write_catalog(edit=edit))
    assert (problem.field, problem.message) == (
        "tasks[1].milestones[0].fan_out",
        "[] 没有选中任何单位",
    )
