"""Two plans served together: each plan's briefings and actions under its own id, and one daily
cycle and one backup for both, so a day's reminders go out once (one digest per recipient)."""

from __future__ import annotations

from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from config.settings import Settings, get_settings
from duban import scheduler as embedded
from flows.deployments import deployments_for


def test_two_plans_share_one_daily_cycle_and_one_backup(tmp_path: Path) -> None:
    """Eleven deployments a plan, less its daily cycle and backup, plus the two shared ones,
    named 全部规划 and tagged with both plans; the shared daily cycle names no plan."""
    settings = Settings(home=tmp_path)
    found = {d.name: d for d in deployments_for(settings, ["old-plan", "new-plan"])}
    assert len(found) == 2 * (11 - 2) + 2
    shared = found["每日督办 · 全部规划"]
    assert shared.parameters == {} and set(shared.tags) == {"old-plan", "new-plan"}
    assert "夜间备份 · 全部规划" in found
    for plan in ("old-plan", "new-plan"):
        assert found[f"每周简报 · {plan}"].parameters == {"plan_id": plan}
        assert f"每日督办 · {plan}" not in found and f"核验销号 · {plan}" in found
        assert f"考评通报 · {plan}" in found
    one = {d.name for d in deployments_for(settings, ["old-plan"])}
    assert "每日督办 · old-plan" in one and len(one) == 11


def test_the_embedded_scheduler_runs_the_daily_cycle_once_for_both(engine: Engine) -> None:
    """The APScheduler jobs: one daily cycle and one backup with no plan, each briefing per plan."""
    runner = BackgroundScheduler()
    embedded.configure(runner, engine, get_settings(), ["new-plan", "old-plan"], "holder-1")
    runner.start(paused=True)
    try:
        table = embedded.job_table(runner)
    finally:
        runner.shutdown(wait=False)
    jobs = {row["id"]: row["args"] for row in table}
    assert jobs["全部规划:daily-cycle"] == ["daily-cycle", ""]
    assert jobs["全部规划:nightly-backup"] == ["nightly-backup", ""]
    assert jobs["old-plan:weekly-briefing"] == ["weekly-briefing", "old-plan"]
    assert jobs["new-plan:weekly-briefing"] == ["weekly-briefing", "new-plan"]
    assert not any(j.endswith("-plan:daily-cycle") for j in jobs)
