"""The final evaluation as a leader holds it: the Word file printed to PDF by LibreOffice reads
as the report (title, the seven headings in order, the charts' captions, the coordinator's
conclusions, each annex on pages of its own) on a few pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from domain.queries.context import resolve_plan
from domain.services.evaluation import write_evaluation
from models.db import session_scope
from models.orm import Unit
from models.records import Measure, MeasureValue
from tests.domain.test_briefing_print import printed_pages
from tests.domain.test_completeness import report_on
from tests.fixtures.context import context_of
from tests.fixtures.plan_week import item_id as item

END = date(2025, 12, 31)
HEADINGS = [
    "一、总体情况",
    "二、指标完成情况",
    "三、重点任务完成情况",
    "四、未办结事项及原因",
    "五、各单位反映的主要问题",
    "六、逐年按期完成和报送情况",
    "七、评估结论和建议",
]


def measures(engine: Engine) -> None:
    """Each village's households and facility area at the end of 2021 and of 2024."""
    with session_scope(engine) as session:
        ids = dict(session.execute(select(Measure.code, Measure.id)).all())
        villages = session.scalars(select(Unit.id).where(Unit.kind.in_(["village", "community"])))
        rows = [
            {
                "plan_id": "demo-plan",
                "measure_id": ids[code],
                "unit_id": unit,
                "value": value * (1 + step),
                "received_at": datetime(2021 + 3 * step, 12, 30, tzinfo=UTC),
                "received_on": date(2021 + 3 * step, 12, 30),
            }
            for unit in villages
            for step in (0, 1)
            for code, value in (("households", 200.0), ("facility_area", 50.0))
        ]
        session.execute(insert(MeasureValue), rows)


@pytest.fixture
def printed(synced: Engine, tmp_path: Path) -> list[str]:
    report_on(date(2021, 6, 25), item(synced, "M1", "zzb"), "zzb", 40)
    measures(synced)
    with session_scope(synced) as session:
        plan = resolve_plan(session, None)
        written = write_evaluation(
            session,
            plan,
            context_of(session, END),
            formats=["docx"],
            out=tmp_path / "out",
            fonts="official",
            conclusions=[
                "（一）主要成效",
                "服务设施基本覆盖。",
                "（二）存在不足",
                "机制尚未健全。",
            ],
        )
    assert set(written.charts) == {"indicator_years", "years"}
    return printed_pages(written.files["docx"], tmp_path)


def test_the_printed_report_reads_in_order_on_a_few_pages(printed: list[str]) -> None:
    text = "\n".join(printed)
    flat = re.sub(r"\s+", "", text)
    assert "《示例规划》实施终期评估报告" in flat
    places = [flat.find(h) for h in HEADINGS]
    assert -1 not in places and places == sorted(places)
    assert "图1各项指标逐年完成情况" in flat and "图2逐年按期完成率和报送及时率" in flat
    assert "服务设施基本覆盖。" in flat and "待协调员填写" not in flat
    annexes = [n for n, page in enumerate(printed) if re.match(r"\s*附件\s*\d\n", page)]
    assert len(annexes) == 2 and annexes[-1] == len(printed) - 1
    assert 3 <= len(printed) <= 8
    assert all(re.search(rf"—\s*{n}\s*—", page) for n, page in enumerate(printed, 1))
