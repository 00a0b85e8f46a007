"""What the delivery stage says when it waits: the time now in the plan's zone, which is what
decides, and not the day the run is for."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from flows.common import outside_delivery_hours
from models.clock import frozen_time


def test_a_waiting_delivery_names_the_real_time_in_the_plans_zone(synced: Engine) -> None:
    with frozen_time(datetime(2026, 12, 6, 7, 2, tzinfo=UTC)):  # a Sunday, 15:02 in Shanghai
        said = outside_delivery_hours("demo-plan", "08:30-18:00")
    assert said == (
        "发送：现在是2026年12月6日星期日 15:02，不在发送时段（工作日 08:30-18:00），"
        "提醒留在发件箱，到发送时段再发"
    )
