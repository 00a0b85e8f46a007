"""The inbox against hostile or careless files: each ends landed, duplicate or rejected with a
Chinese reason, nothing of a rejected file is written or echoed, and the inbox is never blocked."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from config.settings import Settings
from domain.adapters.intake.claims import CLAIMS
from domain.services.intake.inbox import MAX_FILE_BYTES
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook
from models.db import session_scope
from models.orm import InboxFile, Plan, Report, Unit
from tests.intake.signed import PLAN, sign_json
from tests.intake.support import checksums, good_csv, item_of, run

CORPUS = Path(__file__).parent.parent / "corpus" / "inbox"
TRUSTED = "测试员"


def a_workbook(engine: Engine, folder: Path) -> bytes:
    """t1's signed workbook with one row filled in, as bytes."""
    with session_scope(engine) as session:
        plan = session.get(Plan, PLAN)
        unit = session.scalars(select(Unit).where(Unit.code == "t1")).one()
        assert plan is not None
        path = write_workbook(session, plan, unit, date(2021, 6, 21), folder).path
    fill_workbook(path, {item_of(engine, "M2", "t1"): {"state": "推进中", "percent": 10}})
    data = path.read_bytes()
    path.unlink()
    return data


def with_member(book: bytes, member: str, content: bytes) -> bytes:
    """The workbook with one zip member replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = content if info.filename == member else source.read(info.filename)
            target.writestr(info.filename, data)
    return out.getvalue()


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheets>&lol9;</sheets></workbook>"
)
GENERATED: dict[str, Callable[[Engine, Path], bytes]] = {  # (engine, a scratch folder) → bytes
    "0-deep.json": lambda _e, _t: (
        b'{"unit":"x","reports":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    ),
    "5000-digits.json": lambda _e, _t: (
        b'{"unit":"t1","reports":[{"item":' + b"9" * 5000 + b',"state":"in_progress"}]}'
    ),
    "long-cell.csv": lambda _e, _t: b"unit,item,state,note\nt1,1,in_progress," + b"x" * 200_000,
    "too-big.csv": lambda _e, _t: (
        b"unit,item,state\n" + b"t1,1,in_progress\n" * (MAX_FILE_BYTES // 17 + 1)
    ),
    "bad-workbook-xml.xlsx": lambda e, t: with_member(a_workbook(e, t), "xl/workbook.xml", b"<wb"),
    "bad-styles-xml.xlsx": lambda e, t: with_member(a_workbook(e, t), "xl/styles.xml", b"<s><x"),
    "bad-sheet-xml.xlsx": lambda e, t: with_member(
        a_workbook(e, t), "xl/worksheets/sheet2.xml", b"<worksheet><sheetData><row r='x'>"
    ),
    "entity-bomb.xlsx": lambda e, t: with_member(a_workbook(e, t), "xl/workbook.xml", BOMB),
}
CASES = sorted([p.name for p in CORPUS.iterdir() if p.name != "README.md"] + list(GENERATED))


def assert_rejected_alone(engine: Engine, inbox: Path, name: str, data: bytes) -> None:
    """Collect ``name`` under --trusted: rejected with reasons, nothing written; a good file
    dropped after it then lands."""
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_bytes(data)
    before = checksums(engine)
    (bad,) = run(engine, inbox, trusted=TRUSTED)
    assert bad.status == "rejected", bad
    assert bad.problems and bad.error_report is not None and bad.error_report.exists()
    assert checksums(engine) == before
    assert all(len(p.message) < 400 for p in bad.problems)
    (inbox / "zz-good.csv").write_bytes(good_csv(engine))
    (good,) = run(engine, inbox)
    assert good.status == "landed", good.problems


@pytest.mark.parametrize("name", CASES)
def test_every_hostile_file_is_rejected_and_the_next_one_lands(
    synced: Engine, tmp_path: Path, name: str
) -> None:
    """Each corpus file (kept or generated) is rejected whole; the inbox goes on."""
    data = GENERATED[name](synced, tmp_path) if name in GENERATED else (CORPUS / name).read_bytes()
    assert_rejected_alone(synced, tmp_path / "inbox", name, data)


def test_a_bad_file_before_a_good_one_in_the_same_run(synced: Engine, tmp_path: Path) -> None:
    """The issue's reproducer: 0-deep.json first, zz-good.csv after it, in one collection."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "0-deep.json").write_bytes(GENERATED["0-deep.json"](synced, tmp_path))
    (inbox / "zz-good.csv").write_bytes(good_csv(synced))
    assert [o.status for o in run(synced, inbox)] == ["rejected", "landed"]
    assert sorted(p.name for p in inbox.iterdir() if p.name != CLAIMS) == ["archive", "rejected"]


