"""The escalation ladder: exact days across holidays, digests, the cap, ack, extension, retries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from config.ladder import Ladder, load_ladder
from config.settings import Settings, get_settings, temporary_settings
from domain.adapters.channels import ChannelError, OutgoingMessage, mail_id
from domain.adapters.leases import Process, hold, holder_tag, release, wall_now
from domain.queries.context import resolve_plan
from domain.queries.escalation import all_due_notices, due_notices
from domain.queries.items import extend_item
from domain.queries.outbox import write_outbox
from domain.queries.sync import sync_catalog
from domain.rules.context import Context
from domain.services.delivery import deliver
from domain.services.messages import LEASE
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.records import Message, Notice
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import AS_OF

TZ = "Asia/Shanghai"
MAIL_ID = r"<duban-\d+\.[0-9a-f]{12}@localhost>"
DUE = date(2021, 10, 11)  # the Monday after National Day 2021 (Oct 1–7 off, Sat Oct 9 worked)


def at(session: Session, day: date) -> Context:
    """The demo plan on ``day``, with the settings' light policy (as escalation runs it)."""
    settings = get_settings()
    return context_of(
        session,
        day,
        yellow_workdays=settings.yellow_workdays,
        pace_margin=settings.pace_margin,
        plan="demo-plan",
    )


def plan_ladder(session: Session, day: date, ladder: Ladder) -> int:
    """Write the ladder's notices due on ``day`` into the outbox."""
    ctx = at(session, day)
    return write_outbox(session, ctx, due_notices(session, ctx, ladder))


def one_item_catalog(c: dict[str, Any]) -> None:
    """Only M1 (zzb, due the Monday after National Day), with contacts for zzb and mzj."""
    c["tasks"] = [c["tasks"][0]]
    c["tasks"][0]["milestones"] = [
        {"id": "M1", "title": "印发方案", "due": DUE, "start": date(2021, 9, 1)}
    ]
    for unit in c["units"]:
        if unit["id"] in {"zzb", "mzj", "xzf"}:
            unit["contacts"] = [
                {"name": "联络员", "role": "liaison", "email": f"{unit['id']}-l@example.gov.cn"},
                {"name": "负责人", "role": "head", "email": f"{unit['id']}-h@example.gov.cn"},
            ]


@pytest.fixture
def plan_engine(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> Iterator[Engine]:
    with frozen_time(datetime(2021, 9, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=one_item_catalog))[0])
    yield engine


def run_day(engine: Engine, day: date, ladder: Ladder, channel: Any = None) -> Any:
    with frozen_time(end_of_working_day(day, TZ)):
        with session_scope(engine) as session:
            plan_ladder(session, day, ladder)
        return deliver(engine, "demo-plan", cap=ladder.daily_cap, channel=channel)


def replay(engine: Engine, first: date, last: date, ladder: Ladder) -> list[tuple[str, int, date]]:
    day = first
    while day <= last:
        run_day(engine, day, ladder)
        day += timedelta(days=1)
    with session_scope(engine) as session:
        return [
            (n.level, n.cycle, n.planned_on)
            for n in session.scalars(select(Notice).order_by(Notice.id))
        ]


def test_ladder_days_across_national_day_and_a_make_up_saturday(plan_engine: Engine) -> None:
    """Working days, not calendar days: remind-1 falls on make-up Saturday Oct 9."""
    notices = replay(plan_engine, date(2021, 9, 20), date(2021, 10, 30), load_ladder())
    assert notices == [
        ("remind-5", 0, date(2021, 9, 28)),  # Sep 28, 29, 30, Oct 8, 9 left: 5 working days
        ("remind-1", 0, date(2021, 10, 9)),  # the make-up Saturday
        ("due", 0, date(2021, 10, 11)),
        ("coordinator", 0, date(2021, 10, 14)),  # 3 working days overdue
        ("coordinator", 1, date(2021, 10, 21)),  # weekly repeat: 8 overdue
        ("leadership", 0, date(2021, 10, 25)),  # 10 overdue
    ]


