"""One source of truth for settings: environment variables with the prefix ``DUBAN_``.

``DUBAN_HOME`` is the data directory. It holds the SQLite database of the embedded default and,
as later parts land, the inbox, outbox, briefings and the local Prefect server's files.
``DUBAN_DATABASE_URL`` selects another database (e.g. ``postgresql+psycopg://user@host/db``).
A ``.env`` file in the working directory is read too (git ignores it): secrets never go in git.
Names are case-insensitive; the environment wins over ``.env``, values given in code over both.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from config.errors import SettingError
from config.pydantic_words import pydantic_reason

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = PACKAGE_ROOT / "tasks_catalog" / "shidian"
ENV_PREFIX = "duban_"
ENV_FILE = Path(".env")


def default_home() -> Path:
    """The data directory when ``DUBAN_HOME`` is unset: ``$XDG_DATA_HOME/duban``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "duban"


def delivery_window(text: str) -> tuple[time, time]:
    """``"08:30-18:00"`` as (start, end): real times of day, the start before the end."""
    match = re.fullmatch(r"(\d\d):(\d\d)-(\d\d):(\d\d)", text.strip())
    if match is None:
        raise ValueError("应写成“时:分-时:分”，例如 08:30-18:00")
    hour1, minute1, hour2, minute2 = (int(g) for g in match.groups())
    for hour, minute in ((hour1, minute1), (hour2, minute2)):
        if hour > 23 or minute > 59:
            raise ValueError(f"{hour:02}:{minute:02} 不是一天中的时刻（00:00–23:59）")
    start, end = time(hour1, minute1), time(hour2, minute2)
    if start >= end:
        raise ValueError("开始时刻应早于结束时刻（同一天之内），例如 08:30-18:00")
    return start, end


def _checked_delivery_hours(text: str) -> str:
    delivery_window(text)
    return text.strip()


def _checked_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("不是已知的时区名，例如 Asia/Shanghai") from None
    return name


def _checked_auth(secret: SecretStr | None) -> SecretStr | None:
    if secret is None:
        return None
    user, colon, password = secret.get_secret_value().partition(":")
    if not (colon and user and len(password) >= 8):
        raise ValueError("应写成 用户名:密码，密码至少 8 个字符")
    if not secret.get_secret_value().isascii() or not secret.get_secret_value().isprintable():
        raise ValueError("只能用英文字母、数字和英文符号（Prefect 不接受中文和空白字符）")
    if " " in secret.get_secret_value():
        raise ValueError("不能含空格")
    return secret


def _checked_cron(expression: str) -> str:
    fields = expression.split()
    if len(fields) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*/,?-]+", f) for f in fields):
        raise ValueError("应为五段的 cron 表达式（分 时 日 月 周），例如 30 8 * * *")
    return expression


def _checked_base_url(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url.strip()):
        raise ValueError("应为 http:// 或 https:// 开头的网址，例如 https://duban.example.gov.cn")
    return url.strip()


Port = Annotated[int, Field(ge=1, le=65535)]
Cron = Annotated[str, AfterValidator(_checked_cron)]
CronOrOff = Annotated[str, AfterValidator(lambda e: _checked_cron(e) if e.strip() else "")]
"""A cron expression, or empty for "never"."""
_URL_CREDENTIALS = re.compile(r"(?<=[A-Za-z0-9+.-]:/)(/?[^/@:\s]*):[^/@\s]*@")


def hide_passwords(text: str) -> str:
    """``text`` with the password of every URL in it (``scheme://user:password@``, also with
    the slashes a path made of it keeps) replaced by ``***``."""
    return _URL_CREDENTIALS.sub(r"\1:***@", text)


