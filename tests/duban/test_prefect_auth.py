"""Only the coordinator can act: a Prefect server reachable from other machines asks for
DUBAN_PREFECT_AUTH, and duban's clients send it; `duban server` refuses to listen beyond the
loopback without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.settings import Settings
from duban.orchestration import free_port, local_server, loopback, prefect_client

SECRET = "coordinator:s3cret-2021!"


@pytest.mark.parametrize(
    ("host", "only_here"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("duban.example.cn", False),
    ],
)
def test_loopback_is_this_machine_only(host: str, only_here: bool) -> None:
    assert loopback(host) is only_here


def duban_server(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`duban server` as a process with these DUBAN_* settings (killed after 60 s: a server
    that starts instead of refusing fails the test, it does not hang it)."""
    settings = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_PREFECT")}
    duban = Path(sys.executable).with_name("duban")
    return subprocess.run(
        [str(duban), "server"],
        env={**settings, "DUBAN_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_duban_server_beyond_the_loopback_without_a_password_is_refused(tmp_path: Path) -> None:
    done = duban_server(tmp_path, DUBAN_PREFECT_HOST="0.0.0.0")
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert "DUBAN_PREFECT_AUTH" in said and "Traceback" not in said
    assert not (tmp_path / "prefect" / "server.pid").exists()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("onlyapassword", "用户名:密码"),
        ("c:short", "至少 8"),
        ("c:密码密码密码密码", "中文"),
        ("c:pass word!", "空"),
    ],
)
def test_a_password_prefect_cannot_use_is_refused(value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Settings(prefect_auth=value)


def test_a_wrong_password_setting_is_named_but_never_shown(tmp_path: Path) -> None:
    done = duban_server(tmp_path, DUBAN_PREFECT_AUTH="coord:abc")
    assert done.returncode == 2
    said = done.stdout + done.stderr
    assert "DUBAN_PREFECT_AUTH（值已隐藏）" in said and "coord:abc" not in said


def api(url: str, auth: str | None = None) -> int:
    """The status of POST ``url`` (a Prefect filter endpoint), with basic auth if given."""
    request = urllib.request.Request(url, data=b"{}", method="POST")
    request.add_header("Content-Type", "application/json")
    if auth is not None:
        import base64  # noqa: PLC0415

        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            json.load(answer)
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_server_with_a_password_answers_only_clients_that_send_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, prefect_auth=SECRET, prefect_port=free_port())
    server = local_server(settings)
    server.start()
    try:
        flows = f"{server.api_url}/flows/filter"
        assert api(flows) == 401
        assert api(flows, "coordinator:wrong") == 401
        assert api(flows, SECRET) == 200
        with prefect_client(settings):
            from prefect.client.orchestration import get_client  # noqa: PLC0415

            with get_client(sync_client=True) as client:
                assert client.read_flows() == []
    finally:
        server.stop()
    assert SECRET not in server.log.read_text(errors="replace")
