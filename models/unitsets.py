"""Which units a selector names: unit ids and set names (townships, villages, …), mixed.

One implementation serves the catalogue (over its unit specs) and the database (over unit rows):
anything with an id, a kind and an urban flag will do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from models.enums import UnitKind, UnitSet

SET_NAMES = frozenset(s.value for s in UnitSet)
VILLAGE_LEVEL = frozenset({UnitKind.VILLAGE, UnitKind.COMMUNITY})


class UnitLike(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def urban(self) -> bool: ...


U = TypeVar("U", bound=UnitLike)


def in_set(name: UnitSet, unit: UnitLike) -> bool:
    """Whether a unit belongs to a named set."""
    match name:
        case UnitSet.TOWNSHIPS:
            return unit.kind == UnitKind.TOWNSHIP
        case UnitSet.VILLAGES:
            return unit.kind in VILLAGE_LEVEL
        case UnitSet.COMMUNITIES:
            return unit.kind == UnitKind.COMMUNITY
        case UnitSet.URBAN_COMMUNITIES:
            return unit.kind == UnitKind.COMMUNITY and unit.urban
        case UnitSet.DEPARTMENTS:
            return unit.kind == UnitKind.DEPARTMENT


def select_units(names: Iterable[str], units: Sequence[U], key: Callable[[U], str]) -> list[U]:
    """The units named (by ``key``) or in a named set, in ``units`` order, without duplicates."""
    by_key = {key(u): u for u in units}
    chosen: dict[str, U] = {}
    for name in names:
        if name in SET_NAMES:
            chosen.update((key(u), u) for u in units if in_set(UnitSet(name), u))
        elif name in by_key:
            chosen[name] = by_key[name]
    return list(chosen.values())
