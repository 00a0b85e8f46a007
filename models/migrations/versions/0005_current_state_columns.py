"""an item's current state dates; indexes on the history dates

``work_item.moved_on``, ``work_item.submitted_on`` and ``work_item.open_prerequisites`` keep,
beside ``state``, what the status of today needs from the transition log and the dependencies,
so today's picture reads the work-item table alone. The
indexes on each history table's date let ``domain.queries.status.history_settled`` find the latest
history date in a few index lookups.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = [
    ("work_item", "created_on"),
    ("item_dependency", "created_on"),
    ("item_dependency", "retired_on"),
    ("item_transition", "on_date"),
    ("deadline_change", "on_date"),
    ("report", "received_on"),
]


def upgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("submitted_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("open_prerequisites", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE work_item SET"
        " moved_on = (SELECT t.on_date FROM item_transition t WHERE t.id ="
        " (SELECT max(l.id) FROM item_transition l WHERE l.item_id = work_item.id)),"
        " submitted_on = (SELECT max(s.on_date) FROM item_transition s"
        " WHERE s.item_id = work_item.id AND s.to_state = 'submitted'),"
        " open_prerequisites = (SELECT count(*) FROM item_dependency d"
        " JOIN work_item p ON p.id = d.depends_on_item_id WHERE d.item_id = work_item.id"
        " AND d.retired_on IS NULL AND p.state NOT IN ('closed', 'retired'))"
    )
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in INDEXES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_column("open_prerequisites")
        batch_op.drop_column("submitted_on")
        batch_op.drop_column("moved_on")
