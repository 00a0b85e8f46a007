"""What the item page shows besides the item and its progress form: the evidence files, whether
办结申请 may go ahead, where a 延期申请 stands, and the old plan's history of a carried item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from domain.queries.evidence_files import EvidenceView, closing_files, evidence_of
from domain.queries.owner_page import OwnerItem
from domain.queries.predecessors import predecessors_of
from domain.rules.carry_over import Predecessor
from domain.rules.owner_forms import closing_refusal
from models.records import ExtensionRequest


@dataclass(frozen=True)
class LastExtension:
    """The item's latest 延期申请."""

    proposed: date
    requested_on: date
    status: str
    decision_reason: str | None


@dataclass(frozen=True)
class ItemExtras:
    """The item page's evidence, closing and extension sections."""

    files: list[EvidenceView]
    closing_refusal: str | None
    """Why 办结申请 cannot go ahead yet, or None."""
    files_left: int
    max_mb: int
    extension: LastExtension | None
    history: list[Predecessor]
    """The old plan's items this one carries over (结转), latest due first."""

    @property
    def extension_pending(self) -> bool:
        """Whether a request already waits (the form is then not offered)."""
        return self.extension is not None and self.extension.status == "pending"


def item_extras(session: Session, item: OwnerItem, settings: Settings) -> ItemExtras:
    """The sections for one item of the page."""
    files = evidence_of(session, [item.id]).get(item.id, [])
    counting, returned = closing_files(session, item.id)
    latest = session.scalars(
        select(ExtensionRequest)
        .where(ExtensionRequest.item_id == item.id)
        .order_by(ExtensionRequest.id.desc())
        .limit(1)
    ).first()
    return ItemExtras(
        files=files,
        closing_refusal=closing_refusal(item.evidence, len(counting), since_return=returned),
        files_left=max(settings.web_upload_files - len(files), 0),
        max_mb=settings.web_upload_mb,
        extension=None
        if latest is None
        else LastExtension(
            latest.proposed_due, latest.requested_on, latest.status, latest.decision_reason
        ),
        history=predecessors_of(session, [item.id]).get(item.id, []),
    )
