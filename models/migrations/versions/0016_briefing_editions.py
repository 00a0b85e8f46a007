"""briefing.edition: weekly, monthly and quarterly briefings, each numbered in its own series

``edition`` is week, month or quarter (工作简报, 月通报, 季度推进); ``week`` becomes ``period``
(2021-W52, 2021-12, 2021-Q4). A period is unique per plan and edition, and so is a number within
a year: the monthly 第1期 of 2021 and the weekly 第1期 live side by side. Existing rows are
weekly briefings.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("briefing") as batch:
        batch.add_column(sa.Column("edition", sa.String(length=8), nullable=True))
    op.execute("UPDATE briefing SET edition = 'week'")
    with op.batch_alter_table("briefing") as batch:
        batch.alter_column("edition", existing_type=sa.String(length=8), nullable=False)
        batch.drop_constraint("uq_briefing_plan_id_week", type_="unique")
        batch.drop_constraint("uq_briefing_plan_id_year_number", type_="unique")
        batch.alter_column(
            "week", new_column_name="period", existing_type=sa.String(length=8), nullable=False
        )
    with op.batch_alter_table("briefing") as batch:
        batch.create_unique_constraint(
            "uq_briefing_plan_id_edition_period", ["plan_id", "edition", "period"]
        )
        batch.create_unique_constraint(
            "uq_briefing_plan_id_edition_year_number", ["plan_id", "edition", "year", "number"]
        )


def downgrade() -> None:
    # the weekly schema has no room for the other editions: their records go (their messages
    # stay in the outbox, no longer linked)
    op.execute(
        "UPDATE message SET briefing_id = NULL"
        " WHERE briefing_id IN (SELECT id FROM briefing WHERE edition <> 'week')"
    )
    op.execute("DELETE FROM briefing WHERE edition <> 'week'")
    with op.batch_alter_table("briefing") as batch:
        batch.drop_constraint("uq_briefing_plan_id_edition_year_number", type_="unique")
        batch.drop_constraint("uq_briefing_plan_id_edition_period", type_="unique")
        batch.alter_column(
            "period", new_column_name="week", existing_type=sa.String(length=8), nullable=False
        )
    with op.batch_alter_table("briefing") as batch:
        batch.create_unique_constraint("uq_briefing_plan_id_week", ["plan_id", "week"])
        batch.create_unique_constraint(
            "uq_briefing_plan_id_year_number", ["plan_id", "year", "number"]
        )
        batch.drop_column("edition")
