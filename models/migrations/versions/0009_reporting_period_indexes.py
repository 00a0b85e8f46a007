"""indexes on the reporting period of reports and inbox files

Who sent something for a reporting cycle (``domain.queries.completeness``: the dashboard's missing
reports, the missing-report notices, the briefing's rates) reads the reports and files whose
period falls in the cycle. Without an index on the period each of these read every report ever
received: at a province's size, with half a year of weekly reports (860,000 rows), the daily
cycle's two such queries took 35–40 ms longer each than with one week's, and the cost grew every
week. The report index holds what the question reads (plan, period, unit, day received), so
PostgreSQL answers it from the index alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 03:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_report_plan_id_period_unit_id",
        "report",
        ["plan_id", "period", "unit_id", "received_on"],
        unique=False,
    )
    op.create_index(
        "ix_inbox_file_plan_id_period_unit_id",
        "inbox_file",
        ["plan_id", "period", "unit_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_file_plan_id_period_unit_id", table_name="inbox_file")
    op.drop_index("ix_report_plan_id_period_unit_id", table_name="report")
