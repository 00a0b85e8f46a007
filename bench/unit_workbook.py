"""CPU time to write one unit's workbook (`write_unit_workbook`).

    PYTHONPATH=. .venv/bin/python bench/unit_workbook.py [--workbooks 300] [--items 8]

Writes the same workbook (``--items`` items, four measures) ``--workbooks`` times, three runs
after 20 untimed ones, and prints each run's CPU milliseconds a workbook with the load average.
For an A/B, run it with ``PYTHONPATH`` set to each checkout in turn.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from domain.adapters.unit_workbook import MeasureRow, write_unit_workbook
from domain.rules.reporting import Cycle

CYCLE = Cycle(date(2021, 12, 20), date(2021, 12, 26), date(2021, 12, 24))
MEASURES = [
    MeasureRow("has_site", "是否建有服务站", None, "是", yes_no=True),
    MeasureRow("area", "服务站面积", "m²", 12.5),
    MeasureRow("served", "服务人次", "人次", 300),
    MeasureRow("open", "是否开放", None, None, yes_no=True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbooks", type=int, default=300)
    parser.add_argument("--items", type=int, default=8)
    args = parser.parse_args()
    title = "印发实施方案并组织推进"
    items: list[tuple[object, ...]] = [
        (i, f"T{i:02}", f"T{i:02}-M1", title * (1 + i % 3), date(2022, 1, 5), "in_progress", 40)
        for i in range(1, args.items + 1)
    ]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:

        def one(k: int) -> None:
            write_unit_workbook(
                Path(tmp) / f"w{k % 10}.xlsx",
                plan_id="bench",
                unit_code="v11",
                unit_name="甲镇社区",
                as_of=date(2021, 12, 21),
                cycle=CYCLE,
                coordinator="示例县民政局",
                items=items,
                measures=MEASURES,
            )

        for k in range(20):
            one(k)
        runs = []
        for _ in range(3):
            start = time.process_time()
            for k in range(args.workbooks):
                one(k)
            runs.append((time.process_time() - start) / args.workbooks * 1000)
    after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    shown = ", ".join(f"{ms:.2f}" for ms in runs)
    print(f"{args.items} items: CPU ms a workbook, 3 runs of {args.workbooks}: {shown}")
    print(f"load {load} -> {after}")


if __name__ == "__main__":
    main()
