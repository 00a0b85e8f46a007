"""evidence_file and extension_request: what owners send from their page

`evidence_file`: a file given as evidence for an item (kept by SHA-256 in the evidence store;
the name is the sender's, shown only). `extension_request`: a unit's 延期申请, pending until the
coordinator approves or refuses it (`duban extension-requests`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _sender_columns(table: str) -> list[sa.SchemaItem]:
    """plan, item, unit and contact of a row, with their foreign keys."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f(f"fk_{table}_contact_id_contact"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["work_item.id"],
            name=op.f(f"fk_{table}_item_id_work_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f(f"fk_{table}_plan_id_plan")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f(f"fk_{table}_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "evidence_file",
        *_sender_columns("evidence_file"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("item_id", "sha256", name=op.f("uq_evidence_file_item_id_sha256")),
    )
    op.create_index(op.f("ix_evidence_file_unit_id"), "evidence_file", ["unit_id"])
    op.create_table(
        "extension_request",
        *_sender_columns("extension_request"),
        sa.Column("current_due", sa.Date(), nullable=False),
        sa.Column("proposed_due", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
    )
    op.create_index(op.f("ix_extension_request_item_id"), "extension_request", ["item_id"])
    op.create_index(
        "ix_extension_request_status_plan_id", "extension_request", ["status", "plan_id"]
    )


def downgrade() -> None:
    op.drop_table("extension_request")
    op.drop_table("evidence_file")
