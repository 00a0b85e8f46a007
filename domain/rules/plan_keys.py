"""A plan id as Prefect keys know it: its artifacts' keys allow only lowercase letters, digits
and dashes, so ids that differ only in case or in ``_`` ``.`` ``-`` would share them."""

from __future__ import annotations


def key_text(raw: str) -> str:
    """``raw`` in an artifact key's letters: lowercase, every other character a dash."""
    return "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-" for c in raw.lower())


def clashing_plan(new_id: str, existing: list[str]) -> str | None:
    """The first of ``existing`` (other than ``new_id`` itself) whose artifact keys
    ``new_id``'s would be, or None."""
    key = key_text(new_id)
    return next((p for p in sorted(existing) if p != new_id and key_text(p) == key), None)
