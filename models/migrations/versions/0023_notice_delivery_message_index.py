"""index on the notices' deliveries by message

Sending a digest reads the notices it carries by the message's id (twice: before sending and
on confirming). Without this index each read scanned every delivery ever recorded, or, when
the outbox's statistics said no notice was pending (as after a day's burst of new ones), looped
over every pending notice: about 0.25 s a digest at 10⁵ items.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notice_delivery_message_id", "notice_delivery", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_notice_delivery_message_id", table_name="notice_delivery")
