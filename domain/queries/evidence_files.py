"""Evidence files (佐证材料) recorded against items: record one, list an item's, and find those
a 办结申请 can rest on. The bytes are kept by :mod:`domain.adapters.evidence_store`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import clock
from models.enums import ItemState
from models.orm import ItemTransition, WorkItem
from models.records import EvidenceFile


class EvidenceView(BaseModel):
    """One recorded file, as the owner's page and the coordinator list it."""

    id: int
    item_id: int
    name: str
    kind: str
    size: int
    sha256: str
    actor: str
    received_at: datetime
    received_on: date


def _view(row: EvidenceFile) -> EvidenceView:
    return EvidenceView.model_validate(row, from_attributes=True)


def evidence_of(session: Session, item_ids: Collection[int]) -> dict[int, list[EvidenceView]]:
    """Each item's recorded files, oldest first."""
    found: dict[int, list[EvidenceView]] = {}
    if not item_ids:
        return found
    for row in session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.item_id.in_(list(item_ids)))
        .order_by(EvidenceFile.id)
    ):
        found.setdefault(row.item_id, []).append(_view(row))
    return found


def file_counts(session: Session, item_ids: Collection[int]) -> dict[int, int]:
    """How many files each of the items holds (items without any left out)."""
    if not item_ids:
        return {}
    query = (
        select(EvidenceFile.item_id, func.count())
        .where(EvidenceFile.item_id.in_(list(item_ids)))
        .group_by(EvidenceFile.item_id)
    )
    return {item: value for item, value in session.execute(query)}  # noqa: C416 - typed rows


def count_files(session: Session, item_id: int) -> int:
    """How many files the item holds, with the item locked until the transaction ends (two
    uploads at once are counted one after the other)."""
    session.execute(select(WorkItem.id).where(WorkItem.id == item_id).with_for_update())
    return session.scalar(select(func.count()).where(EvidenceFile.item_id == item_id)) or 0


def last_returned_at(session: Session, item_id: int) -> datetime | None:
    """When the item was last returned (退回), if ever."""
    return session.scalar(
        select(func.max(ItemTransition.at)).where(
            ItemTransition.item_id == item_id,
            ItemTransition.to_state == ItemState.RETURNED.value,
        )
    )


def closing_files(session: Session, item_id: int) -> tuple[list[EvidenceView], bool]:
    """The files a 办结申请 can rest on (those since the last 退回, if any) and whether the item
    was returned (:func:`domain.rules.owner_forms.closing_refusal`)."""
    since = last_returned_at(session, item_id)
    query = select(EvidenceFile).where(EvidenceFile.item_id == item_id)
    if since is not None:
        query = query.where(EvidenceFile.received_at > since)
    return [_view(r) for r in session.scalars(query.order_by(EvidenceFile.id))], since is not None


def record_evidence(
    session: Session,
    *,
    plan_id: str,
    item_id: int,
    unit_id: int,
    contact_id: int | None,
    actor: str,
    name: str,
    kind: str,
    size: int,
    sha256: str,
    timezone: str,
) -> tuple[EvidenceView, bool]:
    """Record a kept file against an item; (the record, True) or, when the item already holds
    the same bytes, (that earlier record, False) with nothing written."""
    earlier = session.scalars(
        select(EvidenceFile).where(EvidenceFile.item_id == item_id, EvidenceFile.sha256 == sha256)
    ).first()
    if earlier is not None:
        return _view(earlier), False
    now = clock.now()
    row = EvidenceFile(
        plan_id=plan_id,
        item_id=item_id,
        unit_id=unit_id,
        contact_id=contact_id,
        actor=actor,
        name=name,
        kind=kind,
        size=size,
        sha256=sha256,
        received_at=now,
        received_on=clock.local_date(now, timezone),
    )
    session.add(row)
    session.flush()
    return _view(row), True
