"""The data directory's lock: shared holders coexist, an exclusive holder waits for them."""

from __future__ import annotations

import fcntl
from pathlib import Path

from models.home_lock import LOCK_NAME, home_lock


def _try(home: Path, flag: int) -> bool:
    with (home / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, flag | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_shared_holders_coexist_and_keep_an_exclusive_one_out(tmp_path: Path) -> None:
    """While one writer holds the lock shared, another may share it but a backup may not."""
    with home_lock(tmp_path):
        assert _try(tmp_path, fcntl.LOCK_SH)
        assert not _try(tmp_path, fcntl.LOCK_EX)
    assert _try(tmp_path, fcntl.LOCK_EX)


def test_an_exclusive_holder_keeps_writers_out(tmp_path: Path) -> None:
    """While a backup holds the lock, no writer can take it, shared or not."""
    with home_lock(tmp_path, exclusive=True):
        assert not _try(tmp_path, fcntl.LOCK_SH)
    assert _try(tmp_path, fcntl.LOCK_SH)
