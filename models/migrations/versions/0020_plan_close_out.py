"""plan.close_out_workdays, plan.close_out_until: when a finished plan's reminders stop

After ``period_end`` reminders go on for ``close_out_workdays`` working days (default 20, the
收尾期), or until ``close_out_until`` when the coordinator extends it in the catalogue.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "plan",
        sa.Column("close_out_workdays", sa.Integer(), nullable=False, server_default="20"),
    )
    op.add_column("plan", sa.Column("close_out_until", sa.Date(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN: a batch copy of ``plan`` would drop the table every other
    # table refers to
    op.drop_column("plan", "close_out_until")
    op.drop_column("plan", "close_out_workdays")
