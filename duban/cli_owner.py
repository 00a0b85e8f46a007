"""Commands for what owners send from their page: ``duban extension-requests`` lists the 延期申请
waiting for the coordinator, and approves (the deadline moves as with ``duban extend``) or
refuses one."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from domain.rules.lifecycle import TransitionError
from duban.app import PlanOpt, app, out

requests_app = typer.Typer(
    help="延期申请（单位在填报页面提出）：列出待审批的申请，批准或不予批准。",
    invoke_without_command=True,
)
app.add_typer(requests_app, name="extension-requests")

RequestArg = Annotated[int, typer.Argument(help="延期申请编号（列表第一列）。", min=1)]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="审批人（必填，记入留痕）。")]


@requests_app.callback()
def extension_requests(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all", help="也列出已批准和未批准的申请。")] = False,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
) -> None:
    """列出待审批的延期申请（加 --all 列出全部）。"""
    if ctx.invoked_subcommand is not None:
        return
    from domain.queries.context import resolve_plan
    from domain.queries.extension_requests import PENDING, list_requests
    from domain.rules.glossary import EXTENSION_STATUSES, zh_date
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        found = list_requests(session, plan_row.id, status=None if every else PENDING)
    if as_json:
        payload = [r.model_dump(mode="json") for r in found]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    if not found:
        out.print("没有待审批的延期申请" if not every else "还没有延期申请", markup=False)
        return
    waiting = sum(r.status == PENDING for r in found)
    out.print(f"延期申请 {len(found)} 份（待审批 {waiting} 份）：", markup=False)
    for r in found:
        moved = f"（现时限 {zh_date(r.due)}）" if r.due != r.current_due else ""
        out.print(
            f"  {r.id:>4}  {EXTENSION_STATUSES[r.status]}  #{r.item_id} {r.milestone} {r.title}"
            f" — {r.unit_name}：{zh_date(r.current_due)}{moved} → 拟延期至 "
            f"{zh_date(r.proposed_due)}；原因：{r.reason}；申请人 {r.actor}，"
            f"{zh_date(r.requested_on)}",
            markup=False,
            soft_wrap=True,
        )
        if r.decided_by:
            why = f"：{r.decision_reason}" if r.decision_reason else ""
            out.print(f"        审批：{r.decided_by}{why}", markup=False, soft_wrap=True)
    if waiting:
        out.print(
            "批准：duban extension-requests approve 编号 --actor 审批人；"
            "不批准：duban extension-requests refuse 编号 --actor 审批人 --reason 理由",
            markup=False,
            soft_wrap=True,
        )


@requests_app.command("approve")
def approve(
    request_id: RequestArg,
    actor: ActorOpt = None,
    reason: Annotated[str | None, typer.Option(help="批准意见（默认：申请人及其理由）。")] = None,
) -> None:
    """批准：把事项的完成时限改为申请的日期（同 `duban extend`，原时限留档）。"""
    from domain.queries.extension_requests import approve_request
    from domain.rules.glossary import zh_date
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        row, old = approve_request(session, request_id, actor=_named(actor), reason=reason)
        item, new = row.item_id, row.proposed_due
    out.print(
        f"延期申请 {request_id} 已批准：事项 #{item} 完成时限 {zh_date(old)} → {zh_date(new)}",
        markup=False,
    )


@requests_app.command("refuse")
def refuse(
    request_id: RequestArg,
    actor: ActorOpt = None,
    reason: Annotated[
        str | None, typer.Option(help="不予批准的理由（必填，单位在页面上会看到）。")
    ] = None,
) -> None:
    """不予批准：完成时限不变，理由记入申请并显示在单位的页面上。"""
    from domain.queries.extension_requests import refuse_request
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        row = refuse_request(session, request_id, actor=_named(actor), reason=reason or "")
        item, why = row.item_id, row.decision_reason
    out.print(f"延期申请 {request_id} 未予批准（事项 #{item}）：{why}", markup=False)


def _named(actor: str | None) -> str:
    """The approver's name, refused when missing or blank (exit 2)."""
    if actor is None or not actor.strip():
        raise TransitionError("请用 --actor 写明审批人姓名（记入留痕）")
    return actor.strip()