def test_links_and_pipes_are_never_read(
    synced: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links (to the environment, /etc/passwd, a valid report outside) and a FIFO are refused
    unread, removed from the inbox, and nothing of their target is echoed."""
    monkeypatch.setenv("DUBAN_SMTP_PASSWORD", "hunter2-secret")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_bytes(good_csv(synced))
    (inbox / "env.csv").symlink_to("/proc/self/environ")
    (inbox / "passwd.csv").symlink_to("/etc/passwd")
    (inbox / "outside.csv").symlink_to(outside)
    (inbox / "loop.csv").symlink_to(inbox / "loop.csv")
    os.mkfifo(inbox / "pipe.csv")
    before = checksums(synced)
    outcomes = run(synced, inbox, trusted=TRUSTED)
    assert [(o.name, o.status) for o in outcomes] == [
        (n, "rejected") for n in ("env.csv", "loop.csv", "outside.csv", "passwd.csv", "pipe.csv")
    ]
    assert checksums(synced) == before
    reasons = "".join((o.error_report or Path()).read_text(encoding="utf-8") for o in outcomes)
    assert "hunter2" not in reasons and "root:" not in reasons
    assert "符号链接" in reasons and "管道文件" in reasons
    assert outside.exists() and not any(p.is_symlink() for p in inbox.rglob("*"))


@pytest.mark.parametrize(
    "name", ["a" * 247 + ".csv", "县" * 83 + ".csv", os.fsdecode(b"\xff\xfe-report.csv")]
)
def test_any_name_the_inbox_holds_lands_and_is_archived(
    synced: Engine, tmp_path: Path, name: str
) -> None:
    """A long ASCII or Chinese name, or one that is not UTF-8: landed and archived under a name
    of at most 255 bytes; the database keeps the original (as text); sent again, a duplicate."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = good_csv(synced)
    (inbox / name).write_bytes(data)
    (outcome,) = run(synced, inbox)
    assert outcome.status == "landed", outcome.problems
    assert outcome.kept_at is not None and outcome.kept_at.exists()
    assert len(os.fsencode(outcome.kept_at.name)) <= 255
    with session_scope(synced) as session:
        stored = session.scalars(select(InboxFile.name)).one()
    assert stored == os.fsencode(name).decode("utf-8", errors="replace")
    (inbox / name).write_bytes(data)
    assert run(synced, inbox)[0].status == "duplicate"
    assert sorted(p.name for p in inbox.iterdir()) == [CLAIMS, "archive"]


def test_long_name_rejected_file_keeps_its_reasons(synced: Engine, tmp_path: Path) -> None:
    """A rejected file with a 250-byte name is kept with its reasons file beside it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    name = "b" * 246 + ".csv"
    (inbox / name).write_bytes(b"unit,item,state\nt1,1,maybe\n")
    (outcome,) = run(synced, inbox)
    assert outcome.status == "rejected"
    assert outcome.kept_at is not None and outcome.kept_at.exists()
    assert outcome.error_report is not None and outcome.error_report.exists()
    assert name in outcome.error_report.read_text(encoding="utf-8")


def test_unsigned_csv_or_json_needs_an_operator(synced: Engine, tmp_path: Path) -> None:
    """An unsigned report is refused, saying how to get a template; with --trusted it lands under
    the operator's name, recorded on the file and the reports."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    item = item_of(synced, "M2", "t1")
    document = f'{{"unit":"t1","reports":[{{"item":{item},"state":"in_progress"}}]}}'
    (inbox / "t1.json").write_text(document, encoding="utf-8")
    (outcome,) = run(synced, inbox)
    assert outcome.status == "rejected"
    assert "文件没有签名" in outcome.problems[0].message
    (inbox / "t1.json").write_text(document, encoding="utf-8")
    (outcome,) = run(synced, inbox, trusted=TRUSTED)
    assert (outcome.status, outcome.vouched_by) == ("landed", TRUSTED)
    with session_scope(synced) as session:
        assert session.scalars(select(InboxFile.vouched_by)).one() == TRUSTED
        assert session.scalars(select(Report.actor)).one() == TRUSTED


def test_an_empty_unsigned_report_no_longer_counts(synced: Engine, tmp_path: Path) -> None:
    """`{"unit":"mzj","reports":[]}` from anyone is refused: no file lands for the unit."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mzj.json").write_text('{"unit":"mzj","reports":[]}', encoding="utf-8")
    assert run(synced, inbox)[0].status == "rejected"
    with session_scope(synced) as session:
        assert session.scalar(select(func.count()).select_from(InboxFile)) == 0


def test_signed_rows_cannot_be_moved_to_another_unit_or_added(
    synced: Engine, tmp_path: Path
) -> None:
    """A signed JSON with its unit changed, or with an unsigned entry added, is refused."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    item = item_of(synced, "M2", "t1")
    signed = sign_json({"unit": "t1", "reports": [{"item": item, "state": "in_progress"}]})
    (inbox / "a.json").write_text(
        __import__("json").dumps({**signed, "unit": "t2"}), encoding="utf-8"
    )
    (outcome,) = run(synced, inbox)
    assert "签名不符" in outcome.problems[0].message
    added = {**signed, "reports": [*signed["reports"], {"item": 1, "state": "in_progress"}]}
    (inbox / "b.json").write_text(__import__("json").dumps(added), encoding="utf-8")
    (outcome,) = run(synced, inbox)
    assert outcome.status == "rejected"
    assert any("此行没有签名" in p.message for p in outcome.problems)


def test_only_a_short_excerpt_of_a_bad_cell_is_echoed(synced: Engine, tmp_path: Path) -> None:
    """A 500-character header or state is quoted by at most 30 characters and an ellipsis."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = "S" * 500
    (inbox / "a.csv").write_text(f"unit,item,state,{secret}\nt1,1,{secret},x\n", encoding="utf-8")
    (outcome,) = run(synced, inbox, trusted=TRUSTED)
    assert outcome.status == "rejected"
    shown = (outcome.error_report or Path()).read_text(encoding="utf-8")
    assert "S" * 31 not in shown and "S" * 30 + "…" in shown


def test_a_dead_collections_claims_are_taken_over(synced: Engine, tmp_path: Path) -> None:
    """A file left in the claim folder of a collection that died lands on the next run."""
    inbox = tmp_path / "inbox"
    stale = inbox / CLAIMS / "12345-deadbeef"
    stale.mkdir(parents=True)
    (stale / "t1.csv").write_bytes(good_csv(synced))
    (outcome,) = run(synced, inbox)
    assert (outcome.name, outcome.status) == ("t1.csv", "landed")
    assert list((inbox / CLAIMS).iterdir()) == []


def test_a_landing_cut_short_before_archiving_is_finished(synced: Engine, tmp_path: Path) -> None:
    """Killed after the commit, before the move: the file (back in the inbox) goes where its
    record says, and nothing lands twice."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "t1.csv").write_bytes(good_csv(synced))
    (landed,) = run(synced, inbox)
    assert landed.kept_at is not None
    stale = inbox / CLAIMS / "12345-deadbeef"
    stale.mkdir(parents=True)
    landed.kept_at.rename(stale / "t1.csv")  # where the killed collection left it
    before = checksums(synced)
    (again,) = run(synced, inbox)
    assert (again.status, again.kept_at) == ("duplicate", landed.kept_at)
    assert landed.kept_at.exists()
    assert checksums(synced) == before


def test_a_fault_rejects_one_file_with_an_incident_number(
    synced: Engine, tmp_path: Path, settings: Settings
) -> None:
    """The database refusing a write (a trigger here) rejects that file with an incident
    number whose traceback, passwords hidden, is in <home>/incidents; the next file is still
    handled."""
    fault = "injected fault at postgresql://duban:s3cret@db/duban"
    fail = f"SELECT RAISE(ABORT, '{fault}')"
    with session_scope(synced) as session:
        if synced.dialect.name == "sqlite":
            session.execute(text(f"CREATE TRIGGER boom BEFORE INSERT ON report BEGIN {fail}; END"))
        else:
            session.execute(
                text(
                    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$BEGIN RAISE EXCEPTION '{fault}'; END$$"
                )
            )
            session.execute(
                text("CREATE TRIGGER boom BEFORE INSERT ON report EXECUTE FUNCTION boom()")
            )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_bytes(good_csv(synced))
    (inbox / "b.csv").write_bytes(good_csv(synced))
    before = checksums(synced)
    first, second = run(synced, inbox)
    assert first.status == second.status == "rejected"
    assert checksums(synced) == before
    message = first.problems[0].message
    assert "事件编号" in message
    incident = message.split("事件编号 ")[1][:8]
    logged = (settings.home / "incidents" / f"{incident}.txt").read_text(encoding="utf-8")
    assert "injected fault at postgresql://duban:***@db" in logged and "Traceback" in logged
    assert "s3cret" not in logged
