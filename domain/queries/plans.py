"""A plan read by its id, and a live unit by its code: the one way every caller does it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.errors import NotFoundError
from models.orm import Plan, Unit


def plan_of(session: Session, plan_id: str) -> Plan:
    """The plan ``plan_id``; NotFoundError (in Chinese) if the database has no such plan."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"数据库中没有规划“{plan_id}”；请先运行 `duban catalog sync` 载入目录")
    return plan


def unit_of(session: Session, plan_id: str, code: str) -> Unit:
    """The plan's unit ``code``, not retired; NotFoundError (in Chinese) if there is none."""
    unit = session.scalars(
        select(Unit).where(Unit.plan_id == plan_id, Unit.code == code, Unit.retired_at.is_(None))
    ).first()
    if unit is None:
        raise unknown_unit(session, plan_id, code, "（或该单位已撤销）")
    return unit


def unknown_unit(session: Session, plan_id: str, code: str, note: str = "") -> NotFoundError:
    """The error for a unit code the plan lacks, naming the codes of up to three units whose
    names contain what was typed (people type 旧城乡 where 530521204 is asked for)."""
    said = f"规划 {plan_id} 中没有单位代码 {code!r}{note}"
    typed = code.strip()
    named = session.execute(
        select(Unit.name, Unit.code)
        .where(
            Unit.plan_id == plan_id,
            Unit.retired_at.is_(None),
            Unit.name.contains(typed, autoescape=True),
        )
        .order_by(func.length(Unit.name), Unit.code)
        .limit(3)
    ).all()
    if typed and named:
        codes = "、".join(f"{name}（{unit_code}）" for name, unit_code in named)
        return NotFoundError(f"{said}；请写单位代码，名称相近的单位：{codes}")
    return NotFoundError(f"{said}；请写单位代码（见规划目录的单位清单）")


def plan_ids(session: Session) -> list[str]:
    """Every plan in the database, by id."""
    return list(session.scalars(select(Plan.id).order_by(Plan.id)))
