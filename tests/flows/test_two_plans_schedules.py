"""Two plans served together: each plan's briefings and actions under its own id, and one daily
cycle and one backup for both, so a day's reminders go out once (one digest per recipient)."""

from __future__ import annotations

from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from prefect.logging import disable_run_logger
from sqlalchemy import Engine

from config.settings import Settings, get_settings
from duban import scheduler as embedded
from flows.deployments import deployments_for
from flows.sync_catalog import sync_stage
from models.db import session_scope
from models.orm import Plan
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.two_plans import NEW, OLD, OLD_TITLE, old_catalog


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


def test_each_plans_catalogue_sync_holds_to_that_plans_catalogue(tmp_path: Path) -> None:
    """The database does not know where a plan's catalogue is: with two plans, each plan's sync
    form is filled with its plan (another plan's catalogue is refused) and says to give its
    catalogue's place, DUBAN_CATALOG being perhaps the other's; with one plan, nothing is
    checked (how a second plan is loaded)."""
    (tmp_path / "catalog").mkdir()
    settings = Settings(home=tmp_path, catalog=tmp_path / "catalog")
    found = {d.name: d for d in deployments_for(settings, ["old-plan", "new-plan"])}
    for plan in ("old-plan", "new-plan"):
        sync = found[f"同步规划目录 · {plan}"]
        assert sync.parameters == {"plan_id": plan}
        assert sync.description is not None
        assert f"本部署只同步规划 {plan} 的目录" in sync.description
        assert f"DUBAN_CATALOG（{tmp_path / 'catalog'}）" in sync.description
    (alone,) = [d for d in deployments_for(settings, ["old-plan"]) if d.flow_name == "sync-catalog"]
    assert alone.parameters == {} and "本部署只同步" not in (alone.description or "")


def test_a_plans_sync_refuses_another_plans_catalogue(
    two_plans: Engine, write_catalog: CatalogWriter
) -> None:
    """The new plan's sync given the old plan's catalogue (edited): refused, naming both plans
    and where to give the right one, nothing written."""
    edited = old_catalog()
    edited["plan"]["title"] = "改过的标题"
    path = write_catalog(edited, name="edited")
    with disable_run_logger():
        result = sync_stage.fn(path, False, NEW)
        assert result == {
            "refused": f"目录 {path} 是规划 {OLD}（改过的标题）的，不是本部署的规划 {NEW}，"
            f"未写入任何内容；请在“目录位置”填写规划 {NEW} 的目录（要载入另一个规划，"
            "请清空“规划”一栏）"
        }
        with session_scope(two_plans) as session:
            assert session.get(Plan, OLD).title == OLD_TITLE  # type: ignore[union-attr]


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
