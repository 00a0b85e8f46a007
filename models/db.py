"""The one way to get a database engine and a session.

Repository functions take a session and only ``flush()``; the command or flow that opened the
session owns the transaction (:func:`session_scope` commits on success, rolls back on error).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from json import dumps as json_text
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, Insert, create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from config.errors import SettingError
from config.settings import get_settings, mask_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_engines: dict[tuple[str, bool], Engine] = {}


def engine_for(url: str, echo: bool = False) -> Engine:
    """A pooled engine for ``url`` (one per URL for the process)."""
    key = (url, echo)
    if key not in _engines:
        _engines[key] = _create(url, echo)
    return _engines[key]


def dispose_engine(url: str) -> None:
    """Close the pooled connections to ``url`` and forget its engine (before dropping a test
    database, say)."""
    for key in [k for k in _engines if k[0] == url]:
        _engines.pop(key).dispose()


def _create(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def get_engine() -> Engine:
    """The engine for the configured database."""
    settings = get_settings()
    return engine_for(settings.resolved_database_url, settings.sql_echo)


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def database_setting() -> str:
    """The setting that names the configured database, as ``NAME=value`` fit to print."""
    settings = get_settings()
    if settings.database_url:
        return f"DUBAN_DATABASE_URL={mask_url(settings.database_url)}"
    return f"DUBAN_HOME={settings.home}"


_CONNECT_PROBLEMS = (
    (
        "does not exist",
        "数据库或用户不存在：请先建库（如 createdb 库名）并核对用户名，再运行 `duban init`",
    ),
    ("password authentication failed", "用户名或密码不对：请核对地址中的用户和密码"),
    ("no password supplied", "数据库要求密码：请在地址中写上密码，或用 .env 文件保存它"),
    ("connection refused", "连接被拒绝。请确认数据库已启动、地址和端口正确"),
    ("resolve host", "找不到这个主机：请核对地址中的主机名"),
    ("name or service not known", "找不到这个主机：请核对地址中的主机名"),
    ("timeout", "连接超时：请确认数据库地址可达、防火墙已放行"),
    ("no such file or directory", "找不到本机数据库的套接字：数据库未启动，或地址缺少主机名"),
    ("unable to open database file", "无法打开数据库文件：请检查数据目录及其中文件的权限"),
    ("readonly database", "数据库文件只读：请检查数据目录及其中文件的权限"),
    ("read-only", "数据库文件只读：请检查数据目录及其中文件的权限"),
)


def damaged_sqlite(error: BaseException) -> bool:
    """Whether ``error`` says an SQLite file is not a (whole) database."""
    orig = getattr(error, "orig", error)
    return isinstance(orig, sqlite3.DatabaseError) and (
        "file is not a database" in str(orig) or "malformed" in str(orig)
    )


def sqlite_read_only(error: BaseException) -> bool:
    """Whether ``error`` says SQLite could not write its file or the folder beside it."""
    orig = getattr(error, "orig", error)
    return isinstance(orig, sqlite3.OperationalError) and any(
        words in str(orig) for words in ("readonly database", "unable to open database file")
    )


def connection_problem(error: DBAPIError) -> str:
    """What a failed connection means and what to do, in Chinese, with the driver's first line
    after it in parentheses."""
    first = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    english = f" ({first[:200]})" if first else ""
    lowered = str(error.orig).lower()
    for words, problem in _CONNECT_PROBLEMS:
        if words in lowered:
            return problem + english
    return "连接失败：请核对数据库地址，并确认数据库已启动" + english


def open_engine(*, create: bool = False) -> Engine:
    """The configured database's engine once it answers. An SQLite file must exist (``create``
    makes its folder instead: ``duban init``); what a person can fix (no database, a closed
    port, a data directory that is a file or read-only) raises :class:`SettingError` naming the
    setting, before anything is created."""
    settings = get_settings()
    _check_home(settings.home)
    url = settings.resolved_database_url
    path = sqlite_file(url)
    if path is not None:
        _check_sqlite_place(path, create=create)
    engine = engine_for(url, settings.sql_echo)
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        if damaged_sqlite(error):
            raise  # not a setting: the CLI says so and logs it as a fault
        raise SettingError(
            f"无法连接数据库（{database_setting()}）：{connection_problem(error)}。"
        ) from None
    return engine


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK if path.is_dir() else os.W_OK, effective_ids=True)


def _check_home(home: Path) -> None:
    """The data directory (or, before it exists, the folder it will be made in) must be a
    directory this process can write: files land there whichever database is used."""
    existing = next((p for p in (home, *home.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        what = "是一个文件" if existing == home else f"所在的 {existing} 是一个文件"
        raise SettingError(f"数据目录（DUBAN_HOME={home}）{what}，不是目录：请改为一个目录。")
    if not _writable(existing):
        raise SettingError(
            f"数据目录不可写（DUBAN_HOME={home}）：报送文件、提醒、简报和默认的数据库都写在这里。"
            f"请检查 {existing} 的权限，或改为可写的目录。"
        )


def _check_sqlite_place(path: Path, *, create: bool) -> None:
    where = database_setting()
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise SettingError(f"数据目录（{where}）是一个文件，不是目录：请改为一个目录。")
    if path.is_dir():
        raise SettingError(f"数据库（{where}）{path} 是一个目录，不是数据库文件：请改正该设置。")
    if not path.exists():
        if not create:
            raise SettingError(
                f"数据目录（{where}）中还没有数据库 {path.name}：请先运行 `duban init` 创建，"
                "或把设置改为已有的数据目录。"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingError(
                f"无法创建数据目录（{where}）：{exc.strerror}。请检查权限，或改为可写的目录。"
            ) from None
    if not all(_writable(p) for p in (folder, path) if p.exists()):
        raise SettingError(
            f"数据目录不可写（{where}）：数据库及其 -wal、-shm 文件都要写在这里。"
            "请检查目录和文件的权限，或改为可写的目录。"
        )


@contextmanager
def session_scope(engine: Engine | None = None, *, rollback: bool = False) -> Iterator[Session]:
    """A session whose transaction commits when the block ends and rolls back on error.

    ``rollback=True`` rolls back even on success: a dry run does all the work and keeps none.
    """
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    with factory() as session:
        transaction = session.begin()
        try:
            yield session
        except BaseException:
            transaction.rollback()
            raise
        if rollback:
            transaction.rollback()
        else:
            transaction.commit()


HASH_JOINS = "duban_prefer_hash_joins"
"""The key in ``session.info`` saying :func:`prefer_hash_joins` is in effect."""


def prefer_hash_joins(session: Session) -> None:
    """For whole-plan queries on PostgreSQL: no nested-loop joins and no JIT for this
    transaction (the planner misjudges the grouped derived tables they join; see BENCHMARKS.md)."""
    if session.get_bind().dialect.name == "postgresql":
        # both in one statement: set_config(…, true) is SET LOCAL
        session.execute(
            text(
                "SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)"
            )
        )
        session.info[HASH_JOINS] = session.get_transaction()


@contextmanager
def nested_loops_allowed(session: Session) -> Iterator[None]:
    """Nested-loop joins allowed again for the statements of the block, in a transaction where
    :func:`prefer_hash_joins` turned them off: a join on a range of days (``on_date <= day``)
    has no other plan, and without them PostgreSQL's planner picks one that takes minutes."""
    if session.info.get(HASH_JOINS) is not session.get_transaction():
        yield  # nested loops are allowed already
        return
    session.execute(text("SELECT set_config('enable_nestloop', 'on', true)"))
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))


