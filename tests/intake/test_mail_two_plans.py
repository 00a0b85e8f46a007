"""Two plans share one report mailbox: a mailed workbook of the other plan is passed to that
plan's collection (left in the inbox), and the sender is told so, not that it was refused."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from config.settings import Settings
from domain.queries.sync import sync_catalog
from domain.services.intake.inbox import collect
from domain.services.mail_intake import mail_intake
from domain.services.workbooks import write_workbook
from duban.sample import fill_workbook
from models.db import session_scope
from models.orm import Milestone, Plan, Unit, WorkItem
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter, minimal_catalog
from tests.fixtures.imap import Mailbox
from tests.intake.mailing import LIAISON, mail, replies, with_contacts
from tests.intake.signed import PERIOD, PLAN

OTHER = "other-plan"


def test_a_mailed_workbook_of_the_other_plan_goes_to_that_plan(
    plan: Engine, mailbox: Mailbox, tmp_path: Path, settings: Settings, write_catalog: CatalogWriter
) -> None:
    """The mail is answered (转交其他规划), the file waits in the inbox, and the other plan's
    collection lands it."""
    other = minimal_catalog()
    other["plan"].update(id=OTHER, title="另一规划")
    with_contacts(other)
    with session_scope(plan) as session:
        sync_catalog(session, load_catalog(write_catalog(other, name="other"))[0])
        row = session.get(Plan, OTHER)
        unit = session.scalars(select(Unit).where(Unit.plan_id == OTHER, Unit.code == "t1")).one()
        assert row is not None
        path = write_workbook(session, row, unit, PERIOD, tmp_path).path
        item = session.scalars(
            select(WorkItem.id)
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .where(Milestone.plan_id == OTHER, Milestone.code == "M2", WorkItem.unit_id == unit.id)
        ).first()
    assert item is not None
    fill_workbook(path, {item: {"state": "推进中", "percent": 40, "note": "制度初稿已成"}})
    mailbox.append(mail(LIAISON, "甲镇进展", {"甲镇进展.xlsx": path.read_bytes()}))

    report = mail_intake(plan, PLAN)

    [outcome] = report.mails
    assert [(f.status, f.other_plan) for f in outcome.files] == [("elsewhere", OTHER)]
    [reply] = replies(plan)
    assert reply.subject == "回执：来信附件已转交所属规划处理"
    assert f"《甲镇进展.xlsx》属于规划 {OTHER}，已转交该规划" in reply.body
    [landed] = collect(plan, OTHER, settings.resolved_inbox)
    assert landed.status == "landed" and landed.landed is not None
