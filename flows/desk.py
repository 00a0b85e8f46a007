"""The daily cycle's stage that publishes the coordinator's queues (待核验销号, 受阻, 延期申请,
退回待重报) as Markdown artifacts, one key per queue (see :mod:`domain.rules.desk`)."""

from __future__ import annotations

from datetime import date

from prefect.artifacts import create_markdown_artifact

from config.settings import Settings, get_settings
from domain.adapters.signing import workbook_secret
from domain.queries.desk import desk
from domain.rules.desk import (
    QUEUE_TITLES,
    Desk,
    FileLinks,
    Queue,
    blocked_page,
    desk_summary,
    evidence_links,
    extensions_page,
    returned_page,
    submitted_page,
)
from domain.rules.evidence_links import expiry
from flows.common import engine, logger, stage
from flows.stages import artifact_key, context
from models import clock
from models.db import session_scope


def desk_key(plan_id: str, queue: Queue) -> str:
    """The artifact key of a queue's page, e.g. ``shidian-2021-2025-desk-submitted``."""
    return artifact_key(plan_id, "desk", queue.value)


@stage("发布待办队列")
def publish_desk(plan_id: str, day: date) -> dict[str, int]:
    """Each queue's page as a new version of its artifact; returns each queue's total."""
    settings = get_settings()
    with session_scope(engine()) as session:
        ctx = context(session, plan_id, day)
        found = desk(session, ctx)
    links = file_links(settings, found, ctx.plan.timezone)
    pages = {
        Queue.SUBMITTED: submitted_page(found, str(settings.resolved_evidence), links),
        Queue.BLOCKED: blocked_page(found),
        Queue.EXTENSIONS: extensions_page(found),
        Queue.RETURNED: returned_page(found),
    }
    for queue, page in pages.items():
        create_markdown_artifact(
            page,
            key=desk_key(plan_id, queue),
            description=f"{QUEUE_TITLES[queue]} {found.totals[queue]} 项（{day}），等待最久的在前",
        )
    logger().info("督办待办 %s：%s", day, desk_summary(found))
    return {queue.value: found.totals[queue] for queue in Queue}


def file_links(settings: Settings, found: Desk, timezone: str) -> FileLinks | None:
    """Signed links to the submitted items' files, issued now, when the owner's site has a public
    address (DUBAN_WEB_BASE_URL); else None (the page names `duban evidence`)."""
    if settings.web_base_url is None:
        return None
    expires = expiry(clock.now())
    urls = evidence_links(found, settings.web_base_url, workbook_secret(settings), expires)
    return FileLinks(urls, clock.local_date(expires, timezone))