def test_replay_over_months_gives_exact_counts_and_skipped_days_catch_up(
    plan_engine: Engine, engine: Engine
) -> None:
    """Through Nov 30: 6 + leadership repeats every 5 working days (Nov 1, 8, 15, 22, 29)."""
    notices = replay(plan_engine, date(2021, 9, 1), date(2021, 11, 30), load_ladder())
    assert len(notices) == 11
    assert [n[2] for n in notices if n[0] == "leadership"] == [
        date(2021, 10, 25),
        date(2021, 11, 1),
        date(2021, 11, 8),
        date(2021, 11, 15),
        date(2021, 11, 22),
        date(2021, 11, 29),
    ]


def test_running_twice_a_day_plans_and_sends_once(plan_engine: Engine) -> None:
    """Re-runs are harmless: the outbox key makes the second run a no-op."""
    ladder = load_ladder()
    first = run_day(plan_engine, date(2021, 10, 14), ladder)
    second = run_day(plan_engine, date(2021, 10, 14), ladder)
    assert sorted(m.recipient for m in first.sent) == ["mzj/liaison", "zzb/head"]
    assert second.sent == []
    with session_scope(plan_engine) as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 1


def test_one_digest_per_recipient_and_the_daily_cap(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """Two overdue items of one unit: one message each for its liaison and head; a notice
    arriving later the same day waits for tomorrow (cap 1)."""

    def two(c: dict[str, Any]) -> None:
        one_item_catalog(c)
        c["tasks"][0]["milestones"].append(
            {"id": "M2", "title": "建立制度", "due": DUE, "start": date(2021, 9, 1)}
        )
        c["tasks"][0]["milestones"].append(
            {"id": "M3", "title": "另一事项", "due": date(2021, 10, 12), "start": date(2021, 9, 1)}
        )

    with frozen_time(datetime(2021, 9, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=two))[0])
    ladder = load_ladder()
    report = run_day(engine, DUE, ladder)  # M1, M2 at "due" (liaison+head); M3 at remind-1
    recipients = sorted(m.recipient for m in report.sent)
    assert recipients == ["zzb/head", "zzb/liaison"]
    with session_scope(engine) as session:
        liaison = session.scalars(select(Message).where(Message.recipient == "zzb/liaison")).one()
        assert liaison.body.count("印发方案") == 1 and "建立制度" in liaison.body
        assert "另一事项" in liaison.body  # three items, one digest
    again = run_day(engine, DUE, ladder)
    assert again.sent == []


def test_ack_stops_repeats_but_not_the_next_level(plan_engine: Engine) -> None:
    """`duban ack` at coordinator level: no repeat on Oct 21; leadership still comes."""
    from typer.testing import CliRunner  # noqa: PLC0415

    from duban.cli import app  # noqa: PLC0415

    ladder = load_ladder()
    replay(plan_engine, date(2021, 10, 14), date(2021, 10, 14), ladder)
    with frozen_time(end_of_working_day(date(2021, 10, 15), TZ)):
        result = CliRunner().invoke(app, ["ack", "1", "--actor", "zzb"])
    assert "已确认“逾期督办”这一级提醒" in result.stdout
    notices = replay(plan_engine, date(2021, 10, 15), date(2021, 10, 26), ladder)
    assert [(lv, c) for lv, c, _ in notices] == [("coordinator", 0), ("leadership", 0)]


def test_extension_restarts_the_ladder_on_the_new_date(plan_engine: Engine) -> None:
    """Extended to Nov 15 on Oct 12: no coordinator notice; remind-5 before the new date."""
    ladder = load_ladder()
    replay(plan_engine, date(2021, 10, 11), date(2021, 10, 11), ladder)
    with (
        frozen_time(end_of_working_day(date(2021, 10, 12), TZ)),
        session_scope(plan_engine) as session,
    ):
        extend_item(session, 1, date(2021, 11, 15), actor="mzj", reason="县政府同意延期")
    notices = replay(plan_engine, date(2021, 10, 12), date(2021, 11, 15), ladder)
    assert [(lv, c, d) for lv, c, d in notices[1:]] == [
        ("remind-5", 0, date(2021, 11, 8)),
        ("remind-1", 0, date(2021, 11, 12)),
        ("due", 0, date(2021, 11, 15)),
    ]


