"""One lock on the data directory's files, so a backup sees them and the database agree.

Whoever moves or writes kept files together with a database change (the inbox landing a file,
say) holds the lock *shared* for that one change; ``duban backup`` holds it *exclusive* while it
copies the database and the files. Shared holders never wait for each other. POSIX only (flock).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".duban.lock"


@contextmanager
def home_lock(home: Path, *, exclusive: bool = False) -> Iterator[None]:
    """Hold the data directory's lock (shared by default) for the ``with`` block; waits for it."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
