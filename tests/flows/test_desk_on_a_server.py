"""The daily cycle on a real Prefect server publishes the coordinator's queues: each page's
total is the database's count and every waiting item's number is on it."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from config.settings import get_settings, temporary_settings
from duban.orchestration import prefect_client
from flows.daily_cycle import daily_cycle
from models.clock import frozen_time
from models.db import session_scope
from models.orm import WorkItem
from models.records import EvidenceFile, ExtensionRequest
from tests.adapters.test_evidence_store import MINIMAL_PDF, image_bytes
from tests.fixtures.desk import keep_file
from tests.fixtures.plan_week import item_id
from tests.fixtures.web import AS_OF, NOW, OwnerSite
from tests.web.chromium import Page, phone

pytestmark = pytest.mark.slow
QUEUES = ("submitted", "blocked", "extensions", "returned")


@pytest.fixture
def desk_on_server(queues: Engine, prefect_api: str) -> Iterator[Engine]:
    with (
        temporary_settings(prefect_api_url=prefect_api),
        prefect_client(get_settings()),
        frozen_time(NOW),
    ):
        yield queues


def latest(keys: list[str]) -> dict[str, Any]:
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey  # noqa: PLC0415

    client: Any = get_client(sync_client=True)
    with client as c:
        found = c.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    return {a.key: a for a in found}


def in_database(engine: Engine) -> dict[str, set[int]]:
    """What waits for the coordinator, counted from the tables themselves."""
    with session_scope(engine) as s:
        states = {
            state: set(s.scalars(select(WorkItem.id).where(WorkItem.state == state)))
            for state in ("submitted", "blocked", "returned")
        }
        requests = set(
            s.scalars(select(ExtensionRequest.id).where(ExtensionRequest.status == "pending"))
        )
        assert (s.scalar(select(func.count()).select_from(WorkItem)) or 0) > 0
    return {**states, "extensions": requests}


def test_the_daily_cycle_publishes_the_coordinators_queues(desk_on_server: Engine) -> None:
    result = daily_cycle(plan_id="demo-plan", as_of=AS_OF)
    expected = in_database(desk_on_server)
    assert result["queues"] == {q: len(ids) for q, ids in expected.items()}
    keys = [f"demo-plan-desk-{q}" for q in QUEUES]
    found = latest(keys)
    assert sorted(found) == sorted(keys)
    titles = {"submitted": "待核验销号", "blocked": "受阻", "extensions": "延期申请"}
    titles["returned"] = "退回待重报"
    for queue in QUEUES:
        page = found[f"demo-plan-desk-{queue}"]
        assert page.type == "markdown"
        assert f"# {titles[queue]}：共 {len(expected[queue])} 项" in page.data
        # each entry starts with the item's number (a request's own number)
        entry = r"^- \*\*(?:#|申请 )(\d+)\*\*"
        listed = {int(n) for n in re.findall(entry, page.data, flags=re.MULTILINE)}
        assert listed == expected[queue], queue
    assert "`duban evidence " in found["demo-plan-desk-submitted"].data


def test_the_coordinators_pages_fit_a_1400_px_window(
    desk_on_server: Engine, prefect_api: str, tmp_path: Path
) -> None:
    """Each page of the Artifacts page, in headless chromium 1,400 px wide: no table wider
    than the space beside the UI's side panel (its last column would be cut off); screenshots
    kept in ``DUBAN_TEST_ARTIFACTS`` when set."""
    daily_cycle(plan_id="demo-plan", as_of=AS_OF)
    shots = Path(os.environ.get("DUBAN_TEST_ARTIFACTS") or tmp_path) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    names = ["overdue", "missing-reports", "completion", *(f"desk-{q}" for q in QUEUES)]
    found = latest([f"demo-plan-{n}" for n in names])
    ui = prefect_api.removesuffix("/api")
    with phone(tmp_path, 1400, 900, mobile=False) as page:
        page.open(f"{ui}/artifacts")
        wait_for_text(page, "demo-plan-desk-submitted")
        page.screenshot(shots / "artifacts.png")
        for name in names:
            page.open(f"{ui}/artifacts/artifact/{found[f'demo-plan-{name}'].latest_id}")
            wait_for_text(page, found[f"demo-plan-{name}"].description[:8])
            time.sleep(0.5)  # the table or page renders after its description
            page.screenshot(shots / f"{name}.png")
            tables = page.evaluate(
                "Array.from(document.querySelectorAll('table'),"
                " t => [t.scrollWidth, t.parentElement.clientWidth])"
            )
            assert all(wide <= room for wide, room in tables), (name, tables)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400


def wait_for_text(page: Page, text: str) -> None:
    """Until the page (a single-page app that renders after loading) shows ``text``."""
    deadline = time.monotonic() + 30
    while text not in (page.evaluate("document.body.innerText") or ""):
        assert time.monotonic() < deadline, f"the page never showed {text!r}"
        time.sleep(0.2)


def test_the_published_queue_links_each_file_to_the_owners_site(
    desk_on_server: Engine, owner_site: OwnerSite
) -> None:
    """With DUBAN_WEB_BASE_URL set, the 待核验销号 artifact links every evidence file, and each
    link of a kept file downloads that file from the running site."""
    item = item_id(desk_on_server, "M5", "v12")
    sent = {"会议记录.pdf": MINIMAL_PDF, "照片.png": image_bytes("PNG")}
    kept = {
        keep_file(desk_on_server, owner_site.settings, item, name, data): data
        for name, data in sent.items()
    }
    with temporary_settings(web_base_url=owner_site.url):
        daily_cycle(plan_id="demo-plan", as_of=AS_OF)
    page = latest(["demo-plan-desk-submitted"])["demo-plan-desk-submitted"].data
    linked = dict(re.findall(r"^ +- 佐证 (\d+)：\[[^\]]+\]\((\S+?)\)", page, flags=re.MULTILINE))
    with session_scope(desk_on_server) as s:
        submitted = select(WorkItem.id).where(WorkItem.state == "submitted")
        files = set(s.scalars(select(EvidenceFile.id).where(EvidenceFile.item_id.in_(submitted))))
    assert {int(n) for n in linked} == files
    assert "duban evidence 佐证编号" in page
    for number, data in kept.items():
        answer = httpx.get(linked[str(number)], timeout=10)
        assert answer.status_code == 200
        assert answer.content == data