def mask_url(url: str) -> str:
    """``url`` fit to print: its password replaced by ``***`` (parsable or not)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return hide_passwords(url)


def environment_values() -> dict[str, str]:
    """The ``DUBAN_*`` variables of ``./.env`` and of the environment (which wins), by lower-case
    name without the prefix; python-dotenv reads the file, and is loaded only when there is one."""
    values: dict[str, str | None] = {}
    if ENV_FILE.is_file():
        from dotenv import dotenv_values  # noqa: PLC0415 - most runs have no .env file

        values |= {k.lower(): v for k, v in dotenv_values(ENV_FILE).items()}
    values |= {k.lower(): v for k, v in os.environ.items()}
    return {
        name[len(ENV_PREFIX) :]: value
        for name, value in values.items()
        if name.startswith(ENV_PREFIX) and value is not None
    }


class Settings(BaseModel):
    """Everything configurable about duban: the values given, else the ``DUBAN_*`` variables
    (:func:`environment_values`), else the defaults; unknown names are ignored."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, /, **values: Any) -> None:
        super().__init__(**(environment_values() | values))

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
    delivery_hours: Annotated[str, AfterValidator(_checked_delivery_hours)] = Field(
        default="08:30-18:00", description="when notices may go out on a working day (HH:MM-HH:MM)"
    )
    delivery_workers: int = Field(
        default_factory=lambda: min(len(os.sched_getaffinity(0)), 4),
        ge=1,
        le=32,
        description="processes that write a large delivery run's workbooks and send its "
        "messages; 1: all in the run's own process (default: the CPUs, at most 4)",
    )
    smtp_host: str | None = None
    smtp_port: Port = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "duban@localhost"
    smtp_sender_name: str = "督办系统"
    imap_host: str | None = Field(
        default=None,
        description="mailbox that units mail their filled workbooks to; set: `duban mail-intake` "
        "and the daily cycle read it (IMAP)",
    )
    imap_port: Port = Field(default=993, description="IMAP port (993 with ssl, 143 otherwise)")
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = Field(default="INBOX", description="the folder read for report mails")
    imap_done_folder: str = Field(
        default="督办已处理", description="where a handled mail is moved (created when missing)"
    )
    imap_kept_folder: str = Field(
        default="督办未处理",
        description="where a mail that could not be read is moved, flagged, with its reason "
        "kept in <home>/mail/kept/",
    )
    mail_max_mb: int = Field(
        default=25, ge=1, le=200, description="a larger mail is kept unread, with the reason"
    )
    briefings: Path | None = Field(default=None, description="default <home>/briefings")
    public: Path | None = Field(
        default=None,
        description="where the weekly flow writes the public pages (duban publish); "
        "default <home>/public",
    )
    briefing_fonts: Literal["official", "free"] = Field(
        default="official",
        description="fonts the Word briefing names: the GB/T 9704 faces of government PCs, "
        "or free fonts installed here that cover the text (domain/adapters/briefing/fonts.py)",
    )
    briefing_base_url: str | None = Field(
        default=None,
        description="URL under which the briefings folder is published (for links in the UI)",
    )
    daily_cron: Cron = Field(
        default="30 8 * * *", description="when the daily cycle runs (cron, schedule_timezone)"
    )
    weekly_cron: Cron = Field(
        default="0 16 * * 5", description="when the weekly briefing runs (cron, schedule_timezone)"
    )
    monthly_cron: CronOrOff = Field(
        default="0 9 1-15 * *",
        description="when the monthly briefing's flow wakes (cron, schedule_timezone): it writes "
        "last month's 月通报 on the first working day after the month; empty: never",
    )
    quarterly_cron: CronOrOff = Field(
        default="0 9 1-15 1,4,7,10 *",
        description="when the quarterly briefing's flow wakes (cron, schedule_timezone): it "
        "writes last quarter's 季度推进 on the first working day after the quarter; empty: never",
    )
    assessment_cron: CronOrOff = Field(
        default="30 9 1-15 1,4,7,10 *",
        description="when the assessment notice's flow wakes (cron, schedule_timezone): it "
        "writes last quarter's 考评通报 (and after the fourth, the year's) on the first working "
        "day after the quarter; empty: never",
    )
    backups: Path | None = Field(
        default=None,
        description="where snapshots of the data directory go; default <home>/backups "
        "(better: a folder on another disk)",
    )
    backup_keep: int = Field(
        default=7, ge=1, description="snapshots kept in the backups folder; older ones are deleted"
    )
    backup_cron: CronOrOff = Field(
        default="0 2 * * *",
        description="when the nightly snapshot runs (cron, schedule_timezone); empty: never",
    )
    schedule_timezone: Annotated[str, AfterValidator(_checked_timezone)] = "Asia/Shanghai"
    briefing_approval: Literal["wait", "auto"] = Field(
        default="wait",
        description="the briefing flows (weekly, monthly, quarterly) wait for the coordinator's "
        "approval in the Prefect UI, or approve by themselves (unattended use)",
    )
    briefing_approval_timeout: int = Field(
        default=4 * 3600, ge=0, description="seconds to wait for approval before giving up"
    )
    prefect_port: Port = Field(default=4200, description="port of the local Prefect server")
    prefect_host: str = Field(
        default="127.0.0.1",
        max_length=255,
        description="address `duban server` listens on; beyond the loopback it needs "
        "DUBAN_PREFECT_AUTH",
    )
    prefect_auth: Annotated[SecretStr | None, AfterValidator(_checked_auth)] = Field(
        default=None,
        description="user:password the Prefect server asks of its UI and every client "
        "(PREFECT_SERVER_API_AUTH_STRING and PREFECT_API_AUTH_STRING)",
    )
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
    web_host: str = Field(
        default="127.0.0.1", description="address `duban web` listens on (the owner's pages)"
    )
    web_port: Port = Field(default=8000, description="port `duban web` listens on")
    web_base_url: Annotated[str | None, AfterValidator(_checked_base_url)] = Field(
        default=None,
        description="the address people open the owner's pages at (the county's reverse "
        "proxy, e.g. https://duban.example.gov.cn); personal links start with it; "
        "default http://<web_host>:<web_port>",
    )
    link_days: int = Field(
        default=30, ge=1, le=366, description="days a personal link (点击填报) stays valid"
    )
    evidence: Path | None = Field(
        default=None,
        description="where evidence files (佐证材料) are kept; default <home>/evidence",
    )
    web_upload_mb: int = Field(
        default=20, ge=1, le=200, description="largest evidence file the owner's page accepts (MB)"
    )
    web_upload_files: int = Field(
        default=20, ge=1, le=500, description="evidence files one item may hold"
    )
    web_posts_per_minute: int = Field(
        default=30, ge=1, description="forms one personal link may send per minute"
    )
    sql_echo: bool = False

    @field_validator("home", "inbox", "briefings", "public", "backups", "evidence")
    @classmethod
    def _folder_not_a_file(cls, path: Path | None) -> Path | None:
        if path is not None and path.exists() and not path.is_dir():
            raise ValueError("指向的是一个文件，不是目录：请改为一个目录（不存在时会自动创建）")
        return path

    @field_validator("catalog", "ladder", "calendar_overrides")
    @classmethod
    def _exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.exists():
            raise ValueError("指向的文件或目录不存在：请改为已有的路径，或不设置以用默认值")
        return path

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        try:
            parsed = make_url(url.strip())
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ValueError(
                "不是数据库地址：应形如 postgresql+psycopg://用户@主机:端口/库名；"
                "不设置则用数据目录中的 SQLite 文件"
            ) from None
        try:
            parsed.get_dialect().import_dbapi()
        except NoSuchModuleError:
            raise ValueError(
                "数据库类型或驱动名不认识：可用 sqlite:///文件路径 或 postgresql+psycopg://…"
            ) from None
        except ImportError as exc:
            raise ValueError(
                f"这个数据库的驱动（{exc.name}）没有安装：请改用 postgresql+psycopg://… "
                "或安装该驱动"
            ) from None
        return url.strip()

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
    def resolved_evidence(self) -> Path:
        """Where evidence files are kept, by checksum."""
        return self.evidence or self.home / "evidence"

    @property
    def resolved_briefings(self) -> Path:
        """Where briefings are written."""
        return self.briefings or self.home / "briefings"

    @property
    def resolved_public(self) -> Path:
        """Where the weekly flow writes the public pages."""
        return self.public or self.home / "public"

    @property
    def resolved_prefect_api_url(self) -> str:
        """The Prefect API flows report to."""
        return self.prefect_api_url or f"http://127.0.0.1:{self.prefect_port}/api"

    @property
    def resolved_web_base_url(self) -> str:
        """Where the owner's pages are reached, without a trailing slash."""
        return (self.web_base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def resolved_calendar_overrides(self) -> Path | None:
        """The override file in force, if any."""
        if self.calendar_overrides is not None:
            return self.calendar_overrides
        local = self.home / "calendar_overrides.yaml"
        return local if local.exists() else None


_SECRET = frozenset(
    name for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)
)
"""Settings whose value an error never shows: every SecretStr one."""


def setting_problem(detail: ErrorDetails) -> str:
    """One of pydantic's errors about a setting as one Chinese line that names the variable and
    its value (a URL with its password masked; a secret never)."""
    field = str(detail["loc"][0]) if detail["loc"] else ""
    name = "DUBAN_" + field.upper()
    value = detail.get("input")
    if field in _SECRET:
        shown = f"{name}（值已隐藏）"
    elif isinstance(value, str):
        masked = mask_url(value) if field == "database_url" else hide_passwords(value)
        shown = f"{name}={masked!r}"
    else:
        shown = name
    reason = pydantic_reason(detail)
    return f"设置 {shown} 有误：{reason}。请在环境变量或 .env 文件中改正。"


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SettingError(*map(setting_problem, error.errors(include_url=False))) from None
    except OSError as error:  # the .env file of the working directory cannot be read
        raise SettingError(
            f"无法读取设置文件 {error.filename or '.env'}：{error.strerror}。"
            "请检查它的权限，或换一个工作目录运行。"
        ) from None


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
