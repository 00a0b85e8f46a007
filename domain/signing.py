"""Signing what a workbook is for (plan, unit, period, items) so it cannot be repurposed.

The secret comes from ``DUBAN_WORKBOOK_SECRET``; when unset, a random one is created once in the
data directory (``workbook.key``, readable only by its owner). Rotating it invalidates the
workbooks already sent out, which is the point.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from datetime import date

from config.settings import get_settings


def workbook_secret() -> bytes:
    """The signing key: the setting, else the data directory's key file (created if missing)."""
    settings = get_settings()
    if settings.workbook_secret is not None:
        return settings.workbook_secret.get_secret_value().encode()
    path = settings.home / "workbook.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def payload(plan: str, unit: str, period: date, item_ids: Iterable[int]) -> str:
    """The signed text: plan|unit|period|sorted item ids."""
    ids = ",".join(str(i) for i in sorted(item_ids))
    return f"{plan}|{unit}|{period.isoformat()}|{ids}"


def sign(text: str) -> str:
    """HMAC-SHA256 of the text, hex."""
    return hmac.new(workbook_secret(), text.encode(), hashlib.sha256).hexdigest()


def verify(text: str, signature: str) -> bool:
    """Whether the signature matches (constant-time comparison)."""
    return hmac.compare_digest(sign(text), signature.strip())
