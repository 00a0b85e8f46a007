"""Claiming inbox files one at a time, so two collections never take the same file.

A collection claims a file by renaming it into its own folder ``<inbox>/.claims/<token>/``
(atomic: of two processes, one gets it and the other finds it gone) and holds ``<token>.lock``
locked for as long as it runs. Whoever starts next takes over the folders of a collection that
died (their lock is free) and puts their files back into the inbox, so nothing stays stuck.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

CLAIMS = ".claims"
log = logging.getLogger("duban.intake")


class NotARegularFileError(Exception):
    """The inbox entry is a link, a folder, a pipe or a device: it is not read."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class TooLargeError(Exception):
    """The file is larger than a report file can be."""


def free_path(path: Path) -> Path:
    """``path``, or ``path`` with a counter before its extension if that name is taken."""
    candidate, n = path, 1
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        n += 1
    return candidate


def pending_names(inbox: Path) -> list[str]:
    """Entries waiting directly in the inbox, in name order: files, and anything else that is
    not a folder (links and special files are refused when claimed). Excel's lock files
    (``~$…``), hidden and temporary files are left alone."""
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:
        return sorted(
            e.name
            for e in entries
            if not e.is_dir(follow_symlinks=False)
            and not e.name.startswith((".", "~$"))
            and not e.name.endswith(".tmp")
        )


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "符号链接（快捷方式）"
    if stat.S_ISFIFO(mode):
        return "管道文件"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    return "文件夹" if stat.S_ISDIR(mode) else "特殊文件"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file at most ``limit`` long, never following a link: raises
    NotARegularFileError or TooLargeError without reading anything else."""
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(_kind(mode))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:  # replaced by a link between the two looks
        raise NotARegularFileError(_kind(os.lstat(path).st_mode)) from exc
    with os.fdopen(fd, "rb") as handle:
        found = os.fstat(handle.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise NotARegularFileError(_kind(found.st_mode))
        if found.st_size > limit:
            raise TooLargeError
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError
    return data


class Claims:
    """This collection's claim folder; use as a context manager around the collection."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.root = inbox / CLAIMS
        self.token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.folder = self.root / self.token
        self._lock: IO[str] | None = None

    def __enter__(self) -> Claims:
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = (self.root / f"{self.token}.lock").open("a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.folder.mkdir()
        recover_claims(self.inbox, keep=self.token)
        return self

    def claim(self, name: str) -> Path | None:
        """Take ``name`` out of the inbox into this collection's folder; None if another took it."""
        target = self.folder / name
        try:
            (self.inbox / name).rename(target)
        except FileNotFoundError:
            return None
        return target

    def release(self, claimed: Path) -> None:
        """Put a claimed file back into the inbox (a fault stopped its handling)."""
        if os.path.lexists(claimed):
            claimed.rename(free_path(self.inbox / claimed.name))

    def __exit__(self, *exc: object) -> None:
        assert self._lock is not None
        _give_back(self.inbox, self.folder)
        with contextlib.suppress(FileNotFoundError):
            (self.root / f"{self.token}.lock").unlink()
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def _give_back(inbox: Path, folder: Path) -> None:
    """Move whatever a claim folder holds back into the inbox, then remove the folder."""
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        entry.rename(free_path(inbox / entry.name))
        log.warning("收件箱：将未处理完的 %s 放回收件箱", entry.name)
    with contextlib.suppress(FileNotFoundError, OSError):
        folder.rmdir()


def recover_claims(inbox: Path, *, keep: str | None = None) -> None:
    """Give back the files of every claim folder whose collection is no longer running."""
    root = inbox / CLAIMS
    if not root.is_dir():
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != keep):
        with _try_lock(root / f"{folder.name}.lock") as held:
            if held:
                _give_back(inbox, folder)
                with contextlib.suppress(FileNotFoundError):
                    (root / f"{folder.name}.lock").unlink()


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
