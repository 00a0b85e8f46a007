"""How many open prerequisites each work item waits on (``work_item.open_prerequisites``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from domain.rules.lifecycle import finished_values
from models.orm import ItemDependency, WorkItem

CHUNK = 1000


def dependents(session: Session, item_ids: Sequence[int]) -> set[int]:
    """The items with a live dependency on any of ``item_ids``."""
    out: set[int] = set()
    for start in range(0, len(item_ids), CHUNK):
        out.update(
            session.scalars(
                select(ItemDependency.item_id).where(
                    ItemDependency.depends_on_item_id.in_(item_ids[start : start + CHUNK]),
                    ItemDependency.retired_on.is_(None),
                )
            )
        )
    return out


def refresh_open_prerequisites(
    session: Session, item_ids: Collection[int], *, lock_prerequisites: bool = False
) -> None:
    """Recount ``work_item.open_prerequisites`` of these items from their live dependencies
    (a grouped count per chunk, then an update of the counts that changed, by primary key).

    The items' rows are locked first, so two transactions closing two prerequisites of one item
    count one after the other (each count a statement after the lock: under PostgreSQL's read
    committed it sees the other's committed close). ``lock_prerequisites`` (the sync, which adds
    dependencies) also share-locks their prerequisites first, so a prerequisite closed at the
    same time either is closed before the count or waits and then sees the new dependency.
    """
    predecessor = aliased(WorkItem)
    ids = sorted(item_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        live = [ItemDependency.item_id.in_(chunk), ItemDependency.retired_on.is_(None)]
        if lock_prerequisites:
            session.execute(
                select(WorkItem.id)
                .where(WorkItem.id.in_(select(ItemDependency.depends_on_item_id).where(*live)))
                .order_by(WorkItem.id)
                .with_for_update(read=True)
            ).all()
        current: dict[int, int] = {
            row[0]: row[1]
            for row in session.execute(
                select(WorkItem.id, WorkItem.open_prerequisites)
                .where(WorkItem.id.in_(chunk))
                .order_by(WorkItem.id)
                .with_for_update()
            )
        }
        open_counts = (
            select(ItemDependency.item_id, func.count())
            .join(predecessor, predecessor.id == ItemDependency.depends_on_item_id)
            .where(
                *live,
                predecessor.state.not_in(finished_values()),
            )
            .group_by(ItemDependency.item_id)
        )
        counts: dict[int, int] = {row[0]: row[1] for row in session.execute(open_counts)}
        changed = [
            {"id": item_id, "open_prerequisites": counts.get(item_id, 0)}
            for item_id, now in current.items()
            if now != counts.get(item_id, 0)
        ]
        if changed:
            session.execute(update(WorkItem), changed)


def count_open_prerequisites(session: Session, plan_id: str) -> None:
    """Set ``work_item.open_prerequisites`` for a whole plan in two set-based statements (for a
    first load or a large edit, where the chunked refresh is slow)."""
    predecessor, dependent = aliased(WorkItem), aliased(WorkItem)
    counts = (
        select(ItemDependency.item_id, func.count().label("n"))
        .join(predecessor, predecessor.id == ItemDependency.depends_on_item_id)
        .join(dependent, dependent.id == ItemDependency.item_id)
        .where(
            dependent.plan_id == plan_id,
            ItemDependency.retired_on.is_(None),
            predecessor.state.not_in(finished_values()),
        )
        .group_by(ItemDependency.item_id)
        .subquery("open_counts")
    )
    session.execute(
        update(WorkItem)
        .where(
            WorkItem.plan_id == plan_id,
            WorkItem.open_prerequisites != 0,
            WorkItem.id.not_in(select(counts.c.item_id)),
        )
        .values(open_prerequisites=0)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(WorkItem)
        .where(WorkItem.id == counts.c.item_id, WorkItem.open_prerequisites != counts.c.n)
        .values(open_prerequisites=counts.c.n)
        .execution_options(synchronize_session=False)
    )
