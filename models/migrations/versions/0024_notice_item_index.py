"""one index on the outbox by item, for the notices that have one

The outbox had two: every notice by item (the missing-report reminders, which have none,
included) and the ladder's by (item, id). One index by (item, id) of the notices with an item
serves both readers (an item's latest ladder notice, newest first; the notices held for an
item), and each day's burst of notices is written into one index fewer.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_notice_item_id_id_ladder", table_name="notice")
    op.drop_index("ix_notice_item_id", table_name="notice")
    op.create_index(
        "ix_notice_item_id_id",
        "notice",
        ["item_id", "id"],
        postgresql_where=sa.text("item_id IS NOT NULL"),
        sqlite_where=sa.text("item_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notice_item_id_id", table_name="notice")
    op.create_index("ix_notice_item_id", "notice", ["item_id"])
    op.create_index(
        "ix_notice_item_id_id_ladder",
        "notice",
        ["item_id", "id"],
        postgresql_where=sa.text("kind = 'ladder'"),
        sqlite_where=sa.text("kind = 'ladder'"),
    )
