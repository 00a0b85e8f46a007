"""The history from an old plan that a carried item (结转) shows in `duban item show`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.rules.glossary import ITEM_STATES, zh_date
from models.enums import ItemState

if TYPE_CHECKING:  # `duban status` renders through this module's neighbours: no need to load
    from rich.console import Console

    from domain.rules.carry_over import Predecessor


def carried_history(console: Console, predecessors: list[Predecessor]) -> None:
    """Where the old plan's items this item carries over (结转) stand, by plan."""
    plans: dict[str, list[Predecessor]] = {}
    for p in predecessors:
        plans.setdefault(p.plan_id, []).append(p)
    for plan_id, olds in plans.items():
        console.print(f"结转自原规划《{olds[0].plan_title}》（{plan_id}）：", markup=False)
        for p in olds:
            moved = f"（原定 {zh_date(p.original_due)}）" if p.original_due != p.due else ""
            console.print(
                f"  #{p.item_id} {p.milestone} {p.title} — {p.unit_name}，{zh_date(p.due)}到期"
                f"{moved}，{ITEM_STATES[ItemState(p.state)]}，进度 {p.percent}%",
                markup=False,
            )
            if p.reason:
                console.print(f"    原因：{p.reason}", markup=False)
            if p.reported_on is None:
                console.print("    从未报送进展", markup=False)
                continue
            said = [
                f"{label}：{text}"
                for label, text in (("进展", p.note), ("问题", p.problem))
                if text
            ]
            console.print(
                f"    最近报送 {zh_date(p.reported_on)}" + ("：" + "；".join(said) if said else ""),
                markup=False,
            )
