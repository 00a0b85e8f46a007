"""assessment_objection: a unit contesting part of its assessment (申诉), and the decision

One row per objection: the period (2021-Q4 or 2021), the unit assessed, the item and the part
of the score contested, who recorded it and when; then the coordinator's decision (upheld or
rejected) with its reason and the unit's score before and after it, in tenths of a point.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("score_before", sa.Integer(), nullable=True),
        sa.Column("score_after", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_item.id"],
            name=op.f("fk_assessment_objection_item_id_work_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_assessment_objection_plan_id_plan")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_assessment_objection_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_objection")),
    )
    op.create_index(
        "ix_assessment_objection_plan_id_period", "assessment_objection", ["plan_id", "period"]
    )


def downgrade() -> None:
    op.drop_index("ix_assessment_objection_plan_id_period", table_name="assessment_objection")
    op.drop_table("assessment_objection")
