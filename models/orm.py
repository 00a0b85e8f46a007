"""The database schema as SQLAlchemy 2 ORM classes: the plan, its work items and their history.

These are the tables ``duban status`` reads; the rest of the schema (contacts, the outbox,
briefings, measures, …) is in :mod:`models.records` on the same ``Base``, where a new table
that status does not read goes too, and :func:`full_metadata` holds both.

History is never deleted: catalogue entities that disappear get ``retired_at``; work items that
lose their milestone move to the ``retired`` state; every state change is a row of
``item_transition`` and every deadline change a row of ``deadline_change`` (留痕).
Per-item work is done with set-based SQL over these tables, so there are few relationships here
and those that exist raise on lazy loading.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    util,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:
    from sqlalchemy.sql.base import _DialectArgDict

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class PartialIndex(Index):
    """A partial index (``WHERE``) on the dialects named, other databases left alone; its
    option is set when first read (DDL, Alembic), so no dialect is loaded to check it when the
    models are imported (a command on SQLite never loads PostgreSQL's)."""

    def __init__(
        self, name: str, *columns: str, where: str, dialects: tuple[str, ...] = ("postgresql",)
    ) -> None:
        only = dialects[0] if len(dialects) == 1 else None
        super().__init__(name, *columns, info={"dialect": only} if only else {})
        if only is not None:
            self.ddl_if(dialect=only)
        self._where = where
        self._dialects = dialects

    @property
    def dialect_options(self) -> util.PopulateDict[str, _DialectArgDict]:
        options: util.PopulateDict[str, _DialectArgDict] | None = self.__dict__.get("_options")
        if options is None:
            options = Index.dialect_options.fget(self)
            for dialect in self._dialects:
                options[dialect]["where"] = text(self._where)
            self.__dict__["_options"] = options
        return options


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable Alembic migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def full_metadata() -> MetaData:
    """Every table of the schema: this module's and :mod:`models.records`' (imported here)."""
    import models.records  # noqa: F401, PLC0415 - its classes add their tables to Base's

    return Base.metadata


class Plan(Base):
    """One catalogue: a plan with its period and the units that coordinate and lead it."""

    __tablename__ = "plan"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    issuing_body: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    coordinator_code: Mapped[str] = mapped_column(String(64))
    leadership_code: Mapped[str] = mapped_column(String(64))
    declared_village_units: Mapped[int | None] = mapped_column(Integer)
    reporting_cycle: Mapped[str] = mapped_column(String(16), server_default="weekly")
    reporting_due: Mapped[int] = mapped_column(Integer, server_default="5")
    briefing_title: Mapped[str | None] = mapped_column(Text)
    briefing_distribution: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    close_out_workdays: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    """Working days after ``period_end`` during which reminders are still planned (收尾期)."""
    close_out_until: Mapped[date | None] = mapped_column(Date)
    """The coordinator's extension of the close-out: reminders until this day (inclusive)."""
    catalog_checksum: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime]


class Unit(Base):
    """A responsible body: county department, township, village or community."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    division_code: Mapped[str | None] = mapped_column(String(12))
    urban: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None]


class Task(Base):
    """A key task (重点任务) of the plan, in the plan's own words."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    code: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    responsibility: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None]


class TaskUnit(Base):
    """A unit's role in a task: lead (牵头) or cooperating (配合)."""

    __tablename__ = "task_unit"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))


class Milestone(Base):
    """A dated deliverable of a task: one-off or recurring, optionally fanned out to units."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    deliverable: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    due: Mapped[date | None] = mapped_column(Date)
    rrule: Mapped[str | None] = mapped_column(Text)
    rrule_start: Mapped[date | None] = mapped_column(Date)
    rrule_end: Mapped[date | None] = mapped_column(Date)
    start: Mapped[date | None] = mapped_column(Date)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    fan_out: Mapped[list[str] | None] = mapped_column(JSON)
    proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    carried_from_plan: Mapped[str | None] = mapped_column(String(64))
    """The older plan this milestone carries over (结转) unfinished work from (migration 0021)."""
    carried_from_code: Mapped[str | None] = mapped_column(String(64))
    """The code of the milestone it carries over, in ``carried_from_plan``."""
    retired_at: Mapped[datetime | None]


class WorkItem(Base):
    """One milestone occurrence for one responsible unit: the thing that is tracked."""

    __tablename__ = "work_item"
    __table_args__ = (
        UniqueConstraint("milestone_id", "unit_id", "occurrence"),
        Index("ix_work_item_plan_id_due", "plan_id", "due"),
        # PostgreSQL only (migration 0008): the active items (open, not waiting) by start date
        PartialIndex(
            "ix_work_item_active_start",
            "plan_id",
            "start",
            where="state NOT IN ('submitted', 'closed', 'retired') AND open_prerequisites <= 0",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    occurrence: Mapped[int] = mapped_column(Integer)
    start: Mapped[date] = mapped_column(Date)
    due: Mapped[date] = mapped_column(Date)
    original_due: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    percent: Mapped[int] = mapped_column(Integer, default=0)
    created_on: Mapped[date | None] = mapped_column(Date, index=True)
    """NULL for items of the plan's first load (the baseline); else the day a later sync added it,
    so the status for an earlier date does not show it."""
    moved_on: Mapped[date | None] = mapped_column(Date)
    """The ``on_date`` of the item's latest transition (kept with ``state`` by ``record_moves``)."""
    submitted_on: Mapped[date | None] = mapped_column(Date)
    """The latest ``on_date`` of a move to ``submitted``: with ``moved_on`` the day it was done."""
    open_prerequisites: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many live dependencies of the item are on items not closed (nor retired): kept by
    ``domain.queries.prerequisites.refresh_open_prerequisites`` when either side changes."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


