"""The Chinese words people read for duban's states and kinds: one table each, used by every writer.

Code, JSON and the database keep the English values; the terminal, workbooks, messages, digests,
briefings, reasons and the Prefect UI show these words. Nothing here imports more than
:mod:`models.enums`, so any writer may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from models.enums import Edition, ItemState, Light, Status

ITEM_STATES: dict[ItemState, str] = {
    ItemState.ASSIGNED: "已交办",
    ItemState.ACKNOWLEDGED: "已签收",
    ItemState.IN_PROGRESS: "推进中",
    ItemState.SUBMITTED: "已申请办结",
    ItemState.CLOSED: "已销号",
    ItemState.RETURNED: "已退回",
    ItemState.BLOCKED: "受阻",
    ItemState.EXTENDED: "已延期",
    ItemState.RETIRED: "已撤销",
}
"""A work item's state as its owner and the coordinator read it."""

MOVES: dict[ItemState, str] = {
    ItemState.ASSIGNED: "交办",
    ItemState.ACKNOWLEDGED: "签收",
    ItemState.IN_PROGRESS: "推进中",
    ItemState.SUBMITTED: "申请办结",
    ItemState.CLOSED: "销号",
    ItemState.RETURNED: "退回",
    ItemState.BLOCKED: "受阻",
    ItemState.EXTENDED: "延期",
    ItemState.RETIRED: "撤销",
}
"""A move into a state, as a verb (counted in collect summaries: 签收 3，推进中 5)."""

LIGHTS: dict[Light, str] = {
    Light.GRAY: "灰",
    Light.GREEN: "绿",
    Light.YELLOW: "黄",
    Light.RED: "红",
    Light.DONE_LATE: "逾期完成",
}
"""A light's short name, as a table column or a count (红 3，黄 2)."""

LIGHT_NAMES: dict[Light, str] = {
    light: word if light == Light.DONE_LATE else f"{word}灯" for light, word in LIGHTS.items()
}
"""A light's full name in prose (红灯, 黄灯 …; 逾期完成 stays as it is)."""

LIGHT_MEANINGS: dict[Light, str] = {
    Light.GREEN: "正常推进，或已按期完成",
    Light.YELLOW: "{n}个工作日内到期，或实际进度落后序时进度",
    Light.RED: "已超过完成时限仍未完成（逾期）",
    Light.GRAY: "未到办理期，或等待前置事项完成",
    Light.DONE_LATE: "超过时限后完成，单列统计，不计入按期完成",
}
"""What a work item's light means; ``{n}`` is the yellow window in working days."""

INDICATOR_LIGHT_MEANINGS: dict[Light, str] = {
    Light.GREEN: "已达到目标值",
    Light.YELLOW: "尚未达到目标值，目标期限未到",
    Light.RED: "目标期限已到仍未达到",
    Light.GRAY: "尚无单位报送数据",
}
"""What an indicator's light means."""

STATUSES: dict[Status, str] = {
    Status.NOT_STARTED: "未开始",
    Status.WAITING: "等待前置",
    Status.ON_TRACK: "正常推进",
    Status.DUE_SOON: "临近到期",
    Status.BEHIND_PACE: "进度滞后",
    Status.OVERDUE: "逾期",
    Status.DONE_ON_TIME: "按期完成",
    Status.DONE_LATE: "逾期完成",
}
"""Why an item has its light."""

REPORT_STATES: dict[str, str] = {
    "not_started": "未开始",
    "in_progress": "推进中",
    "done": "已完成",
    "blocked": "受阻",
}
"""What a unit may report about an item (:class:`domain.reporting.ReportState` values)."""

NOTICE_KINDS: dict[str, str] = {
    "ladder": "阶梯催办",
    "missing_report": "未报进展提醒",
    "behind_pace": "序时进度滞后提醒",
}
"""The kinds of notice the escalation plans."""

SENDING_STATES: dict[str, str] = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "skipped": "已跳过",
}
"""A notice's or a message's delivery state."""

ROLES: dict[str, str] = {
    "owner:liaison": "责任单位联络员",
    "owner:head": "责任单位负责人",
    "coordinator": "督办协调单位",
    "leadership": "县领导",
}
"""Who a ladder level tells, by role."""


def ladder_name(key: str) -> str:
    """A ladder of the escalation policy: ``default`` 默认阶梯, ``urgent`` 急办阶梯,
    ``override-0`` 专用阶梯1 …"""
    if key.startswith("override-"):
        return f"专用阶梯{int(key.removeprefix('override-')) + 1}"
    return {"default": "默认阶梯", "urgent": "急办阶梯"}.get(key, key)


CONTACT_ROLES: dict[str, str] = {"liaison": "联络员", "head": "负责人"}
"""A unit's contact, as a digest's salutation names it."""

CHANNELS: dict[str, str] = {"file": "文件", "smtp": "邮件", "apprise": "消息推送"}
"""How a message goes out."""

INBOX_OUTCOMES: dict[str, str] = {"landed": "入库", "rejected": "退回", "duplicate": "重复"}
"""What became of one report file of the inbox."""

CATALOG_KINDS: dict[str, str] = {
    "plan": "规划",
    "units": "单位",
    "tasks": "重点任务",
    "task units": "任务责任单位",
    "milestones": "节点",
    "milestone dependencies": "节点前后关系",
    "measures": "报送指标项",
    "indicators": "指标",
    "contacts": "联系人",
    "work items": "事项",
    "item windows": "事项办理期",
    "work item deadlines": "事项期限",
    "item dependencies": "事项前后关系",
    "item predecessors": "结转关联",
}
"""What a catalogue sync counts (the keys of :class:`domain.sync.SyncReport`'s counters)."""

