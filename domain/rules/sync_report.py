"""What a catalogue sync did, counted by kind of entity, with a readable line per change."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SyncReport:
    """What a sync did, by kind of entity, with a readable line per change."""

    plan_id: str
    added: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    retired: Counter[str] = field(default_factory=Counter)
    restored: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)
    """Catalogue-level changes (plan, units, tasks, milestones, …), one line each."""
    item_details: list[str] = field(default_factory=list)
    """Item-level changes: moved deadlines first, then retired and restored items."""
    live_items_before: int = 0
    new_plan: bool = False

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.retired or self.restored)


def bump(counter: Counter[str], kind: str, n: int) -> None:
    if n:
        counter[kind] += n
