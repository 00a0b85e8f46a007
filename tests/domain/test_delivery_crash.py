"""Real processes killed mid-delivery over real SMTP: every digest arrives under one Message-ID.

``duban escalate --as-of`` runs as a subprocess with the SMTP channel, pointed at an aiosmtpd
sink that records each mail's Message-ID and recipients. It is killed (SIGKILL) at random points
of its delivery, then run again on the same replayed day until a run finishes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from config.settings import Settings
from domain.adapters.channels import OutgoingMessage, mail_id
from domain.adapters.leases import this_process
from domain.queries.sync import sync_catalog
from models.clock import frozen_time
from models.db import session_scope
from models.orm import Unit
from models.records import Contact, Message, Notice, NoticeDelivery
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter

DUE = date(2021, 10, 11)  # a Monday; escalate --as-of runs at 17:00, inside delivery hours
UNITS = 10  # two digests each (liaison, head), each listing the unit's two milestones
KILLS = 3
SENDER = "duban@county.example.gov.cn"


def many_recipients(c: dict[str, Any]) -> None:
    """Ten departments, each leading one task with two milestones due on DUE."""
    top = [u for u in c["units"] if u["id"] in {"xzf", "mzj"}]
    departments = [
        {
            "id": f"d{i:02d}",
            "name": f"示例县第{i}局",
            "kind": "department",
            "parent": "xzf",
            "contacts": [
                {"name": "联络员", "role": "liaison", "email": f"d{i:02d}-l@example.gov.cn"},
                {"name": "负责人", "role": "head", "email": f"d{i:02d}-h@example.gov.cn"},
            ],
        }
        for i in range(UNITS)
    ]
    c["units"] = top + departments
    c["plan"].pop("declared_village_units", None)
    c["tasks"] = [
        {
            "number": i + 1,
            "title": f"任务{i + 1}",
            "lead": f"d{i:02d}",
            "milestones": [
                {"id": f"M{i}A", "title": "印发方案", "due": DUE, "start": date(2021, 9, 1)},
                {"id": f"M{i}B", "title": "建立台账", "due": DUE, "start": date(2021, 9, 1)},
            ],
        }
        for i in range(UNITS)
    ]
    c["measures"], c["indicators"] = [], []


@dataclass
class Sink:
    """An aiosmtpd handler that records every mail and can SIGKILL the sending process in the
    middle of a run: when its ``kill_at``-th mail is in but not yet acknowledged (``mode``
    "reply": it was sent, never confirmed), or when the mail after it starts ("next": the
    previous one confirmed, this one claimed but not sent)."""

    received: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    pid: int | None = None
    kill_at: int | None = None
    mode: str = "reply"
    in_run: int = 0

    def kill(self, mode: str) -> None:
        if self.pid is not None and self.mode == mode and self.in_run == self.kill_at:
            os.kill(self.pid, signal.SIGKILL)

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: list[str]
    ) -> str:
        self.kill("next")
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        mail = message_from_bytes(envelope.content, policy=default)
        self.received.append((str(mail["Message-ID"]), tuple(envelope.rcpt_tos)))
        self.in_run += 1
        self.kill("reply")
        return "250 OK"


@pytest.fixture
def sink(unused_tcp_port: int) -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller  # noqa: PLC0415

    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=unused_tcp_port)
    controller.start()
    try:
        yield handler, unused_tcp_port
    finally:
        controller.stop()


@pytest.fixture
def county(settings: Settings, engine: Engine, write_catalog: CatalogWriter) -> Engine:
    if this_process() is None:
        pytest.skip("taking over a dead run at once needs Linux /proc")
    with frozen_time(datetime(2021, 9, 1, 2, tzinfo=UTC)), session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=many_recipients))[0])
    return engine


def recipients_of(notice: Notice, codes: dict[int, str]) -> list[str]:
    """The recipients of a notice: its unit's liaison or head (the ladder goes no higher on
    the due day)."""
    return [f"{codes[notice.unit_id]}/{role.removeprefix('owner:')}" for role in notice.roles]


def escalate(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DUBAN_HOME": str(settings.home),
        "DUBAN_DATABASE_URL": settings.resolved_database_url,
        "DUBAN_CHANNEL": "smtp",
        "DUBAN_SMTP_HOST": "127.0.0.1",
        "DUBAN_SMTP_PORT": str(port),
        "DUBAN_SMTP_SECURITY": "none",
        "DUBAN_SMTP_SENDER": SENDER,
    }
    duban = str(Path(sys.executable).parent / "duban")
    return subprocess.Popen(
        [duban, "escalate", "--as-of", DUE.isoformat(), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_kill_9_mid_delivery_then_a_rerun_delivers_each_digest_under_one_message_id(
    settings: Settings, county: Engine, sink: tuple[Sink, int]
) -> None:
    """Killed with SIGKILL after a random number of mails (a mail sent but not confirmed, or one
    claimed but not sent), three times, then re-run on the same --as-of day: every (notice,
    recipient) was delivered under exactly one Message-ID (a copy repeats that id); a further
    run sends nothing."""
    handler, port = sink
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    killed = 0
    for _ in range(KILLS):
        handler.in_run, handler.kill_at = 0, rng.randint(1, 5)
        handler.mode = rng.choice(["reply", "next"])
        process = escalate(settings, port)
        handler.pid = process.pid
        process.communicate(timeout=30)
        killed += process.returncode == -signal.SIGKILL
    assert killed >= 1, seed
    handler.kill_at = None
    received = []
    for _ in range(2):  # a clean run takes over what the killed ones held; the next has nothing
        process = escalate(settings, port)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, (seed, err.decode())
        received.append(len(handler.received))
    assert received[0] == received[1], seed

    by_address: dict[str, set[str]] = defaultdict(set)
    for message_id, addresses in handler.received:
        for address in addresses:
            by_address[address].add(message_id)
    with session_scope(county) as session:
        messages = {m.id: m for m in session.scalars(select(Message))}
        assert {m.status for m in messages.values()} == {"sent"}, seed
        assert set(session.scalars(select(Notice.status))) == {"sent"}, seed
        address_of = {
            f"{unit.code}/{c.role}": str(c.email)
            for c, unit in session.execute(
                select(Contact, Unit).join(Unit, Unit.id == Contact.unit_id)
            )
        }
        links = defaultdict(list)
        for link in session.scalars(select(NoticeDelivery)):
            links[(link.notice_id, messages[link.message_id].recipient)].append(link.message_id)
        notices = list(session.scalars(select(Notice)))
        codes = {u.id: u.code for u in session.scalars(select(Unit))}
    wanted = {(n.id, recipient) for n in notices for recipient in recipients_of(n, codes)}
    assert set(links) == wanted and len(wanted) >= 4 * UNITS, seed
    for (_notice, recipient), ids in links.items():
        assert len(ids) == 1, (seed, recipient, ids)  # one message per (notice, recipient)
        m = messages[ids[0]]
        expected = mail_id(
            OutgoingMessage(m.id, m.plan_id, m.recipient, m.address, m.subject, m.body), SENDER
        )
        assert by_address[address_of[recipient]] == {expected}, (seed, recipient)
    assert len(by_address) == 2 * UNITS, seed
