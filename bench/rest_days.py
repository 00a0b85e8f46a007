"""Replay a year of escalation on the Shidian plan and count the notices planned on rest days.

    .venv/bin/python bench/rest_days.py [--year 2025]

A fresh database in a temporary folder, the default catalogue synced, no reports (every unit
owes every cycle): each day from the last working day before the year to its end, the notices
``duban escalate`` would plan, each counted on the first day it appears (the outbox plans a
notice once). Prints how many there are by kind, how many fall on a rest day, and how many on
the year's Fridays that are public holidays. About a minute and a half for a year.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from datetime import date, timedelta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2025)
    year = parser.parse_args().year
    os.environ["DUBAN_HOME"] = tempfile.mkdtemp(prefix="duban-rest-days-")
    # imported once DUBAN_HOME is set: the settings are read on first use
    from config.ladder import load_ladder  # noqa: PLC0415
    from config.settings import get_settings  # noqa: PLC0415
    from domain.queries.context import build_context  # noqa: PLC0415
    from domain.queries.escalation import all_due_notices  # noqa: PLC0415
    from domain.queries.sync import sync_catalog  # noqa: PLC0415
    from domain.rules.context import LightPolicy  # noqa: PLC0415
    from models import clock  # noqa: PLC0415
    from models.db import get_engine, session_scope  # noqa: PLC0415
    from models.migrate import upgrade  # noqa: PLC0415
    from models.orm import CalendarDay  # noqa: PLC0415
    from tasks_catalog.loader import load_catalog  # noqa: PLC0415

    engine = get_engine()
    upgrade(engine)
    catalog, _ = load_catalog(get_settings().catalog)
    tz = catalog.plan.timezone
    synced_at = clock.end_of_working_day(catalog.plan.period.start, tz)
    with clock.frozen_time(synced_at), session_scope(engine) as session:
        sync_catalog(session, catalog)
    ladder = load_ladder()
    first: dict[str, tuple[date, str]] = {}
    workday: dict[date, bool] = {}
    day = date(year, 1, 1) - timedelta(days=1)
    with session_scope(engine) as session:
        while not session.get(CalendarDay, day).is_workday:  # type: ignore[union-attr]
            day -= timedelta(days=1)  # start on a working day: nothing is caught up later
    while day <= date(year, 12, 31):
        with clock.frozen_time(clock.end_of_working_day(day, tz)), session_scope(engine) as s:
            ctx = build_context(s, catalog.plan.id, day, LightPolicy(5, 25))
            workday[day] = bool(s.get(CalendarDay, day).is_workday)  # type: ignore[union-attr]
            for notice in all_due_notices(s, ctx, ladder):
                first.setdefault(notice.dedupe_key, (day, notice.kind))
        day += timedelta(days=1)
    fridays = {d for d, w in workday.items() if d.year == year and d.weekday() == 4 and not w}
    every = Counter(kind for _, kind in first.values())
    resting = Counter(kind for d, kind in first.values() if not workday[d])
    holiday = Counter(kind for d, kind in first.values() if d in fridays)
    print(f"{year}: notices planned {sum(every.values())} {dict(every)}")
    print(f"planned on a rest day: {sum(resting.values())} {dict(resting)}")
    shown = ", ".join(str(d) for d in sorted(fridays))
    print(f"planned on the Fridays that are holidays ({shown}): {sum(holiday.values())}")


if __name__ == "__main__":
    main()
