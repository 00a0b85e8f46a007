"""Who sent a CSV or JSON report: each template row's 签名 checked against plan, unit, period.

A file is signed when its rows carry duban's signatures (:func:`domain.adapters.signing.sign_row`);
then
every row must carry a valid one. A file without any is unsigned, and lands only when an
operator vouches for it (``duban collect --trusted``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.adapters import signing
from domain.rules.intake.cells import MAX_ID, text_of, whole_number
from domain.rules.intake.rows import ParsedFile

UNSIGNED = (
    "文件没有签名，无法确认报送单位：请用督办系统为本单位生成的模板填报"
    "（Excel 台账，或 CSV/JSON 模板，各行带“签名”），或请协调单位核实后导入"
)


def sign_check(
    parsed: ParsedFile,
    row: int,
    *,
    plan_id: str,
    unit: str | None,
    period: date | None,
    key: str | None,
    signature: Any,
) -> bool | None:
    """None when the row has no 签名; else whether it holds (a problem is noted when not)."""
    text = text_of(signature)
    if text is None:
        return None
    ok = (
        unit is not None
        and period is not None
        and key is not None
        and signing.verify_row(plan_id, unit, period, key, text)
    )
    if not ok:
        parsed.problem(
            row,
            "signature",
            "签名不符：此行不是为本单位本期生成的，或单位代码、报送期、编号被改动；请用原模板填报",
        )
    return ok


def row_key(values: dict[str, Any], is_measures: bool) -> str | None:
    """What a template row's signature covers besides plan, unit and period."""
    if is_measures:
        measure = text_of(values.get("measure"))
        return f"measure:{measure}" if measure else None
    try:
        return f"item:{whole_number(values.get('item'), low=1, high=MAX_ID)}"
    except ValueError:
        return None


def settle_identity(parsed: ParsedFile, signed: list[int], unsigned: list[int]) -> None:
    """A file is signed when its rows carry duban's signatures; then every row must."""
    parsed.signed = bool(signed)
    if signed:
        for row in unsigned:
            parsed.problem(row, "signature", "此行没有签名：模板之外的行不能手工添加")
