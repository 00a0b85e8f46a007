"""The data directory's signing key is created once, whole, however many processes ask for it at
the same moment."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from config.settings import temporary_settings
from domain.adapters.signing import workbook_secret


def _read_key(home: str, out: multiprocessing.Queue[bytes]) -> None:
    with temporary_settings(home=Path(home), workbook_secret=None) as settings:
        out.put(workbook_secret(settings))


def test_processes_asking_at_once_all_get_the_one_key_written(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[bytes] = context.Queue()
    for attempt in range(20):
        home = tmp_path / str(attempt)
        home.mkdir()
        workers = [context.Process(target=_read_key, args=(str(home), out)) for _ in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert all(w.exitcode == 0 for w in workers)
        keys = {out.get(timeout=10) for _ in workers}
        assert keys == {(home / "workbook.key").read_text().strip().encode()}
        assert len(keys.pop()) == 64
        assert [p.name for p in home.iterdir()] == ["workbook.key"]  # no draft left
