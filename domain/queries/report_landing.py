"""Check a read report file against the database and land it whole — or find why it cannot.

:func:`check` returns every problem (naming row, column and reason) without writing anything;
:func:`land` writes the reports, the lifecycle moves and the measure values in the caller's
transaction, and is only called when ``check`` found nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from config.errors import Problem
from domain.queries.indicators import latest_values
from domain.queries.items import Move, record_moves
from domain.rules.glossary import MEASURE_SHEET
from domain.rules.intake.cells import excerpt
from domain.rules.intake.rows import MeasureRow, ParsedFile, ReportRow
from domain.rules.reporting import Decision, ReportRejectedError, decide
from models import clock
from models.enums import ItemState
from models.orm import Milestone, Plan, Report, Unit, WorkItem
from models.records import Indicator, Measure, MeasureValue
from models.unitsets import select_units

UNITS = "units"


@dataclass
class Checked:
    """A file that passed: the unit and what each row will do."""

    plan: Plan
    unit: Unit
    decisions: list[tuple[ReportRow, Decision, ItemState]] = field(default_factory=list)
    measures: list[tuple[MeasureRow, Measure]] = field(default_factory=list)


@dataclass
class Landed:
    """What landing a file did."""

    unit: str
    unit_name: str
    reports: int
    moves: Counter[str]
    measures: int


def check(session: Session, parsed: ParsedFile, plan: Plan) -> tuple[Checked | None, list[Problem]]:
    """Every problem with this file given the database; (Checked, []) when it can land."""
    problems = list(parsed.problems)
    if parsed.plan is not None and parsed.plan != plan.id:
        problems.append(
            Problem(
                parsed.path, None, "", f"文件属于计划 {excerpt(parsed.plan)}，不是本计划 {plan.id}"
            )
        )
    unit = None
    if parsed.unit is not None:
        unit = session.scalars(
            select(Unit).where(
                Unit.plan_id == plan.id, Unit.code == parsed.unit, Unit.retired_at.is_(None)
            )
        ).first()
        if unit is None:
            problems.append(
                Problem(
                    parsed.path, None, "单位代码", f"本计划中没有单位代码 {excerpt(parsed.unit)}"
                )
            )
    if unit is None:
        if not problems:  # nothing named a unit at all (a CSV of headers only, say)
            problems.append(Problem(parsed.path, None, "单位代码", "文件中没有单位代码，无从入库"))
        return None, problems
    checked = Checked(plan, unit)
    _check_reports(session, parsed, checked, problems)
    _check_measures(session, parsed, checked, problems)
    return (None, problems) if problems else (checked, [])


def _check_reports(
    session: Session, parsed: ParsedFile, checked: Checked, problems: list[Problem]
) -> None:
    ids = [r.item_id for r in parsed.reports]
    if not ids:
        return
    rows = {
        r.id: r
        for r in session.execute(
            select(
                WorkItem.id,
                WorkItem.plan_id,
                WorkItem.unit_id,
                WorkItem.state,
                WorkItem.percent,
                Milestone.evidence,
                Milestone.code.label("milestone"),
                Unit.name.label("unit_name"),
            )
            .join(Milestone, Milestone.id == WorkItem.milestone_id)
            .join(Unit, Unit.id == WorkItem.unit_id)
            .where(WorkItem.id.in_(ids))
            .order_by(WorkItem.id)  # locked in one order: two files never deadlock
            .with_for_update(of=WorkItem)  # each report is checked against the state it moves
        )
    }
    seen: dict[int, int] = {}
    for report in parsed.reports:
        where = (parsed.path, report.row)
        item = rows.get(report.item_id)
        if item is None or item.plan_id != checked.plan.id:
            problems.append(Problem(*where, "事项编号", f"没有编号为 {report.item_id} 的事项"))
            continue
        if item.unit_id != checked.unit.id:
            problems.append(
                Problem(
                    *where,
                    "事项编号",
                    f"事项 {report.item_id} 属于{item.unit_name}，不属于{checked.unit.name}",
                )
            )
            continue
        if report.item_id in seen:
            problems.append(
                Problem(
                    *where,
                    "事项编号",
                    f"事项 {report.item_id} 重复填报（另见第{seen[report.item_id]}行）",
                )
            )
            continue
        if report.milestone and report.milestone != item.milestone:
            problems.append(
                Problem(
                    *where,
                    "事项编号",
                    f"事项 {report.item_id} 属于节点 {item.milestone}，本行却写 "
                    f"{excerpt(report.milestone)}：事项编号是否被改动？",
                )
            )
            continue
        seen[report.item_id] = report.row
        current = ItemState(item.state)
        try:
            decision = decide(
                current=current,
                current_percent=item.percent,
                reported=report.state,
                percent=report.percent,
                reason=report.problem or report.note,
                evidence=report.evidence,
                evidence_required=list(item.evidence or []),
            )
        except ReportRejectedError as exc:
            problems.append(Problem(*where, exc.column, str(exc)))
            continue
        checked.decisions.append((report, decision, current))


def _check_measures(
    session: Session, parsed: ParsedFile, checked: Checked, problems: list[Problem]
) -> None:
    if not parsed.measures:
        return
    plan_id, unit = checked.plan.id, checked.unit
    measures = {
        m.code: m
        for m in session.scalars(
            select(Measure).where(Measure.plan_id == plan_id, Measure.retired_at.is_(None))
        )
    }
    seen: dict[str, int] = {}
    values: dict[str, float] = latest_values(session, plan_id, unit.id)
    sheet = MEASURE_SHEET if parsed.kind == "xlsx" else None
    for row in parsed.measures:
        where = (parsed.path, row.row)
        measure = measures.get(row.measure)
        if measure is None:
            problems.append(
                Problem(
                    *where, "指标项代码", f"未知的指标项代码 {excerpt(row.measure)}", sheet=sheet
                )
            )
            continue
        if not select_units(measure.reported_by, [unit], key=lambda u: u.code):
            problems.append(
                Problem(
                    *where,
                    "指标项代码",
                    f"{unit.name}不填报“{measure.name}”"
                    f"（由 {'、'.join(measure.reported_by)} 填报）",
                    sheet=sheet,
                )
            )
            continue
        if row.measure in seen:
            problems.append(
                Problem(
                    *where,
                    "指标项代码",
                    f"“{measure.name}”重复填写（另见第{seen[row.measure]}行）",
                    sheet=sheet,
                )
            )
            continue
        seen[row.measure] = row.row
        if row.value < 0:
            problems.append(
                Problem(
                    *where, "本期值", f"“{measure.name}”不能为负数（{row.value:g}）", sheet=sheet
                )
            )
            continue
        if measure.type == "boolean" and row.value not in (0.0, 1.0):
            problems.append(
                Problem(
                    *where,
                    "本期值",
                    f"“{measure.name}”只能填“是”或“否”，不能是 {row.value:g}",
                    sheet=sheet,
                )
            )
            continue
        if measure.type == "integer" and not float(row.value).is_integer():
            problems.append(
                Problem(
                    *where, "本期值", f"“{measure.name}”应为整数，不能是 {row.value:g}", sheet=sheet
                )
            )
            continue
        values[row.measure] = row.value
        checked.measures.append((row, measure))
    # cross-checks run on every value that passed on its own, so one round trip shows all
    problems += _implausible(session, parsed, checked, values, measures)


def _implausible(
    session: Session,
    parsed: ParsedFile,
    checked: Checked,
    values: dict[str, float],
    measures: dict[str, Measure],
) -> list[Problem]:
    """Cross-measure checks per indicator: a zero denominator, or a share above 100%."""
    touched = {m.code for _, m in checked.measures}
    rows = {m.code: r.row for r, m in checked.measures}
    found: list[Problem] = []
    indicators = session.scalars(
        select(Indicator).where(
            Indicator.plan_id == checked.plan.id, Indicator.retired_at.is_(None)
        )
    )
    for indicator in indicators:
        parts = set(indicator.numerator) | set(indicator.denominator)
        if UNITS in parts or not parts & touched or not parts <= set(values):
            continue
        num = sum(values[m] for m in indicator.numerator)
        den = sum(values[m] for m in indicator.denominator)
        names = "+".join(measures[m].name for m in indicator.denominator if m in measures)
        if den == 0 and num > 0:
            found.append(
                Problem(
                    parsed.path,
                    _first_row(rows, indicator.denominator),
                    "本期值",
                    f"{names}为 0，而“{indicator.name}”的分子为 {num:g}：请核对这两项",
                    MEASURE_SHEET if parsed.kind == "xlsx" else None,
                )
            )
        elif indicator.unit_of_measure == "%" and indicator.factor == 100 and num > den:
            found.append(
                Problem(
                    parsed.path,
                    _first_row(rows, indicator.numerator),
                    "本期值",
                    f"“{indicator.name}”将为 {num * 100 / den:.0f}%（超过 100%）："
                    f"{num:g} > {den:g}，请核对",
                    MEASURE_SHEET if parsed.kind == "xlsx" else None,
                )
            )
    return found


def _first_row(rows: dict[str, int], codes: list[str]) -> int | None:
    found = [rows[c] for c in codes if c in rows]
    return min(found) if found else None


def land(
    session: Session, checked: Checked, parsed: ParsedFile, *, actor: str, file_id: int | None
) -> Landed:
    """Write a checked file: reports, lifecycle moves and measure values. The caller commits."""
    now = clock.now()
    today = clock.local_date(now, checked.plan.timezone)
    period = parsed.period or today
    if checked.decisions:
        session.execute(
            insert(Report),
            [
                {
                    "plan_id": checked.plan.id,
                    "item_id": r.item_id,
                    "unit_id": checked.unit.id,
                    "period": period,
                    "received_at": now,
                    "received_on": today,
                    "state": r.state.value,
                    "percent": d.percent,
                    "note": r.note,
                    "problem": r.problem,
                    "next_steps": r.next_steps,
                    "evidence": r.evidence,
                    "actor": actor,
                    "file_id": file_id,
                    "source_row": r.row,
                }
                for r, d, _ in checked.decisions
            ],
        )
        session.execute(
            update(WorkItem),
            [
                {"id": r.item_id, "percent": d.percent, "updated_at": now}
                for r, d, _ in checked.decisions
            ],
        )
    moves: Counter[str] = Counter()
    by_reason: dict[str | None, list[Move]] = {}
    for report, decision, current in checked.decisions:
        if decision.target is not None:
            reason = report.problem or report.note
            by_reason.setdefault(reason, []).append(Move(report.item_id, current, decision.target))
            moves[decision.target.value] += 1
    for reason, batch in by_reason.items():
        record_moves(session, batch, actor=actor, reason=reason, on_date=today)
    if checked.measures:
        session.execute(
            insert(MeasureValue),
            [
                {
                    "plan_id": checked.plan.id,
                    "measure_id": m.id,
                    "unit_id": checked.unit.id,
                    "value": row.value,
                    "received_at": now,
                    "received_on": today,
                    "file_id": file_id,
                }
                for row, m in checked.measures
            ],
        )
    session.flush()
    return Landed(
        checked.unit.code, checked.unit.name, len(checked.decisions), moves, len(checked.measures)
    )
