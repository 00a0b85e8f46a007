"""Debian's chromium, headless, driven over the DevTools protocol (a websocket): open a page
in a phone-sized window, read its layout, tap, take screenshots."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import mplfonts
import pytest
from websockets.sync.client import connect
from websockets.sync.connection import Connection

FONTS = Path(str(mplfonts.__file__)).parent / "fonts"
"""Noto CJK fonts shipped with mplfonts: screenshots show Chinese even without system fonts."""


def chromium_or_skip() -> str:
    """The chromium binary; a failure on CI (which installs it), a skip elsewhere."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required here (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


class Page:
    """One tab: send commands, wait for events."""

    def __init__(self, socket: Connection) -> None:
        self.socket = socket
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run a command and return its result (AssertionError on a protocol error)."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        """Until the event arrives (one already received counts, once)."""
        deadline = time.monotonic() + 30
        while True:
            for index, seen in enumerate(self.events):
                if seen.get("method") == event:
                    del self.events[: index + 1]
                    return
            assert time.monotonic() < deadline, f"no {event}"
            self.events.append(json.loads(self.socket.recv(timeout=30)))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (run by the browser's debugger:
        the page itself runs no script)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait until the page has loaded."""
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def tap(self, selector: str) -> None:
        """Click an element that submits a form, and wait for the next page."""
        self.events.clear()
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
        self.wait_for("Page.loadEventFired")

    def choose_file(self, selector: str, path: Path) -> None:
        """Put a file into a file input, as picking it on the phone does."""
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        assert node, f"no {selector}"
        self.send("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    def screenshot(self, path: Path) -> bytes:
        """The whole page (beyond the window's height) as PNG, written to ``path``."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )
        png = base64.b64decode(shot["data"])
        path.write_bytes(png)
        return png


@contextmanager
def phone(
    workdir: Path, width: int = 360, height: int = 800, *, mobile: bool = True
) -> Iterator[Page]:
    """A headless chromium with one tab the size of a phone (mobile viewport rules on), or of a
    desktop window with ``mobile=False``."""
    binary = chromium_or_skip()
    fonts = workdir / "fonts.conf"
    fonts.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{FONTS}</dir><cachedir>{workdir / 'fontcache'}</cachedir></fontconfig>"
    )
    log = workdir / "chromium.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # tests run as root in CI containers
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={workdir / 'profile'}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stderr=errors,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "FONTCONFIG_FILE": str(fonts)},
        )
    try:
        deadline = time.monotonic() + 30
        while (
            match := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", log.read_text())
        ) is None:
            assert process.poll() is None, f"chromium exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.05)
        port = int(match.group(1))
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        tab = next(t for t in targets if t["type"] == "page")
        with connect(tab["webSocketDebuggerUrl"], max_size=2**26) as socket:
            page = Page(socket)
            page.send("Page.enable")
            page.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=mobile,
            )
            yield page
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
