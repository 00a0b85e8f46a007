"""Make the database match a validated catalogue, in the caller's transaction.

* New entities are added; changed ones are updated; vanished ones are retired, never deleted.
* Work items are keyed by (milestone, unit, occurrence). A changed due date moves the deadline of
  open items and records the old one in ``deadline_change``; done items keep theirs.
* A due date on a rest day is postponed (顺延) to the next working day of the calendar, which is
  rebuilt first; the catalogue's date stays as the item's original due date.
* Items whose milestone, unit or occurrence left the catalogue are retired (their history stays);
  items that come back are restored.
* Re-syncing an unchanged catalogue changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, text, tuple_
from sqlalchemy.orm import Session

from domain.queries.calendar import deadline_rule, rebuild_calendar
from domain.queries.carry_links import check_carried_references, link_predecessors
from domain.queries.plan_keys import check_plan_key
from domain.queries.sync_items import ItemSyncer
from domain.rules.glossary import CATALOG_FIELDS, CATALOG_KINDS, word
from domain.rules.sync_report import SyncReport, bump
from models import clock
from models.db import insert_rows
from models.enums import TaskRole
from models.orm import Milestone, Plan, Task, TaskUnit, Unit
from models.records import Contact, Indicator, Measure, MilestoneDependency
from models.tally import fold_tally
from tasks_catalog.expand import Resolver, selector_list
from tasks_catalog.schema import Catalog


def _rows(result: Any) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in result}


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


def _parents_first(codes: list[str], parents: dict[str, str | None]) -> list[list[str]]:
    """``codes`` in levels, each code a level after its parent when the parent is among them
    (the catalogue's checks refuse a cycle of parents)."""
    among = set(codes)
    depth: dict[str, int] = {}
    for code in codes:
        chain: list[str] = []
        current = code
        while current not in depth:
            parent = parents.get(current)
            if parent is None or parent not in among or current in chain:
                depth[current] = 0
                break
            chain.append(current)
            current = parent
        level = depth[current]
        for child in reversed(chain):
            if child not in depth:
                level += 1
                depth[child] = level
    levels: dict[int, list[str]] = {}
    for code in codes:
        levels.setdefault(depth[code], []).append(code)
    return [levels[d] for d in sorted(levels)]


class _Syncer:
    def __init__(self, session: Session, catalog: Catalog) -> None:
        self.s = session
        self.c = catalog
        self.plan_id = catalog.plan.id
        self.now = clock.now()
        self.today = clock.local_date(self.now, catalog.plan.timezone)
        self.report = SyncReport(self.plan_id)

    # -- catalogue entities -------------------------------------------------------------------
    def upsert(
        self,
        model: Any,
        kind: str,
        specs: dict[str, dict[str, Any]],
        parents: dict[str, str | None] | None = None,
    ) -> dict[str, int]:
        """Add/update/retire rows of one entity kind keyed by (plan, code); returns code → id.
        With ``parents`` (code → parent code), ``parent_id`` follows it; new rows are inserted
        in batches, parents before their children."""
        rows = {
            r.code: r for r in self.s.scalars(select(model).where(model.plan_id == self.plan_id))
        }
        new: list[str] = []
        for code, values in specs.items():
            row = rows.get(code)
            if row is None:
                new.append(code)
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
        ids = {code: row.id for code, row in rows.items()}
        self._insert_new(model, {code: specs[code] for code in new}, parents, ids)
        if parents is not None:
            for code, row in rows.items():
                parent = parents.get(code)
                wanted = ids[parent] if parent else None
                if code in specs and row.parent_id != wanted:
                    row.parent_id = wanted
            self.s.flush()
        return ids

    def _insert_new(
        self,
        model: Any,
        specs: dict[str, dict[str, Any]],
        parents: dict[str, str | None] | None,
        ids: dict[str, int],
    ) -> None:
        """Insert new rows in bulk (:func:`~models.db.insert_rows`: every column given), parents
        first; adds their ids to ``ids``."""
        for level in _parents_first(list(specs), parents or {}):
            batch = [{"plan_id": self.plan_id, "code": code, **specs[code]} for code in level]
            if parents is not None:
                for values in batch:
                    parent = parents[values["code"]]
                    values["parent_id"] = ids[parent] if parent else None
            insert_rows(self.s, model, batch)
            added = self.s.execute(
                select(model.code, model.id).where(model.plan_id == self.plan_id)
            )
            ids.update((code, id_) for code, id_ in added)

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
            "briefing_distribution": (
                p.briefing_distribution.model_dump() if p.briefing_distribution else None
            ),
            "close_out_workdays": p.close_out_workdays,
            "close_out_until": p.close_out_until,
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

    def units(self) -> dict[str, int]:
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
        parents = {u.id: u.parent for u in self.c.units}
        ids = self.upsert(Unit, "units", specs, parents)
        self.contacts(ids)
        self.s.flush()
        return ids

    def contacts(self, units: dict[str, int]) -> None:
        existing: dict[int, list[tuple[Any, ...]]] = {}
        for c in self.s.scalars(
            select(Contact)
            .join(Unit, Unit.id == Contact.unit_id)
            .where(Unit.plan_id == self.plan_id)
            .order_by(Contact.id)
        ):
            existing.setdefault(c.unit_id, []).append(
                (c.name, c.role, c.email, c.phone, c.addresses)
            )
        for u in self.c.units:
            want = [(c.name, c.role, c.email, c.phone, list(c.notify)) for c in u.contacts]
            unit_id = units[u.id]
            if existing.get(unit_id, []) == want:
                continue
            self.s.execute(delete(Contact).where(Contact.unit_id == unit_id))
            self.s.add_all(
                Contact(unit_id=unit_id, name=n, role=r, email=e, phone=p, addresses=a)
                for n, r, e, p, a in want
            )
            self.report.changed["contacts"] += 1

    def tasks(self, units: dict[str, int]) -> dict[str, int]:
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
        rows = self.upsert(Task, "tasks", specs)
        want: set[tuple[int, int, str]] = set()
        cooperating = Resolver(self.c.units)
        for t in self.c.tasks:
            want.add((rows[t.code], units[t.lead], TaskRole.LEAD.value))
            for code in cooperating(t.cooperating):
                if code != t.lead:
                    want.add((rows[t.code], units[code], TaskRole.COOPERATING.value))
        task_ids = [rows[t.code] for t in self.c.tasks]  # retired tasks keep their units
        have = _rows(
            self.s.execute(
                select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.role).where(
                    TaskUnit.task_id.in_(task_ids)
                )
            )
        )
        self._replace_pairs(TaskUnit, ("task_id", "unit_id", "role"), have, want, "task units")
        return rows

    def milestones(self, units: dict[str, int], tasks: dict[str, int]) -> dict[str, int]:
        specs: dict[str, dict[str, Any]] = {}
        for t in self.c.tasks:
            for m in t.milestones:
                r = m.recurrence
                specs[m.id] = {
                    "task_id": tasks[t.code],
                    "title": m.title,
                    "deliverable": m.deliverable,
                    "evidence": list(m.evidence),
                    "due": m.due,
                    "rrule": r.rrule if r else None,
                    "rrule_start": r.start if r else None,
                    "rrule_end": r.end if r else None,
                    "start": m.start,
                    "owner_unit_id": units[m.owner or t.lead],
                    "fan_out": selector_list(m.fan_out) if m.fan_out is not None else None,
                    "proposed": m.proposed,
                    "carried_from_plan": m.carried_from.plan if m.carried_from else None,
                    "carried_from_code": m.carried_from.milestone if m.carried_from else None,
                }
        rows = self.upsert(Milestone, "milestones", specs)
        want = {
            (rows[m.id], rows[d]) for t in self.c.tasks for m in t.milestones for d in m.depends_on
        }
        ids = list(rows.values())
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
            bump(self.report.retired, kind, len(gone))
        if new:
            self.s.execute(insert(model), [dict(zip(columns, row, strict=True)) for row in new])
            bump(self.report.added, kind, len(new))
        self.s.flush()


