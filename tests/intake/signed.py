"""Test helpers: sign a CSV or JSON report the way duban's templates do (per row 签名)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from domain.adapters import signing
from domain.rules.intake.cells import a_date
from domain.rules.intake.rows import HEADER_TO_FIELD

PLAN = "demo-plan"
PERIOD = date(2021, 6, 21)


def _key(values: dict[str, str]) -> str:
    if values.get("measure"):
        return f"measure:{values['measure'].strip()}"
    return f"item:{int(values['item'])}"


def sign_csv(text: str, *, plan: str = PLAN, period: date = PERIOD) -> str:
    """The CSV with a 签名 column (and 报送期 = ``period`` where the file has none)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    fields = [HEADER_TO_FIELD.get(h.strip()) for h in header]
    if "period" not in fields:
        header, fields = [*header, "报送期"], [*fields, "period"]
        body = [[*r, period.isoformat()] for r in body]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*header, "签名"])
    for row in body:
        values = {f: v for f, v in zip(fields, row, strict=False) if f}
        key = _key(values)
        when = a_date(values["period"])
        writer.writerow([*row, signing.sign_row(plan, values["unit"].strip(), when, key)])
    return out.getvalue()


def sign_json(
    document: dict[str, Any], *, plan: str = PLAN, period: date = PERIOD
) -> dict[str, Any]:
    """The JSON report with ``period`` (when missing) and a ``signature`` on every entry."""
    signed = {**document, "period": document.get("period", period.isoformat())}
    when = a_date(signed["period"])
    for section, key in (("reports", "item"), ("measures", "measure")):
        signed[section] = [
            {**e, "signature": signing.sign_row(plan, signed["unit"], when, f"{key}:{e[key]}")}
            for e in document.get(section, [])
        ]
    return signed
