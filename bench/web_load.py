"""Owners submitting through ``duban web`` at once, on PostgreSQL, against a real server.

    .venv/bin/python bench/web_load.py [--units 150] [--within 60] [--counties N]

Builds a scratch PostgreSQL database (dropped afterwards) with the embedded Shidian catalogue,
or with ``--counties N`` a synthetic province (``synthetic.py``; 300 counties ≈ 10⁶ items),
gives each of the first ``--units`` units that have open items a liaison and a personal link,
and starts ``duban web``'s application under uvicorn in a process of its own, its clock held on
``--as-of``. Then each unit, starting at a random moment within ``--within`` seconds, does what a
liaison does: opens the page, 签收 the items it offers (one POST), opens one item and reports
its progress. Prints each kind of request's count, median, p95 and maximum, the 5xx count, and
checks in the database that every 签收 and report landed (nothing lost). Last, the page of the
unit with the most items, opened 20 times one after the other (median and p95).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from config.settings import DEFAULT_CATALOG, Settings, temporary_settings
from domain.adapters.signing import workbook_secret
from domain.queries.context import build_context
from domain.queries.owner_links import issue_link
from domain.queries.owner_page import OwnerPage, owner_page
from domain.queries.sync import sync_catalog
from domain.rules.context import LightPolicy
from models.db import engine_for, session_scope
from models.enums import ItemState
from models.migrate import upgrade
from models.orm import Report, Unit, WorkItem
from models.records import Contact
from tasks_catalog.loader import load_catalog

NOTE = "本周完成入户走访，资料整理中（压力测试）"
PAGE = re.compile(r'href="[^"]*/items/(\d+)"')
ACKABLE = re.compile(r'name="item" value="(\d+)"')


def scratch_database(postgres: str) -> AbstractContextManager[str]:
    """A new PostgreSQL database on the server of ``postgres``, dropped afterwards."""
    from status_scale import scratch_postgres  # noqa: PLC0415 - beside this script

    return scratch_postgres(postgres, "duban_web")


def build(url: str, home: Path, counties: int, units: int, now: datetime) -> dict[str, str]:
    """Sync the catalogue, give ``units`` units with items a liaison; their links by unit code."""
    if counties:
        from synthetic import write_catalogue  # noqa: PLC0415 - only for a province

        folder = write_catalogue(home / "catalogue", counties=counties, seed=1)
    else:
        folder = DEFAULT_CATALOG
    engine = engine_for(url)
    upgrade(engine)
    started = time.perf_counter()
    catalog, _ = load_catalog(folder)
    with session_scope(engine) as session:
        sync_catalog(session, catalog)
        items = session.scalar(select(func.count()).select_from(WorkItem)) or 0
    print(f"catalogue synced: {items:,} items in {time.perf_counter() - started:.0f} s")
    secret = workbook_secret(Settings(home=home, database_url=url))
    links: dict[str, str] = {}
    with session_scope(engine) as session:
        chosen = session.execute(
            select(Unit.id, Unit.code, Unit.plan_id)
            .where(Unit.id.in_(select(WorkItem.unit_id).distinct()))
            .order_by(Unit.code)
            .limit(units)
        ).all()
        for unit_id, code, _plan in chosen:
            session.add(Contact(unit_id=unit_id, name=f"联络员{code[-4:]}", role="liaison"))
        session.flush()
        for _unit_id, code, plan in chosen:
            issued = issue_link(
                session, secret, plan_id=plan, unit_code=code, contact_id=None, now=now, days=30
            )
            links[code] = issued.token
    engine.dispose()
    return links


def serve(url: str, home: Path, port: int, at: datetime) -> subprocess.Popen[bytes]:
    """``duban web``'s application under uvicorn in its own process, its clock held at ``at``."""
    code = (
        "import uvicorn, datetime as d\n"
        "from config.settings import get_settings\n"
        "from duban.web import create_app\n"
        "from models import clock\n"
        f"with clock.frozen_time(d.datetime.fromisoformat({at.isoformat()!r})):\n"
        f"    uvicorn.run(create_app(get_settings()), host='127.0.0.1', port={port},"
        " log_level='warning')\n"
    )
    env = {**os.environ, "DUBAN_HOME": str(home), "DUBAN_DATABASE_URL": url}
    server = subprocess.Popen([sys.executable, "-c", code], env=env)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("the web server did not start within 60 s")


