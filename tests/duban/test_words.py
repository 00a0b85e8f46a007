"""Every word a person reads is Chinese: command output, messages, reasons files, digests,
help texts, Prefect stage names, catalogue and ladder problems, lifecycle refusals.

The commands run on the small fixture plan (the main job's own check is in ``test_demo.py``);
what they print is searched for English outside the identifiers a person types or looks up
(:mod:`tests.fixtures.words`).
"""

from __future__ import annotations

import getpass
import itertools
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from config.errors import InputError
from config.ladder import load_ladder
from config.settings import Settings
from domain.rules.lifecycle import TransitionError, check_transition
from duban import render
from duban.cli import app, main
from duban.sample import fill_workbook
from models.enums import ItemState
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter, minimal_catalog
from tests.fixtures.words import (
    catalog_identifiers,
    command_names,
    english_lines,
    english_words,
)

runner = CliRunner()


class Transcript:
    """What a person read during a session of commands: stdout, stderr and files."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch, self.capsys = monkeypatch, capsys
        self.parts: list[str] = []

    def run(self, *args: str, code: int = 0) -> str:
        """Run ``duban ARGS`` as the console script does (user mistakes exit 2)."""
        self.monkeypatch.setattr("sys.argv", ["duban", *args])
        try:
            main()
            exited = 0
        except SystemExit as stop:
            exited = int(stop.code or 0)
        said = self.capsys.readouterr()
        assert exited == code, (args, said.out, said.err)
        self.parts.append(f"$ duban {' '.join(args)}\n{said.out}{said.err}")
        return said.out + said.err

    def read(self, path: Path) -> str:
        text = path.read_text(encoding="utf-8")
        self.parts.append(f"== {path.name}\n{text}")
        return text

    @property
    def text(self) -> str:
        """Everything read, without the transcript's own headings."""
        lines = "\n".join(self.parts).splitlines()
        ours = ("$ duban ", "== ")
        text = "\n".join(line for line in lines if not line.startswith(ours))
        return text.replace("python -m pytest.", "")  # the program name the tests run under


@pytest.fixture
def identifiers(write_catalog: CatalogWriter) -> frozenset[str]:
    """The fixture plan's ids, and the login name the record shows as the actor."""
    return catalog_identifiers(load_catalog(write_catalog())[0]) | {getpass.getuser()}


def assert_chinese(text: str, identifiers: frozenset[str]) -> None:
    assert english_lines(text, identifiers) == [], "\n".join(english_lines(text, identifiers))


def test_the_finder_sees_english_and_passes_identifiers() -> None:
    """The check itself: English words are found, identifiers and allowed names are not."""
    assert english_words("error: the daily-cycle run failed") == ["error", "the", "run", "failed"]
    assert english_words("状态 in_progress，assigned") == ["in", "progress", "assigned"]
    assert english_words("why: default ladder, level leadership") == [
        "why", "default", "ladder", "level", "leadership",
    ]  # fmt: skip
    identifiers = (
        "T01-M1 /tmp/收件箱/a.xlsx --as-of DUBAN_HOME=/x 2021-W52 `duban status` reasons.txt "
        "https://example.org/a?b=c 'nosuch' zzb/liaison daily-cycle 8 MB 用 Excel 打开 CSV"
    )
    assert english_words(identifiers) == []
    assert english_words("单位 mzj", ["mzj"]) == [] and english_words("单位 mzj") == ["mzj"]


