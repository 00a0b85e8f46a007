"""A plan read by its id, the one way every caller does it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from config.errors import NotFoundError
from models.orm import Plan


def plan_of(session: Session, plan_id: str) -> Plan:
    """The plan ``plan_id``; NotFoundError (in Chinese) if the database has no such plan."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"数据库中没有规划“{plan_id}”；请先运行 `duban catalog sync` 载入目录")
    return plan
