"""Queries over the database: status, completeness, escalation plans, items, the sync.

Each function takes a session and only flushes; the caller owns the transaction. Queries use
rules, never adapters or services.
"""
