"""milestone.carried_from_plan/_code, item_predecessor: work carried over (结转) from an old plan

A milestone of a new plan may name its predecessor in an older plan of the same database (the
plan id and that plan's milestone code); each of its work items is then linked to the old plan's
items of that milestone for the same unit, so the item shows the history it continues.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("milestone", sa.Column("carried_from_plan", sa.String(64), nullable=True))
    op.add_column("milestone", sa.Column("carried_from_code", sa.String(64), nullable=True))
    op.create_table(
        "item_predecessor",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_item.id"],
            name=op.f("fk_item_predecessor_item_id_work_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["work_item.id"],
            name=op.f("fk_item_predecessor_predecessor_id_work_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "predecessor_id", name=op.f("pk_item_predecessor")),
    )
    op.create_index(
        op.f("ix_item_predecessor_predecessor_id"), "item_predecessor", ["predecessor_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_item_predecessor_predecessor_id"), table_name="item_predecessor")
    op.drop_table("item_predecessor")
    # plain ALTER TABLE … DROP COLUMN, as in 0020
    op.drop_column("milestone", "carried_from_code")
    op.drop_column("milestone", "carried_from_plan")
