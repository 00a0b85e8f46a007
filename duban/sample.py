"""A realistic, clearly labelled sample inbox for the main job (SAMPLE DATA, not real reports).

Over several weekly cycles a few dozen units fill in the workbooks duban generated for them:
most on time, some a week late, some not at all; some report problems; villages report their
indicator measures once; one township's file is malformed on purpose, to show a rejection.
Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.adapters import signing
from domain.rules.glossary import MEASURE_SHEET, PROGRESS_SHEET
from domain.rules.reporting import LABELS, ReportState
from domain.services.workbooks import HEADER_ROW, unit_items, write_workbook
from duban.sample_cast import sample_cast
from models.orm import Plan, Unit, WorkItem
from models.records import Contact

PROBLEMS = [
    "资金未到位，等待县财政拨付",
    "场地选址与村庄规划冲突，需自然资源局协调",
    "人员调整，联络员更换后交接未完成",
    "部分村民对方案有不同意见，正在入户沟通",
    "上级文件尚未下发，具体标准不明确",
]
NOTES = [
    "已召开专题会议部署",
    "已完成方案初稿",
    "正在组织实施",
    "已完成过半",
    "已基本完成，正在整理材料",
]


def fill_workbook(
    path: Path, rows: dict[int, dict[str, Any]], measures: dict[str, Any] | None = None
) -> None:
    """Fill a generated workbook as a unit would: by item id, in the input columns only."""
    book = openpyxl.load_workbook(path)
    sheet = book[PROGRESS_SHEET]
    column = {c.value: int(c.column or 0) for c in sheet[HEADER_ROW]}
    names = {
        "state": "本期状态",
        "percent": "本期进度%",
        "note": "进展情况",
        "problem": "存在问题",
        "next_steps": "下步计划",
        "evidence": "佐证材料",
    }
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        item = sheet.cell(row=row, column=column["事项编号"]).value
        if item in rows:
            for key, value in rows[int(str(item))].items():
                sheet.cell(row=row, column=column[names[key]], value=value)
    if measures:
        msheet = book[MEASURE_SHEET]
        mcolumn = {c.value: int(c.column or 0) for c in msheet[HEADER_ROW]}
        for row in range(HEADER_ROW + 1, msheet.max_row + 1):
            code = msheet.cell(row=row, column=mcolumn["指标项代码"]).value
            if code in measures:
                msheet.cell(row=row, column=mcolumn["本期值"], value=measures[str(code)])
    book.save(path)


def village_measures(rng: random.Random, unit: Unit) -> dict[str, Any]:
    """Plausible measures for a village or community (areas in m², people, households)."""
    households = rng.randint(280, 1400)
    facility = round(households * rng.uniform(0.18, 0.45)) if rng.random() < 0.93 else 0
    values: dict[str, Any] = {
        "households": households,
        "has_service_facility": "是" if facility else "否",
        "facility_area": facility,
        "activity_area": round(facility * rng.uniform(0.45, 0.75)),
    }
    if unit.urban:
        population = round(households * rng.uniform(2.6, 3.4))
        building = rng.randint(60_000, 220_000)
        values |= {
            "urban_population": population,
            "community_workers": max(1, round(population / 10_000 * rng.uniform(9, 22))),
            "total_building_area": building,
            "commercial_service_area": round(building * rng.uniform(0.06, 0.14)),
            "has_self_service_terminal": "是" if rng.random() < 0.6 else "否",
        }
    return values


SAMPLE_PHONE = "0875-0000000"
"""The coordinating unit's sample liaison's phone (a placeholder, not a real number)."""


def add_sample_contacts(session: Session, plan: Plan) -> int:
    """A sample liaison (联络员) and head (负责人) for every unit that has none, without mail
    addresses (their digests go to the outbox folder); the coordinating unit's liaison gets a
    placeholder phone. Returns how many contacts were added."""
    with_contacts = set(session.scalars(select(Contact.unit_id).distinct()))
    added = 0
    for unit in session.scalars(select(Unit).where(Unit.plan_id == plan.id).order_by(Unit.id)):
        if unit.id in with_contacts:
            continue
        phone = SAMPLE_PHONE if unit.code == plan.coordinator_code else None
        session.add(Contact(unit_id=unit.id, name="示例联络员", role="liaison", phone=phone))
        session.add(Contact(unit_id=unit.id, name="示例负责人", role="head"))
        added += 2
    session.flush()
    return added


@dataclass(frozen=True)
class WebVisit:
    """What one unit enters on its page in one week: rows as :func:`progress_rows` makes them."""

    unit_code: str
    rows: dict[int, dict[str, Any]]


@dataclass(frozen=True)
class SampleBatch:
    """What arrives in one week: the files to be collected on ``collect_on``, the units that
    answer on their page that day instead, and a workbook that comes by mail (it waits outside
    the inbox)."""

    collect_on: date
    folder: Path
    files: int
    web: tuple[WebVisit, ...] = ()
    mailed: Path | None = None


def write_sample_inbox(
    session: Session,
    plan: Plan,
    out: Path,
    *,
    last_friday: date,
    weeks: int = 6,
    web_weeks: int = 5,
    mail: bool = True,
    seed: int = 2021,
) -> list[SampleBatch]:
    """Write ``weeks`` weekly batches ending on ``last_friday``; returns them in order. The
    cast's web units answer on their page in the last ``web_weeks`` weeks; with ``mail``, the
    mailer's last workbook waits in ``out/mail`` (:mod:`duban.sample_cast`)."""
    rng = random.Random(seed)
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.plan_id == plan.id))}
    cast = sample_cast(((u.code, u.kind, u.urban) for u in units.values()), rng)
    fridays = [last_friday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    batches = {f: out / f"{f.isoformat()}-week" for f in fridays}
    visits: dict[date, list[WebVisit]] = {f: [] for f in fridays}
    mailed: Path | None = None
    progress: dict[int, int] = {}
    for week, friday in enumerate(fridays):
        period = friday - timedelta(days=4)  # the Monday the workbook was sent out
        for unit in (units[c] for c in cast.reporting):
            if unit.code in cast.silent and week % 2 == 1:
                continue
            if unit.code in cast.web and week >= weeks - web_weeks:
                ids = [int(str(i[0])) for i in unit_items(session, plan, unit, period)]
                visits[friday].append(WebVisit(unit.code, progress_rows(rng, ids, progress)))
                continue
            arrives = (
                friday
                if unit.code not in cast.late or week == weeks - 1
                else (friday + timedelta(weeks=1))
            )
            folder = batches.get(arrives, batches[fridays[-1]])
            if mail and unit.code == cast.mailer and week == weeks - 1:
                folder = out / "mail"
            staging = out / ".staging"
            made = write_workbook(session, plan, unit, period, staging)
            rows = progress_rows(rng, workbook_ids(made.path), progress)
            measures = village_measures(rng, unit) if made.measures and week == 0 else None
            fill_workbook(made.path, rows, measures)
            folder.mkdir(parents=True, exist_ok=True)
            arrived = made.path.rename(folder / f"{week + 1:02d}-{made.path.name}")
            mailed = arrived if folder == out / "mail" else mailed
    _malformed(out, batches[fridays[-2]], session, plan)
    _csv_and_json(batches[fridays[-1]], session, plan)
    if (out / ".staging").exists():
        (out / ".staging").rmdir()
    (out / "README.txt").write_text(
        "SAMPLE DATA generated by duban for its demonstration (样例数据，非真实报送)。\n"
        "Each folder is one week's arrivals, collected on the Friday of its name.\n",
        encoding="utf-8",
    )
    return [
        SampleBatch(
            f,
            batches[f],
            len(list(batches[f].glob("*"))),
            tuple(visits[f]),
            mailed if f == fridays[-1] else None,
        )
        for f in fridays
        if batches[f].exists()
    ]


def workbook_ids(path: Path) -> list[int]:
    """The item ids of a generated workbook, in its row order."""
    book = openpyxl.load_workbook(path, read_only=True)
    ids = [
        int(str(r[0]))
        for r in book[PROGRESS_SHEET].iter_rows(min_row=HEADER_ROW + 1, values_only=True)
        if r[0] is not None
    ]
    book.close()
    return ids


def progress_rows(
    rng: random.Random, ids: list[int], progress: dict[int, int]
) -> dict[int, dict[str, Any]]:
    """What a unit enters this week on its items (by id), continuing ``progress``."""
    rows: dict[int, dict[str, Any]] = {}
    for item in ids:
        if rng.random() < 0.25:
            continue  # nothing new on this item this week
        before = progress.get(item, 0)
        if before >= 100:
            continue
        step = rng.choice([0, 10, 20, 30, 50])
        now = min(100, before + step)
        if rng.random() < 0.08 and before:
            rows[item] = {
                "state": LABELS[ReportState.BLOCKED],
                "percent": before,
                "problem": rng.choice(PROBLEMS),
                "next_steps": "已报请协调单位协调",
            }
            continue
        state = (
            ReportState.DONE
            if now == 100
            else ReportState.IN_PROGRESS
            if now
            else (ReportState.NOT_STARTED)
        )
        row: dict[str, Any] = {
            "state": LABELS[state],
            "percent": now,
            "note": rng.choice(NOTES) if now else "已签收，尚未启动",
        }
        if state == ReportState.DONE:
            row["evidence"] = "会议纪要、印发文件 (已上传至共享盘)"
        if rng.random() < 0.12:
            row["problem"] = rng.choice(PROBLEMS)
        rows[item] = row
        progress[item] = now
    return rows


def _malformed(out: Path, folder: Path, session: Session, plan: Plan) -> None:
    """A township's workbook with typing mistakes: percent 150, a state nobody offers."""
    unit = session.scalars(
        select(Unit).where(Unit.plan_id == plan.id, Unit.code == "530521204")
    ).one()
    made = write_workbook(session, plan, unit, date.fromisoformat(folder.name[:10]), out)
    book = openpyxl.load_workbook(made.path)
    sheet = book[PROGRESS_SHEET]
    first = HEADER_ROW + 1
    sheet.cell(row=first, column=8, value="推进中")
    sheet.cell(row=first, column=9, value=150)
    sheet.cell(row=first + 1, column=8, value="差不多了")
    book.save(made.path)
    folder.mkdir(parents=True, exist_ok=True)
    made.path.rename(folder / f"99-{made.path.name}")


def _csv_and_json(folder: Path, session: Session, plan: Plan) -> None:
    """One report by CSV saved from Chinese Excel (GBK) and one by JSON, as other systems send;
    both from duban's signed templates (each row keeps its 签名)."""
    folder.mkdir(parents=True, exist_ok=True)
    period = date.fromisoformat(folder.name[:10]) - timedelta(days=4)
    unit = session.scalars(select(Unit).where(Unit.plan_id == plan.id, Unit.code == "zwj")).one()
    with (folder / "zwj-政务服务管理局.csv").open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["单位代码", "报送期", "事项编号", "本期状态", "本期进度%", "进展情况", "签名"]
        )
        for item in _open_items(session, plan, unit)[:2]:
            signature = signing.sign_row(plan.id, unit.code, period, f"item:{item}")
            writer.writerow(
                [unit.code, f"{period:%Y/%m/%d}", item, "推进中", 40, "事项清单梳理中", signature]
            )
    unit = session.scalars(select(Unit).where(Unit.plan_id == plan.id, Unit.code == "sfj")).one()
    items = _open_items(session, plan, unit)
    if items:
        payload = {
            "unit": unit.code,
            "period": period.isoformat(),
            "reports": [
                {
                    "item": items[0],
                    "state": "in_progress",
                    "percent": 30,
                    "note": "人民调解员培训中",
                    "signature": signing.sign_row(plan.id, unit.code, period, f"item:{items[0]}"),
                }
            ],
        }
        (folder / "sfj-司法局.json").write_text(
            json.dumps(payload, ensure_ascii=False), encoding="utf-8"
        )


def _open_items(session: Session, plan: Plan, unit: Unit) -> list[int]:
    return list(
        session.scalars(
            select(WorkItem.id)
            .where(
                WorkItem.plan_id == plan.id,
                WorkItem.unit_id == unit.id,
                WorkItem.state.not_in(["submitted", "closed", "retired"]),
            )
            .order_by(WorkItem.due)
        )
    )
