"""inbox_file.vouched_by: the operator who vouched for an unsigned file

A report file counts for a unit only when its sender is proven: duban's signature on the
workbook or on each CSV/JSON template row, or an operator's explicit import
(`duban collect --trusted --actor NAME`), recorded here. NULL: the signature proved it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_file") as batch:
        batch.add_column(sa.Column("vouched_by", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_file") as batch:
        batch.drop_column("vouched_by")
