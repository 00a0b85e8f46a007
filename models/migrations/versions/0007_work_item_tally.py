"""work_item_tally: the work items counted by what their status depends on, kept by triggers

``domain.queries.status.status_counts`` groups a plan's items by milestone, state, start, due, percent,
done day and waiting before working out a status once per group: a million items make fewer
than a thousand groups, but grouping them read the whole work-item table every day. This table
keeps those counts as items change, so the daily counts read a few hundred rows.

It is a ledger of signed counts: a trigger on ``work_item`` adds a row +n for each key that
items gained and −n for each key they left (on PostgreSQL one statement-level trigger per
insert, update and delete, reading its transition tables, so a bulk load or COPY adds one row
per key, not per item; on SQLite a row trigger). The count of a key is the sum of its rows;
``models.tally.fold_tally`` replaces a plan's rows by their sums after a bulk change. Writers
only append, so concurrent transactions never wait on each other's counts.

Every writer of ``work_item`` keeps the tally, the database's own triggers included; a load
that bypasses triggers (``session_replication_role = replica``, a data-only restore with
triggers disabled) must run ``duban recount`` after. On SQLite a later migration that
rebuilds ``work_item`` (Alembic's batch mode copies the table) drops its triggers: it must
create them again (``sqlite_triggers`` below).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "work_item_tally"
KEYS = "plan_id, milestone_id, state, start, due, percent, done_on, waiting"
# per item, its key: the expressions must read as domain.queries.status.CURRENT_DONE_ON and CURRENT_WAITING
FIELDS = (
    "plan_id, milestone_id, state, start, due, percent,"
    " coalesce(submitted_on, moved_on), open_prerequisites > 0"
)
TRIGGERED = ("insert", "update", "delete")


def _signed(table: str, sign: int) -> str:
    return f"SELECT {FIELDS}, {sign} FROM {table}"


def _add(*parts: str) -> str:
    """Append the signed counts of ``parts`` (SELECTs of FIELDS and a sign), one row per key."""
    rows = " UNION ALL ".join(parts)
    return (
        f"INSERT INTO {TABLE} ({KEYS}, n) SELECT {KEYS}, sum(n) FROM ({rows})"
        f" AS d ({KEYS}, n) GROUP BY {KEYS} HAVING sum(n) <> 0"
    )


def postgresql_triggers() -> list[str]:
    """Statement-level triggers with transition tables: one grouped insert per statement."""
    bodies = {
        "insert": _add(_signed("new_items", 1)),
        "update": _add(_signed("old_items", -1), _signed("new_items", 1)),
        "delete": _add(_signed("old_items", -1)),
    }
    referencing = {
        "insert": "NEW TABLE AS new_items",
        "update": "OLD TABLE AS old_items NEW TABLE AS new_items",
        "delete": "OLD TABLE AS old_items",
    }
    out = []
    for event in TRIGGERED:
        out += [
            f"CREATE FUNCTION {TABLE}_{event}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {bodies[event]}; RETURN NULL; END $$",
            f"CREATE TRIGGER {TABLE}_{event} AFTER {event.upper()} ON work_item"
            f" REFERENCING {referencing[event]} FOR EACH STATEMENT"
            f" EXECUTE FUNCTION {TABLE}_{event}()",
        ]
    out += [
        f"CREATE FUNCTION {TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN DELETE FROM {TABLE}; RETURN NULL; END $$",
        f"CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON work_item"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_truncate()",
    ]
    return out


def sqlite_triggers() -> list[str]:
    """Row triggers (SQLite has no other kind); an update that leaves the key as it was adds
    nothing."""

    def values(row: str, sign: int) -> str:
        return "(" + ", ".join(_key(row)) + f", {sign})"

    changed = " OR ".join(
        f"{old} IS NOT {new}" for old, new in zip(_key("OLD"), _key("NEW"), strict=True)
    )
    insert = f"INSERT INTO {TABLE} ({KEYS}, n) VALUES"
    return [
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON work_item"
        f" BEGIN {insert} {values('NEW', 1)}; END",
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE ON work_item WHEN {changed}"
        f" BEGIN {insert} {values('OLD', -1)}, {values('NEW', 1)}; END",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON work_item"
        f" BEGIN {insert} {values('OLD', -1)}; END",
    ]


def _key(row: str) -> list[str]:
    return [
        f"{row}.plan_id",
        f"{row}.milestone_id",
        f"{row}.state",
        f"{row}.start",
        f"{row}.due",
        f"{row}.percent",
        f"coalesce({row}.submitted_on, {row}.moved_on)",
        f"{row}.open_prerequisites > 0",
    ]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index(f"ix_{TABLE}_plan_id", TABLE, ["plan_id"], unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in postgresql_triggers() if postgresql else sqlite_triggers():
        op.execute(statement)
    op.execute(
        f"INSERT INTO {TABLE} ({KEYS}, n) SELECT {FIELDS}, count(*) FROM work_item"
        f" GROUP BY {FIELDS}"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in (*TRIGGERED, "truncate") if postgresql else TRIGGERED:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{event}" + (" ON work_item" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_{event}()")
    op.drop_index(f"ix_{TABLE}_plan_id", table_name=TABLE)
    op.drop_table(TABLE)
