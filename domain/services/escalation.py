"""Running escalation: plan the day's notices into the outbox, then deliver them (for one
plan, or for several with one digest per recipient across them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine

from config.ladder import Ladder
from domain.adapters.channels import Channel
from domain.queries.context import build_context, resolve_plan
from domain.queries.escalation import all_due_notices
from domain.queries.outbox import write_outbox
from domain.rules.context import LightPolicy
from domain.rules.ladder import PlannedNotice
from domain.services.delivery import DeliveryReport, deliver, preview
from domain.services.delivery_plans import deliver_plans, preview_plans
from models.db import session_scope


def run_escalation(
    engine: Engine,
    plan_id: str,
    as_of: date,
    ladder: Ladder,
    *,
    policy: LightPolicy,
    dry_run: bool = False,
    channel: Channel | None = None,
) -> tuple[list[PlannedNotice], int, DeliveryReport]:
    """Plan the day's notices into the outbox (committed), then deliver. A dry run plans and
    previews the digests in one transaction and rolls it back: nothing written, nothing sent."""
    with session_scope(engine, rollback=dry_run) as session:
        plan = resolve_plan(session, plan_id)
        ctx = build_context(session, plan, as_of, policy)
        due = all_due_notices(session, ctx, ladder)
        new = write_outbox(session, ctx, due, analyze=not dry_run)
        if dry_run:
            return due, new, preview(session, plan, cap=ladder.daily_cap)
    return due, new, deliver(engine, plan_id, cap=ladder.daily_cap, channel=channel)


def run_escalation_plans(
    engine: Engine,
    plan_ids: Sequence[str],
    as_of: date,
    ladder: Ladder,
    *,
    policy: LightPolicy,
    dry_run: bool = False,
    channel: Channel | None = None,
) -> tuple[dict[str, tuple[list[PlannedNotice], int]], DeliveryReport]:
    """Plan the day's notices of every plan in ``plan_ids`` (each plan's notices and how many
    were new), then deliver them together: one digest per recipient across the plans
    (:mod:`domain.services.delivery_plans`). A dry run writes and sends nothing."""
    planned: dict[str, tuple[list[PlannedNotice], int]] = {}
    with session_scope(engine, rollback=dry_run) as session:
        for plan_id in plan_ids:
            ctx = build_context(session, resolve_plan(session, plan_id), as_of, policy)
            due = all_due_notices(session, ctx, ladder)
            planned[plan_id] = due, write_outbox(session, ctx, due, analyze=not dry_run)
        if dry_run:
            plans = [resolve_plan(session, p) for p in plan_ids]
            return planned, preview_plans(session, plans, cap=ladder.daily_cap)
    return planned, deliver_plans(engine, plan_ids, cap=ladder.daily_cap, channel=channel)
