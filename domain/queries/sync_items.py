"""A sync's work items: added, moved, retired and restored by (milestone, unit, occurrence),
and their dependencies kept as dated intervals, in the caller's transaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, String, Text, func, insert, literal, null, select, update
from sqlalchemy.orm import Session

from domain.queries.items import Move, record_moves
from domain.queries.prerequisites import (
    CHUNK,
    count_open_prerequisites,
    refresh_open_prerequisites,
)
from domain.rules.glossary import zh_date
from domain.rules.lifecycle import finished_values
from domain.rules.occurrences import match_occurrences
from domain.rules.sync_report import SyncReport, bump
from models import clock
from models.db import insert_rows, keys_checked_at_end
from models.enums import ItemState
from models.orm import (
    DeadlineChange,
    ItemDependency,
    ItemTransition,
    WorkItem,
)
from tasks_catalog.expand import ItemKey, PlannedItem, Postpone, item_dependencies, plan_items
from tasks_catalog.schema import Catalog

ACTOR = "catalog-sync"
CREATED = "交办：按目录生成"
POSTPONED = "完成时限逢休息日，顺延至下一个工作日"


def item_key(row: Any, milestone_code: dict[int, str], unit_code: dict[int, str]) -> ItemKey:
    """The key of an existing item's row (its milestone and unit ids, its occurrence)."""
    return ItemKey(milestone_code[row.milestone_id], unit_code[row.unit_id], row.occurrence)


@dataclass
class _Changes:
    """What a sync does to the items: new ones (with their occurrence number), and existing
    rows to retire, restore, move to another deadline or give another window start."""

    new: list[tuple[PlannedItem, int]] = field(default_factory=list)
    retire: list[Any] = field(default_factory=list)
    restore: list[tuple[Any, PlannedItem]] = field(default_factory=list)
    moved: list[tuple[Any, PlannedItem]] = field(default_factory=list)
    reshaped: list[tuple[int, date]] = field(default_factory=list)


