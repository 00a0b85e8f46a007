"""The file channel of a delivery run: files written whole, flushed to disk all at once before
their messages are confirmed, and a file that cannot be flushed fails its message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from domain.adapters.channels import FileChannel, OutgoingMessage, RunChannels


def message(n: int, attachment: Path | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=n,
        plan_id="demo-plan",
        recipient=f"u{n}/liaison",
        address=None,
        subject=f"主题{n}",
        body="正文",
        attachments=(attachment,) if attachment else (),
    )


def synced(monkeypatch: pytest.MonkeyPatch, fail: str | None = None) -> list[str]:
    """Record what is flushed to disk (and refuse to flush a path ending in ``fail``)."""
    seen: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        path = str(Path(f"/proc/self/fd/{fd}").readlink())
        if fail is not None and path.endswith(fail):
            raise OSError(5, "Input/output error")
        seen.append(path)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to name an fd")
def test_a_runs_files_are_flushed_together_before_they_are_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sending writes each file whole (no temporary file left) without flushing it; settling
    flushes every file written since, and the folder, then returns the results unchanged."""
    seen = synced(monkeypatch)
    book = tmp_path / "表.xlsx"
    book.write_bytes(b"xlsx")
    channel = FileChannel(tmp_path / "outbox", deferred=True)
    channel.send(message(1))
    channel.send(message(2, book))
    assert seen == []
    written = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert written == [
        "000001-u1-liaison.txt",
        "000002-u2-liaison-表.xlsx",
        "000002-u2-liaison.txt",
    ]
    assert channel.settle([(1, None), (2, None)]) == [(1, None), (2, None)]
    assert sorted(Path(p).name for p in seen) == [*written, "outbox"]
    assert channel.settle([(3, "SMTP 拒收")]) == [(3, "SMTP 拒收")]  # nothing written since


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to name an fd")
def test_a_file_that_cannot_be_flushed_fails_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message whose file did not reach the disk is not confirmed sent (it is retried); the
    others are."""
    synced(monkeypatch, fail="000002-u2-liaison.txt")
    channel = FileChannel(tmp_path, deferred=True)
    channel.send(message(1))
    channel.send(message(2))
    (one, two) = channel.settle([(1, None), (2, None)])
    assert one == (1, None)
    assert two[0] == 2 and two[1] is not None and "Input/output error" in two[1]


def test_a_run_flushes_its_file_channel_when_it_settles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's channels hand out one deferred file channel, settled by the run."""
    run = RunChannels()
    channel = run.named("file", None)
    assert isinstance(channel, FileChannel) and channel.deferred
    assert run.named("file", None) is channel
    channel.folder = tmp_path
    channel.send(message(7))
    assert run.settle([(7, None)]) == [(7, None)]


def test_a_channel_on_its_own_flushes_each_file_as_it_writes_it(tmp_path: Path) -> None:
    """Outside a run (a briefing sent alone) each file is on disk when ``send`` returns."""
    channel = FileChannel(tmp_path)
    channel.send(message(5))
    assert (tmp_path / "000005-u5-liaison.txt").read_text(encoding="utf-8").startswith("收件人")
    assert channel.settle([(5, None)]) == [(5, None)]
