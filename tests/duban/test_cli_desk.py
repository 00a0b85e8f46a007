"""``duban queue`` lists what waits for the coordinator; ``duban evidence`` copies a kept file
out under its sender's name, checked against its checksum."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from config.errors import NotFoundError
from config.settings import Settings
from domain.adapters.evidence_store import store
from domain.queries.evidence_files import record_evidence
from duban.cli import app
from models import clock
from models.db import session_scope
from models.orm import WorkItem
from tests.fixtures.desk import at
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import AS_OF, BLOCK_REASON


def test_the_queue_lists_each_queue_with_its_total(queues: Engine) -> None:
    result = CliRunner().invoke(app, ["queue", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    text = result.output
    totals = ("待核验销号：共 2 项", "受阻：共 1 项", "延期申请：共 1 项", "退回待重报：共 1 项")
    assert all(line in text for line in totals), text
    assert f"问题：{BLOCK_REASON}" in text
    assert text.index("乙一村") < text.index("甲一村")  # 12-22 before 12-24: oldest first
    only = CliRunner().invoke(app, ["queue", "--as-of", AS_OF.isoformat(), "--queue", "受阻"])
    assert "受阻：共 1 项" in only.output and "待核验销号" not in only.output


def test_an_unknown_queue_is_refused_in_chinese(queues: Engine) -> None:
    result = CliRunner().invoke(app, ["queue", "--queue", "overdue"])
    assert result.exit_code == 2
    assert "应为其中之一：待核验销号、受阻、延期申请、退回待重报" in result.output


def test_evidence_is_copied_out_under_its_own_name(
    queues: Engine, settings: Settings, tmp_path: Path
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(picture, "PNG")
    kept = store(settings.resolved_evidence, picture.getvalue())
    item = item_id(queues, "M6", "v22")
    with clock.frozen_time(at(AS_OF)), session_scope(queues) as s:
        unit = s.get(WorkItem, item)
        assert unit is not None
        record, _ = record_evidence(
            s, plan_id="demo-plan", item_id=item, unit_id=unit.unit_id, contact_id=None,
            actor="孙八", name="../清单.png", kind=kept.kind.value, size=kept.size,
            sha256=kept.sha256, timezone="Asia/Shanghai",
        )  # fmt: skip
    out = tmp_path / "核验"
    for expected in ("清单.png", "清单（2）.png"):  # a second copy does not overwrite the first
        result = CliRunner().invoke(app, ["evidence", str(record.id), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert (out / expected).read_bytes() == picture.getvalue()
    missing = CliRunner().invoke(app, ["evidence", "999"])
    assert isinstance(missing.exception, NotFoundError)  # main() turns it into exit status 2
    assert str(missing.exception) == "没有编号为 999 的佐证材料"
