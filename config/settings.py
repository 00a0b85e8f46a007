"""One source of truth for settings: environment variables with the prefix ``DUBAN_``.

``DUBAN_HOME`` is the data directory. It holds the SQLite database of the embedded default and,
as later parts land, the inbox, outbox, briefings and the local Prefect server's files.
``DUBAN_DATABASE_URL`` selects another database (e.g. ``postgresql+psycopg://user@host/db``).
A ``.env`` file in the working directory is read too (git ignores it): secrets never go in git.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import InputError, Problem

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = PACKAGE_ROOT / "tasks_catalog" / "shidian"


def default_home() -> Path:
    """The data directory when ``DUBAN_HOME`` is unset: ``$XDG_DATA_HOME/duban``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "duban"


class Settings(BaseSettings):
    """Everything configurable about duban, read from ``DUBAN_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="DUBAN_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=default_home)
    database_url: str | None = None
    catalog: Path = DEFAULT_CATALOG
    yellow_workdays: int = Field(
        default=5,
        ge=0,
        description="an open item this many working days or fewer before its due date is yellow",
    )
    pace_margin: int = Field(
        default=25,
        ge=1,
        le=100,
        description="percentage points an item may lag the straight-line "
        "expected progress (序时进度) before it turns yellow as behind pace",
    )
    calendar_overrides: Path | None = Field(
        default=None,
        description="YAML file of local working-day overrides; default "
        "<home>/calendar_overrides.yaml when that file exists",
    )
    actor: str = Field(
        default_factory=lambda: os.environ.get("USER") or getpass.getuser(),
        description="who is recorded in the audit trail for changes made from the CLI",
    )
    workbook_secret: SecretStr | None = Field(
        default=None,
        description="key that signs unit workbooks; default: <home>/workbook.key, created once",
    )
    inbox: Path | None = Field(default=None, description="default <home>/inbox")
    ladder: Path | None = Field(
        default=None, description="escalation ladder YAML; default config/ladder.yaml"
    )
    channel: Literal["file", "smtp"] = "file"
    delivery_hours: str = Field(default="08:30-18:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "duban@localhost"
    smtp_sender_name: str = "督办系统"
    briefings: Path | None = Field(default=None, description="default <home>/briefings")
    briefing_fonts: Literal["official", "free"] = Field(
        default="official",
        description="fonts the Word briefing names: the GB/T 9704 faces of government PCs, "
        "or free fonts installed here that cover the text (domain/briefing/fonts.py)",
    )
    briefing_base_url: str | None = Field(
        default=None,
        description="URL under which the briefings folder is published (for links in the UI)",
    )
    daily_cron: str = Field(
        default="30 8 * * *", description="when the daily cycle runs (cron, schedule_timezone)"
    )
    weekly_cron: str = Field(
        default="0 16 * * 5", description="when the weekly briefing runs (cron, schedule_timezone)"
    )
    backups: Path | None = Field(
        default=None,
        description="where snapshots of the data directory go; default <home>/backups "
        "(better: a folder on another disk)",
    )
    backup_keep: int = Field(
        default=7, ge=1, description="snapshots kept in the backups folder; older ones are deleted"
    )
    backup_cron: str = Field(
        default="0 2 * * *",
        description="when the nightly snapshot runs (cron, schedule_timezone); empty: never",
    )
    schedule_timezone: str = "Asia/Shanghai"
    briefing_approval: Literal["wait", "auto"] = Field(
        default="wait",
        description="the weekly flow waits for the coordinator's approval in the Prefect UI, "
        "or approves by itself (unattended use)",
    )
    briefing_approval_timeout: int = Field(
        default=4 * 3600, ge=0, description="seconds to wait for approval before giving up"
    )
    prefect_port: int = Field(default=4200, description="port of the local Prefect server")
    prefect_api_url: str | None = Field(
        default=None,
        description="a Prefect server elsewhere (production); default: the local one "
        "`duban server` starts, http://127.0.0.1:<prefect_port>/api",
    )
    partitions: str = Field(
        default="",
        description="unit codes, comma-separated: the scheduled daily cycle plans each one's "
        "notices (and the rest's) as separate flow runs on a work pool; empty: in one process",
    )
    partition_timeout: int = Field(
        default=3600, gt=0, description="seconds a daily cycle waits for its partition runs"
    )
    code_source: str | None = Field(
        default=None,
        description="where workers fetch duban's code (a git URL); default: this checkout's "
        "folder, which must then exist at the same path on every worker machine",
    )
    sql_echo: bool = False

    @property
    def partition_codes(self) -> list[str]:
        """``partitions`` as a list (blanks dropped)."""
        return [code.strip() for code in self.partitions.split(",") if code.strip()]

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'duban.db'}"

    @property
    def resolved_inbox(self) -> Path:
        """Where unit reports arrive; ``archive/`` and ``rejected/`` sit beside it."""
        return self.inbox or self.home / "inbox"

    @property
    def resolved_briefings(self) -> Path:
        """Where briefings are written."""
        return self.briefings or self.home / "briefings"

    @property
    def resolved_prefect_api_url(self) -> str:
        """The Prefect API flows report to."""
        return self.prefect_api_url or f"http://127.0.0.1:{self.prefect_port}/api"

    @property
    def resolved_calendar_overrides(self) -> Path | None:
        """The override file in force, if any."""
        if self.calendar_overrides is not None:
            return self.calendar_overrides
        local = self.home / "calendar_overrides.yaml"
        return local if local.exists() else None


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = [
            Problem(
                None,
                None,
                "DUBAN_" + str(detail["loc"][0]).upper(),
                f"{detail['msg']} (got {detail.get('input')!r})",
            )
            for detail in error.errors(include_url=False)
        ]
        raise InputError("invalid settings in the environment or .env file", problems) from None


_overrides: list[Settings] = []


def get_settings() -> Settings:
    """Settings in force: the innermost :func:`temporary_settings`, else the environment's."""
    return _overrides[-1] if _overrides else _from_environment()


def reload_settings() -> None:
    """Forget the cached environment settings (after changing ``os.environ``)."""
    _from_environment.cache_clear()


@contextmanager
def temporary_settings(**updates: Any) -> Iterator[Settings]:
    """Override some settings inside a ``with`` block (tests, the demo)."""
    patched = get_settings().model_copy(update=updates)
    _overrides.append(patched)
    try:
        yield patched
    finally:
        _overrides.remove(patched)