class RequestFailedError(Exception):
    """A request that got no answer at all (a reset connection, a timeout)."""


class Timings:
    """Latencies and status codes by kind of request, shared by the owners' threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[int, int] = defaultdict(int)

    def request(
        self, client: httpx.Client, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        """``client.request`` timed and counted under ``kind``."""
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kw)
        except httpx.HTTPError as exc:  # counted as a failure, the other owners go on
            with self.lock:
                self.codes[599] += 1
            raise RequestFailedError(f"{kind}: {exc!r}") from exc
        elapsed = time.perf_counter() - started
        with self.lock:
            self.seconds[kind].append(elapsed)
            self.codes[response.status_code] += 1
        return response


def owner(base: str, token: str, delay: float, timings: Timings) -> tuple[list[int], int | None]:
    """One liaison: page, 签收 everything offered, one item's report. Returns (items signed,
    item reported or None); a request without an answer ends this owner's visit."""
    time.sleep(delay)
    try:
        return _visit(base, token, timings)
    except RequestFailedError:
        return [], None


def _visit(base: str, token: str, timings: Timings) -> tuple[list[int], int | None]:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client:
        page = timings.request(client, "page", "GET", f"/l/{token}")
        ackable = ACKABLE.findall(page.text)
        signed: list[int] = []
        if ackable:
            acked = timings.request(
                client, "ack", "POST", f"/l/{token}/ack", data={"token": token, "item": ackable}
            )
            signed = [int(i) for i in ackable] if acked.status_code == 303 else []
        items = PAGE.findall(page.text)
        if not items:
            return signed, None
        item = int(items[0])
        timings.request(client, "item", "GET", f"/l/{token}/items/{item}")
        form = {"token": token, "state": "in_progress", "percent": "60", "note": NOTE}
        done = timings.request(client, "report", "POST", f"/l/{token}/items/{item}", data=form)
        return signed, item if done.status_code == 303 else None


def summary(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"{label:<8} {len(ordered):>5}  median {statistics.median(ordered) * 1000:7.1f} ms"
        f"  p95 {p95 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--units", type=int, default=150)
    parser.add_argument("--within", type=float, default=60.0, help="seconds the starts spread over")
    parser.add_argument("--counties", type=int, default=0, help="a synthetic province instead")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2021, 12, 27))
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--page-items", type=int, default=200, help="items on the largest page")
    args = parser.parse_args()
    at = datetime.combine(args.as_of, clock_time(2), tzinfo=UTC)  # 10:00 in Shanghai
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.postgres) as url:
        home = Path(tmp)
        with temporary_settings(home=home, database_url=url):
            links = build(url, home, args.counties, args.units, at - timedelta(hours=1))
        server = serve(url, home, args.port, at)
        try:
            base = f"http://127.0.0.1:{args.port}"
            timings = Timings()
            rng = random.Random(1)  # noqa: S311 - start times, not secrets
            delays = [rng.uniform(0, args.within) for _ in links]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(links)) as pool:
                results = list(
                    pool.map(
                        lambda pair: owner(base, pair[0], pair[1], timings),
                        zip(links.values(), delays, strict=True),
                    )
                )
            took = time.perf_counter() - started
            print(f"{len(links)} units within {args.within:.0f} s: done in {took:.1f} s")
            for kind in ("page", "ack", "item", "report"):
                if timings.seconds[kind]:
                    print(summary(kind, timings.seconds[kind]))
            errors = sum(n for code, n in timings.codes.items() if code >= 500)
            print(
                f"status codes: {dict(sorted(timings.codes.items()))}; 5xx: {errors}"
                " (599: no answer at all)"
            )
            check_landed(url, results)
            largest_page(url, base, links, home, at, args.page_items)
        finally:
            server.terminate()
            server.wait(timeout=30)


