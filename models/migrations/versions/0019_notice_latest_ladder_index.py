"""index on the outbox by item, for each item's latest ladder notice

The overdue table and the key-task pages show the last ladder level sent about each item they
list (``domain.queries.briefing_facts.escalation_levels``). Without this index that meant
reading every ladder notice the plan had ever sent and keeping each item's newest: at a
province's size 584,000 notices, 13 times a daily cycle, and more every day the plan runs. With
it each item listed is one lookup, newest first.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_notice_item_id_id_ladder",
        "notice",
        ["item_id", "id"],
        postgresql_where=sa.text("kind = 'ladder'"),
        sqlite_where=sa.text("kind = 'ladder'"),
    )


def downgrade() -> None:
    op.drop_index("ix_notice_item_id_id_ladder", table_name="notice")
