"""Make the database match a validated catalogue, in the caller's transaction.

* New entities are added; changed ones are updated; vanished ones are retired, never deleted.
* Work items are keyed by (milestone, unit, occurrence). A changed due date moves the deadline of
  open items and records the old one in ``deadline_change``; done items keep theirs.
* Items whose milestone, unit or occurrence left the catalogue are retired (their history stays);
  items that come back are restored.
* Re-syncing an unchanged catalogue changes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from domain.queries.calendar import rebuild_calendar
from domain.queries.items import (
    CHUNK,
    Move,
    count_open_prerequisites,
    record_moves,
    refresh_open_prerequisites,
)
from domain.rules.glossary import CATALOG_FIELDS, CATALOG_KINDS, word, zh_date
from domain.rules.lifecycle import finished_values
from models import clock
from models.db import insert_rows
from models.enums import ItemState, TaskRole
from models.orm import (
    Contact,
    DeadlineChange,
    Indicator,
    ItemDependency,
    ItemTransition,
    Measure,
    Milestone,
    MilestoneDependency,
    Plan,
    Task,
    TaskUnit,
    Unit,
    WorkItem,
)
from models.tally import fold_tally
from tasks_catalog.expand import (
    ItemKey,
    PlannedItem,
    item_dependencies,
    plan_items,
    resolve,
    selector_list,
)
from tasks_catalog.schema import Catalog

ACTOR = "catalog-sync"


@dataclass
class SyncReport:
    """What a sync did, by kind of entity, with a readable line per change."""

    plan_id: str
    added: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    retired: Counter[str] = field(default_factory=Counter)
    restored: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)
    """Catalogue-level changes (plan, units, tasks, milestones, …), one line each."""
    item_details: list[str] = field(default_factory=list)
    """Item-level changes: moved deadlines first, then retired and restored items."""
    live_items_before: int = 0
    new_plan: bool = False

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.retired or self.restored)


def _rows(result: Any) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in result}


def _bump(counter: Counter[str], kind: str, n: int) -> None:
    if n:
        counter[kind] += n


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set attributes that differ; return a description of each change (``due 6-30 → 9-30``)."""
    changes = []
    for key, new in values.items():
        old = getattr(obj, key)
        if old == new:
            continue
        setattr(obj, key, new)
        short = len(str(old)) + len(str(new)) <= 60
        name = word(CATALOG_FIELDS, key)
        changes.append(f"{name} {old} → {new}" if short else name)
    return changes


