"""The assessment-report flow on a real Prefect server: the notice is a keyed artifact the UI
lists, and the run, approved automatically, sends it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from config.settings import get_settings, temporary_settings
from duban.orchestration import prefect_client
from models.clock import frozen_time
from tests.domain.test_assessment import TZ, assessed  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def test_the_notice_is_an_artifact_and_is_sent(assessed: Engine, prefect_api: str) -> None:  # noqa: F811
    """Run for 2021-Q4 on 2022-01-04 with automatic approval: the artifact
    ``assess-plan-assessment-2021-q4`` holds the notice, and it went to leadership."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        ArtifactCollectionFilter,
        ArtifactCollectionFilterKey,
    )

    from flows.assessment_report import assessment_report  # noqa: PLC0415

    key = "assess-plan-assessment-2021-q4"
    with (
        temporary_settings(prefect_api_url=prefect_api),
        prefect_client(get_settings()),
        frozen_time(datetime(2022, 1, 4, 10, tzinfo=ZoneInfo(TZ))),
    ):
        result = assessment_report(
            plan_id="assess-plan", as_of=date(2022, 1, 4), period="2021-Q4", approval="auto"
        )
        with get_client(sync_client=True) as client:
            found: list[Any] = client.read_latest_artifacts(
                artifact_filter=ArtifactCollectionFilter(
                    key=ArtifactCollectionFilterKey(any_=[key])
                )
            )
    assert result == {"period": "2021-Q4", "number": "考评〔2022〕1号", "sent": 1,
                      "approval": "approved"}  # fmt: skip
    [artifact] = found
    assert artifact.type == "markdown"
    assert "关于2021年第四季度规划实施考评情况的通报" in artifact.data
    assert "| 1 |甲镇 |83.4 |" in artifact.data