work_item_tally = Table(
    "work_item_tally",
    Base.metadata,
    Column("plan_id", String(64), nullable=False),
    Column("milestone_id", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("start", Date, nullable=False),
    Column("due", Date, nullable=False),
    Column("percent", Integer, nullable=False),
    Column("done_on", Date),
    Column("waiting", Boolean, nullable=False),
    Column("n", Integer, nullable=False),
    Index("ix_work_item_tally_plan_id", "plan_id"),
)
"""The work items counted by what their status depends on
(``domain.queries.counts.status_counts``): a
ledger of signed counts that triggers on ``work_item`` append to as items change (migration
0007), so the count of a key is the sum of its rows. No primary key: rows are only appended and,
by ``models.tally.fold_tally``, replaced by their sums."""


class ItemDependency(Base):
    """Work item ``item_id`` waits for ``depends_on_item_id`` (derived from milestones at sync).

    Each row is one validity interval: ``created_on`` (NULL for the plan's first load, which is
    the baseline) to ``retired_on``. A dependency that comes back gets a new row, so the status
    for any earlier date still sees the dependencies as they were then.
    """

    __tablename__ = "item_dependency"
    __table_args__ = (
        Index("ix_item_dependency_item_id_depends_on_item_id", "item_id", "depends_on_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"))
    depends_on_item_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), index=True
    )
    created_on: Mapped[date | None] = mapped_column(Date, index=True)
    retired_on: Mapped[date | None] = mapped_column(Date, index=True)


class ItemTransition(Base):
    """One lifecycle move of a work item, with when, who and why: the audit trail (留痕)."""

    __tablename__ = "item_transition"
    __table_args__ = (Index("ix_item_transition_item_id_on_date", "item_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    on_date: Mapped[date] = mapped_column(Date, index=True)
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class DeadlineChange(Base):
    """A work item's due date moved (catalogue edit or approved extension); the old one is kept."""

    __tablename__ = "deadline_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id", ondelete="CASCADE"), index=True)
    old_due: Mapped[date] = mapped_column(Date)
    new_due: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    on_date: Mapped[date] = mapped_column(Date, index=True)
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class CalendarDay(Base):
    """One calendar day: working or not, and the running count of working days (ordinal)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    ordinal: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class InboxFile(Base):
    """A file that arrived in the inbox: landed whole, or rejected whole. Keyed by checksum."""

    __tablename__ = "inbox_file"
    __table_args__ = (
        UniqueConstraint("plan_id", "sha256"),
        # who sent something for a cycle (migration 0009)
        Index("ix_inbox_file_plan_id_period_unit_id", "plan_id", "period", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    kept_at: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # landed | rejected
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    received_on: Mapped[date | None] = mapped_column(Date)
    period: Mapped[date | None] = mapped_column(Date)
    # the operator who vouched for an unsigned file (`duban collect --trusted`, migration 0012);
    # None: duban's own signature proved the sender
    vouched_by: Mapped[str | None] = mapped_column(Text)


class Report(Base):
    """A unit's progress report on one work item (进展反馈). Append-only history."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_item_id_received_on", "item_id", "received_on"),
        # who sent something for a cycle, read from the index alone (migration 0009)
        Index("ix_report_plan_id_period_unit_id", "plan_id", "period", "unit_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("work_item.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime]
    received_on: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(16))
    percent: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_file.id"))
    source_row: Mapped[int | None] = mapped_column(Integer)
