"""assessment_notice: each 考评通报 issued, numbered within its year, approved and sent

One row per plan and period assessed (2021-Q4 or 2021): its number within the year it is
issued (〔2022〕1号), the checksum of its numbers and the files written; then who approved
which version and which version leadership received, as for the briefings.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("generations", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("approved_checksum", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("sent_checksum", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_assessment_notice_plan_id_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_notice")),
        sa.UniqueConstraint("plan_id", "period", name=op.f("uq_assessment_notice_plan_id_period")),
        sa.UniqueConstraint(
            "plan_id", "year", "number", name=op.f("uq_assessment_notice_plan_id_year_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("assessment_notice")