class FlakyChannel:
    """Fails the first ``failures`` sends, then records what it sends."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise ChannelError("connection refused")
        self.sent.append(message)


def test_a_failing_channel_loses_nothing_and_sends_nothing_twice(plan_engine: Engine) -> None:
    """Day 1 the channel is down: notices stay pending with the error; later all go out once."""
    ladder = load_ladder()
    channel = FlakyChannel(failures=2)
    first = run_day(plan_engine, DUE, ladder, channel)
    assert first.sent == [] and len(first.failed) == 2
    with session_scope(plan_engine) as session:
        notice = session.scalars(select(Notice)).one()
        assert (notice.status, notice.attempts) == ("pending", 2)  # one per recipient tried
        assert "connection refused" in (notice.last_error or "")
    later = run_day(plan_engine, DUE + timedelta(days=1), ladder, channel)
    assert sorted(m.recipient for m in later.sent) == ["zzb/head", "zzb/liaison"]
    assert len(channel.sent) == 2
    run_day(plan_engine, DUE + timedelta(days=1), ladder, channel)
    assert len(channel.sent) == 2


def test_crash_between_planning_and_delivery(plan_engine: Engine) -> None:
    """Notices planned but never delivered (the process died) go out once on the next run."""
    ladder = load_ladder()
    with frozen_time(end_of_working_day(DUE, TZ)), session_scope(plan_engine) as session:
        plan_ladder(session, DUE, ladder)
    channel = FlakyChannel(failures=0)
    run_day(plan_engine, DUE, ladder, channel)
    run_day(plan_engine, DUE, ladder, channel)
    assert sorted(m.recipient for m in channel.sent) == ["zzb/head", "zzb/liaison"]


def test_quiet_hours(plan_engine: Engine) -> None:
    """At 20:00, or on a Sunday, nothing is delivered; notices wait."""
    ladder = load_ladder()
    with frozen_time(datetime(2021, 10, 11, 12, tzinfo=UTC)):  # 20:00 in Shanghai
        with session_scope(plan_engine) as session:
            plan_ladder(session, DUE, ladder)
        assert deliver(plan_engine, "demo-plan", cap=1).quiet
    with frozen_time(datetime(2021, 10, 10, 2, tzinfo=UTC)):  # Sunday 10:00
        assert deliver(plan_engine, "demo-plan", cap=1).quiet
    assert run_day(plan_engine, DUE, ladder).sent  # Monday 17:00: delivered


def test_smtp_delivery_to_a_real_server(plan_engine: Engine, unused_tcp_port: int) -> None:
    """Mail goes through a real local SMTP server (aiosmtpd): recipients, subject, body."""
    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from aiosmtpd.handlers import Message as Collect  # noqa: PLC0415

    received: list[Any] = []

    class Handler(Collect):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    controller = Controller(Handler(), hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        with temporary_settings(
            channel="smtp", smtp_host="127.0.0.1", smtp_port=unused_tcp_port, smtp_security="none"
        ):
            report = run_day(plan_engine, DUE, load_ladder())
    finally:
        controller.stop()
    assert len(report.sent) == 2
    to = sorted(m["To"] for m in received)
    assert to == ["zzb-h@example.gov.cn", "zzb-l@example.gov.cn"]
    subject = received[0]["Subject"]
    assert "示例县委组织部" in str(make_header(decode_header(subject)))
    body = received[0].get_payload(decode=True).decode("utf-8")
    assert "印发方案" in body and "今天到期" in body
    ids = sorted(str(m["Message-ID"]) for m in received)
    with session_scope(plan_engine) as session:
        expected = sorted(
            mail_id(
                OutgoingMessage(m.id, m.plan_id, m.recipient, m.address, m.subject, m.body),
                "duban@localhost",
            )
            for m in session.scalars(select(Message))
        )
    assert ids == expected and all(re.fullmatch(MAIL_ID, i) for i in ids)


def test_webhook_delivery_to_a_local_http_server(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, unused_tcp_port: int
) -> None:
    """A unit whose liaison has a notification URL gets the digest posted there (apprise)."""
    import json  # noqa: PLC0415
    import threading  # noqa: PLC0415
    from http.server import BaseHTTPRequestHandler, HTTPServer  # noqa: PLC0415

    posted: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            posted.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # noqa: ARG002 - keep the test quiet
            return

    def with_hook(c: dict[str, Any]) -> None:
        one_item_catalog(c)
        zzb = next(u for u in c["units"] if u["id"] == "zzb")
        zzb["contacts"][0]["notify"] = [f"json://127.0.0.1:{unused_tcp_port}/robot"]

    with frozen_time(datetime(2021, 9, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=with_hook))[0])
    server = HTTPServer(("127.0.0.1", unused_tcp_port), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = run_day(engine, DUE, load_ladder())
    finally:
        server.shutdown()
        server.server_close()
    channels = {m.recipient: m.channel for m in report.sent}
    assert channels == {"zzb/liaison": "webhook", "zzb/head": "file"}
    assert len(posted) == 1
    assert "印发方案" in posted[0]["message"] and "示例县委组织部" in posted[0]["title"]


def test_missing_report_reminder(plan_engine: Engine) -> None:
    """zzb owes the weekly report (its item is active) and sent none: reminded from Friday, and a
    skipped Friday is caught up the following days."""
    from domain.queries.reminders import missing_report_notices  # noqa: PLC0415

    with session_scope(plan_engine) as session:
        before_due = missing_report_notices(session, at(session, date(2021, 9, 16)), load_ladder())
        on_due = missing_report_notices(session, at(session, date(2021, 9, 17)), load_ladder())
    # before this week's Friday the reminder is for last week's report, which never came
    (last_week,) = before_due
    (this_week,) = on_due
    assert last_week.dedupe_key == f"missing:{last_week.unit_id}:2021-09-06"
    assert (this_week.kind, this_week.dedupe_key, this_week.roles) == (
        "missing_report",
        f"missing:{this_week.unit_id}:2021-09-13",
        ["owner:liaison"],
    )


@pytest.mark.postgres
def test_concurrent_escalation_runs_on_postgres_plan_each_notice_once(
    postgres_url: str, write_catalog: CatalogWriter, tmp_path: Any
) -> None:
    """Two runs at once against PostgreSQL: the unique outbox key keeps one copy of each."""
    import threading  # noqa: PLC0415

    from models.db import engine_for  # noqa: PLC0415
    from models.migrate import upgrade  # noqa: PLC0415

    engine = engine_for(postgres_url)
    upgrade(engine)
    with temporary_settings(database_url=postgres_url, home=tmp_path):
        with frozen_time(datetime(2021, 9, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
            sync_catalog(session, load_catalog(write_catalog(edit=one_item_catalog))[0])
        ladder = load_ladder()
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                with (
                    frozen_time(end_of_working_day(date(2021, 10, 14), TZ)),
                    session_scope(engine) as session,
                ):
                    ctx = at(session, date(2021, 10, 14))
                    due = due_notices(session, ctx, ladder)
                    barrier.wait()
                    write_outbox(session, ctx, due)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with session_scope(engine) as session:
            keys = session.scalars(select(Notice.dedupe_key)).all()
        assert len(keys) == len(set(keys)) == 1


def test_why_no_reminder_yet(plan_engine: Engine) -> None:
    """An item not yet at its first level says when that level comes, in working days."""
    from domain.queries.escalation import explain_quiet  # noqa: PLC0415

    with session_scope(plan_engine) as session:
        why = explain_quiet(session, at(session, date(2021, 9, 27)), 1, load_ladder())
    assert why == ("距2021年10月11日到期-6个工作日；下一级提醒“到期前提醒”在-5个工作日时发出")


class CrashAfter:
    """Sends ``n`` messages, then dies like a killed process (raises SystemExit)."""

    name = "crashy"

    def __init__(self, n: int) -> None:
        self.n = n
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        if len(self.sent) >= self.n:
            raise SystemExit("killed")
        self.sent.append(message)


def test_a_run_that_died_mid_delivery_is_taken_over_the_same_day(plan_engine: Engine) -> None:
    """Killed after the first of two digests: a re-run on the same --as-of day sends the second,
    under its message id, once; the first, confirmed, is never sent again."""
    ladder = load_ladder()
    crashy = CrashAfter(1)
    with pytest.raises(SystemExit):
        run_day(plan_engine, DUE, ladder, crashy)
    with session_scope(plan_engine) as session:
        held = session.scalars(select(Message.id).where(Message.status == "sending")).one()
    again = FlakyChannel(failures=0)
    run_day(plan_engine, DUE, ladder, again)
    assert [m.message_id for m in again.sent] == [held]
    everything = [m.recipient for m in crashy.sent + again.sent]
    assert sorted(everything) == ["zzb/head", "zzb/liaison"]
    with session_scope(plan_engine) as session:
        assert {m.status for m in session.scalars(select(Message))} == {"sent"}
        assert session.scalars(select(Notice.status)).one() == "sent"


def test_a_running_runs_messages_are_left_alone(plan_engine: Engine) -> None:
    """Run A has prepared two digests and is still running: other runs, on the same replayed day
    or the next, leave them alone (they may be in flight); A then sends them, once."""
    from domain.services.delivery import DeliveryReport, prepare, send_and_confirm  # noqa: PLC0415

    ladder = load_ladder()
    hold(holder_tag("run-a"))  # run A, of this process, is running
    with frozen_time(end_of_working_day(DUE, TZ)), session_scope(plan_engine) as session:
        plan_ladder(session, DUE, ladder)
        plan = resolve_plan(session, "demo-plan")
        prepared = prepare(session, plan, cap=1, report=DeliveryReport(), token="run-a")
    b = FlakyChannel(failures=0)
    try:
        run_day(plan_engine, DUE, ladder, b)
        run_day(plan_engine, DUE + timedelta(days=1), ladder, b)
        assert b.sent == []
        a = FlakyChannel(failures=0)
        with frozen_time(end_of_working_day(DUE, TZ)):
            for message_id in prepared:
                send_and_confirm(plan_engine, message_id, a, DeliveryReport(), "run-a")
    finally:
        release(holder_tag("run-a"))
    assert sorted(m.message_id for m in a.sent) == sorted(prepared)


def test_daily_cap_holds_back_a_second_digest(plan_engine: Engine) -> None:
    """A notice planned after the day's digest went out waits until the next day (cap 1)."""
    ladder = load_ladder()
    assert run_day(plan_engine, date(2021, 10, 8), ladder).sent  # remind-5 (2 days left)
    with frozen_time(end_of_working_day(date(2021, 10, 8), TZ)):
        with session_scope(plan_engine) as session:
            ctx = at(session, date(2021, 10, 9))
            later = due_notices(session, ctx, ladder)  # remind-1
            assert write_outbox(session, ctx, later) == 1
        capped = deliver(plan_engine, "demo-plan", cap=1)
    assert capped.sent == [] and capped.capped == ["zzb/liaison"]
    next_day = run_day(plan_engine, date(2021, 10, 9), ladder)
    assert [m.recipient for m in next_day.sent] == ["zzb/liaison"]