COPY_FROM = 1000
"""Rows from which :func:`insert_rows` copies instead of inserting, on PostgreSQL."""
INSERT_BATCH = 10_000
"""Rows per statement where :func:`insert_rows` inserts."""


def insert_rows(
    session: Session, model: type[DeclarativeBase], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table in the session's
    transaction, reading them as they come, and return how many were written. On PostgreSQL
    (psycopg) a batch of :data:`COPY_FROM` rows or more goes through ``COPY … FROM STDIN``, else
    :data:`INSERT_BATCH` rows per insert; columns not in the rows get their server defaults."""
    remaining = iter(rows)
    first = list(islice(remaining, COPY_FROM))
    if not first:
        return 0
    if not copies(session, first):
        written, batch = 0, first
        while batch:
            session.execute(insert(model), batch)
            written += len(batch)
            batch = list(islice(remaining, INSERT_BATCH))
        return written
    return copy_rows(session, model, model.__tablename__, chain(first, remaining))


def copies(session: Session, first: Sequence[Mapping[str, Any]]) -> bool:
    """Whether rows starting with ``first`` (up to :data:`COPY_FROM` of them) are copied."""
    return session.get_bind().dialect.driver == "psycopg" and len(first) >= COPY_FROM


def copy_rows(
    session: Session, model: type[DeclarativeBase], target: str, rows: Iterable[Mapping[str, Any]]
) -> int:
    """``COPY`` ``rows`` (with ``model``'s columns' types) into the table ``target`` through the
    session's psycopg connection; returns how many."""
    from psycopg import Connection, sql  # noqa: PLC0415 - lazy: SQLite never loads the driver

    # the raw DBAPI connection of the session's transaction: COPY needs psycopg 3's
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, Connection)
    session.flush()  # the copy bypasses the ORM: what it holds must be in the database first
    remaining = iter(rows)
    first = next(remaining)
    columns = list(first)
    # JSON columns: COPY would write a list as an array; written as JSON text instead, as an
    # ordinary insert serialises it (None as JSON null unless the column stores SQL NULL for it)
    json = {c.name: c.type for c in model.__table__.columns if isinstance(c.type, JSON)}
    wrap = [c in json for c in columns]
    null_as_sql = [c in json and json[c].none_as_null for c in columns]
    values = (
        (lambda row: [row[c] for c in columns])
        if not json
        else (
            lambda row: [
                json_text(row[c]) if w and not (row[c] is None and n) else row[c]
                for c, w, n in zip(columns, wrap, null_as_sql, strict=True)
            ]
        )
    )
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with (
        driver.cursor() as cursor,
        cursor.copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(target), names)
        ) as copy,
    ):
        written = 0
        for row in chain([first], remaining):
            written += 1
            copy.write_row(values(row))
    return written