CATALOG_FIELDS: dict[str, str] = {
    "title": "标题",
    "name": "名称",
    "description": "说明",
    "deliverable": "成果",
    "evidence": "佐证材料",
    "due": "完成时限",
    "start": "开始日期",
    "number": "序号",
    "kind": "类别",
    "weight": "权重",
    "urban": "城市社区",
    "division_code": "区划代码",
    "owner_unit_id": "责任单位",
    "task_id": "所属任务",
    "fan_out": "分解到",
    "responsibility": "责任方式",
    "rrule": "重复规则",
    "rrule_start": "重复起始",
    "rrule_end": "重复截止",
    "proposed": "拟议",
    "unit_of_measure": "计量单位",
    "type": "类型",
    "reported_by": "报送单位",
    "target_op": "目标比较",
    "target_value": "目标值",
    "aspirational": "力争",
    "numerator": "分子",
    "denominator": "分母",
    "factor": "系数",
    "scope": "范围",
    "carried_from_plan": "结转自规划",
    "carried_from_code": "结转自节点",
    "issuing_body": "印发机关",
    "period_start": "规划起始",
    "period_end": "规划截止",
    "timezone": "时区",
    "coordinator_code": "督办协调单位",
    "leadership_code": "领导单位",
    "declared_village_units": "规划所列村（社区）数",
    "reporting_cycle": "报送周期",
    "reporting_due": "报送截止",
    "briefing_title": "简报标题",
    "briefing_distribution": "简报报送范围",
    "close_out_workdays": "收尾期工作日数",
    "close_out_until": "收尾期截至",
}
"""A catalogue field, as a sync's change lines name it."""

CALENDAR_SOURCES: dict[str, str] = {
    "chinesecalendar": "国务院节假日安排",
    "override": "本地工作日调整文件",
    "fallback": "无节假日数据，按周一至周五推定",
}
"""Where a day of the working-day calendar comes from."""

FILE_KINDS: dict[str, str] = {
    "md": "Markdown",
    "html": "HTML",
    "docx": "Word",
    "chart:indicators": "指标图",
    "chart:tasks": "任务图",
}
"""The files of a briefing."""

APPROVALS: dict[str, str] = {
    "approved": "通过",
    "rejected": "未通过",
    "timed out": "超时未审核",
}
"""The coordinator's answer on a draft briefing."""

DEADLINE_CHANGES: dict[str, str] = {"extension": "批准延期", "catalog": "目录修改"}
"""Why a work item's deadline moved."""

EVIDENCE_KINDS: dict[str, str] = {
    "pdf": "PDF 文件",
    "jpg": "JPG 图片",
    "png": "PNG 图片",
    "docx": "Word 文档",
    "xlsx": "Excel 表格",
}
"""An evidence file's kind, sniffed from its content (the value is the stored extension)."""

EXTENSION_STATUSES: dict[str, str] = {
    "pending": "待审批",
    "approved": "已批准",
    "refused": "未批准",
}
"""Where a unit's 延期申请 stands."""

EDITION_NAMES: dict[Edition, str] = {
    Edition.WEEK: "工作简报",
    Edition.MONTH: "月通报",
    Edition.QUARTER: "季度推进",
}
"""The briefing's series (its edition), as a reader names it."""
EDITION_TITLES: dict[Edition, str] = {
    Edition.WEEK: "工作简报",
    Edition.MONTH: "月通报",
    Edition.QUARTER: "季度推进情况通报",
}
"""The end of the masthead's title in each series (the weekly one's 工作简报 replaced)."""
THIS_PERIOD: dict[Edition, str] = {
    Edition.WEEK: "本周",
    Edition.MONTH: "本月",
    Edition.QUARTER: "本季度",
}
LAST_PERIOD: dict[Edition, str] = {
    Edition.WEEK: "上周",
    Edition.MONTH: "上月",
    Edition.QUARTER: "上季度",
}
QUARTERS = "一二三四"


PROGRESS_SHEET = "进展填报"
MEASURE_SHEET = "指标数据"
"""The sheets of a unit's workbook a person fills in."""

ACTORS: dict[str, str] = {"catalog-sync": "目录同步", "duban flow": "督办流程"}
"""duban's own actors in an item's record (people are recorded by their names)."""

ASSESSMENT_PARTS: dict[str, str] = {
    "completion": "按期完成",
    "timeliness": "报送及时",
    "conduct": "规范办理",
    "overdue": "逾期扣分",
    "returned": "核验退回扣分",
    "late_extension": "到期后延期扣分",
    "early_extension": "到期前延期",
    "floor": "扣分封顶",
}
"""The lines of a unit's assessment (考评) score."""

ASSESSMENT_GROUPS: dict[str, str] = {
    "department": "县直部门",
    "township": "乡镇（含所辖村、社区）",
    "village": "村（社区）",
    "community": "村（社区）",
}
"""Who is ranked with whom in an assessment, by the assessed unit's kind."""

WEEKDAYS = "一二三四五六日"


def zh_date(day: date) -> str:
    """A date as prose: 2025-06-13 → 2025年6月13日 (the house style for dates in Chinese text)."""
    return f"{day.year}年{day.month}月{day.day}日"


def zh_weekday(day: date) -> str:
    """The day of the week: 星期五."""
    return f"星期{WEEKDAYS[day.weekday()]}"


def actor_name(actor: str) -> str:
    """Who did it, for a person to read: duban's own actors in Chinese, ``unit:zzb`` as the
    unit's report, anyone else as recorded."""
    if actor.startswith("unit:"):
        return f"{actor.removeprefix('unit:')}（单位报送）"
    return ACTORS.get(actor, actor)


def word(table: Mapping[Any, str], value: str) -> str:
    """``table[value]``, or the value itself when the table lacks it (a new kind shows up raw
    rather than crashing a report)."""
    return table.get(value, value)