def sync_catalog(session: Session, catalog: Catalog) -> SyncReport:
    """Bring the database in line with ``catalog``; the caller commits."""
    check_plan_key(session, catalog)
    check_carried_references(session, catalog)
    syncer = _Syncer(session, catalog)
    syncer.plan()
    units = syncer.units()
    tasks = syncer.tasks(units)
    milestones = syncer.milestones(units, tasks)
    syncer.indicators()
    period = catalog.plan.period
    # before the items: their due dates are postponed (顺延) by this calendar
    rebuild_calendar(session, period.start.year, period.end.year + 1)
    postpone = deadline_rule(session, date(period.start.year, 1, 1), date(period.end.year, 12, 31))
    ItemSyncer(session, catalog, syncer.report, syncer.now, syncer.today).items(
        units, milestones, postpone
    )
    link_predecessors(session, catalog, syncer.report)  # 结转: after the items exist
    if not syncer.report.unchanged:
        fold_tally(session, catalog.plan.id)  # the items' triggers appended a row per change
        if session.get_bind().dialect.name == "postgresql":
            # fresh statistics, or the planner picks nested loops over the new rows for a while
            tables = ("work_item", "item_dependency", "item_transition", "deadline_change")
            for table in (*tables, "work_item_tally"):
                session.execute(text(f"ANALYZE {table}"))
    return syncer.report