def test_a_notice_for_an_old_deadline_is_skipped(plan_engine: Engine) -> None:
    """Planned at 20:00 (quiet), extended before morning: it is skipped with the reason."""
    ladder = load_ladder()
    with (
        frozen_time(datetime(2021, 10, 11, 12, tzinfo=UTC)),
        session_scope(plan_engine) as session,
    ):
        plan_ladder(session, DUE, ladder)
        extend_item(session, 1, date(2021, 11, 30), actor="mzj", reason="同意延期")
    report = run_day(plan_engine, date(2021, 10, 12), ladder)
    assert report.skipped == 1 and report.sent == []
    with session_scope(plan_engine) as session:
        notice = session.scalars(select(Notice)).one()
        assert (notice.status, notice.last_error) == (
            "skipped",
            "未发送：完成时限已由2021年10月11日改为2021年11月30日",
        )


def test_a_run_elsewhere_is_taken_over_when_its_wall_clock_lease_runs_out(
    plan_engine: Engine,
) -> None:
    """Run A, on another machine, prepares two digests: while its lease lasts on the wall clock
    a run here leaves them alone, whatever day it replays; once the lease has run out, run B
    takes them over and sends them; A, waking up, finds them no longer its own."""
    from domain.services.delivery import DeliveryReport, prepare, send_and_confirm  # noqa: PLC0415

    ladder = load_ladder()
    hold(holder_tag("run-a"))  # run A, of this process, is running
    with frozen_time(end_of_working_day(DUE, TZ)), session_scope(plan_engine) as session:
        plan_ladder(session, DUE, ladder)
        plan = resolve_plan(session, "demo-plan")
        prepared = prepare(session, plan, cap=1, report=DeliveryReport(), token="run-a")
    assert len(prepared) == 2
    elsewhere = holder_tag("run-a", Process("0ther0ne", 4242, 99))

    def lease_until(expiry: datetime) -> None:
        with session_scope(plan_engine) as session:
            session.execute(update(Message).values(claimed_by=elsewhere, next_attempt_at=expiry))

    lease_until(wall_now() + LEASE)
    b = FlakyChannel(failures=0)
    with frozen_time(end_of_working_day(DUE, TZ) + timedelta(days=1)):
        deliver(plan_engine, "demo-plan", cap=1, channel=b)
    assert b.sent == []
    lease_until(wall_now() - timedelta(seconds=1))
    with frozen_time(end_of_working_day(DUE, TZ)):
        deliver(plan_engine, "demo-plan", cap=1, channel=b)
        a = FlakyChannel(failures=0)
        for message_id in prepared:
            send_and_confirm(plan_engine, message_id, a, DeliveryReport(), "run-a")
    release(holder_tag("run-a"))
    assert sorted(m.message_id for m in b.sent) == sorted(prepared) and a.sent == []


