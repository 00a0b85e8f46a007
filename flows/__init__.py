"""Prefect flows, one module per flow, with thin bodies that call the library.

The foundation exposes its work as plain functions (``domain.queries.sync.sync_catalog``,
``domain.queries.status.status_view``); the orchestration work wraps them as ``sync_catalog``,
``daily_cycle`` and ``weekly_briefing`` flows here.
"""
