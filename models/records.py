"""The tables around the tracked items that ``duban status`` does not read, on the same ``Base``.

Contacts and the outbox (notices, their deliveries, messages, acknowledgements), briefings and
assessments, owners' evidence and extension requests, measures and indicators, milestone
dependencies and carry-over links, the scheduler lock. They live apart from :mod:`models.orm` so
that a command reading only the plan and its items maps 12 classes, not 28; whatever needs the
whole schema (Alembic, schema tests) takes it from :func:`models.orm.full_metadata`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.orm import Base, PartialIndex


class Contact(Base):
    """A person to notify at a unit, by role (head, liaison, ...)."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    link_key: Mapped[str | None] = mapped_column(String(32))
    """The random key the contact's personal link carries (migration 0013): revoking replaces
    it; NULL until a link is issued. A contact the catalogue sync re-creates starts without one,
    so its old links stop working."""


class MilestoneDependency(Base):
    """Milestone ``milestone_id`` cannot start before ``depends_on_id`` is closed."""

    __tablename__ = "milestone_dependency"

    milestone_id: Mapped[int] = mapped_column(
        ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True
    )
    depends_on_id: Mapped[int] = mapped_column(
        ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True
    )


class ItemPredecessor(Base):
    """Work item ``item_id`` carries over (结转) ``predecessor_id``, an item of an older plan:
    the same unit's item of the milestone its own milestone names (derived at sync)."""

    __tablename__ = "item_predecessor"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), primary_key=True
    )
    predecessor_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Measure(Base):
    """A quantity each unit in a set reports (facility area, households, ...)."""

    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    unit_of_measure: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    reported_by: Mapped[list[str]] = mapped_column(JSON)
    retired_at: Mapped[datetime | None]


class Indicator(Base):
    """A plan target computed as (sum of numerator measures × factor) / sum of denominators."""

    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    unit_of_measure: Mapped[str] = mapped_column(String(16))
    target_op: Mapped[str] = mapped_column(String(2))
    target_value: Mapped[float] = mapped_column(Float)
    aspirational: Mapped[bool] = mapped_column(Boolean, default=False)
    due: Mapped[date] = mapped_column(Date)
    numerator: Mapped[list[str]] = mapped_column(JSON)
    denominator: Mapped[list[str]] = mapped_column(JSON)
    factor: Mapped[float] = mapped_column(Float, default=1.0)
    scope: Mapped[list[str]] = mapped_column(JSON)
    proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]


