"""Broken settings: every command refuses with one Chinese line naming the setting, exit 2, no
traceback, and no file of the data directory created or changed (tests/corpus/settings/)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from config.settings import (
    Settings,
    delivery_window,
    hide_passwords,
    mask_url,
    reload_settings,
    setting_problem,
    temporary_settings,
)
from domain.queries.sync import sync_catalog
from duban.cli import main
from duban.cli_errors import explain
from models.db import dispose_engines, engine_for, session_scope
from models.migrate import upgrade
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import dump, minimal_catalog
from tests.fixtures.db import BACKEND, POSTGRES_URL

CORPUS = Path(__file__).parents[1] / "corpus" / "settings" / "broken.yaml"
SECRET = "pw-SECRET"

# (arguments, whether it needs the database); every command of `duban --help`. `catalog validate`
# with a path reads no setting; `worker` reads settings but no database.
COMMANDS: list[tuple[list[str], bool]] = [
    (["init"], True),
    (["status"], True),
    (["recount", "--check"], True),
    (["catalog", "validate", "{catalog}"], False),
    (["catalog", "sync", "{catalog}"], True),
    (["item", "show", "1"], True),
    (["item", "move", "1", "--to", "acknowledged"], True),
    (["calendar", "2025-06-13"], True),
    (["workbook", "--out", "{scratch}/workbooks", "--all"], True),
    (["collect"], True),
    (["mail-intake"], True),
    (["report", "1", "--unit", "zzb", "--state", "in_progress", "--percent", "10"], True),
    (["verify", "1"], True),
    (["return", "1", "--reason", "x"], True),
    (["indicators"], True),
    (["escalate", "--dry-run"], True),
    (["escalate"], True),
    (["notices"], True),
    (["ack", "1"], True),
    (["extend", "1", "--to", "2021-07-31", "--reason", "x"], True),
    (["brief", "--format", "md", "--as-of", "2021-12-27"], True),
    (["run", "daily-cycle"], True),
    (["serve"], True),
    (["scheduler"], True),
    (["deploy"], True),
    (["worker"], False),
]
# these start servers when nothing stops them: only run where the settings are refused at load
AT_LOAD_ONLY: list[list[str]] = [["server"], ["demo"]]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    """`duban ARGS` through the console script's `main()`, in this process."""
    argv = sys.argv
    sys.argv = ["duban", *args]
    reload_settings()
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
        dispose_engines()
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def checksums(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with its content's hash."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "folder"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[pytest.MonkeyPatch]:
    """No DUBAN_* setting from outside, no .env, fault logs in the test's folder."""
    for field in Settings.model_fields:
        monkeypatch.delenv(f"DUBAN_{field.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    reload_settings()
    yield monkeypatch
    reload_settings()


@pytest.fixture(scope="module")
def synced_home(migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose SQLite database holds the minimal catalogue, synced."""
    home = tmp_path_factory.mktemp("synced") / "home"
    home.mkdir()
    shutil.copy(migrated_sqlite_template, home / "duban.db")
    catalog = home.parent / "catalog.yaml"
    catalog.write_text(dump(minimal_catalog()), encoding="utf-8")
    url = f"sqlite:///{home / 'duban.db'}"
    with session_scope(engine_for(url)) as session:
        sync_catalog(session, load_catalog(catalog)[0])
    dispose_engines()
    return home


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder everyone may enter (a read-only data directory is tried as another user when
    the tests run as root, who may write anywhere)."""
    path = Path(tempfile.mkdtemp(prefix="duban-settings-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(path)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def prepare(kind: str, synced: Path, scratch: Path) -> Path:
    """A data directory in ``scratch`` holding what ``kind`` says; returns its path."""
    home = scratch / "home"
    (scratch / "a-file").write_text("not a folder\n", encoding="utf-8")
    (scratch / "catalog.yaml").write_text(dump(minimal_catalog()), encoding="utf-8")
    if kind == "missing":
        return home
    if kind == "file":
        home.write_text("not a folder\n", encoding="utf-8")
        return home
    shutil.copytree(synced, home)
    database = home / "duban.db"
    if kind == "random-bytes":
        database.write_bytes(random.Random(15).randbytes(40_960))
    elif kind == "truncated":
        database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    elif kind == "readonly":
        for p in [home, *home.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
    return home


@contextlib.contextmanager
def as_someone_else(active: bool) -> Iterator[None]:
    """Run the block as user nobody when ``active`` and root (for whom permissions do not
    apply); as this user otherwise."""
    if not active or os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def fill(text: str, values: dict[str, Any]) -> str:
    """``text`` with each ``{name}`` of ``values`` replaced (other braces left as they are)."""
    for name, value in values.items():
        text = text.replace(f"{{{name}}}", str(value))
    return text


def inside(value: str, folders: list[Path]) -> bool:
    """Whether a data directory or SQLite URL ``value`` names a place inside one of ``folders``."""
    where = (Path.cwd() / value.removeprefix("sqlite:///")).resolve()
    return any(where.is_relative_to(folder.resolve()) for folder in folders)


def load_corpus() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return cases


def pg_base() -> str:
    """The test PostgreSQL server's URL without a database, with a password to hide."""
    url = make_url(POSTGRES_URL).set(password=SECRET, database=None)
    return url.render_as_string(hide_password=False)


@pytest.mark.parametrize("case", load_corpus(), ids=lambda c: c["name"])
def test_every_command_refuses_a_broken_setting_cleanly(
    case: dict[str, Any],
    synced_home: Path,
    scratch: Path,
    clean_environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each corpus case, with each command: exit 0 or 2; on 2 one Chinese line that names the
    setting; never a traceback or a password; no file created or changed."""
    home = prepare(case["home"], synced_home, scratch)
    values = {"home": home, "scratch": scratch, "closed_port": closed_port(), "pg": pg_base()}
    clean_environment.chdir(scratch)  # another user must be able to look for a .env there
    clean_environment.setenv("DUBAN_HOME", str(home))
    for name, value in case["env"].items():
        clean_environment.setenv(name, fill(value, values))
    commands = COMMANDS + [(args, True) for args in AT_LOAD_ONLY if case.get("at_load")]
    for template, needs_database in commands:
        if case["home"] == "missing" and template == ["init"]:
            continue  # init makes the data directory: see the test below
        args = [
            fill(a, {"catalog": scratch / "catalog.yaml", "scratch": scratch}) for a in template
        ]
        before = checksums(scratch)
        with as_someone_else(case["home"] == "readonly"):
            outcome = run_main(args, capsys)
        said = outcome.out + outcome.err
        where = f"{case['name']}: duban {' '.join(args)} → {outcome}"
        assert "Traceback" not in said, where
        assert SECRET not in said, where
        assert checksums(scratch) == before, where
        reads_settings = template[:2] != ["catalog", "validate"]
        if needs_database or (case.get("at_load") and reads_settings):
            assert outcome.code == 2, where
            assert case["setting"] in outcome.err, where
            assert "错误：" in outcome.err, where
            assert case.get("says", "") in outcome.err, where
        else:
            assert outcome.code in (0, 2), where


def test_a_damaged_database_is_a_fault_with_its_traceback_in_the_log(
    synced_home: Path,
    scratch: Path,
    tmp_path: Path,
    clean_environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A damaged SQLite file is not called a wrong setting: the person reads what happened and
    where the details are; the fault log holds the traceback."""
    home = prepare("truncated", synced_home, scratch)
    clean_environment.setenv("DUBAN_HOME", str(home))
    outcome = run_main(["status"], capsys)
    log = tmp_path / "state" / "duban" / "faults.log"
    assert outcome.code == 2
    assert "数据库文件已损坏" in outcome.err
    assert f"详细记录见 {log}" in outcome.err
    assert "Traceback (most recent call last)" in log.read_text(encoding="utf-8")


def test_init_creates_the_data_directory_and_other_commands_do_not(
    scratch: Path, clean_environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`duban init` is the one command that makes a missing data directory and its database."""
    home = scratch / "new" / "home"
    clean_environment.setenv("DUBAN_HOME", str(home))
    assert run_main(["run", "daily-cycle"], capsys).code == 2
    assert not (scratch / "new").exists()
    assert run_main(["init"], capsys).code == 0
    assert (home / "duban.db").is_file()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("25:00-26:00", "25:00 不是一天中的时刻"),
        ("08:60-18:00", "08:60 不是一天中的时刻"),
        ("18:00-08:30", "开始时刻应早于结束时刻"),
        ("08:30-08:30", "开始时刻应早于结束时刻"),
        ("8:30-18:00", "应写成“时:分-时:分”"),
        ("", "应写成“时:分-时:分”"),
    ],
)
def test_delivery_hours_are_real_times_in_order(text: str, problem: str) -> None:
    """The delivery window is refused unless both ends are times of day, start before end."""
    with pytest.raises(ValueError, match=problem):
        delivery_window(text)


def test_delivery_hours_accept_a_window_within_the_day() -> None:
    """00:00-23:59 is the widest window."""
    start, end = delivery_window("00:00-23:59")
    assert (start.hour, end.hour, end.minute) == (0, 23, 59)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://duban:pw-SECRET@db:5432/x",
            "postgresql+psycopg://duban:***@db:5432/x",
        ),
        ("postgresql://u:pw-SECRET@h:port/x", "postgresql://u:***@h:port/x"),
        ("sqlite:////var/duban.db", "sqlite:////var/duban.db"),
    ],
)
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    """A URL's password is masked whether or not the URL parses."""
    assert mask_url(url) == shown


def test_passwords_are_hidden_in_any_text() -> None:
    """Every URL's password in a message is hidden, also in a URL a path made one slash of."""
    text = "DUBAN_HOME=postgresql+psycopg:/u:pw-SECRET@h/x，https://t:pw-SECRET@git.example/r"
    assert (
        hide_passwords(text)
        == "DUBAN_HOME=postgresql+psycopg:/u:***@h/x，https://t:***@git.example/r"
    )


def test_a_secret_setting_is_named_but_never_shown() -> None:
    """A problem with a secret setting names the variable, not its value."""
    line = setting_problem(
        {
            "type": "value_error",
            "loc": ("smtp_password",),
            "msg": "Value error, 太短",
            "input": SECRET,
        }
    )
    assert line.startswith("设置 DUBAN_SMTP_PASSWORD（值已隐藏） 有误：太短")
    assert SECRET not in line


# Values a person might put in any DUBAN_* variable; bounded so the property stays fast.
VALUES = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "65536",
            "true",
            "25:00-26:00",
            "Asia/Shanghai",
            "30 8 * * *",
            "/",
            "/nonexistent/duban",
            "{scratch}/a-file",
            "{scratch}/a-file/below",
            "{scratch}/elsewhere",
            "{home}",
            f"postgresql+psycopg://u:{SECRET}@127.0.0.1:{{closed_port}}/x",
            "sqlite:///{scratch}/elsewhere/duban.db",
            f"nosuch://u:{SECRET}@h/x",
        ]
    ),
)
VARIABLES = st.sampled_from(sorted(f"DUBAN_{f.upper()}" for f in Settings.model_fields))


@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    env=st.dictionaries(VARIABLES, VALUES, max_size=3),
    command=st.sampled_from([["status", "--as-of", "2021-12-27"], ["init"]]),
)
def test_any_settings_give_exit_0_or_a_message_naming_one_of_them(
    env: dict[str, str],
    command: list[str],
    synced_home: Path,
    clean_environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`duban status` or `duban init` under arbitrary DUBAN_* values: exit 0, or exit 2 with a
    Chinese line naming one of the variables set; never a traceback or a password, nothing
    written."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        home = prepare("initialised", synced_home, scratch)
        values = {"home": home, "scratch": scratch, "closed_port": closed_port()}
        filled = {name: fill(value, values) for name, value in env.items()}
        if command == ["init"]:  # init creates its database: only inside the test's folders
            for name in ("DUBAN_HOME", "DUBAN_DATABASE_URL"):
                assume(name not in filled or inside(filled[name], [scratch, Path.cwd()]))
        with clean_environment.context() as patch:
            patch.setenv("DUBAN_HOME", str(home))
            for name, value in filled.items():
                patch.setenv(name, value)
            before = checksums(scratch)
            outcome = run_main(command, capsys)
        said = outcome.out + outcome.err
        assert "Traceback" not in said
        assert SECRET not in said
        assert outcome.code in (0, 2), outcome
        event(f"{command[0]}: exit {outcome.code}")
        if outcome.code == 2:
            assert "错误：" in outcome.err, outcome
            assert any(name in outcome.err for name in [*env, "DUBAN_HOME"]), outcome
            assert checksums(scratch) == before, outcome
    reload_settings()


@pytest.mark.parametrize(
    ("kind", "env", "setting"),
    [
        ("readonly", {}, "DUBAN_HOME"),
        ("random-bytes", {}, "DUBAN_HOME"),
        (
            "initialised",
            {"DUBAN_DATABASE_URL": f"postgresql+psycopg://u:{SECRET}@127.0.0.1:{{closed_port}}/x"},
            "DUBAN_DATABASE_URL",
        ),
    ],
)
def test_the_console_script_prints_one_line_and_exits_2(
    kind: str, env: dict[str, str], setting: str, synced_home: Path, scratch: Path
) -> None:
    """The installed `duban` in a real process: one line on stderr naming the setting, exit 2."""
    home = prepare(kind, synced_home, scratch)
    values = {"closed_port": closed_port()}
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    user = 65534 if kind == "readonly" and os.geteuid() == 0 else None
    own = scratch / "user"  # the user's own home folder: libraries keep caches there
    own.mkdir()
    if user is not None:
        os.chown(own, user, user)
    environment |= {"DUBAN_HOME": str(home), "HOME": str(own), "XDG_STATE_HOME": str(own)}
    environment |= {k: fill(v, values) for k, v in env.items()}
    before = checksums(home) if home.is_dir() and kind != "readonly" else None
    result = subprocess.run(
        [str(Path(sys.executable).parent / "duban"), "status"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=scratch,
        user=user,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("错误：") and setting in lines[0], result.stderr
    if before is not None:
        assert checksums(home) == before


@pytest.mark.parametrize("kind", ["readonly", "file"])
def test_a_broken_data_directory_is_refused_with_the_backends_database(
    kind: str,
    request: pytest.FixtureRequest,
    synced_home: Path,
    scratch: Path,
    clean_environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On PostgreSQL too (the database elsewhere, files in the data directory) a read-only data
    directory or a file in its place is refused before anything is written."""
    home = prepare(kind, synced_home, scratch)
    clean_environment.chdir(scratch)
    clean_environment.setenv("DUBAN_HOME", str(home))
    if BACKEND == "postgresql":
        url = request.getfixturevalue("postgres_url")
        upgrade(engine_for(url))
        clean_environment.setenv("DUBAN_DATABASE_URL", url)
    for args in (["status"], ["collect"], ["escalate"], ["brief", "--format", "md"]):
        before = checksums(scratch)
        with as_someone_else(kind == "readonly"):
            outcome = run_main(args, capsys)
        assert outcome.code == 2, (args, outcome)
        assert "DUBAN_HOME" in outcome.err and "Traceback" not in outcome.err
        assert checksums(scratch) == before


def test_a_folder_without_permission_is_explained_naming_its_setting(tmp_path: Path) -> None:
    """A permission error on a path in the data directory names DUBAN_HOME and says what to do."""
    with temporary_settings(home=tmp_path / "home", inbox=None, briefings=None):
        denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "home" / "demo"))
        explained = explain(denied)
    assert explained is not None and not explained.fault
    assert explained.lines == [
        f"无法写入 {tmp_path / 'home' / 'demo'}（DUBAN_HOME={tmp_path / 'home'}）：没有权限。"
        "请检查该目录的权限，或在设置中改为可写的目录。 (Permission denied)"
    ]


def test_a_fault_of_the_system_is_not_explained_away() -> None:
    """A database lost mid-command, a bug: no message blaming a setting (the traceback stays)."""
    lost = OperationalError(
        "SELECT 1", {}, psycopg.OperationalError("server closed the connection")
    )
    assert explain(lost) is None
    assert explain(RuntimeError("a bug")) is None