class _Syncer:
    def __init__(self, session: Session, catalog: Catalog) -> None:
        self.s = session
        self.c = catalog
        self.plan_id = catalog.plan.id
        self.now = clock.now()
        self.today = clock.local_date(self.now, catalog.plan.timezone)
        self.report = SyncReport(self.plan_id)

    # -- catalogue entities -------------------------------------------------------------------
    def upsert(self, model: Any, kind: str, specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Add/update/retire rows of one entity kind keyed by (plan, code); returns code → row."""
        rows = {
            r.code: r for r in self.s.scalars(select(model).where(model.plan_id == self.plan_id))
        }
        for code, values in specs.items():
            row = rows.get(code)
            if row is None:
                row = model(plan_id=self.plan_id, code=code, **values)
                self.s.add(row)
                rows[code] = row
                self.report.added[kind] += 1
                if not self.report.new_plan:
                    self.report.details.append(f"新增{CATALOG_KINDS[kind]} {code}")
                continue
            if row.retired_at is not None:
                row.retired_at = None
                self.report.restored[kind] += 1
                self.report.details.append(f"恢复{CATALOG_KINDS[kind]} {code}")
            fields = _apply(row, values)
            if fields:
                self.report.changed[kind] += 1
                self.report.details.append(f"修改{CATALOG_KINDS[kind]} {code}：{'；'.join(fields)}")
        for code, row in rows.items():
            if code not in specs and row.retired_at is None:
                row.retired_at = self.now
                self.report.retired[kind] += 1
                self.report.details.append(f"撤销{CATALOG_KINDS[kind]} {code}")
        self.s.flush()
        return rows

    def plan(self) -> None:
        p = self.c.plan
        values = {
            "title": p.title,
            "issuing_body": p.issuing_body,
            "period_start": p.period.start,
            "period_end": p.period.end,
            "timezone": p.timezone,
            "coordinator_code": p.coordinator,
            "leadership_code": p.leadership,
            "declared_village_units": p.declared_village_units,
            "reporting_cycle": p.reporting.cycle,
            "reporting_due": p.reporting.due,
            "briefing_title": p.briefing_title,
            "catalog_checksum": self.c.checksum,
        }
        row = self.s.get(Plan, self.plan_id)
        if row is None:
            self.s.add(Plan(id=self.plan_id, synced_at=self.now, **values))
            self.report.added["plan"] += 1
            self.report.new_plan = True
        else:
            values.pop("catalog_checksum")
            fields = _apply(row, values)
            row.catalog_checksum = self.c.checksum
            if fields:
                self.report.changed["plan"] += 1
                self.report.details.append(f"修改规划 {self.plan_id}：{'；'.join(fields)}")
            row.synced_at = self.now
        self.s.flush()

    def units(self) -> dict[str, Unit]:
        specs = {
            u.id: {
                "name": u.name,
                "kind": u.kind.value,
                "division_code": u.division_code,
                "urban": u.urban,
                "proposed": u.proposed,
            }
            for u in self.c.units
        }
        rows: dict[str, Unit] = self.upsert(Unit, "units", specs)
        for u in self.c.units:
            parent = rows[u.parent].id if u.parent else None
            if rows[u.id].parent_id != parent:
                rows[u.id].parent_id = parent
        self.contacts(rows)
        self.s.flush()
        return rows

    def contacts(self, units: dict[str, Unit]) -> None:
        ids = [units[u.id].id for u in self.c.units]
        existing: dict[int, list[tuple[Any, ...]]] = {}
        for c in self.s.scalars(
            select(Contact).where(Contact.unit_id.in_(ids)).order_by(Contact.id)
        ):
            existing.setdefault(c.unit_id, []).append(
                (c.name, c.role, c.email, c.phone, c.addresses)
            )
        for u in self.c.units:
            want = [(c.name, c.role, c.email, c.phone, list(c.notify)) for c in u.contacts]
            unit_id = units[u.id].id
            if existing.get(unit_id, []) == want:
                continue
            self.s.execute(delete(Contact).where(Contact.unit_id == unit_id))
            self.s.add_all(
                Contact(unit_id=unit_id, name=n, role=r, email=e, phone=p, addresses=a)
                for n, r, e, p, a in want
            )
            self.report.changed["contacts"] += 1

    def tasks(self, units: dict[str, Unit]) -> dict[str, Task]:
        specs = {
            t.code: {
                "number": t.number,
                "title": t.title,
                "description": t.description,
                "weight": t.weight,
                "responsibility": t.responsibility,
            }
            for t in self.c.tasks
        }
        rows: dict[str, Task] = self.upsert(Task, "tasks", specs)
        want: set[tuple[int, int, str]] = set()
        for t in self.c.tasks:
            want.add((rows[t.code].id, units[t.lead].id, TaskRole.LEAD.value))
            for code in resolve(t.cooperating, self.c.units):
                if code != t.lead:
                    want.add((rows[t.code].id, units[code].id, TaskRole.COOPERATING.value))
        task_ids = [rows[t.code].id for t in self.c.tasks]  # retired tasks keep their units
        have = _rows(
            self.s.execute(
                select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role).where(
                    TaskUnit.task_id.in_(task_ids)
                )
            )
        )
        self._replace_pairs(TaskUnit, ("task_id", "unit_id", "role"), have, want, "task units")
        return rows

    def milestones(self, units: dict[str, Unit], tasks: dict[str, Task]) -> dict[str, Milestone]:
        specs: dict[str, dict[str, Any]] = {}
        for t in self.c.tasks:
            for m in t.milestones:
                r = m.recurrence
                specs[m.id] = {
                    "task_id": tasks[t.code].id,
                    "title": m.title,
                    "deliverable": m.deliverable,
                    "evidence": list(m.evidence),
                    "due": m.due,
                    "rrule": r.rrule if r else None,
                    "rrule_start": r.start if r else None,
                    "rrule_end": r.end if r else None,
                    "start": m.start,
                    "owner_unit_id": units[m.owner or t.lead].id,
                    "fan_out": selector_list(m.fan_out) if m.fan_out is not None else None,
                    "proposed": m.proposed,
                }
        rows: dict[str, Milestone] = self.upsert(Milestone, "milestones", specs)
        want = {
            (rows[m.id].id, rows[d].id)
            for t in self.c.tasks
            for m in t.milestones
            for d in m.depends_on
        }
        ids = [r.id for r in rows.values()]
        have = _rows(
            self.s.execute(
                select(MilestoneDependency.milestone_id, MilestoneDependency.depends_on_id).where(
                    MilestoneDependency.milestone_id.in_(ids)
                )
            )
        )
        self._replace_pairs(
            MilestoneDependency,
            ("milestone_id", "depends_on_id"),
            have,
            want,
            "milestone dependencies",
        )
        return rows

    def indicators(self) -> None:
        self.upsert(
            Measure,
            "measures",
            {
                m.id: {
                    "name": m.name,
                    "unit_of_measure": m.unit_of_measure,
                    "type": m.type,
                    "reported_by": selector_list(m.reported_by),
                }
                for m in self.c.measures
            },
        )
        self.upsert(
            Indicator,
            "indicators",
            {
                i.id: {
                    "name": i.name,
                    "unit_of_measure": i.unit_of_measure,
                    "target_op": i.target.op,
                    "target_value": i.target.value,
                    "aspirational": i.aspirational,
                    "due": i.due,
                    "numerator": list(i.formula.numerator),
                    "denominator": list(i.formula.denominator),
                    "factor": i.formula.factor,
                    "scope": selector_list(i.scope),
                    "proposed": i.proposed,
                }
                for i in self.c.indicators
            },
        )

    def _replace_pairs(
        self,
        model: Any,
        columns: tuple[str, ...],
        have: set[tuple[Any, ...]],
        want: set[tuple[Any, ...]],
        kind: str,
    ) -> None:
        gone, new = have - want, want - have
        if gone:
            cols = [getattr(model, c) for c in columns]
            self.s.execute(delete(model).where(tuple_(*cols).in_(sorted(gone))))
            _bump(self.report.retired, kind, len(gone))
        if new:
            self.s.execute(insert(model), [dict(zip(columns, row, strict=True)) for row in new])
            _bump(self.report.added, kind, len(new))
        self.s.flush()

    # -- work items -----------------------------------------------------------------------------
    def items(self, units: dict[str, Unit], milestones: dict[str, Milestone]) -> None:
        planned = plan_items(self.c)
        unit_code = {u.id: code for code, u in units.items()}
        milestone_code = {m.id: code for code, m in milestones.items()}
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
        wanted: dict[tuple[str, str], list[PlannedItem]] = defaultdict(list)
        for p in planned:
            wanted[(p.key.milestone, p.key.unit)].append(p)

        ids: dict[ItemKey, int] = {}
        new: list[tuple[PlannedItem, int]] = []
        retire: list[Any] = []
        restore: list[tuple[Any, PlannedItem]] = []
        moved: list[tuple[Any, PlannedItem]] = []
        reshaped: list[tuple[int, date]] = []
        order = list(wanted) + sorted(existing.keys() - wanted.keys())
        for group in order:
            rows = sorted(existing.get(group, []), key=lambda r: (r.due, r.occurrence))
            plans = wanted.get(group, [])
            pairs, fresh, stale = match_occurrences(
                [p.due for p in plans], [(r.due, r.original_due, r.state) for r in rows]
            )
            next_occurrence = max((r.occurrence for r in rows), default=0) + 1
            for n, i in enumerate(fresh):
                new.append((plans[i], next_occurrence + n))
            retire += [rows[j] for j in stale if rows[j].state not in finished_values()]
            for i, j in pairs:
                plan, row = plans[i], rows[j]
                ids[plan.key] = row.id
                if row.state == ItemState.RETIRED.value:
                    restore.append((row, plan))
                if row.state in {ItemState.SUBMITTED.value, ItemState.CLOSED.value}:
                    continue  # done items keep the deadline they were done against
                if plan.due != row.due:
                    moved.append((row, plan))
                elif plan.start != row.start:
                    reshaped.append((row.id, plan.start))
        self._insert_items(new, units, milestones, ids)
        self._retire_and_restore(retire, restore, milestone_code, unit_code)
        self._move_deadlines(moved, milestone_code, unit_code)
        if reshaped:
            self.s.execute(update(WorkItem), [{"id": i, "start": s} for i, s in reshaped])
            _bump(self.report.changed, "item windows", len(reshaped))
        self._item_dependencies(planned, ids)

    def _insert_items(
        self,
        new: list[tuple[PlannedItem, int]],
        units: dict[str, Unit],
        milestones: dict[str, Milestone],
        ids: dict[ItemKey, int],
    ) -> None:
        if not new:
            return
        created_on = None if self.report.new_plan else self.today
        by_row: dict[tuple[int, int, int], ItemKey] = {}

        def values() -> Iterator[dict[str, Any]]:  # one at a time: a million dicts weigh 1 GB
            for plan, occurrence in new:
                m_id, u_id = milestones[plan.key.milestone].id, units[plan.key.unit].id
                by_row[(m_id, u_id, occurrence)] = plan.key
                yield {
                    "plan_id": self.plan_id,
                    "milestone_id": m_id,
                    "unit_id": u_id,
                    "occurrence": occurrence,
                    "start": plan.start,
                    "due": plan.due,
                    "original_due": plan.due,
                    "state": ItemState.ASSIGNED.value,
                    "percent": 0,
                    "created_on": created_on,
                    "moved_on": self.today,  # the creation move below, on the same day
                    "created_at": self.now,
                    "updated_at": self.now,
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
        record_moves(
            self.s,
            [Move(ids[p.key], None, ItemState.ASSIGNED) for p, _ in new],
            actor=ACTOR,
            reason="交办：按目录生成",
            on_date=self.today,
        )
        if not self.report.new_plan:
            self.report.item_details += [
                f"新增事项 {p.key.milestone}/{p.key.unit}，{zh_date(p.due)}到期" for p, _ in new
            ]
        _bump(self.report.added, "work items", len(new))

    def _retire_and_restore(
        self,
        retire: list[Any],
        restore: list[tuple[Any, PlannedItem]],
        milestone_code: dict[int, str],
        unit_code: dict[int, str],
    ) -> None:
        def key(row: Any) -> str:
            return f"{milestone_code[row.milestone_id]}/{unit_code[row.unit_id]}/{row.occurrence}"

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
        _bump(self.report.retired, "work items", len(retire))
        _bump(self.report.restored, "work items", len(restore))
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
                    "reason": "目录中的完成时限已修改",
                }
                for row, plan in moved
            ],
        )
        _bump(self.report.changed, "work item deadlines", len(moved))
        self.report.item_details[:0] = [
            f"事项 {milestone_code[row.milestone_id]}/{unit_code[row.unit_id]}/"
            f"{row.occurrence} 的完成时限：{zh_date(row.due)} → {zh_date(plan.due)}"
            for row, plan in moved
        ]

    def _item_dependencies(self, planned: list[PlannedItem], ids: dict[ItemKey, int]) -> None:
        """Dated intervals: new pairs get a row, dropped pairs get ``retired_on``."""
        want = {(ids[a], ids[b]) for a, b in item_dependencies(self.c, planned)}
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
        _bump(self.report.added, "item dependencies", len(new))
        _bump(self.report.retired, "item dependencies", len(gone))
        self.s.flush()
        touched = {a for a, _ in new} | {a for (a, b) in live.keys() - want}
        if len(touched) > 10 * CHUNK:  # a first load, a large edit: one set-based pass
            count_open_prerequisites(self.s, self.plan_id)
        else:
            refresh_open_prerequisites(self.s, touched, lock_prerequisites=True)


def match_occurrences(
    planned: list[date], existing: list[tuple[date, date, str]]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair a milestone's planned occurrences for one unit with its existing items.

    ``planned`` are due dates; ``existing`` are (due, original due, state) sorted by due. First
    the same date pairs up (current or original due, live items before retired ones); the rest
    pair in date order, as moved deadlines. Returns (planned index, existing index) pairs, the
    planned indexes left over (new items) and the existing ones left over (to retire).
    """
    pairs: list[tuple[int, int]] = []
    free = set(range(len(existing)))
    unmatched: list[int] = []
    for i, due in enumerate(planned):
        same = [
            j
            for j in sorted(free, key=lambda j: existing[j][2] == ItemState.RETIRED.value)
            if due in (existing[j][0], existing[j][1])
        ]
        if same:
            pairs.append((i, same[0]))
            free.discard(same[0])
        else:
            unmatched.append(i)
    rest = sorted(free, key=lambda j: existing[j][0])
    pairs += list(zip(unmatched, rest, strict=False))
    fresh = unmatched[len(rest) :]
    stale = rest[len(unmatched) :]
    return pairs, fresh, stale


def sync_catalog(session: Session, catalog: Catalog) -> SyncReport:
    """Bring the database in line with ``catalog``; the caller commits."""
    syncer = _Syncer(session, catalog)
    syncer.plan()
    units = syncer.units()
    tasks = syncer.tasks(units)
    milestones = syncer.milestones(units, tasks)
    syncer.indicators()
    syncer.items(units, milestones)
    period = catalog.plan.period
    rebuild_calendar(session, period.start.year, period.end.year + 1)
    if not syncer.report.unchanged:
        fold_tally(session, catalog.plan.id)  # the items' triggers appended a row per change
        if session.get_bind().dialect.name == "postgresql":
            # fresh statistics, or the planner picks nested loops over the new rows for a while
            tables = ("work_item", "item_dependency", "item_transition", "deadline_change")
            for table in (*tables, "work_item_tally"):
                session.execute(text(f"ANALYZE {table}"))
    return syncer.report
