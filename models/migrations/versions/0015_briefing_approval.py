"""briefing.approved_*: who approved which version of a briefing, and when

An approved briefing goes to leadership within the delivery hours on a working day
(DUBAN_DELIVERY_HOURS), like the reminders: approved outside them, it waits for the next daily
cycle's delivery. ``approved_checksum`` is the version approved (regenerated numbers need a new
approval). NULL: not approved (yet).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("briefing") as batch:
        batch.add_column(sa.Column("approved_checksum", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("briefing") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("approved_at")
        batch.drop_column("approved_checksum")
