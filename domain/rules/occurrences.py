"""Pairing a milestone's planned occurrences for one unit with the work items that exist."""

from __future__ import annotations

from datetime import date

from models.enums import ItemState


def match_occurrences(
    planned: list[date], existing: list[tuple[date, date, str]]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair a milestone's planned occurrences for one unit with its existing items.

    ``planned`` are due dates; ``existing`` are (due, original due, state) sorted by due. First
    the same date pairs up (current or original due, live items before retired ones); the rest
    pair in date order, as moved deadlines. Returns (planned index, existing index) pairs, the
    planned indexes left over (new items) and the existing ones left over (to retire).
    """
    if not existing:  # a first load: every occurrence is new
        return [], list(range(len(planned))), []
    pairs: list[tuple[int, int]] = []
    free = set(range(len(existing)))
    unmatched: list[int] = []
    for i, due in enumerate(planned):
        same = [
            j
            for j in sorted(free, key=lambda j: existing[j][2] == ItemState.RETIRED.value)
            if due in (existing[j][0], existing[j][1])
        ]
        if same:
            pairs.append((i, same[0]))
            free.discard(same[0])
        else:
            unmatched.append(i)
    rest = sorted(free, key=lambda j: existing[j][0])
    pairs += list(zip(unmatched, rest, strict=False))
    fresh = unmatched[len(rest) :]
    stale = rest[len(unmatched) :]
    return pairs, fresh, stale
