"""The coordinator's desk: the queues of items that wait for the coordinator (待核验销号, 受阻,
延期申请, 退回待重报), as view models and as the Markdown pages the daily cycle publishes
(pure functions, no database, no Prefect)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from domain.rules.evidence_links import evidence_url
from domain.rules.glossary import EVIDENCE_KINDS, zh_date
from domain.rules.markdown import md_escape

DESK_ROWS = 500
"""Rows a queue's page lists (the oldest); its total counts them all."""
TEXT_CHARS = 120
"""A unit's words (report, problem, reason) are cut to this many characters in a table cell."""


class Queue(StrEnum):
    """The coordinator's queues; the value is the artifact key's last part."""

    SUBMITTED = "submitted"
    BLOCKED = "blocked"
    EXTENSIONS = "extensions"
    RETURNED = "returned"


QUEUE_TITLES: dict[Queue, str] = {
    Queue.SUBMITTED: "待核验销号",
    Queue.BLOCKED: "受阻",
    Queue.EXTENSIONS: "延期申请",
    Queue.RETURNED: "退回待重报",
}
QUEUE_HINTS: dict[Queue, str] = {
    Queue.SUBMITTED: "单位已提交办结申请，等待核验：核验销号用 verify-item 表单或 "
    "`duban verify 事项编号`，材料不全用 return-item 表单或 `duban return 事项编号 "
    "--reason 理由` 退回。",
    Queue.BLOCKED: "单位报告受阻，需要协调解决；问题为单位原话（最近一次报送的“存在问题”或受阻时"
    "填写的原因）。",
    Queue.EXTENSIONS: "单位在事项页面提出的延期申请：批准用 `duban extension-requests approve "
    "申请编号 --actor 审批人`，不批准用 `duban extension-requests refuse 申请编号 --actor 审批人 "
    "--reason 理由`。",
    Queue.RETURNED: "已退回、等待单位重新报送的事项，附退回理由。",
}


def stored_path(sha256: str, kind: str) -> str:
    """Where an evidence file lives inside the evidence store: ``ab/cd/<sha256>.<kind>``."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{kind}"


class DeskFile(BaseModel):
    """One evidence file of an item: its record number, the name the sender gave, its kind
    (the stored extension), size and checksum."""

    id: int
    name: str
    kind: str
    size: int
    sha256: str
    received_on: date

    @property
    def relative_path(self) -> str:
        """The file's place inside the evidence store."""
        return stored_path(self.sha256, self.kind)


class DeskUnit(BaseModel):
    """The responsible unit with its township (乡镇; 县直 for a county department) and the
    person to call (a liaison first, else the unit's head), when the catalogue names one."""

    code: str
    name: str
    township: str
    township_code: str
    """The township's unit code ("" for a county department): one township's units sort together."""
    contact: str | None
    phone: str | None

    @property
    def order(self) -> tuple[str, str]:
        """Sort key: county departments first, then township by township, unit by unit."""
        return (self.township_code, self.code)


class DeskItem(BaseModel):
    """An item in a queue: since when it waits (the day of the move into the queue's state, in
    working days up to the day), who moved it and why, and the unit's latest report."""

    id: int
    task: str
    milestone: str
    title: str
    unit: DeskUnit
    due: date
    percent: int
    since: date
    waiting: int
    actor: str
    reason: str | None
    report_on: date | None
    report_note: str | None
    report_problem: str | None
    files: list[DeskFile]


class DeskRequest(BaseModel):
    """A pending 延期申请 with its item and unit."""

    id: int
    item_id: int
    task: str
    milestone: str
    title: str
    unit: DeskUnit
    actor: str
    due: date
    proposed_due: date
    reason: str
    since: date
    waiting: int


class Desk(BaseModel):
    """The four queues on one day: each queue's total and its oldest rows (at most ``limit``)."""

    plan: str
    as_of: date
    totals: dict[Queue, int]
    submitted: list[DeskItem]
    blocked: list[DeskItem]
    returned: list[DeskItem]
    extensions: list[DeskRequest]


def short(text: str | None, chars: int = TEXT_CHARS) -> str:
    """One line of at most ``chars`` characters (an ellipsis marks the cut); — for nothing."""
    flat = " ".join((text or "").split())
    if not flat:
        return "—"
    return flat if len(flat) <= chars else flat[: chars - 1] + "…"


def problem_of(item: DeskItem) -> str:
    """A blocked item's problem in the unit's words: its latest report's 存在问题 when that came
    after the block, else the reason given with the move to 受阻."""
    if item.report_problem and item.report_on is not None and item.report_on >= item.since:
        return item.report_problem
    return item.reason or item.report_problem or ""


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / (1024 * 1024):.1f} MB"


def file_lines(f: DeskFile, root: str) -> list[str]:
    """How a file shows under its item: its number, name, kind and size with the command that
    copies it out under its own name; then the folder it is kept in and its stored name (the
    SHA-256), each a line of its own (one long unbroken path would run out of a narrow window)."""
    folder, _, stored = (root.rstrip("/") + "/" + f.relative_path).rpartition("/")
    return [
        f"佐证 {f.id}：{md_escape(f.name)}（{_about(f)}） — `duban evidence {f.id}`",
        f"存放目录：{md_escape(folder)}/",
        f"文件名（SHA-256）：{md_escape(stored)}",
    ]


def linked_file_line(f: DeskFile, url: str) -> str:
    """A file as a link the coordinator clicks to open it, with its kind, size and day."""
    return f"佐证 {f.id}：[{md_escape(f.name)}]({url})（{_about(f)}）"


