"""Partitions of a plan for a daily cycle spread over several workers.

A partition is named by a unit code (a county, a township, any unit): it holds that unit and the
units below it, except those under another named partition nested inside it (each unit belongs
to its nearest named ancestor). The units under no named partition (the root, the departments)
form one more partition, the *rest*, so the partitions of a plan are disjoint and cover it: the
notices planned partition by partition are exactly the notices planned for the whole plan.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from models.orm import Unit

REST = ""
"""The name of the partition of the units under no named partition."""


def partition_label(partition: str | None) -> str:
    """How logs and run names call a partition."""
    return "全部单位" if partition is None else (partition or "其余单位")


def partition_units(
    session: Session, plan_id: str, partition: str, named: Sequence[str]
) -> frozenset[int]:
    """The ids of the units of ``partition`` (a code among ``named``, or :data:`REST`)."""
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.parent_id).where(Unit.plan_id == plan_id)
    ).all()
    codes = {r.code for r in rows}
    unknown = sorted({*named, partition} - codes - {REST})
    if unknown:
        raise NotFoundError(f"规划 {plan_id} 中没有单位 {'、'.join(unknown)}，无法按它分区")
    if partition != REST and partition not in named:
        raise NotFoundError(f"分区 {partition!r} 不在所列分区 {'、'.join(named)} 之中")
    parent: dict[int, int | None] = {r.id: r.parent_id for r in rows}
    code_of: dict[int, str] = {r.id: r.code for r in rows}
    listed = set(named)

    def owner(unit_id: int) -> str:
        current: int | None = unit_id
        while current is not None:
            if code_of[current] in listed:
                return code_of[current]
            current = parent[current]
        return REST

    return frozenset(r.id for r in rows if owner(r.id) == partition)
