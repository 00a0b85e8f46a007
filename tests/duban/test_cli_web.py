"""`duban link` and `duban web` as the coordinator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from config.settings import Settings, temporary_settings
from domain.adapters.signing import workbook_secret
from domain.queries.owner_links import LinkRevokedError, open_link
from duban.cli import app
from models import clock
from models.db import session_scope
from models.records import Contact

runner = CliRunner()


def token_printed(output: str) -> str:
    line = next(x for x in output.splitlines() if "/l/" in x)
    return line.rsplit("/l/", 1)[1].strip()


def test_link_prints_the_liaisons_link_and_revoke_ends_it(
    settings: Settings, village_plan: Engine
) -> None:
    """`duban link --unit` prints the liaison's link under the base URL; `--contact` picks
    someone else; `duban link revoke` makes the printed links stop working."""
    with temporary_settings(web_base_url="https://duban.example.gov.cn/tb/"):
        done = runner.invoke(app, ["link", "--unit", "v12"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "甲一村（v12）联络员赵六" in done.output and "有效期至" in done.output
    assert "https://duban.example.gov.cn/tb/l/" in done.output
    liaison = token_printed(done.output)
    with session_scope(village_plan) as session:
        ids: dict[str, int] = dict(session.execute(select(Contact.name, Contact.id)).all())
    head, zhao = ids["钱七"], ids["赵六"]
    other = runner.invoke(app, ["link", "--unit", "v12", "--contact", str(head)])
    assert other.exit_code == 0 and "负责人钱七" in other.output
    secret = workbook_secret(settings)
    with session_scope(village_plan) as session:
        assert open_link(session, secret, liaison, clock.now()).contact_name == "赵六"
    revoked = runner.invoke(app, ["link", "revoke", "--contact", str(zhao)])
    assert revoked.exit_code == 0 and "已停用甲一村赵六" in revoked.output
    with session_scope(village_plan) as session:
        try:
            open_link(session, secret, liaison, clock.now())
        except LinkRevokedError:
            pass
        else:
            raise AssertionError("the revoked link still opens")
        assert open_link(session, secret, token_printed(other.output), clock.now())


def test_link_for_a_unit_without_contacts_says_what_to_do(
    settings: Settings, village_plan: Engine, monkeypatch: object
) -> None:
    """A unit with no contact, or a contact of another unit, is a Chinese error (exit 2)."""
    from tests.duban.test_cli import run_main  # noqa: PLC0415

    assert run_main(monkeypatch, "link", "--unit", "t1") == 2  # type: ignore[arg-type]
    assert run_main(monkeypatch, "link", "--unit", "nowhere") == 2  # type: ignore[arg-type]
    assert run_main(monkeypatch, "link", "--unit", "v12", "--contact", "9999") == 2  # type: ignore[arg-type]
    assert run_main(monkeypatch, "link", "revoke", "--contact", "9999") == 2  # type: ignore[arg-type]
    assert runner.invoke(app, ["link"]).exit_code == 2


def test_duban_web_serves_the_pages(
    settings: Settings, village_plan: Engine, unused_tcp_port: int, tmp_path: Path
) -> None:
    """`duban web --port N` answers over HTTP until stopped."""
    env = {**os.environ, "DUBAN_HOME": str(settings.home)}
    if settings.database_url:
        env["DUBAN_DATABASE_URL"] = settings.database_url
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "duban"), "web", "--port", str(unused_tcp_port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{unused_tcp_port}/", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "duban web did not answer"
                time.sleep(0.2)
        assert page.status_code == 200 and "点击填报" in page.text
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "督办填报页面" in output
