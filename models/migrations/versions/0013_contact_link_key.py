"""contact.link_key: the key a contact's personal link carries

A personal link (`duban link`, the owner's web page) is signed and carries the contact's
`link_key`; `duban link revoke` replaces the key, so every link issued before stops working.
NULL: no link issued yet (or the catalogue sync re-created the contact).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("link_key", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("link_key")
