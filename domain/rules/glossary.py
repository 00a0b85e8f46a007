"""The Chinese words people read for duban's states: one table each, used by every writer.

Code, JSON and the database keep the English values; workbooks, messages, digests and reasons
show these words.
"""

from __future__ import annotations

from models.enums import ItemState

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