def check_landed(url: str, results: list[tuple[list[int], int | None]]) -> None:
    """Every 签收 and report the owners were told had landed is in the database: a signed item
    has left 已交办, a reported one has its report."""
    signed = {i for ids, _ in results for i in ids}
    wanted = {item for _, item in results if item is not None}
    engine = engine_for(url)
    with session_scope(engine) as session:
        still = {
            i
            for (i,) in session.execute(
                select(WorkItem.id).where(
                    WorkItem.id.in_(signed), WorkItem.state == ItemState.ASSIGNED.value
                )
            )
        }
        reported = {
            r for (r,) in session.execute(select(Report.item_id).where(Report.item_id.in_(wanted)))
        }
    engine.dispose()
    lost = sorted(still | (wanted - reported))
    print(
        f"landed: {len(signed - still)} of {len(signed)} 签收, {len(reported)} of {len(wanted)}"
        f" reports{' — LOST: ' + str(lost[:10]) if lost else ', nothing lost'}"
    )


CLONE = """
INSERT INTO work_item (plan_id, milestone_id, unit_id, occurrence, start, due, original_due,
    state, percent, created_on, moved_on, submitted_on, open_prerequisites, created_at, updated_at)
SELECT plan_id, milestone_id, unit_id, occurrence + 100000 + n, start, due + n, original_due + n,
    state, percent, created_on, moved_on, submitted_on, open_prerequisites, created_at, updated_at
FROM work_item, generate_series(1, :copies) AS n WHERE id = :source
"""


def largest_page(
    url: str, base: str, links: dict[str, str], home: Path, at: datetime, page_items: int
) -> None:
    """The page of the unit whose page shows the most items (made up to ``page_items`` with
    copies of one of them), 20 times one after the other."""
    engine = engine_for(url)
    with session_scope(engine) as session:
        ctx = build_context(session, None, at.date(), LightPolicy(yellow_workdays=5))
        most = session.execute(
            select(Unit.id, Unit.code, func.count(WorkItem.id))
            .join(WorkItem, WorkItem.unit_id == Unit.id)
            .group_by(Unit.id, Unit.code)
            .order_by(func.count(WorkItem.id).desc())
            .limit(20)
        ).all()
        shown = {u: _shown(owner_page(session, ctx, u)) for u, _, _ in most}
        unit_id, code, count = max(most, key=lambda m: (shown[m[0]], m[2]))
        plan = ctx.plan.id
        if 0 < shown[unit_id] < page_items:  # copies of one of its open items, due later
            first = owner_page(session, ctx, unit_id)
            source = (first.urgent + first.others)[0].id
            session.execute(text(CLONE), {"source": source, "copies": page_items - shown[unit_id]})
            count += page_items - shown[unit_id]
        token = links.get(code)
        if token is None:
            session.add(Contact(unit_id=unit_id, name="联络员", role="liaison"))
            session.flush()
            secret = workbook_secret(Settings(home=home, database_url=url))
            token = issue_link(
                session, secret, plan_id=plan, unit_code=code, contact_id=None, now=at, days=30
            ).token
    engine.dispose()
    seconds = []
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get(f"/l/{token}")
        for _ in range(20):
            started = time.perf_counter()
            page = client.get(f"/l/{token}")
            seconds.append(time.perf_counter() - started)
    on_page = len(set(PAGE.findall(page.text)))
    print(summary("largest", seconds) + f"  (unit {code}: {count} items, {on_page} on its page)")


def _shown(page: OwnerPage) -> int:
    return len(page.urgent) + len(page.others)


if __name__ == "__main__":
    main()
