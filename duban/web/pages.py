"""Rendering the owner's pages: the Jinja2 templates of ``templates/web`` and the words of the
pages that stand alone (a dead link, a refused form, a fault)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from domain.queries.owner_actions import OFFERED_STATES
from domain.queries.owner_links import ROLE_NAMES
from domain.rules.glossary import EVIDENCE_KINDS, EXTENSION_STATUSES, ITEM_STATES, zh_date
from domain.rules.reporting import LABELS
from templates import TEMPLATES_DIR

WEB_TEMPLATES = TEMPLATES_DIR / "web"
STYLESHEET = WEB_TEMPLATES / "web.css"
ASK_AGAIN = "请等待下一次提醒（提醒中附有新的“点击填报”链接），或联系{coordinator}重新发送链接。"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates, HTML-escaped everywhere."""
    env = Environment(
        loader=FileSystemLoader(WEB_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["zh_date"] = zh_date
    env.filters["file_size"] = file_size
    env.globals.update(
        STATES={state.value: word for state, word in ITEM_STATES.items()},
        ROLES=ROLE_NAMES,
        REPORT_STATES=[(state.value, LABELS[state]) for state in OFFERED_STATES],
        KINDS=EVIDENCE_KINDS,
        EXTENSION_STATUSES=EXTENSION_STATUSES,
    )
    return env


def file_size(size: int) -> str:
    """A file's size as people read it: 350 KB, 2.4 MB."""
    if size < 1024:
        return f"{size} 字节"
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1048576:.1f} MB"


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A template as an HTML response."""
    html = environment().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status)


def message(prefix: str, status: int, heading: str, *lines: str) -> HTMLResponse:
    """A page that only says something: a heading and a few lines."""
    return render("message.html.j2", status, prefix=prefix, heading=heading, lines=list(lines))


def forged(prefix: str, coordinator: str) -> HTMLResponse:
    """403: a link duban did not make (edited, cut short in copying, or made up)."""
    return message(
        prefix,
        403,
        "链接无效",
        "这个链接不完整或已被改动，无法打开。复制链接时请完整复制。",
        ASK_AGAIN.format(coordinator=coordinator),
    )


def expired(prefix: str, coordinator: str, when: str) -> HTMLResponse:
    """410: a genuine link whose time is over."""
    return message(
        prefix,
        410,
        "链接已过期",
        f"这个链接的有效期已于 {when} 结束。",
        ASK_AGAIN.format(coordinator=coordinator),
    )


def revoked(prefix: str, coordinator: str) -> HTMLResponse:
    """410: a genuine link whose contact's links were revoked (or the contact changed)."""
    return message(
        prefix,
        410,
        "链接已停用",
        "这个链接已被停用（例如联系人变更或链接已收回）。",
        ASK_AGAIN.format(coordinator=coordinator),
    )


def cross_site(prefix: str) -> HTMLResponse:
    """403: a form that did not come from this page."""
    return message(
        prefix,
        403,
        "提交被拒绝",
        "这次提交不是从本页面发出的，未作任何改动。请重新打开提醒中的链接后再填报。",
    )


def not_found(prefix: str) -> HTMLResponse:
    """404: nothing here."""
    return message(
        prefix,
        404,
        "页面不存在",
        "没有找到这个页面。请打开提醒消息中的“点击填报”链接。",
    )


def not_the_units(prefix: str, home: str) -> HTMLResponse:
    """404: an item that is not one of this unit's open items."""
    return message(
        prefix,
        404,
        "事项不在本单位的在办事项中",
        "这个事项不属于本单位，或已办结、尚未开始。未作任何改动。",
        f"请返回本单位的事项列表：{home}",
    )


def fault(prefix: str) -> HTMLResponse:
    """500: duban's own fault; the person can only try again later."""
    return message(
        prefix,
        500,
        "系统暂时出错",
        "您提交的内容未保存。请稍后再试；如仍出错，请联系督办协调单位。",
    )


def too_many(prefix: str, per_minute: int) -> HTMLResponse:
    """429: this link sent more forms than a person would."""
    response = message(
        prefix,
        429,
        "提交过于频繁",
        f"这个链接一分钟内最多提交 {per_minute} 次，本次提交未保存。",
        "请稍等一分钟后返回页面重新提交。",
    )
    response.headers["Retry-After"] = "60"
    return response
