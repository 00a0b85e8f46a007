"""A unit's signed CSV or JSON template: its items (and measures), each row signed.

Each row's 签名 (``signature``) is an HMAC over (plan, unit, period, the row's item id or measure
code), see :func:`domain.adapters.signing.sign_row`. A unit fills in the input columns and may
delete
rows, but cannot add one, change the unit, the period or an id: such a row no longer matches its
signature. The CSV is UTF-8 with a BOM (what Excel and WPS open as Chinese); cells that Excel
would read as a formula are written as text (a leading apostrophe), and the id cells are plain.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.adapters import signing
from domain.adapters.files import fit_name, write_atomically
from domain.rules.cell_text import csv_cell
from domain.rules.glossary import ITEM_STATES
from domain.rules.intake.rows import FIELD_TO_HEADER, INPUT_FIELDS, REPORT_COLUMNS
from domain.services.workbooks import unit_items
from models.enums import ItemState
from models.orm import Plan, Unit
from models.records import Measure
from models.unitsets import select_units

FORMATS = ("xlsx", "csv", "json")


def _report_entries(session: Session, plan: Plan, unit: Unit, period: date) -> list[dict[str, Any]]:
    entries = []
    for item_id, task, milestone, title, due, state, pct in unit_items(session, plan, unit, period):
        item = int(str(item_id))
        entries.append(
            {
                "item": item,
                "task": task,
                "milestone": milestone,
                "title": title,
                "due": due.isoformat() if isinstance(due, date) else due,
                "current_state": ITEM_STATES[ItemState(str(state))],
                "current_percent": pct,
                **dict.fromkeys(INPUT_FIELDS),
                "signature": signing.sign_row(plan.id, unit.code, period, f"item:{item}"),
            }
        )
    return entries


def _measure_entries(
    session: Session, plan: Plan, unit: Unit, period: date
) -> list[dict[str, Any]]:
    measures = session.scalars(
        select(Measure)
        .where(Measure.plan_id == plan.id, Measure.retired_at.is_(None))
        .order_by(Measure.id)
    )
    return [
        {
            "measure": m.code,
            "name": m.name,
            "unit_of_measure": m.unit_of_measure,
            "value": None,
            "signature": signing.sign_row(plan.id, unit.code, period, f"measure:{m.code}"),
        }
        for m in measures
        if select_units(m.reported_by, [unit], key=lambda u: u.code)
    ]


def write_template(
    session: Session, plan: Plan, unit: Unit, period: date, out: Path, fmt: str
) -> tuple[Path, int, int]:
    """Write one unit's signed template (``csv`` or ``json``) into ``out``: (path, items, measures).
    A CSV holds the progress rows only (measures go in a second file, ``…-指标.csv``)."""
    reports = _report_entries(session, plan, unit, period)
    measures = _measure_entries(session, plan, unit, period)
    out.mkdir(parents=True, exist_ok=True)
    stem = fit_name(f"{unit.code}-{unit.name}-{period.isoformat()}", reserve=16)
    if fmt == "json":
        document = {
            "plan": plan.id,
            "unit": unit.code,
            "period": period.isoformat(),
            "reports": reports,
            "measures": measures,
        }
        path = out / f"{stem}.json"
        text = json.dumps(document, ensure_ascii=False, indent=1)
        write_atomically(path, (text + "\n").encode("utf-8"))
        return path, len(reports), len(measures)
    path = out / f"{stem}.csv"
    report_fields = ["unit", "period", *(f for f, _ in REPORT_COLUMNS), "signature"]
    write_atomically(path, _csv(report_fields, reports, _unit_cell(unit), period))
    if measures:
        measure_fields = [
            "unit",
            "period",
            "measure",
            "name",
            "unit_of_measure",
            "value",
            "signature",
        ]
        write_atomically(
            out / f"{stem}-指标.csv", _csv(measure_fields, measures, _unit_cell(unit), period)
        )
    return path, len(reports), len(measures)


def _unit_cell(unit: Unit) -> str:
    """The 单位代码 cell: the code with the name after it, so that Excel keeps a long numeric
    code as text (a bare 530521101001 comes back as 5.30521E+11) and the unit sees its name."""
    return f"{unit.code}（{unit.name}）"


def _csv(fields: list[str], entries: list[dict[str, Any]], unit: str, period: date) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([FIELD_TO_HEADER[f] for f in fields])
    for entry in entries:
        row = {"unit": unit, "period": period.isoformat(), **entry}
        writer.writerow([csv_cell(row.get(f)) if row.get(f) is not None else "" for f in fields])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
