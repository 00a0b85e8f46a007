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
    return _MEMBERSHIP[name](unit)


_MEMBERSHIP: dict[UnitSet, Callable[[UnitLike], bool]] = {
    UnitSet.TOWNSHIPS: lambda u: u.kind == UnitKind.TOWNSHIP,
    UnitSet.VILLAGES: lambda u: u.kind in VILLAGE_LEVEL,
    UnitSet.COMMUNITIES: lambda u: u.kind == UnitKind.COMMUNITY,
    UnitSet.URBAN_COMMUNITIES: lambda u: u.kind == UnitKind.COMMUNITY and u.urban,
    UnitSet.DEPARTMENTS: lambda u: u.kind == UnitKind.DEPARTMENT,
}


def select_units(names: Iterable[str], units: Sequence[U], key: Callable[[U], str]) -> list[U]:
    """The units named (by ``key``) or in a named set, in ``units`` order, without duplicates."""
    by_key: dict[str, U] | None = None
    chosen: dict[str, U] = {}
    for name in names:
        if name in SET_NAMES:
            member = _MEMBERSHIP[UnitSet(name)]
            chosen.update((key(u), u) for u in units if member(u))
            continue
        if by_key is None:
            by_key = {key(u): u for u in units}
        if name in by_key:
            chosen[name] = by_key[name]
    return list(chosen.values())
