"""Make the database match a validated catalogue, in the caller's transaction.

* New entities are added; changed ones are updated; vanished ones are retired, never deleted.
* Work items are keyed by (milestone, unit, occurrence). A changed due date moves the deadline of
  open items and records the old one in ``deadline_change``; done items keep theirs.
* Items whose milestone, unit or occurrence left the catalogue are retired (their history stays);
  items that come back are restored.
* Re-syncing an unchanged catalogue changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from config.errors import InputError
from domain.calendar import rebuild_calendar
from domain.items import Move, record_moves
from domain.lifecycle import DONE_STATES
from models import clock
from models.enums import ItemState, TaskRole
from models.orm import (
    Contact,
    DeadlineChange,
    Indicator,
    ItemDependency,
    Measure,
    Milestone,
    MilestoneDependency,
    Plan,
    Task,
    TaskUnit,
    Unit,
    WorkItem,
)
from tasks_catalog.expand import ItemKey, item_dependencies, plan_items, resolve, selector_list
from tasks_catalog.schema import Catalog

ACTOR = "catalog-sync"
MASS_RETIRE_SHARE = 0.2
"""A sync retiring more than this share of the open items is refused unless explicitly allowed."""


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
        changes.append(f"{key} {old} → {new}" if short else key)
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
                    self.report.details.append(f"added {kind[:-1]} {code}")
                continue
            if row.retired_at is not None:
                row.retired_at = None
                self.report.restored[kind] += 1
                self.report.details.append(f"restored {kind[:-1]} {code}")
            fields = _apply(row, values)
            if fields:
                self.report.changed[kind] += 1
                self.report.details.append(f"changed {kind[:-1]} {code}: {', '.join(fields)}")
        for code, row in rows.items():
            if code not in specs and row.retired_at is None:
                row.retired_at = self.now
                self.report.retired[kind] += 1
                self.report.details.append(f"retired {kind[:-1]} {code}")
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
            "catalog_checksum": self.c.checksum,
        }
        row = self.s.get(Plan, self.plan_id)
        if row is None:
            self.s.add(Plan(id=self.plan_id, synced_at=self.now, **values))
            self.report.added["plan"] += 1
            self.report.new_plan = True
        else:
            fields = [f for f in _apply(row, values) if not f.startswith("catalog_checksum")]
            if fields:
                self.report.changed["plan"] += 1
                self.report.details.append(f"changed plan {self.plan_id}: {', '.join(fields)}")
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
        task_ids = [r.id for r in rows.values()]
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
        existing: dict[ItemKey, Any] = {}
        for row in self.s.execute(
            select(
                WorkItem.id,
                WorkItem.milestone_id,
                WorkItem.unit_id,
                WorkItem.occurrence,
                WorkItem.start,
                WorkItem.due,
                WorkItem.state,
            ).where(WorkItem.plan_id == self.plan_id)
        ):
            key = ItemKey(milestone_code[row.milestone_id], unit_code[row.unit_id], row.occurrence)
            existing[key] = row
        self.report.live_items_before = sum(
            1 for r in existing.values() if r.state != ItemState.RETIRED.value
        )
        wanted = {p.key: p for p in planned}

        new = [p for p in planned if p.key not in existing]
        if new:
            self.s.execute(
                insert(WorkItem),
                [
                    {
                        "plan_id": self.plan_id,
                        "milestone_id": milestones[p.key.milestone].id,
                        "unit_id": units[p.key.unit].id,
                        "occurrence": p.key.occurrence,
                        "start": p.start,
                        "due": p.due,
                        "original_due": p.due,
                        "state": ItemState.ASSIGNED.value,
                        "percent": 0,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                    for p in new
                ],
            )
            ids = self._item_ids([p.key for p in new], units, milestones)
            record_moves(
                self.s,
                [Move(ids[p.key], None, ItemState.ASSIGNED) for p in new],
                actor=ACTOR,
                reason="交办: created from the catalogue",
                on_date=self.today,
            )
            _bump(self.report.added, "work items", len(new))

        restored, retired, moved, reshaped = [], [], [], []
        for key, row in existing.items():
            state = ItemState(row.state)
            plan = wanted.get(key)
            if plan is None:
                if state not in {ItemState.RETIRED, ItemState.CLOSED}:
                    retired.append(Move(row.id, state, ItemState.RETIRED))
                continue
            if state == ItemState.RETIRED:
                restored.append(Move(row.id, state, ItemState.ASSIGNED))
            open_item = state not in DONE_STATES
            if plan.due != row.due and open_item:
                moved.append((row.id, key, row.due, plan.due))
            elif plan.start != row.start and open_item:
                reshaped.append((row.id, plan.start))
        record_moves(
            self.s,
            retired,
            actor=ACTOR,
            reason="撤销: milestone, unit or occurrence no longer in the catalogue",
            on_date=self.today,
        )
        record_moves(
            self.s, restored, actor=ACTOR, reason="恢复: back in the catalogue", on_date=self.today
        )
        _bump(self.report.retired, "work items", len(retired))
        _bump(self.report.restored, "work items", len(restored))
        retired_ids = {m.item_id for m in retired}
        self._move_deadlines(moved, {p.key: p.start for p in planned})
        restored_ids = {m.item_id for m in restored}
        self.report.item_details += [
            f"retired item {k}" for k, r in existing.items() if r.id in retired_ids
        ]
        self.report.item_details += [
            f"restored item {k}" for k, r in existing.items() if r.id in restored_ids
        ]
        if reshaped:
            self.s.execute(update(WorkItem), [{"id": i, "start": s} for i, s in reshaped])
            _bump(self.report.changed, "item windows", len(reshaped))
        self._item_dependencies(planned, units, milestones)

    def _move_deadlines(
        self, moved: list[tuple[int, ItemKey, date, date]], starts: dict[ItemKey, date]
    ) -> None:
        if not moved:
            return
        self.s.execute(
            update(WorkItem),
            [
                {"id": i, "due": new, "start": starts[k], "updated_at": self.now}
                for i, k, _, new in moved
            ],
        )
        self.s.execute(
            insert(DeadlineChange),
            [
                {
                    "item_id": i,
                    "old_due": old,
                    "new_due": new,
                    "kind": "catalog",
                    "at": self.now,
                    "on_date": self.today,
                    "actor": ACTOR,
                    "reason": "due date changed in the catalogue",
                }
                for i, _, old, new in moved
            ],
        )
        _bump(self.report.changed, "work item deadlines", len(moved))
        self.report.item_details += [f"deadline of {k}: {old} → {new}" for _, k, old, new in moved]

    def _item_ids(
        self, keys: list[ItemKey], units: dict[str, Unit], milestones: dict[str, Milestone]
    ) -> dict[ItemKey, int]:
        unit_code = {u.id: c for c, u in units.items()}
        milestone_code = {m.id: c for c, m in milestones.items()}
        wanted = set(keys)
        out = {}
        for row in self.s.execute(
            select(WorkItem.id, WorkItem.milestone_id, WorkItem.unit_id, WorkItem.occurrence).where(
                WorkItem.plan_id == self.plan_id
            )
        ):
            key = ItemKey(milestone_code[row.milestone_id], unit_code[row.unit_id], row.occurrence)
            if key in wanted:
                out[key] = row.id
        return out

    def _item_dependencies(
        self, planned: list[Any], units: dict[str, Unit], milestones: dict[str, Milestone]
    ) -> None:
        pairs = item_dependencies(self.c, planned)
        ids = self._item_ids(sorted({k for pair in pairs for k in pair}), units, milestones)
        want = {(ids[a], ids[b]) for a, b in pairs}
        rows = self.s.execute(
            select(
                ItemDependency.item_id, ItemDependency.depends_on_item_id, ItemDependency.retired_on
            )
            .join(WorkItem, WorkItem.id == ItemDependency.item_id)
            .where(WorkItem.plan_id == self.plan_id)
        ).all()
        live = {(a, b) for a, b, retired in rows if retired is None}
        dormant = {(a, b) for a, b, retired in rows if retired is not None}
        new, back, gone = want - live - dormant, want & dormant, live - want
        if new:
            self.s.execute(
                insert(ItemDependency),
                [{"item_id": a, "depends_on_item_id": b} for a, b in sorted(new)],
            )
        for pairs_, value in ((back, None), (gone, self.today)):
            if pairs_:
                self.s.execute(
                    update(ItemDependency)
                    .where(
                        tuple_(ItemDependency.item_id, ItemDependency.depends_on_item_id).in_(
                            sorted(pairs_)
                        )
                    )
                    .values(retired_on=value)
                )
        _bump(self.report.added, "item dependencies", len(new))
        _bump(self.report.restored, "item dependencies", len(back))
        _bump(self.report.retired, "item dependencies", len(gone))
        self.s.flush()


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
    return syncer.report


def refuse_mass_retirement(report: SyncReport) -> None:
    """Raise InputError if the sync retires a large share of the open items (a truncated file?)."""
    retired = report.retired.get("work items", 0)
    if retired > max(10, MASS_RETIRE_SHARE * report.live_items_before):
        raise InputError(
            f"sync of {report.plan_id} refused: it would retire {retired} of "
            f"{report.live_items_before} open work items. If a catalogue file was emptied or "
            "cut short by mistake, restore it; if the removal is intended, run again with "
            "--allow-retire. Nothing was written."
        )
