"""Opening the configured database for a command, with a clear message if it is not ready."""

from __future__ import annotations

from models.schema_version import display_url, ready_engine

__all__ = ["display_url", "ready_engine"]
