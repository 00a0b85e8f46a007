"""Regression corpus (tests/corpus/catalog): each hostile catalogue is refused whole, by the CLI.

Every file starts with comments: what it reproduces, ``# expect: valid`` or ``# expect: <words
of the message>``, and ``# expect-line: N`` where the problem is reported.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from config.yaml_lines import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES, read_yaml
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.db import table_checksums
from tests.tasks_catalog.cli_probe import assert_refused, run_cli

CORPUS = Path(__file__).parents[1] / "corpus" / "catalog"


@dataclass(frozen=True)
class Case:
    path: Path
    message: str | None  # None: the catalogue is valid
    line: int | None


def _case(path: Path) -> Case:
    head = path.read_text(encoding="utf-8")[:600]
    expect = re.search(r"^# expect: (.+)$", head, re.MULTILINE)
    line = re.search(r"^# expect-line: (\d+)$", head, re.MULTILINE)
    assert expect is not None, f"{path.name} has no `# expect:` line"
    message = None if expect.group(1) == "valid" else expect.group(1)
    return Case(path, message, int(line.group(1)) if line else None)


CASES = [_case(p) for p in sorted(CORPUS.glob("*.yaml"))]
REFUSED = [c for c in CASES if c.message is not None]


def test_the_corpus_holds_every_reproducer_of_issue_15() -> None:
    """The reproducers of issue 15 (items 5 and 6) are all in the corpus."""
    names = {c.path.name for c in CASES}
    assert {
        "billion-laughs.yaml",
        "recursive-alias.yaml",
        "nan-target.yaml",
        "huge-task-number.yaml",
        "huge-village-count.yaml",
    } <= names


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.path.stem)
def test_validate_refuses_with_file_line_and_reason(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    """`duban catalog validate FILE` exits 2 naming the file, the line and what is wrong."""
    outcome = run_cli(capsys, "catalog", "validate", str(case.path))
    assert_refused(outcome, str(case.path), case.line)
    assert case.message is not None and case.message in outcome.err


def test_sync_of_each_refused_file_writes_nothing(
    settings: Settings,
    engine: Engine,
    write_catalog: CatalogWriter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Over a synced plan, syncing any corpus file exits 2 and leaves every table as it was."""
    assert run_cli(capsys, "catalog", "sync", str(write_catalog())).code == 0
    before = table_checksums(engine)
    for case in REFUSED:
        outcome = run_cli(capsys, "catalog", "sync", "--allow-retire", str(case.path))
        assert_refused(outcome, str(case.path), case.line)
        assert table_checksums(engine) == before, case.path.name


def test_anchors_for_small_shared_blocks_validate_and_sync(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Anchors, aliases and a merge key used for shared blocks are fine: the plan syncs."""
    valid = [c for c in CASES if c.message is None]
    assert valid
    for case in valid:
        assert run_cli(capsys, "catalog", "validate", str(case.path)).code == 0
        assert run_cli(capsys, "catalog", "sync", str(case.path)).code == 0


def test_billion_laughs_is_refused_at_once_by_the_alias_bound() -> None:
    """Nine levels of aliases are refused after composing a few dozen nodes: little memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        data, _, problems = read_yaml(CORPUS / "billion-laughs.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data is None
    assert [p.message for p in problems] == [
        f"YAML 别名(*引用)展开过多（展开后超过 {MAX_VALUES} 个值），"
        "请直接写出内容，或只用别名引用小块的共用内容"
    ]
    assert peak < 5_000_000, peak  # bytes; expanding it took about 5 GB
    assert time.perf_counter() - started < 5  # loose: it takes milliseconds


# Runs a command and prints its peak RSS (KiB). A child of the test process itself would report
# the test process's own peak: Linux carries a process's peak RSS across fork and exec.
_PEAK_RSS = """
import os, subprocess, sys, threading
child = subprocess.Popen(sys.argv[1:])
watchdog = threading.Timer(60, child.kill)  # an unbounded reader would run for minutes
watchdog.start()
_, status, usage = os.wait4(child.pid, 0)
watchdog.cancel()
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_the_console_script_refuses_the_bomb_in_little_memory(tmp_path: Path) -> None:
    """A real `duban catalog validate` process: exit 2, the alias message, a modest peak RSS."""
    duban = str(Path(sys.executable).parent / "duban")
    env = {**os.environ, "DUBAN_HOME": str(tmp_path)}
    bomb = CORPUS / "billion-laughs.yaml"
    command = [sys.executable, "-c", _PEAK_RSS, duban, "catalog", "validate", str(bomb)]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    *lines, peak = done.stderr.strip().splitlines()
    err = " ".join(" ".join(lines).split())
    assert done.returncode == 2, err
    assert f"{bomb}:{_case(bomb).line}: YAML 别名(*引用)展开过多" in err
    assert "Traceback" not in err
    assert int(peak) < 600 * 1024, peak  # KiB; the unbounded reader took ~5 GB


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("flow", "x: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),
        ("block", "".join("  " * i + f"k{i}:\n" for i in range(300)), MAX_DEPTH),
        ("sequence", "".join("  " * i + "-\n" for i in range(300)), MAX_DEPTH + 1),
    ],
)
def test_deep_nesting_is_refused_with_its_line(
    name: str, text: str, line: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """100,000 brackets or 300 indented levels: refused where the nesting passes the bound."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = run_cli(capsys, "catalog", "validate", str(path))
    assert_refused(outcome, str(path), line)
    assert f"嵌套超过 {MAX_DEPTH} 层" in outcome.err


def test_oversized_unreadable_and_non_utf8_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over the size bound, a folder named like a YAML file, Latin-1, a dangling link, a pipe."""
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "a-big.yaml").write_bytes(b"#" * MAX_FILE_BYTES + b"\nplan: {}\n")
    (folder / "b-folder.yaml").mkdir()
    (folder / "c-latin1.yaml").write_bytes("plan: {title: caf\xe9}\n".encode("latin-1"))
    (folder / "d-dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    os.mkfifo(folder / "e-pipe.yaml")  # opening it would wait for a writer forever
    outcome = run_cli(capsys, "catalog", "validate", str(folder))
    assert_refused(outcome, str(folder / "a-big.yaml"))
    assert "文件超过 1 MB 的上限" in outcome.err
    assert f"{folder / 'b-folder.yaml'}: 不是普通文件" in outcome.err
    assert f"{folder / 'd-dangling.yaml'}: 无法读取文件" in outcome.err
    assert f"{folder / 'c-latin1.yaml'}: 不是 UTF-8 编码的文本" in outcome.err
    assert f"{folder / 'e-pipe.yaml'}: 不是普通文件" in outcome.err