def _about(f: DeskFile) -> str:
    return f"{EVIDENCE_KINDS.get(f.kind, f.kind)}，{_size(f.size)}，{f.received_on}"


@dataclass(frozen=True)
class FileLinks:
    """Links to the submitted items' evidence files (by file number), working until ``until``
    (the last day, in the plan's zone)."""

    urls: Mapping[int, str]
    until: date


def evidence_links(desk: Desk, base_url: str, secret: bytes, expires: datetime) -> dict[int, str]:
    """A signed link on the owner's site at ``base_url`` for each file of the submitted items."""
    return {
        f.id: evidence_url(base_url, secret, f.id, expires) for i in desk.submitted for f in i.files
    }


def _who(u: DeskUnit) -> str:
    person = " ".join(p for p in (u.contact, u.phone) if p)
    return md_escape(f"{u.township} {u.name}" + (f"（联系人 {person}）" if person else ""))


def _heading(queue: Queue, total: int, shown: int, as_of: date) -> list[str]:
    more = f"，下面列出等待最久的 {shown} 项" if shown < total else ""
    return [
        f"# {QUEUE_TITLES[queue]}：共 {total} 项",
        "",
        f"截至 {as_of.isoformat()}，按等待时间排列，等待最久的在前{more}。{QUEUE_HINTS[queue]}",
        "",
    ]


def _entry(i: DeskItem, since: str) -> str:
    """An item's first line: number, milestone, unit and how long it has waited (a list item
    wraps where a wide table would be cut off in the Prefect UI)."""
    return (
        f"- **#{i.id}** {i.milestone} {md_escape(i.title)} — {_who(i.unit)}；"
        f"{i.since.isoformat()} {since}，已 {i.waiting} 个工作日；到期日 {i.due.isoformat()}"
    )


def submitted_page(desk: Desk, evidence_root: str, links: FileLinks | None = None) -> str:
    """待核验销号: each submitted item with its unit, days waiting, the unit's latest report and
    its evidence files: as links when ``links`` are given (the owner's site serves them), else
    with the command that copies each out of ``evidence_root``."""
    lines = _heading(Queue.SUBMITTED, desk.totals[Queue.SUBMITTED], len(desk.submitted), desk.as_of)
    if not desk.submitted:
        return "\n".join([*lines, "目前没有等待核验的事项。"]) + "\n"
    for i in desk.submitted:
        report = "未报送" if i.report_on is None else f"{i.report_on}：{short(i.report_note)}"
        lines += [_entry(i, "申请办结"), f"    - 进展情况：{md_escape(report)}"]
        for f in i.files:
            if links is not None and f.id in links.urls:
                lines.append(f"    - {linked_file_line(f, links.urls[f.id])}")
                continue
            first, *more = file_lines(f, evidence_root)
            lines += [f"    - {first}", *(f"        - {line}" for line in more)]
        if not i.files:
            lines.append("    - 佐证材料：未上传文件")
    lines.append("")
    if links is not None:
        lines.append(
            f"点击文件名即可打开或下载（链接有效至 {zh_date(links.until)}，之后请看最新一期清单）；"
            "也可用 `duban evidence 佐证编号` 把文件复制到当前目录。"
        )
    else:
        lines.append(
            "`duban evidence 佐证编号` 把文件核对校验和后按原名复制到当前目录，以便打开查看。"
        )
    return "\n".join(lines) + "\n"


def blocked_page(desk: Desk) -> str:
    """受阻: each blocked item with its unit, days blocked and the problem in the unit's words."""
    lines = _heading(Queue.BLOCKED, desk.totals[Queue.BLOCKED], len(desk.blocked), desk.as_of)
    if not desk.blocked:
        return "\n".join([*lines, "目前没有受阻的事项。"]) + "\n"
    for i in desk.blocked:
        lines += [_entry(i, "起受阻"), f"    - 存在问题：{md_escape(short(problem_of(i)))}"]
    return "\n".join(lines) + "\n"


def returned_page(desk: Desk) -> str:
    """退回待重报: each returned item with its unit, days since the return and the reason."""
    lines = _heading(Queue.RETURNED, desk.totals[Queue.RETURNED], len(desk.returned), desk.as_of)
    if not desk.returned:
        return "\n".join([*lines, "目前没有退回待重报的事项。"]) + "\n"
    for i in desk.returned:
        reason = f"{i.actor}退回：{short(i.reason)}"
        lines += [_entry(i, "退回"), f"    - 退回理由：{md_escape(reason)}"]
    return "\n".join(lines) + "\n"


def extensions_page(desk: Desk) -> str:
    """延期申请: each pending request with its item, unit, the dates and the unit's reason."""
    total = desk.totals[Queue.EXTENSIONS]
    lines = _heading(Queue.EXTENSIONS, total, len(desk.extensions), desk.as_of)
    if not desk.extensions:
        return "\n".join([*lines, "目前没有待审批的延期申请。"]) + "\n"
    for r in desk.extensions:
        lines += [
            f"- **申请 {r.id}** 事项 #{r.item_id} {r.milestone} {md_escape(r.title)} — "
            f"{_who(r.unit)}；{r.since.isoformat()} 由{md_escape(r.actor)}提出，"
            f"已等待 {r.waiting} 个工作日",
            f"    - 现到期日 {r.due.isoformat()}，拟延期至 {r.proposed_due.isoformat()}；"
            f"理由：{md_escape(short(r.reason))}",
        ]
    return "\n".join(lines) + "\n"


def desk_summary(desk: Desk) -> str:
    """One line with each queue's total, for the log and the CLI."""
    return "，".join(f"{QUEUE_TITLES[q]} {desk.totals[q]} 项" for q in Queue)
