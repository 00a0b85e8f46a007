"""A digest's lines: what each notice says about its item, in working days."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest."""

    item_id: int | None
    level_name: str
    task: str
    milestone: str
    title: str
    unit_name: str
    due_zh: str
    timing: str
    overdue: int
    state_label: str
    percent: int
    evidence: str


def timing(kind: str, overdue: int, percent: int) -> str:
    """When a line's item is due, in words: working days overdue or left, or the pace or report
    a notice of that ``kind`` is about (``overdue`` < 0 is days left)."""
    if kind == "behind_pace":
        return f"当前进度{percent}%，滞后于序时进度"
    if kind == "missing_report":
        return (
            f"本期进展未报送（截止日已过{overdue}个工作日）" if overdue else "本期进展今天截止报送"
        )
    if overdue > 0:
        return f"已逾期{overdue}个工作日"
    return "今天到期" if overdue == 0 else f"还剩{-overdue}个工作日"
