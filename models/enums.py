"""Vocabularies shared by the catalogue, the database and the rules (no SQLAlchemy here)."""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    """What kind of body a unit is (单位类别)."""

    DEPARTMENT = "department"  # 县直部门
    TOWNSHIP = "township"  # 乡镇
    VILLAGE = "village"  # 村
    COMMUNITY = "community"  # 社区


class UnitSet(StrEnum):
    """Named sets of units a milestone can fan out to (or a task can list as cooperating)."""

    TOWNSHIPS = "townships"  # every township
    VILLAGES = "villages"  # every village-level unit: villages and communities
    COMMUNITIES = "communities"  # units of kind community (urban or not)
    URBAN_COMMUNITIES = "urban_communities"  # communities flagged urban (城市社区/居委会)
    DEPARTMENTS = "departments"  # every county department


class TaskRole(StrEnum):
    """A unit's part in a key task."""

    LEAD = "lead"  # 牵头
    COOPERATING = "cooperating"  # 配合


class ItemState(StrEnum):
    """Lifecycle state of a work item; the allowed moves are in :mod:`domain.rules.lifecycle`."""

    ASSIGNED = "assigned"  # 交办
    ACKNOWLEDGED = "acknowledged"  # 签收
    IN_PROGRESS = "in_progress"  # 推进中
    SUBMITTED = "submitted"  # 办结申请
    CLOSED = "closed"  # 核验销号
    RETURNED = "returned"  # 退回
    BLOCKED = "blocked"  # 受阻
    EXTENDED = "extended"  # 已延期
    RETIRED = "retired"  # 撤销 (milestone removed from the catalogue)


class Light(StrEnum):
    """The colour an item shows on a date. DONE_LATE is counted apart from green on purpose."""

    GRAY = "gray"  # 灰灯: window not open yet, or waiting on predecessors
    GREEN = "green"  # 绿灯: on track, or done on time
    YELLOW = "yellow"  # 黄灯: due within the warning window
    RED = "red"  # 红灯: overdue and not done
    DONE_LATE = "done_late"  # 逾期完成: done, but after the deadline


class Status(StrEnum):
    """Why an item has its light: the finer classification the light is derived from."""

    NOT_STARTED = "not_started"
    WAITING = "waiting"
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    BEHIND_PACE = "behind_pace"
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"


STATUS_LIGHT: dict[Status, Light] = {
    Status.NOT_STARTED: Light.GRAY,
    Status.WAITING: Light.GRAY,
    Status.ON_TRACK: Light.GREEN,
    Status.DUE_SOON: Light.YELLOW,
    Status.BEHIND_PACE: Light.YELLOW,
    Status.OVERDUE: Light.RED,
    Status.DONE_ON_TIME: Light.GREEN,
    Status.DONE_LATE: Light.DONE_LATE,
}


ACTIVE_STATUSES: frozenset[str] = frozenset(
    s.value for s in (Status.ON_TRACK, Status.DUE_SOON, Status.BEHIND_PACE, Status.OVERDUE)
)
"""Statuses of an item that is under way and being chased: it owes progress reports and the
escalation ladder applies to it (not waiting, not before its window, not done)."""


class Edition(StrEnum):
    """Which series a briefing belongs to: each has its own numbering (第N期) within the year."""

    WEEK = "week"  # 工作简报, every week
    MONTH = "month"  # 月通报, after each month
    QUARTER = "quarter"  # 季度推进, after each quarter
