"""A command that needs Prefect uses this data directory's running server (`duban server`,
or the one `duban serve` started) instead of starting one of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from duban.orchestration import LocalServer, free_port, healthy, local_server, prefect_server


def test_a_command_uses_the_running_local_server_and_leaves_it_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the data directory's server up, `prefect_server` yields its API, starts no second
    server and stops nothing when the command ends."""
    settings = Settings(home=tmp_path, prefect_port=free_port())
    server = local_server(settings)
    server.start()
    try:
        with monkeypatch.context() as patched:

            def second_server(self: LocalServer, timeout: float = 0) -> None:
                raise AssertionError("a second server was started")

            patched.setattr(LocalServer, "start", second_server)
            with prefect_server(settings) as url:
                assert url == server.api_url
        assert healthy(server.api_url)
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()


def test_without_a_running_server_a_command_starts_one_and_stops_it(tmp_path: Path) -> None:
    """Nothing on the port: the command's own server runs for the block, then stops."""
    settings = Settings(home=tmp_path, prefect_port=free_port())
    with prefect_server(settings) as url:
        assert healthy(url)
    assert not healthy(url, timeout=1.0)
    assert not (tmp_path / "prefect" / "server.pid").exists()
