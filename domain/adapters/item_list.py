"""The full list of a summary digest's items, as a CSV file Chinese Excel opens (UTF-8 with BOM)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from domain.adapters.files import write_atomically
from domain.rules.cell_text import csv_cell
from domain.rules.digest import DigestItem

COLUMNS = ("责任单位", "所属乡镇", "重点任务", "事项", "到期日", "情况", "当前状态", "督办层级")


def write_item_list(path: Path, items: list[DigestItem]) -> Path:
    """Every item, most overdue first, one row each; returns ``path``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for i in sorted(items, key=lambda i: (-i.overdue, i.place, i.unit_name, i.title)):
        state = f"{i.state_label}（{i.percent}%）" if i.state_label and i.percent else i.state_label
        row = (i.unit_name, i.place, i.task, i.title, i.due_zh, i.timing, state, i.level_name)
        writer.writerow([csv_cell(v) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue().encode("utf-8-sig"))
    return path
