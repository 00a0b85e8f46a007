"""Delivery spread over worker processes (``DUBAN_DELIVERY_WORKERS``), over real SMTP: each
digest reaches its recipient once, from the workers, with the workbook the run's own process
would have written; a worker that dies leaves its share to the run, nothing lost or doubled
but the mail it had not confirmed."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from config.ladder import load_ladder
from config.settings import Settings, temporary_settings
from domain.adapters.channels import OutgoingMessage, SmtpChannel, mail_id
from domain.adapters.leases import process_of, this_process
from domain.adapters.unit_workbook import write_unit_workbook
from domain.queries.plans import plan_of
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from domain.services import delivery_send, delivery_workers
from domain.services.delivery import DeliveryReport
from domain.services.escalation import run_escalation, run_escalation_plans
from domain.services.workbooks import write_workbook
from models.clock import end_of_working_day, frozen_time
from models.db import session_scope
from models.orm import Unit
from models.records import Message, Notice, NoticeDelivery
from tasks_catalog.loader import load_catalog
from tests.domain import test_delivery_crash
from tests.domain.test_delivery_crash import DUE, SENDER, UNITS, Sink, many_recipients
from tests.fixtures.catalog import CatalogWriter
from tests.intake.test_workbook_writer import describe

TZ = "Asia/Shanghai"
sink = test_delivery_crash.sink  # the local SMTP server the crash tests send to


@pytest.fixture
def county(
    settings: Settings,
    engine: Engine,
    write_catalog: CatalogWriter,
    monkeypatch: pytest.MonkeyPatch,
) -> Engine:
    """Ten departments, a liaison's and a head's digest each (the liaison's with the unit's
    workbook), four messages a chunk: two workers get a share of several chunks each."""
    if this_process() is None:
        pytest.skip("leases name processes through Linux /proc")
    monkeypatch.setattr(delivery_send, "SEND_CHUNK", 4)
    with frozen_time(datetime(2021, 9, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=many_recipients))[0])
    return engine


def escalate(engine: Engine, port: int, *, across: bool = False) -> DeliveryReport:
    """The due day's notices planned and delivered by SMTP, by two workers (with ``across``,
    as delivery across plans does it, for the one plan)."""
    with (
        temporary_settings(
            channel="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_sender=SENDER,
            delivery_workers=2,
        ),
        frozen_time(end_of_working_day(DUE, TZ)),
    ):
        if across:
            _, report = run_escalation_plans(
                engine, ["demo-plan"], DUE, load_ladder(), policy=LightPolicy(5, 25)
            )
        else:
            _, _, report = run_escalation(
                engine, "demo-plan", DUE, load_ladder(), policy=LightPolicy(5, 25)
            )
    return report


def check_delivered_once(engine: Engine, received: list[tuple[str, tuple[str, ...]]]) -> None:
    """Every message and notice sent; one message per (notice, recipient); every mail received
    under its message's Message-ID, none that is not a message's."""
    with session_scope(engine) as session:
        messages = {m.id: m for m in session.scalars(select(Message))}
        assert {m.status for m in messages.values()} == {"sent"}
        assert set(session.scalars(select(Notice.status))) == {"sent"}
        deliveries = list(session.scalars(select(NoticeDelivery)))
        pairs = Counter((d.notice_id, messages[d.message_id].recipient) for d in deliveries)
        # each message that carried a notice counted once on it, whichever worker sent it
        carried = Counter(d.notice_id for d in deliveries)
        attempts = dict(session.execute(select(Notice.id, Notice.attempts)).all())
        expected = {
            mail_id(
                OutgoingMessage(m.id, m.plan_id, m.recipient, m.address, m.subject, m.body), SENDER
            )
            for m in messages.values()
        }
    assert len(messages) == 2 * UNITS
    assert set(pairs.values()) == {1}
    assert attempts == dict(carried)
    assert {mail for mail, _ in received} == expected


@pytest.mark.parametrize("across", [False, True], ids=["one plan", "across plans"])
def test_two_workers_send_each_digest_once(
    county: Engine, sink: tuple[Sink, int], across: bool
) -> None:
    """Two worker processes, not the run's, send the 20 digests: each mail arrives once, the
    report lists each message once in id order, and each liaison's workbook is the one the
    run's own process writes."""
    handler, port = sink
    report = escalate(county, port, across=across)

    check_delivered_once(county, handler.received)
    assert len(handler.received) == 2 * UNITS  # no copy
    assert [s.id for s in report.sent] == sorted({s.id for s in report.sent})
    assert len(report.sent) == 2 * UNITS and not report.failed
    with session_scope(county) as session:
        messages = list(session.scalars(select(Message)))
        senders = {process_of(m.claimed_by) for m in messages}
        assert len(senders) == 2 and this_process() not in senders
        attached = [(m.recipient, Path(p)) for m in messages for p in m.attachments or ()]
        assert len(attached) == UNITS
        plan = plan_of(session, "demo-plan")
        for recipient, path in attached:
            unit = session.scalars(select(Unit).where(Unit.code == recipient.split("/")[0])).one()
            own = write_workbook(session, plan, unit, DUE, path.parent / "here")
            assert describe(path) == describe(own.path)


def test_a_worker_that_dies_leaves_its_share_to_the_run(
    county: Engine, sink: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A worker killed right after its second mail went out (sent, not confirmed): the run
    sends what that worker had not confirmed, each digest is recorded sent once, the one mail
    in doubt arrives at most twice under the same Message-ID, and the report counts each
    message once."""
    handler, port = sink
    run, died = os.getpid(), tmp_path / "died"
    sent_here: list[int] = []
    real_send = SmtpChannel.send

    def send(self: SmtpChannel, message: OutgoingMessage) -> Any:
        out = real_send(self, message)
        sent_here.append(message.message_id)
        if os.getpid() != run and len(sent_here) == 2 and first_to_die():
            os._exit(9)  # as a SIGKILL would leave it: no confirmation
        return out

    def first_to_die() -> bool:
        """One worker only, however close the two come to their second mail."""
        try:
            os.close(os.open(died, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    monkeypatch.setattr(SmtpChannel, "send", send)
    report = escalate(county, port)

    assert died.exists()
    check_delivered_once(county, handler.received)
    copies = Counter(mail for mail, _ in handler.received)
    assert sum(copies.values()) - len(copies) <= 2  # the unconfirmed chunk's mails, again
    assert sorted(s.id for s in report.sent) == sorted({s.id for s in report.sent})
    assert len(report.sent) == 2 * UNITS and not report.failed


def test_a_workbook_worker_that_dies_leaves_its_workbooks_to_the_run(
    county: Engine, sink: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A workbook worker killed at its first workbook: the run writes what it had not, every
    digest goes out once with its workbook, whole."""
    handler, port = sink
    run, died = os.getpid(), tmp_path / "died"

    def write(path: Path, **values: Any) -> None:
        if os.getpid() != run and not died.exists():
            died.touch()  # one process in the pool writes first: the other finds the file
            os._exit(9)
        write_unit_workbook(path, **values)

    monkeypatch.setattr(delivery_workers, "write_unit_workbook", write)
    report = escalate(county, port)

    assert died.exists()
    check_delivered_once(county, handler.received)
    assert len(report.sent) == 2 * UNITS and not report.failed
    with session_scope(county) as session:
        attached = [Path(p) for m in session.scalars(select(Message)) for p in m.attachments or ()]
    assert len(attached) == UNITS and all(describe(path) for path in attached)
