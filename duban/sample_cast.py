"""Who sends what in the main job's sample (SAMPLE DATA): which units report, which are late or
silent, which answer on their page through a personal link, and which one mails its workbook.

The web units and the mailer need a contact (a link is a contact's, a mail has a sender): the
demo gives each a liaison named 示例联络员 in its own copy of the catalogue — never in the plan's
catalogue, which names no people.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from models.enums import UnitKind
from tasks_catalog.schema import Catalog
from tasks_catalog.schema import Contact as CatalogContact

DEPARTMENTS = frozenset({"gaj", "mzj", "mzzj", "zfw", "zjj", "zwj", "zzb"})
"""The county departments that report in the sample."""
MAILERS = ("zzb", "mzzj", "zjj", "zfw", "gaj", "mzj")
"""Who mails its workbook: the first of these that reports on time (zwj sends a CSV; mzj, the
coordinator, last: its contact is named in every answer as the one to ask)."""
WEB_UNITS = 6
SAMPLE_CONTACT = "示例联络员"
SAMPLE_MAIL_DOMAIN = "sample.invalid"
"""A domain that never receives mail (RFC 2606)."""


@dataclass(frozen=True)
class SampleCast:
    """The reporting units in order, the late and the silent ones, those that use their
    personal link in the last weeks, and the one that mails its last workbook."""

    reporting: tuple[str, ...]
    late: frozenset[str]
    silent: frozenset[str]
    web: tuple[str, ...]
    mailer: str

    @property
    def with_contacts(self) -> tuple[str, ...]:
        """The units that get a sample contact."""
        return (*self.web, self.mailer)


def sample_cast(units: Iterable[tuple[str, str, bool]], rng: random.Random) -> SampleCast:
    """The cast from the plan's units as (code, kind, urban), drawing from ``rng``; the web
    units and the mailer come from a generator of their own, so ``rng`` is left as the
    choice of reporting, late and silent units leaves it."""
    ordered = sorted(units)
    departments = [c for c, _, _ in ordered if c in DEPARTMENTS]
    townships = [c for c, k, _ in ordered if k == UnitKind.TOWNSHIP]
    villages = [(c, u) for c, k, u in ordered if k in {UnitKind.VILLAGE, UnitKind.COMMUNITY}]
    urban = [c for c, u in villages if u]
    others = rng.sample([c for c, u in villages if not u], 20)
    reporting = (*departments, *rng.sample(townships, 8), *urban, *others)
    late = frozenset(rng.sample(reporting, 6))
    silent = frozenset(rng.sample([c for c in reporting if c not in late], 4))
    on_time = [c for c in reporting if c not in late | silent]
    mailer = next((c for c in MAILERS if c in on_time), on_time[0])
    choose = random.Random(len(reporting))
    web = tuple(choose.sample([c for c in on_time if c not in DEPARTMENTS], WEB_UNITS))
    return SampleCast(reporting, late, silent, web, mailer)


def catalog_cast(catalog: Catalog, seed: int) -> SampleCast:
    """The cast :func:`duban.sample.write_sample_inbox` will use with this seed."""
    return sample_cast(((u.id, u.kind, u.urban) for u in catalog.units), random.Random(seed))


def sample_address(code: str) -> str:
    """The sample contact's address at a unit (it cannot receive mail)."""
    return f"liaison-{code}@{SAMPLE_MAIL_DOMAIN}"


def with_sample_contacts(catalog: Catalog, codes: Iterable[str]) -> Catalog:
    """The catalogue with a liaison named 示例联络员 at each unit of ``codes`` that has no
    contact."""
    wanted = set(codes)
    contact = {"name": SAMPLE_CONTACT, "role": "liaison"}
    units = [
        u.model_copy(update={"contacts": [CatalogContact(**contact, email=sample_address(u.id))]})
        if u.id in wanted and not u.contacts
        else u
        for u in catalog.units
    ]
    return catalog.model_copy(update={"units": units})