def test_ack_needs_a_reminder_for_the_current_due_date(plan_engine: Engine) -> None:
    """After an extension the old level is not the one to acknowledge."""
    from typer.testing import CliRunner  # noqa: PLC0415

    from duban.cli import app  # noqa: PLC0415

    run_day(plan_engine, DUE, load_ladder())
    with session_scope(plan_engine) as session:
        extend_item(session, 1, date(2021, 12, 31), actor="mzj", reason="同意延期")
    result = CliRunner().invoke(app, ["ack", "1"])
    assert "在当前完成时限2021年12月31日下还没有收到过提醒" in str(result.exception)


def test_dry_run_writes_and_sends_nothing(plan_engine: Engine, settings: Settings) -> None:
    """`escalate --dry-run` shows the digests it would send; the outbox and folder stay empty."""
    from typer.testing import CliRunner  # noqa: PLC0415

    from duban.cli import app  # noqa: PLC0415

    result = CliRunner().invoke(app, ["escalate", "--as-of", DUE.isoformat(), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "试运行（不写入、不发送）" in result.stdout
    assert "将发送" in result.stdout
    with session_scope(plan_engine) as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert not (settings.home / "outbox").exists()


def test_a_held_message_is_not_sent_if_its_item_was_done_meanwhile(plan_engine: Engine) -> None:
    """Prepared, then the run died; the item was submitted before another run took it over."""
    from domain.queries.items import move_item  # noqa: PLC0415
    from domain.services.delivery import DeliveryReport, prepare  # noqa: PLC0415
    from models.enums import ItemState  # noqa: PLC0415

    ladder = load_ladder()
    hold(holder_tag("died"))
    with frozen_time(end_of_working_day(DUE, TZ)), session_scope(plan_engine) as session:
        plan_ladder(session, DUE, ladder)
        plan = resolve_plan(session, "demo-plan")
        prepare(session, plan, cap=1, report=DeliveryReport(), token="died")
        move_item(session, 1, ItemState.SUBMITTED, actor="zzb", reason=None)
    release(holder_tag("died"))  # the run that prepared them has ended
    channel = FlakyChannel(failures=0)
    with frozen_time(end_of_working_day(DUE, TZ)):
        deliver(plan_engine, "demo-plan", cap=1, channel=channel)
    assert channel.sent == []
    with session_scope(plan_engine) as session:
        assert {m.status for m in session.scalars(select(Message))} == {"skipped"}
        assert session.scalars(select(Notice.status)).one() == "skipped"


def test_only_new_leaves_out_exactly_what_the_outbox_holds(week: Engine) -> None:
    """The daily cycle asks only for notices not yet in the outbox (the database finds them
    faster than the insert skips them): the same notices as the full list minus the keys
    already planned, nothing at all once they are written."""
    ladder = load_ladder()
    for day in (AS_OF, date(2021, 10, 22), date(2021, 11, 15)):
        with frozen_time(end_of_working_day(day, TZ)), session_scope(week) as session:
            held = set(session.scalars(select(Notice.dedupe_key)))
            ctx = at(session, day)
            every = all_due_notices(session, ctx, ladder)
            new = all_due_notices(session, ctx, ladder, only_new=True)
            assert every, day
            assert [n.dedupe_key for n in new] == [
                n.dedupe_key for n in every if n.dedupe_key not in held
            ]
            assert write_outbox(session, ctx, new) == len(new)
            assert write_outbox(session, ctx, every) == 0  # each was in the outbox already
            assert all_due_notices(session, ctx, ladder, only_new=True) == []
        if day > AS_OF:
            assert new, day


def test_a_burst_of_notices_refreshes_the_outbox_statistics_on_postgres(
    week: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After writing many notices at once (a first day: ≈70,000 at a province's size) the
    planner knows the outbox's new size in the same transaction, so the next "not yet in the
    outbox" check is not planned for an empty table. (The threshold is lowered to the few
    notices of the minimal plan.)"""
    if week.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's statistics")
    monkeypatch.setattr("domain.queries.outbox.ANALYZE_AFTER", 2)
    day = date(2021, 10, 22)

    def known_rows(session: Any) -> float:
        return float(
            session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'notice'"))
        )

    with frozen_time(end_of_working_day(day, TZ)), session_scope(week) as session:
        ctx = at(session, day)
        new = all_due_notices(session, ctx, load_ladder(), only_new=True)
        assert len(new) >= 2
        before = known_rows(session)
        assert write_outbox(session, ctx, new) == len(new)
        held = session.scalar(select(func.count()).select_from(Notice))
        assert known_rows(session) == held != before


def test_only_new_day_after_day_across_every_level_and_repeat(plan_engine: Engine) -> None:
    """Every working day for three months after the item's due date, the daily cycle's way:
    the notices not yet in the outbox are exactly the full list less the keys held, each day,
    however long ago the notice the item still sits on was planned (on PostgreSQL the check
    reads only the notices planned within the ladder's longest stay on one notice)."""
    from models.orm import CalendarDay  # noqa: PLC0415

    ladder = load_ladder()
    day, written = DUE - timedelta(days=10), []
    while day <= DUE + timedelta(days=90):
        with frozen_time(end_of_working_day(day, TZ)), session_scope(plan_engine) as session:
            calendar_day = session.get(CalendarDay, day)
            if calendar_day is not None and calendar_day.is_workday:
                held = set(session.scalars(select(Notice.dedupe_key)))
                ctx = at(session, day)
                every = all_due_notices(session, ctx, ladder)
                new = all_due_notices(session, ctx, ladder, only_new=True)
                assert [n.dedupe_key for n in new] == [
                    n.dedupe_key for n in every if n.dedupe_key not in held
                ], day
                assert write_outbox(session, ctx, new) == len(new)
                written += [(n.level, n.cycle) for n in new if n.kind == "ladder"]
        day += timedelta(days=1)
    levels = {level for level, _ in written}
    assert {"remind-5", "remind-1", "due", "coordinator", "leadership"} <= levels
    assert max(c for level, c in written if level == "leadership") >= 8  # repeated weekly


class CrashingChannel:
    """A fault of the system (not a channel error) escapes from every send."""

    name = "crashing"

    def send(self, message: OutgoingMessage) -> None:  # noqa: ARG002 - the channel protocol
        raise RuntimeError("a bug")


def test_an_alert_cut_short_by_a_fault_goes_out_with_the_next_delivery(plan_engine: Engine) -> None:
    """A fault escapes while an alert is sent: once that run has ended, the next delivery of the
    same long-lived process (`duban serve`) takes the message over and sends it, once."""
    from domain.services.alerts import alert_coordinator  # noqa: PLC0415

    with frozen_time(end_of_working_day(DUE, TZ)):
        with pytest.raises(RuntimeError):
            alert_coordinator(
                plan_engine,
                "demo-plan",
                key="run-1",
                subject="运行失败",
                body="日常流程运行失败",
                channel=CrashingChannel(),
            )
        channel = FlakyChannel(failures=0)
        deliver(plan_engine, "demo-plan", cap=5, channel=channel)
        deliver(plan_engine, "demo-plan", cap=5, channel=channel)
    assert sorted(m.recipient for m in channel.sent) == ["mzj/head", "mzj/liaison"]
