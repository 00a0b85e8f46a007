"""plan.briefing_distribution: the briefing's 报、送、发 lines, from the catalogue

The catalogue's ``plan.briefing_distribution`` ({report_to, copy_to, issue_to}: lists of names)
is printed in the briefing's 版记. NULL: the catalogue names none (the briefing prints a default).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 20:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plan", sa.Column("briefing_distribution", sa.JSON(), nullable=True))


def downgrade() -> None:
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of ``plan`` would drop
    # the table every other table refers to, which SQLite's foreign keys refuse
    op.drop_column("plan", "briefing_distribution")
