"""Signing what a workbook or a CSV/JSON template row is for (plan, unit, period, items), so
it cannot be repurposed.

The secret (also the key of personal links, under its own salt) comes from
``DUBAN_WORKBOOK_SECRET``; when unset, a random one is created once in the
data directory (``workbook.key``, readable only by its owner). Rotating it invalidates the
workbooks already sent out, which is the point.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from contextlib import suppress
from datetime import date
from pathlib import Path

from config.settings import Settings, get_settings


def workbook_secret(settings: Settings | None = None) -> bytes:
    """The signing key: the setting, else the data directory's key file (created if missing);
    of ``settings`` when given, else of the settings in force."""
    settings = settings or get_settings()
    if settings.workbook_secret is not None:
        return settings.workbook_secret.get_secret_value().encode()
    path = settings.home / "workbook.key"
    if not path.exists():
        _create_key(path)
    return path.read_text().strip().encode()


def _create_key(path: Path) -> None:
    """A new random key at ``path``, whole or not at all: written under a name of its own, then
    linked into place, so a process that finds the file finds it written, and of two processes
    creating it at once one key wins and both read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        with suppress(FileExistsError):  # another process's key is in place: it is the key
            os.link(draft, path)
    finally:
        draft.unlink()


def payload(plan: str, unit: str, period: date, item_ids: Iterable[int]) -> str:
    """The signed text: plan|unit|period|sorted item ids."""
    ids = ",".join(str(i) for i in sorted(item_ids))
    return f"{plan}|{unit}|{period.isoformat()}|{ids}"


def sign(text: str) -> str:
    """HMAC-SHA256 of the text, hex."""
    return hmac.new(workbook_secret(), text.encode(), hashlib.sha256).hexdigest()


def verify(text: str, signature: str) -> bool:
    """Whether the signature matches (constant-time comparison)."""
    return hmac.compare_digest(sign(text).encode(), _ascii(signature.strip()))


ROW_PREFIX = "s1-"  # a letter first, so Excel and WPS keep the cell as text


def row_payload(plan: str, unit: str, period: date, key: str) -> str:
    """The signed text of one template row: ``key`` is ``item:<id>`` or ``measure:<code>``."""
    return f"row|{plan}|{unit}|{period.isoformat()}|{key}"


def sign_row(plan: str, unit: str, period: date, key: str) -> str:
    """The 签名 cell of one CSV/JSON template row: ``s1-`` and 128 bits of HMAC-SHA256, hex."""
    return ROW_PREFIX + sign(row_payload(plan, unit, period, key))[:32]


def verify_row(plan: str, unit: str, period: date, key: str, signature: str) -> bool:
    """Whether a row's 签名 cell is the one duban wrote for this plan, unit, period and row."""
    expected = sign_row(plan, unit, period, key).encode()
    return hmac.compare_digest(expected, _ascii(signature.strip().lower()))


def _ascii(text: str) -> bytes:
    """Text as bytes for a constant-time comparison (anything not ASCII cannot match anyway)."""
    return text.encode("ascii", errors="replace")
