"""Refuse a new plan whose id would share Prefect artifact keys with a plan already synced
(:mod:`domain.rules.plan_keys`): one plan's status page would overwrite the other's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.errors import InputError, Problem
from domain.rules.plan_keys import clashing_plan, key_text
from models.orm import Plan
from tasks_catalog.schema import Catalog


def check_plan_key(session: Session, catalog: Catalog) -> None:
    """InputError naming the file, line and ``plan.id`` when the catalogue's plan is new and
    its id differs from an existing plan's only in case or ``_`` ``.`` ``-``; nothing is
    written either way."""
    new_id = catalog.plan.id
    ids = list(session.scalars(select(Plan.id)))
    if new_id in ids:
        return  # the plan is synced again
    other = clashing_plan(new_id, ids)
    if other is None:
        return
    at = catalog.plan_id_at
    message = (
        f"规划编号 {new_id!r} 与数据库中已有的规划 {other!r} 只差大小写或“_ . -”，"
        f"两者在 Prefect 中的产物键相同（{key_text(new_id)}），状态页会互相覆盖；"
        "请换一个编号（若是同一规划，请用原编号）"
    )
    raise InputError(
        f"规划 {new_id} 的目录未写入任何内容：规划编号与已有规划冲突",
        [Problem(at.file if at else None, at.line if at else None, "plan.id", message)],
    )
