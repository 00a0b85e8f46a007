"""The guard against a catalogue sync that retires a large share of a plan's open items."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.errors import InputError

if TYPE_CHECKING:
    from domain.rules.sync_report import SyncReport

MASS_RETIRE_SHARE = 0.2
"""A sync retiring more than this share of the open items is refused unless explicitly allowed."""


def refuse_mass_retirement(report: SyncReport) -> None:
    """Raise InputError if the sync retires a large share of the open items (a truncated file?)."""
    retired = report.retired.get("work items", 0)
    if retired > max(10, MASS_RETIRE_SHARE * report.live_items_before):
        raise InputError(
            f"sync of {report.plan_id} refused: it would retire {retired} of "
            f"{report.live_items_before} open work items. If a catalogue file was emptied or "
            "cut short by mistake, restore it; if the removal is intended, run again with "
            "--allow-retire. Nothing was written."
        )
