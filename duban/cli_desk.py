"""The coordinator's desk on the command line: ``duban queue`` lists what waits for the
coordinator (the daily cycle's queue pages), ``duban evidence`` copies an evidence file out of
the store under the name its sender gave, to open it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from duban.app import AsOf, PlanOpt, app, out
from duban.cli_words import BadOption
from duban.dates import parse_date

if TYPE_CHECKING:
    from domain.rules.desk import Desk, DeskItem, Queue

QueueOpt = Annotated[
    str | None,
    typer.Option(
        "--queue",
        help="只看一个队列：待核验销号、受阻、延期申请或退回待重报。",
    ),
]


@app.command()
def queue(
    which: QueueOpt = None,
    as_of: AsOf = None,
    plan: PlanOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="机器可读的输出。")] = False,
) -> None:
    """督办待办：待核验销号、受阻、延期申请、退回待重报，各自的总数，等待最久的在前。"""
    from config.settings import get_settings
    from domain.queries.context import build_context, resolve_plan
    from domain.queries.desk import desk
    from domain.rules.context import LightPolicy
    from domain.rules.desk import QUEUE_TITLES, Queue
    from duban.database import ready_engine
    from models import clock
    from models.db import session_scope

    by_name = {title: q for q, title in QUEUE_TITLES.items()} | {q.value: q for q in Queue}
    if which is not None and which not in by_name:
        wanted = "、".join(QUEUE_TITLES.values())
        raise BadOption(f"应为其中之一：{wanted}", param_hint="--queue")
    chosen = [by_name[which]] if which else list(Queue)
    settings = get_settings()
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        day = parse_date(as_of) or clock.today(plan_row.timezone)
        policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
        found = desk(session, build_context(session, plan_row.id, day, policy))
    if as_json:
        payload = found.model_dump(mode="json")
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    out.print(f"督办待办（截至 {day.isoformat()}，等待最久的在前）", markup=False)
    for q in chosen:
        total = found.totals[q]
        out.print(f"\n{QUEUE_TITLES[q]}：共 {total} 项", markup=False)
        for line in _lines(found, q, str(settings.resolved_evidence)):
            out.print(f"  {line}", markup=False, soft_wrap=True)


def _lines(found: Desk, q: Queue, root: str) -> list[str]:
    """A queue's rows, one line each (a submitted item's files on lines of their own)."""
    from domain.rules.desk import Queue, problem_of, short

    if q is Queue.EXTENSIONS:
        return [
            f"申请 {r.id}  #{r.item_id} {r.milestone} {r.title} — {r.unit.township} {r.unit.name}"
            f"：{r.due} → 拟延期至 {r.proposed_due}；原因：{short(r.reason)}"
            f"；{r.actor}，已等待 {r.waiting} 个工作日"
            for r in found.extensions
        ]
    items: list[DeskItem] = {
        Queue.SUBMITTED: found.submitted,
        Queue.BLOCKED: found.blocked,
        Queue.RETURNED: found.returned,
    }[q]
    lines = []
    for i in items:
        person = " ".join(p for p in (i.unit.contact, i.unit.phone) if p)
        who = f"（{person}）" if person else ""
        head = (
            f"#{i.id} {i.milestone} {i.title} — {i.unit.township} {i.unit.name}{who}，"
            f"{i.since.isoformat()} 起已等待 {i.waiting} 个工作日"
        )
        if q is Queue.SUBMITTED:
            report = f"{i.report_on}：{short(i.report_note)}" if i.report_on else "未报送"
            lines.append(f"{head}；进展：{report}")
            lines += [
                f"    佐证 {f.id}：{f.name} → duban evidence {f.id}（{root}/{f.relative_path}）"
                for f in i.files
            ] or ["    未上传佐证材料"]
        elif q is Queue.BLOCKED:
            lines.append(f"{head}；问题：{short(problem_of(i))}")
        else:
            lines.append(f"{head}；{i.actor}退回：{short(i.reason)}")
    return lines


@app.command()
def evidence(
    file_id: Annotated[
        int, typer.Argument(help="佐证材料编号（督办待办中“佐证”后的数字）。", min=1)
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="复制到哪个文件夹（默认：当前文件夹）。")
    ] = Path(),
) -> None:
    """取出佐证材料：把单位上传的文件按原名复制出来（先核对校验和），以便打开查看。"""
    from config.errors import NotFoundError
    from config.settings import get_settings
    from domain.adapters.evidence_store import EvidenceKind, EvidenceRefusedError, open_stored
    from domain.queries.desk import desk_file
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        f = desk_file(session, file_id)
    try:
        data = open_stored(get_settings().resolved_evidence, f.sha256, EvidenceKind(f.kind))
    except FileNotFoundError:
        raise NotFoundError(
            f"佐证材料 {file_id} 的文件不在存放目录中（{get_settings().resolved_evidence}）"
        ) from None
    except EvidenceRefusedError as exc:
        raise NotFoundError(f"佐证材料 {file_id}：{exc}") from None
    target = _free_name(out_dir, f.name, f.kind)
    target.write_bytes(data)
    out.print(f"已取出佐证材料 {file_id}：{target}", markup=False, soft_wrap=True)


def _free_name(folder: Path, name: str, kind: str) -> Path:
    """A path in ``folder`` named after the sender's file (its last part only, with the stored
    kind as extension) that does not exist yet."""
    stem = Path(Path(name).name).stem.strip(". ") or "佐证材料"
    folder.mkdir(parents=True, exist_ok=True)
    target, n = folder / f"{stem}.{kind}", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}（{n}）.{kind}"
    return target