def test_commands_reasons_and_digests_are_chinese(
    settings: Settings,
    write_catalog: CatalogWriter,
    identifiers: frozenset[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """A coordinator's session on the fixture plan: sync, status, items, reports (good and
    refused), inbox with a rejected workbook, escalation, notices, calendar, indicators, the
    briefing, and the mistakes a person makes; all of it, and the files written, in Chinese."""
    t = Transcript(monkeypatch, capsys)
    path = write_catalog()
    t.run("init")
    t.run("catalog", "validate", str(path))
    t.run("catalog", "sync", str(path))

    def later(c: dict[str, Any]) -> None:
        c["tasks"][0]["milestones"][0]["due"] = date(2021, 7, 30)
        c["tasks"][1]["milestones"][0]["title"] = "设施全面摸底"

    write_catalog(edit=later)
    t.run("catalog", "sync", str(path), "--dry-run")
    t.run("catalog", "sync", str(path))
    t.run("status", "--as-of", "2021-06-28")
    t.run("status", "--as-of", "2021-10-08", "--unit", "t1")
    t.run("status", "--as-of", "2021-10-08", "--task", "2", "--limit", "3")
    t.run("item", "show", "1")
    t.run("item", "show", "2")
    t.run(
        "report", "1", "--unit", "zzb", "--state", "推进中", "--percent", "40", "--note", "起草中"
    )
    t.run("report", "1", "--unit", "zzb", "--state", "推进中", "--percent", "20", code=2)
    t.run("report", "1", "--unit", "zzb", "--state", "done", code=2)
    t.run("report", "1", "--unit", "zzb", "--state", "差不多了", code=2)
    t.run("item", "move", "1", "--to", "closed", code=2)
    t.run("item", "move", "1", "--to", "blocked", code=2)
    t.run("item", "move", "1", "--to", "submitted")
    t.run("verify", "1", code=2)
    t.run("return", "1", "--reason", "缺印发文件")
    t.run("extend", "2", "--to", "2022-01-31", "--reason", "县政府批准")
    t.run("item", "show", "1")
    t.run("item", "show", "2")
    t.run("item", "show", "99999", code=2)
    t.run("status", "--task", "9", code=2)
    t.run("status", "--as-of", "13/06/2025", code=2)

    inbox = tmp_path / "收件箱"
    t.run("workbook", "--unit", "v12", "--as-of", "2021-06-21", "--out", str(inbox))
    (book,) = inbox.glob("*.xlsx")
    m4 = 13  # v12's M4 item: the fixture's items are numbered in catalogue order
    fill_workbook(book, {m4: {"state": "推进中", "percent": 40}}, {"households": 300})
    t.run("collect", "--inbox", str(inbox), "--as-of", "2021-06-25")
    t.run("workbook", "--unit", "v12", "--as-of", "2021-06-28", "--out", str(inbox))
    (book,) = inbox.glob("*.xlsx")
    fill_workbook(
        book, {m4: {"state": "推进中", "percent": 20}}, {"households": -3, "facility_area": 0}
    )
    t.run("collect", "--inbox", str(inbox), "--as-of", "2021-07-02", code=2)
    (reasons,) = inbox.glob("rejected/*/*.reasons.txt")
    text = t.read(reasons)
    assert "本期进度从 40 降到 20" in text and "“指标数据”表第" in text

    t.run("escalate", "--as-of", "2021-10-08", "--dry-run")
    t.run("escalate", "--as-of", "2021-10-08")
    for digest in sorted((settings.home / "outbox").glob("*.txt")):
        t.read(digest)
    t.run("notices")
    t.run("notices", "--item", "3", "--as-of", "2021-06-28")
    t.run("ack", "14")
    t.run("calendar", "2021-10-01")
    t.run("calendar", "2021-10-09", "--until", "2021-10-11")
    t.run("indicators", "--as-of", "2021-07-05", "--townships")
    out = tmp_path / "briefings"
    t.run("brief", "--as-of", "2021-10-08", "--format", "md", "--out", str(out))
    for briefing in out.rglob("*.md"):
        t.read(briefing)
    t.run("brief", "--week", "2021-W99", "--out", str(out), code=2)
    t.run("recount", "--check")
    t.run("run", "nosuch", code=2)

    assert_chinese(t.text, identifiers)


def test_help_of_every_command_is_chinese(identifiers: frozenset[str]) -> None:
    """Every command's and option's help, and the help pages around them; each option's type
    and choices (what is typed) are set aside."""
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        found.append((prefix, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{prefix} {name}".strip(), sub)

    walk("", typer.main.get_command(app))
    commands = command_names()
    arguments = {p.name for _, c in found for p in c.params if p.param_type_name == "argument"}
    for name, _ in found:
        shown = runner.invoke(
            app, [*name.split(), "--help"], prog_name="duban", env={"COLUMNS": "250"}
        ).stdout
        shown = "\n".join(
            line.removeprefix("│ ").removeprefix(line[2:].split(" ", 1)[0])
            if line[2:].split(" ", 1)[0] in commands  # a group's list of its commands
            else line
            for line in shown.splitlines()
        )
        shown = re.sub(r"<[a-z_| ]+>|\[x[<>=]+\d+\]", "", shown)  # each option's type
        assert_chinese(shown, identifiers | arguments)


def test_lifecycle_refusals_are_chinese(identifiers: frozenset[str]) -> None:
    """Every move the lifecycle refuses, with and without a reason, says why in Chinese."""
    said = []
    for start, end, reason in itertools.product(ItemState, ItemState, (None, "原因")):
        try:
            check_transition(start, end, reason)
        except TransitionError as refused:
            said.append(str(refused))
    assert len(said) > 50
    assert_chinese("\n".join(said), identifiers)


def test_catalogue_and_ladder_problems_are_chinese(
    write_catalog: CatalogWriter, identifiers: frozenset[str], tmp_path: Path
) -> None:
    """A catalogue with one of each common mistake, and a ladder with bad levels."""

    def broken(c: dict[str, Any]) -> None:
        c["plan"]["timezone"] = "Mars/Base"
        c["units"].append({"id": "mzj", "name": "重复", "kind": "department"})
        c["units"].append({"id": "x1", "name": "无上级", "kind": "village", "parent": "nobody"})
        tasks = c["tasks"]
        tasks[0]["lead"] = "nobody"
        tasks[0]["milestones"][1]["depends_on"] = ["M9"]
        tasks[0]["milestones"][0]["due"] = date(2030, 1, 1)
        tasks[0]["milestones"][0]["owner_unit"] = "zzb"
        tasks[1]["milestones"][0]["fan_out"] = "urban_communities_x"
        del tasks[1]["title"]
        c["indicators"][0]["formula"]["numerator"] = ["nothing"]

    with pytest.raises(InputError) as schema:
        load_catalog(write_catalog(edit=broken))
    c = minimal_catalog()
    c["plan"]["timezone"] = "Mars/Base"
    c["units"].append({"id": "mzj", "name": "重复", "kind": "department"})
    c["tasks"][0]["lead"] = "nobody"
    c["tasks"][0]["milestones"][1]["depends_on"] = ["M9"]
    c["tasks"][1]["milestones"][0]["due"] = date(2030, 1, 1)
    c["indicators"][0]["formula"]["numerator"] = ["nothing"]
    with pytest.raises(InputError) as checks:
        load_catalog(write_catalog(c, name="checks"))
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text(
        "levels:\n  - {id: a, name: 甲, offset: 3, to: [owner:liaison]}\n"
        "  - {id: a, name: 乙, offset: 1, to: [nobody]}\nextra: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as ladder_problems:
        load_ladder(ladder)
    said = [
        e.summary + "\n" + "\n".join(p.message for p in e.problems)
        for e in (schema.value, checks.value, ladder_problems.value)
    ]
    assert all(e.problems for e in (schema.value, checks.value, ladder_problems.value))
    assert_chinese("\n".join(said), identifiers)


def test_flow_results_and_prefect_stage_names_are_chinese(identifiers: frozenset[str]) -> None:
    """The names of the stages as the Prefect UI lists them, the flows' descriptions, and a
    run's result as `duban run` and the main job print it."""
    from prefect import Flow, Task  # noqa: PLC0415

    import flows.actions  # noqa: PLC0415 - Prefect is imported by the flows
    import flows.daily_cycle  # noqa: PLC0415
    import flows.desk  # noqa: PLC0415
    import flows.nightly_backup  # noqa: PLC0415
    import flows.partitioned  # noqa: PLC0415
    import flows.period_briefing  # noqa: PLC0415
    import flows.stages  # noqa: PLC0415
    import flows.sync_catalog  # noqa: PLC0415
    import flows.weekly_briefing  # noqa: PLC0415

    names = []
    for module in (flows.stages, flows.desk, flows.sync_catalog, flows.nightly_backup):
        names += [v.name for v in vars(module).values() if isinstance(v, Task)]
    assert len(names) >= 9
    for module in (
        flows.actions,
        flows.daily_cycle,
        flows.nightly_backup,
        flows.partitioned,
        flows.period_briefing,
        flows.sync_catalog,
        flows.weekly_briefing,
    ):
        names += [v.description or "" for v in vars(module).values() if isinstance(v, Flow)]
    daily = {
        "as_of": "2021-12-27",
        "mail": {"answered": 2, "kept": 1, "repeated": 0, "replies_sent": 2, "replies_failed": 0},
        "collected": {"landed": 0, "rejected": 1, "duplicate": 0},
        "lights": {"gray": 3295, "green": 55, "yellow": 45, "red": 133, "done_late": 15},
        "notices": {"new": 301},
        "delivery": {"sent": 258, "failed": 0, "quiet": 0},
        "queues": {"submitted": 56, "blocked": 11, "extensions": 0, "returned": 0},
    }
    results = [
        render.flow_result(daily),
        render.flow_result({"as_of": "2021-10-01", "skipped": "国庆节"}),
        render.flow_result({"as_of": "2021-10-08", "mail": {"unreachable": 1}}),
        render.flow_result({"week": "2021-W52", "number": 1, "sent": 1, "approval": "approved"}),
        render.flow_result({"period": "2021-12", "edition": "month", "number": 1, "sent": 0}),
        render.flow_result({"plan": "demo-plan", "unchanged": False, "changes": 3}),
    ]
    assert "红 133" in results[0]
    assert "收信：处理 2 封，未能处理 1 封" in results[0]
    assert_chinese("\n".join(names + results), identifiers)


def test_json_stays_english(settings: Settings, write_catalog: CatalogWriter) -> None:
    """Machine interfaces keep their English keys and values."""
    runner.invoke(app, ["catalog", "sync", str(write_catalog())], catch_exceptions=False)
    result = runner.invoke(app, ["status", "--as-of", "2021-10-08", "--task", "1", "--json"])
    payload = json.loads(result.stdout)
    assert {"plan_title", "items", "summary"} <= set(payload)
    assert {i["state"] for i in payload["items"]} <= {s.value for s in ItemState}


def test_usage_errors_are_chinese() -> None:
    """An unknown option, a missing value and the usage line around them read in Chinese."""
    for args in (
        ["notices", "--limit", "3"],
        ["status", "--as-of"],
        ["nosuch"],
        ["item", "show", "abc"],  # Typer converts with pydantic: its message too
        ["escalate", "--limit", "-1"],
    ):
        said = runner.invoke(app, args, prog_name="duban", env={"COLUMNS": "250"})
        assert said.exit_code == 2
        assert_chinese(said.output, frozenset())


@pytest.mark.parametrize(
    ("args", "said"),
    [(["link", "revoke"], "缺少选项 '--contact'。"), (["item", "show"], "缺少参数 'item_id'。")],
)
def test_a_missing_option_or_argument_is_said_in_chinese(args: list[str], said: str) -> None:
    result = runner.invoke(app, args, prog_name="duban", env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert said in result.output and "Missing" not in result.output