class ItemSyncer:
    """Brings one plan's work items in line with the catalogue (after its entities)."""

    def __init__(
        self, session: Session, catalog: Catalog, report: SyncReport, now: datetime, today: date
    ) -> None:
        self.s = session
        self.c = catalog
        self.plan_id = catalog.plan.id
        self.now = now
        self.today = today
        self.report = report

    def items(self, units: dict[str, int], milestones: dict[str, int], postpone: Postpone) -> None:
        """Add, move, retire and restore items, due dates postponed by ``postpone`` (顺延)."""
        planned = plan_items(self.c, postpone)
        unit_code = {u: code for code, u in units.items()}
        milestone_code = {m: code for code, m in milestones.items()}
        existing: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for row in self.s.execute(
            select(
                WorkItem.id,
                WorkItem.milestone_id,
                WorkItem.unit_id,
                WorkItem.occurrence,
                WorkItem.start,
                WorkItem.due,
                WorkItem.original_due,
                WorkItem.state,
            ).where(WorkItem.plan_id == self.plan_id)
        ):
            existing[(milestone_code[row.milestone_id], unit_code[row.unit_id])].append(row)
        self.report.live_items_before = sum(
            1 for rows in existing.values() for r in rows if r.state != ItemState.RETIRED.value
        )
        ids: dict[ItemKey, int] = {}
        if existing:
            change = self._match(planned, existing, ids)
        else:  # a first load: every item is new, numbered as the catalogue lists it
            change = _Changes(new=[(p, p.key.occurrence) for p in planned])
        prerequisites = item_dependencies(self.c, planned)
        # a first load: every prerequisite is a new item, open until done
        waiting = None if existing else Counter(item for item, _ in prerequisites)
        with keys_checked_at_end(
            self.s, (WorkItem, ItemTransition, ItemDependency), len(change.new)
        ):
            self._insert_items(change.new, units, milestones, ids, waiting)
            self._retire_and_restore(change.retire, change.restore, milestone_code, unit_code)
            self._move_deadlines(change.moved, milestone_code, unit_code)
            if change.reshaped:
                self.s.execute(
                    update(WorkItem), [{"id": i, "start": s} for i, s in change.reshaped]
                )
                bump(self.report.changed, "item windows", len(change.reshaped))
            self._item_dependencies(prerequisites, ids, counted=waiting is not None)

    def _match(
        self,
        planned: list[PlannedItem],
        existing: dict[tuple[str, str], list[Any]],
        ids: dict[ItemKey, int],
    ) -> _Changes:
        """Pair the planned items with the existing ones, group by group (milestone, unit);
        the ids of the paired ones go into ``ids``."""
        wanted: dict[tuple[str, str], list[PlannedItem]] = defaultdict(list)
        for p in planned:
            wanted[(p.key.milestone, p.key.unit)].append(p)
        change = _Changes()
        order = list(wanted) + sorted(existing.keys() - wanted.keys())
        for group in order:
            rows = sorted(existing.get(group, []), key=lambda r: (r.due, r.occurrence))
            plans = wanted.get(group, [])
            pairs, fresh, stale = match_occurrences(
                [p.due for p in plans], [(r.due, r.original_due, r.state) for r in rows]
            )
            next_occurrence = max((r.occurrence for r in rows), default=0) + 1
            for n, i in enumerate(fresh):
                change.new.append((plans[i], next_occurrence + n))
            change.retire += [rows[j] for j in stale if rows[j].state not in finished_values()]
            for i, j in pairs:
                plan, row = plans[i], rows[j]
                ids[plan.key] = row.id
                if row.state == ItemState.RETIRED.value:
                    change.restore.append((row, plan))
                if row.state in {ItemState.SUBMITTED.value, ItemState.CLOSED.value}:
                    continue  # done items keep the deadline they were done against
                if plan.due != row.due:
                    change.moved.append((row, plan))
                elif plan.start != row.start:
                    change.reshaped.append((row.id, plan.start))
        return change

    def _insert_items(
        self,
        new: list[tuple[PlannedItem, int]],
        units: dict[str, int],
        milestones: dict[str, int],
        ids: dict[ItemKey, int],
        waiting: Counter[ItemKey] | None,
    ) -> None:
        """Insert the new items and their creation moves; ``waiting`` (a first load's open
        prerequisites per item) sets ``open_prerequisites`` as they are written."""
        if not new:
            return
        created_on = None if self.report.new_plan else self.today
        by_row: dict[tuple[int, int, int], ItemKey] = {}

        def values() -> Iterator[dict[str, Any]]:  # one at a time, never a list of them all
            for plan, occurrence in new:
                m_id, u_id = milestones[plan.key.milestone], units[plan.key.unit]
                by_row[(m_id, u_id, occurrence)] = plan.key
                yield {
                    "plan_id": self.plan_id,
                    "milestone_id": m_id,
                    "unit_id": u_id,
                    "occurrence": occurrence,
                    "start": plan.start,
                    "due": plan.due,
                    "original_due": plan.listed_due,
                    "state": ItemState.ASSIGNED.value,
                    "percent": 0,
                    "created_on": created_on,
                    "moved_on": self.today,  # the creation move below, on the same day
                    "created_at": self.now,
                    "updated_at": self.now,
                    "open_prerequisites": waiting[plan.key] if waiting else 0,
                }

        insert_rows(self.s, WorkItem, values())
        for row in self.s.execute(
            select(WorkItem.id, WorkItem.milestone_id, WorkItem.unit_id, WorkItem.occurrence).where(
                WorkItem.plan_id == self.plan_id, WorkItem.created_at == self.now
            )
        ):
            key = by_row.get((row.milestone_id, row.unit_id, row.occurrence))
            if key is not None:
                ids[key] = row.id
        if waiting is None:
            record_moves(
                self.s,
                [Move(ids[p.key], None, ItemState.ASSIGNED) for p, _ in new],
                actor=ACTOR,
                reason=CREATED,
                on_date=self.today,
            )
        else:  # every item of the plan is new: their moves in one statement
            self._creation_moves()
        if not self.report.new_plan:
            self.report.item_details += [
                f"新增事项 {p.key.milestone}/{p.key.unit}，{zh_date(p.due)}到期" for p, _ in new
            ]
        bump(self.report.added, "work items", len(new))

    def _retire_and_restore(
        self,
        retire: list[Any],
        restore: list[tuple[Any, PlannedItem]],
        milestone_code: dict[int, str],
        unit_code: dict[int, str],
    ) -> None:
        def key(row: Any) -> ItemKey:
            return item_key(row, milestone_code, unit_code)

        record_moves(
            self.s,
            [Move(r.id, ItemState(r.state), ItemState.RETIRED) for r in retire],
            actor=ACTOR,
            reason="撤销：目录中已无该节点、单位或期次",
            on_date=self.today,
            system=True,
        )
        before = self._state_before_retirement([r.id for r, _ in restore])
        for target in sorted(set(before.values())):
            record_moves(
                self.s,
                [
                    Move(r.id, ItemState.RETIRED, target)
                    for r, _ in restore
                    if before[r.id] == target
                ],
                actor=ACTOR,
                reason="恢复：重新列入目录",
                on_date=self.today,
                system=True,
            )
        bump(self.report.retired, "work items", len(retire))
        bump(self.report.restored, "work items", len(restore))
        self.report.item_details += [f"撤销事项 {key(r)}" for r in retire]
        self.report.item_details += [f"恢复事项 {key(r)}" for r, _ in restore]

    def _state_before_retirement(self, item_ids: list[int]) -> dict[int, ItemState]:
        if not item_ids:
            return {}
        last = (
            select(func.max(ItemTransition.id))
            .where(
                ItemTransition.item_id.in_(item_ids),
                ItemTransition.to_state == ItemState.RETIRED.value,
            )
            .group_by(ItemTransition.item_id)
        )
        found = {
            row.item_id: ItemState(row.from_state or ItemState.ASSIGNED.value)
            for row in self.s.execute(
                select(ItemTransition.item_id, ItemTransition.from_state).where(
                    ItemTransition.id.in_(last)
                )
            )
        }
        return {i: found.get(i, ItemState.ASSIGNED) for i in item_ids}

    def _move_deadlines(
        self,
        moved: list[tuple[Any, PlannedItem]],
        milestone_code: dict[int, str],
        unit_code: dict[int, str],
    ) -> None:
        if not moved:
            return
        self.s.execute(
            update(WorkItem),
            [
                {"id": row.id, "due": plan.due, "start": plan.start, "updated_at": self.now}
                for row, plan in moved
            ],
        )
        self.s.execute(
            insert(DeadlineChange),
            [
                {
                    "item_id": row.id,
                    "old_due": row.due,
                    "new_due": plan.due,
                    "kind": "catalog",
                    "at": self.now,
                    "on_date": self.today,
                    "actor": ACTOR,
                    "reason": POSTPONED if plan.listed_due == row.due else "目录中的完成时限已修改",
                }
                for row, plan in moved
            ],
        )
        bump(self.report.changed, "work item deadlines", len(moved))
        self.report.item_details[:0] = [
            f"事项 {item_key(row, milestone_code, unit_code)} 的完成时限："
            f"{zh_date(row.due)} → {zh_date(plan.due)}"
            for row, plan in moved
        ]

    def _creation_moves(self) -> None:
        """The creation move (None → assigned) of every item of the plan, written by the
        database from the items themselves."""
        columns = ["item_id", "from_state", "to_state", "at", "on_date", "actor", "reason"]
        moves = select(
            WorkItem.id,
            null(),
            literal(ItemState.ASSIGNED.value, String),
            literal(clock.now(), DateTime(timezone=True)),
            literal(self.today, Date),
            literal(ACTOR, Text),
            literal(CREATED, Text),
        ).where(WorkItem.plan_id == self.plan_id)
        self.s.execute(insert(ItemTransition).from_select(columns, moves))

    def _item_dependencies(
        self, pairs: set[tuple[ItemKey, ItemKey]], ids: dict[ItemKey, int], *, counted: bool
    ) -> None:
        """Dated intervals: new pairs get a row, dropped pairs get ``retired_on``; then the
        items' open prerequisites are counted again, unless ``counted`` at their insert."""
        want = {(ids[a], ids[b]) for a, b in pairs}
        live: dict[tuple[int, int], int] = {
            (row.item_id, row.depends_on_item_id): row.id
            for row in self.s.execute(
                select(ItemDependency.id, ItemDependency.item_id, ItemDependency.depends_on_item_id)
                .join(WorkItem, WorkItem.id == ItemDependency.item_id)
                .where(WorkItem.plan_id == self.plan_id, ItemDependency.retired_on.is_(None))
            )
        }
        new = sorted(want - live.keys())
        gone = [live[pair] for pair in live.keys() - want]
        created_on = None if self.report.new_plan else self.today
        if new:
            insert_rows(
                self.s,
                ItemDependency,
                ({"item_id": a, "depends_on_item_id": b, "created_on": created_on} for a, b in new),
            )
        for start in range(0, len(gone), 1000):
            self.s.execute(
                update(ItemDependency)
                .where(ItemDependency.id.in_(gone[start : start + 1000]))
                .values(retired_on=self.today)
            )
        bump(self.report.added, "item dependencies", len(new))
        bump(self.report.retired, "item dependencies", len(gone))
        self.s.flush()
        if counted:
            return
        touched = {a for a, _ in new} | {a for (a, b) in live.keys() - want}
        if len(touched) > 10 * CHUNK:  # a first load, a large edit: one set-based pass
            count_open_prerequisites(self.s, self.plan_id)
        else:
            refresh_open_prerequisites(self.s, touched, lock_prerequisites=True)