BULK_LOAD = 100_000
"""Rows from which a load checks its foreign keys once at the end (:func:`keys_checked_at_end`)."""


@contextmanager
def keys_checked_at_end(
    session: Session, models: Iterable[type[DeclarativeBase]], rows: int
) -> Iterator[None]:
    """On PostgreSQL, for a load of :data:`BULK_LOAD` rows or more: the foreign keys of the
    ``models``' tables are dropped for the block and re-created after it (each checked in one
    pass over its table instead of once per row inserted), in the session's transaction, so a
    failure restores them. Until the transaction ends, those tables and the ones they reference
    are locked against every other reader. Elsewhere, or for fewer rows, nothing changes."""
    if rows < BULK_LOAD or session.get_bind().dialect.name != "postgresql":
        yield
        return
    keys = [
        (table, name, definition)
        for model in models
        for table in [model.__tablename__]
        for name, definition in session.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = CAST(:table AS regclass) AND contype = 'f' ORDER BY conname"
            ),
            {"table": table},
        )
    ]
    for table, name, _ in keys:
        session.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    yield
    session.flush()
    for table, name, definition in keys:
        session.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))


def insert_or_skip(session: Session, table: Any, **on_conflict: Any) -> Insert:
    """An INSERT of ``table`` that skips rows conflicting with a unique key (``on_conflict``:
    e.g. ``index_elements=[...]``), in the session's dialect. The dialect modules load only
    here: a SQLite command does not pay for PostgreSQL's (20 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415

        return postgresql.insert(table).on_conflict_do_nothing(**on_conflict)
    from sqlalchemy.dialects import sqlite  # noqa: PLC0415

    return sqlite.insert(table).on_conflict_do_nothing(**on_conflict)


def dispose_engines() -> None:
    """Close every pooled engine of the process (between commands run in one test process)."""
    for url, _ in list(_engines):
        dispose_engine(url)
