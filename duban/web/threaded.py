"""The owner's site served by uvicorn in a thread of this process (`duban serve` beside the
deployments, the main job's replayed weeks), stopped when the block ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from config.settings import Settings
from duban.web.app import create_app


@contextmanager
def serving(settings: Settings, host: str, port: int) -> Iterator[str]:
    """The site for ``settings`` on ``host:port`` until the block ends; yields its address once
    it answers (RuntimeError if it does not start within 20 s)."""
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="duban-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"填报页面服务没有在 {host}:{port} 上启动")
            time.sleep(0.02)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