class MeasureValue(Base):
    """A unit's value of a measure as reported on a date (append-only; the newest counts)."""

    __tablename__ = "measure_value"
    __table_args__ = (Index("ix_measure_value_measure_id_unit_id", "measure_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    value: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime]
    received_on: Mapped[date] = mapped_column(Date)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_file.id"))


class Notice(Base):
    """One reminder the ladder decided on (提醒/催办/督办): a row of the outbox.

    ``dedupe_key`` (kind, item or unit, level, due date, cycle) is unique per plan, so running
    the escalation twice, or twice at once, plans each notice once.
    """

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("plan_id", "dedupe_key"),
        Index("ix_notice_status_next_attempt_at", "status", "next_attempt_at"),
        # what the outbox holds of one kind for some due dates, or planned since a day
        # (migration 0011; PostgreSQL: SQLite, checking row by row, would read them instead of
        # the item's or the key's index)
        Index(
            "ix_notice_plan_id_kind_due",
            "plan_id",
            "kind",
            "due",
            info={"dialect": "postgresql"},
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_notice_plan_id_kind_planned_on",
            "plan_id",
            "kind",
            "planned_on",
            info={"dialect": "postgresql"},
        ).ddl_if(dialect="postgresql"),
        # the notices held for an item; its latest ladder notice, read newest first (0024)
        PartialIndex(
            "ix_notice_item_id_id",
            "item_id",
            "id",
            where="item_id IS NOT NULL",
            dialects=("postgresql", "sqlite"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    dedupe_key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))  # ladder | missing_report | behind_pace
    item_id: Mapped[int | None] = mapped_column(ForeignKey("work_item.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    level: Mapped[str] = mapped_column(String(40))
    level_name: Mapped[str] = mapped_column(Text)
    due: Mapped[date | None] = mapped_column(Date)
    cycle: Mapped[int] = mapped_column(Integer)
    workdays: Mapped[int] = mapped_column(Integer)  # overdue (>0) or left (<0) on planning day
    roles: Mapped[list[str]] = mapped_column(JSON)
    rule: Mapped[str] = mapped_column(Text)
    planned_on: Mapped[date] = mapped_column(Date)
    planned_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class NoticeDelivery(Base):
    """A notice reaching one recipient through one message (a digest)."""

    __tablename__ = "notice_delivery"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), primary_key=True, index=True)


class Message(Base):
    """One digest to one recipient on one channel, listing all their notices of a run."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_recipient_created_on", "recipient", "created_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    recipient: Mapped[str] = mapped_column(String(120))  # unit code + role, e.g. "mzj/liaison"
    address: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # sending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]  # while sending: the lease expiry
    claimed_by: Mapped[str | None] = mapped_column(String(36))  # the run holding the lease
    sent_at: Mapped[datetime | None]
    sent_on: Mapped[date | None] = mapped_column(Date)
    html: Mapped[str | None] = mapped_column(Text)  # an HTML alternative to the text body
    attachments: Mapped[list[str] | None] = mapped_column(JSON)  # file paths
    briefing_id: Mapped[int | None] = mapped_column(ForeignKey("briefing.id"), index=True)
    briefing_checksum: Mapped[str | None] = mapped_column(String(64))  # the version sent


class ItemAck(Base):
    """The owner acknowledged an escalation level for one due date: no repeats at that level
    from ``on_date`` on; a new due date (extension) starts unacknowledged."""

    __tablename__ = "item_ack"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(40), primary_key=True)
    due: Mapped[date] = mapped_column(Date, primary_key=True)
    at: Mapped[datetime]
    on_date: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(Text)


class Briefing(Base):
    """One briefing as issued (weekly 工作简报, 月通报 or 季度推进: its ``edition``): its number
    within the edition's series of the year, the checksum of its numbers and the files written.
    Regenerating a period updates this row and keeps the number (migration 0016: editions)."""

    __tablename__ = "briefing"
    __table_args__ = (
        UniqueConstraint("plan_id", "edition", "period"),
        UniqueConstraint("plan_id", "edition", "year", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    edition: Mapped[str] = mapped_column(String(8))  # models.enums.Edition: week | month | quarter
    period: Mapped[str] = mapped_column(String(8))  # 2021-W52, 2021-12 or 2021-Q4
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)  # 第N期 within the edition's year
    as_of: Mapped[date] = mapped_column(Date)
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256 of the numbers (view model)
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # format → path
    generations: Mapped[int] = mapped_column(Integer, default=1)
    first_generated_at: Mapped[datetime]
    generated_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    sent_checksum: Mapped[str | None] = mapped_column(String(64))  # what leadership received
    sent_at: Mapped[datetime | None]
    approved_checksum: Mapped[str | None] = mapped_column(String(64))  # the version approved
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(Text)
    """Who approved (migration 0015): an approved version waits for the delivery hours."""


class SchedulerLock(Base):
    """Who runs the embedded scheduler on this database: one process at a time. The holder
    refreshes ``heartbeat_at``; a lock not refreshed for a while may be taken over."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(36))
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class EvidenceFile(Base):
    """A file a unit gave as evidence (佐证材料) for one item, kept by content (migration 0014).

    The bytes live in the evidence store under their SHA-256 (``kind`` is the sniffed type and
    the stored extension); ``name`` is the name the sender's device gave, shown, never used as a
    path. The same bytes are recorded once per item.
    """

    __tablename__ = "evidence_file"
    __table_args__ = (UniqueConstraint("item_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(Text)  # the sender as the audit trail names them
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8))  # pdf | jpg | png | docx | xlsx
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    received_on: Mapped[date] = mapped_column(Date)


class ExtensionRequest(Base):
    """A unit asking for a later due date (延期申请), pending until the coordinator approves
    (the item's deadline moves through the same extension as ``duban extend``) or refuses it
    (migration 0014)."""

    __tablename__ = "extension_request"
    __table_args__ = (Index("ix_extension_request_status_plan_id", "status", "plan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(Text)
    current_due: Mapped[date] = mapped_column(Date)  # the due date when it was asked
    proposed_due: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    requested_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | refused
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)


class AssessmentObjection(Base):
    """A unit contesting one item's part of its assessment (申诉), as the coordinator recorded
    it, and the coordinator's decision with the unit's score before and after it, in tenths of
    a point (migration 0018): both versions of the score stay on record."""

    __tablename__ = "assessment_objection"
    __table_args__ = (Index("ix_assessment_objection_plan_id_period", "plan_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    period: Mapped[str] = mapped_column(String(8))  # 2021-Q4 | 2021
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # the unit assessed
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"))
    part: Mapped[str] = mapped_column(String(16))  # domain.rules.objections.OBJECTION_PARTS
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime]
    filed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # pending | upheld | rejected
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    score_before: Mapped[int | None] = mapped_column(Integer)
    score_after: Mapped[int | None] = mapped_column(Integer)


class AssessmentNotice(Base):
    """One 考评通报 as issued for a period assessed (2021-Q4 or 2021): its number within the
    year it is issued in (〔2022〕1号), the checksum of its numbers, the files written, and which
    version was approved and which one leadership received (migration 0022). Regenerating the
    period updates this row and keeps the number."""

    __tablename__ = "assessment_notice"
    __table_args__ = (
        UniqueConstraint("plan_id", "period"),
        UniqueConstraint("plan_id", "year", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    period: Mapped[str] = mapped_column(String(8))  # 2021-Q4 | 2021
    year: Mapped[int] = mapped_column(Integer)  # the year issued in (〔2022〕)
    number: Mapped[int] = mapped_column(Integer)  # N号 within that year
    issued_on: Mapped[date] = mapped_column(Date)
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256 of the numbers (view model)
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # format → path
    generations: Mapped[int] = mapped_column(Integer, default=1)
    generated_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    approved_checksum: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(Text)
    sent_checksum: Mapped[str | None] = mapped_column(String(64))  # what leadership received
    sent_at: Mapped[datetime | None]
