"""Talking to Prefect: a dedicated local server in the data directory, and client settings.

duban never uses Prefect's temporary in-process server (slow to start, lock tracebacks on
SQLite, no scheduler). Flows report to ``DUBAN_PREFECT_API_URL`` (production: a Prefect server
on PostgreSQL) or to the local server ``duban server`` starts: ``prefect server start`` with its
SQLite database and logs in ``<DUBAN_HOME>/prefect/``, analytics off, on 127.0.0.1 unless
``DUBAN_PREFECT_HOST`` says otherwise, which needs ``DUBAN_PREFECT_AUTH`` (the UI and every
client then authenticate: whoever reaches the server could verify, return or extend items).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.errors import NotFoundError
from config.settings import Settings

SERVER_TUNING = {
    # the defaults record too few task runs per second and drop events in bursts (BENCHMARKS.md)
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "50",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "500",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}
CLIENT_ENV = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def prefect_home(settings: Settings) -> Path:
    return settings.home / "prefect"


def ui_url(api_url: str) -> str:
    return api_url.removesuffix("/api")


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect server answers its health check at ``api_url``."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as answer:  # noqa: S310 - http(s) URL from settings
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def client_environment(settings: Settings) -> dict[str, str]:
    """Environment for processes that run flows (this one, and runs `serve` starts)."""
    return {
        **CLIENT_ENV,
        "PREFECT_API_URL": settings.resolved_prefect_api_url,
        "PREFECT_HOME": str(prefect_home(settings)),
        **_auth("PREFECT_API_AUTH_STRING", settings),
    }


def _auth(variable: str, settings: Settings) -> dict[str, str]:
    """``{variable: the auth string}`` when DUBAN_PREFECT_AUTH is set, else nothing."""
    auth = settings.prefect_auth
    return {variable: auth.get_secret_value()} if auth is not None else {}


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip()).is_loopback
    except ValueError:
        return False


def local_server(
    settings: Settings, port: int | None = None, *, public: bool = False
) -> LocalServer:
    """This data directory's server on ``port`` (default DUBAN_PREFECT_PORT), asking for
    DUBAN_PREFECT_AUTH when set; on DUBAN_PREFECT_HOST when ``public`` (`duban server`), else
    on the loopback."""
    return LocalServer(
        prefect_home(settings),
        settings.prefect_port if port is None else port,
        host=settings.prefect_host if public else "127.0.0.1",
        auth=settings.prefect_auth.get_secret_value() if settings.prefect_auth else None,
    )


@contextmanager
def prefect_client(settings: Settings, *, heartbeat: bool = False) -> Iterator[str]:
    """Point this process (and its children) at the Prefect API; yields the API URL.

    Heartbeats detect crashed runs of served deployments but slow every flow run (BENCHMARKS.md),
    so only long-running processes (`duban serve`, `duban scheduler`) keep them.
    """
    from prefect.settings import (  # noqa: PLC0415 - Prefect reads its settings when imported
        PREFECT_API_AUTH_STRING,
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_HOME,
        temporary_settings,
    )

    env = client_environment(settings)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    updates: dict[Any, Any] = {
        PREFECT_API_URL: env["PREFECT_API_URL"],
        PREFECT_HOME: env["PREFECT_HOME"],
    }
    if "PREFECT_API_AUTH_STRING" in env:
        updates[PREFECT_API_AUTH_STRING] = env["PREFECT_API_AUTH_STRING"]
    if not heartbeat:
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    try:
        with temporary_settings(updates=updates):
            yield env["PREFECT_API_URL"]
            flush_logs()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def flush_logs() -> None:
    """Send buffered run logs to the server now (before it stops)."""
    from prefect.logging.handlers import APILogWorker  # noqa: PLC0415

    APILogWorker.drain_all(timeout=5)


@dataclass
class LocalServer:
    """A ``prefect server start`` child process with its files in the data directory."""

    home: Path
    port: int
    host: str = "127.0.0.1"
    auth: str | None = field(default=None, repr=False)
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.home / "server.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            **SERVER_TUNING,
            **CLIENT_ENV,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_API_URL": self.api_url,
            **(
                {"PREFECT_SERVER_API_AUTH_STRING": self.auth, "PREFECT_API_AUTH_STRING": self.auth}
                if self.auth
                else {}
            ),
        }

    @property
    def pid_file(self) -> Path:
        return self.home / "server.pid"

    def start(self, timeout: float = 90.0) -> None:
        """Start it and wait until it is healthy; NotFoundError with the log's tail if not,
        or if the port is taken (never mistake another program's server for ours)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if not port_is_free(self.port):
            raise NotFoundError(
                f"端口 {self.port} 已被其他程序占用；请把 DUBAN_PREFECT_PORT 设为空闲端口，"
                "供这个数据目录的 Prefect 服务使用"
            )
        prefect = Path(sys.executable).with_name("prefect")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter's prefect
                [str(prefect), "server", "start"],
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the terminal stops us, and we stop it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break  # it died (the port was taken meanwhile?)
            if healthy(self.api_url, timeout=1.0):
                self.pid_file.write_text(f"{self.process.pid} {self.port}\n")
                return
            time.sleep(0.3)
        self.stop()
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        raise NotFoundError(
            f"本机 Prefect 服务没能在端口 {self.port} 上启动"
            f"（端口被占用？请设置 DUBAN_PREFECT_PORT）。它的日志 {self.log}：\n{tail}"
        )

    def stop(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the loopback port (a closing connection's TIME-WAIT does not
    count: the server itself binds with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """Any free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def running_local_server(settings: Settings) -> bool:
    """Whether this data directory's local server (started by `duban server`) is running on
    the configured port; NotFoundError if something else answers there."""
    url = settings.resolved_prefect_api_url
    if not healthy(url):
        return False
    pid_file = prefect_home(settings) / "server.pid"
    try:
        pid, port = (int(x) for x in pid_file.read_text().split())
        os.kill(pid, 0)
    except (OSError, ValueError):
        pid, port = 0, 0
    if pid and port == settings.prefect_port and _serves_home(pid, prefect_home(settings)):
        return True
    raise NotFoundError(
        f"{ui_url(url)} 上有 Prefect 服务在响应，但不是这个数据目录（{prefect_home(settings)}）"
        "的服务；请把 DUBAN_PREFECT_PORT 设为空闲端口"
    )


def _serves_home(pid: int, home: Path) -> bool:
    """Whether process ``pid`` runs with this PREFECT_HOME (a copied data directory's pid file
    must not make another directory's server ours). True where /proc cannot tell."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return True
    wanted = f"PREFECT_HOME={home}".encode()
    return wanted in environ


@contextmanager
def prefect_server(settings: Settings) -> Iterator[str]:
    """The Prefect API to use: ``DUBAN_PREFECT_API_URL`` if set (it must answer), else this
    data directory's local server if `duban server` runs, else a local server started here
    for the duration (and stopped afterwards). Yields the API URL."""
    url = settings.resolved_prefect_api_url
    if settings.prefect_api_url:
        if not healthy(url):
            raise NotFoundError(f"{url} 的 Prefect 服务没有响应")
        yield url
        return
    if running_local_server(settings):
        yield url
        return
    server = local_server(settings)
    server.start()
    try:
        yield server.api_url
    finally:
        server.stop()
