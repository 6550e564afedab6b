"""Opening the database: the URL from the settings, SQLite's pragmas, one-line reasons for its errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.errors import StorageError
from camsift.layout import FULL_BELOW, DataDir
from camsift.logs import get_logger
from camsift.store.migrate import upgrade

__all__ = ["database_url", "db_reason", "insert_new", "open_database", "open_engine"]

log = get_logger("camsift.store")


def database_url(url: str | None, data_dir: Path) -> str:
    """The SQLAlchemy URL of the event store.

    Args:
        url: The ``database`` setting: ``None`` (SQLite in the data directory), any SQLAlchemy URL, or
            ``postgresql://user@host/db`` / ``postgres://…``, which use the psycopg 3 driver
            (``postgresql+psycopg://``, from ``camsift[postgres]``).
        data_dir: The data directory (resolved).
    """
    if url is None:
        return f"sqlite:///{DataDir(data_dir).database}"
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def db_reason(err: sa.exc.SQLAlchemyError) -> str:
    """One line about a database error, without SQL, parameters or the password in the URL."""
    if isinstance(err, sa.exc.OperationalError | sa.exc.InterfaceError) and err.orig is not None:
        first = str(err.orig).strip().splitlines()
        return f"{err.__class__.__name__}: {first[0] if first else type(err.orig).__name__}"
    return err.__class__.__name__


_WAL_WAIT_S = 15.0
"""Seconds a new connection keeps trying to switch the database to WAL (`_sqlite_pragmas`)."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL so readers (the web app, `camsift events`) never block a scan; wait on locks, don't fail.

    The switch to WAL needs the database to itself. ``busy_timeout`` comes
    first, so that it waits for a process that holds the database; but while
    another connection writes to a database still in rollback-journal mode
    (a new one being migrated), SQLite refuses the switch at once, without
    waiting ("database is locked": seen in CI when the service and a test
    opened a new database together). So the switch is retried for up to
    `_WAL_WAIT_S`.
    """
    import sqlite3

    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    deadline = time.monotonic() + _WAL_WAIT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (`database_url`); SQLite gets WAL, a lock wait and foreign keys (`_sqlite_pragmas`).

    Raises:
        StorageError: the PostgreSQL driver is missing (names the ``pip install`` to run; the URL's password hidden).
    """
    try:
        engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except ImportError as err:
        shown = sa.make_url(url).render_as_string(hide_password=True)
        raise StorageError(
            f"event store {shown}: the PostgreSQL driver is missing; run: pip install 'camsift[postgres]'"
        ) from err
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_database(data_dir: Path, url: str | None = None) -> Engine:
    """The event store's database, migrated and ready: what `camsift.store.Store` and a lone table user open.

    Creates ``data_dir``; on a full data disk gives its reserve space back first, so SQLite can open (its
    shared memory, its WAL); runs the schema migrations (`camsift.store.migrate.upgrade`).

    Args:
        data_dir: The data directory (resolved).
        url: The ``database`` setting (`database_url`); default SQLite in the data directory.

    Raises:
        StorageError: the directory or the database cannot be opened (one line, the password hidden).
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(f"{data_dir}: cannot create data directory: {err.strerror or err}") from err
    full_url = database_url(url, data_dir)
    engine = open_engine(full_url)
    if engine.dialect.name == "sqlite" and DataDir(data_dir).release_reserve(unless_free=FULL_BELOW):
        log.warning("data disk full: its reserve space is given back", data_dir=str(data_dir))
    try:
        upgrade(engine)
    except sa.exc.SQLAlchemyError as err:
        engine.dispose()
        shown = sa.make_url(full_url).render_as_string(hide_password=True)
        raise StorageError(f"cannot open event store {shown}: {db_reason(err)}") from err
    except StorageError:
        engine.dispose()
        raise
    return engine


def insert_new(engine: Engine, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` into ``table`` in a transaction of its own; ``False`` (nothing written) when the table's
    keys refuse it (a row with its key is there already: the idempotent puts of the job queue, the outbox and
    the live events rest on this).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: any other refusal of the database.
    """
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(**row))
    except sa.exc.IntegrityError:
        return False
    return True
