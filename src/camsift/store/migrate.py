"""Schema migrations of the event store (Alembic), run by `Store` when it opens a database.

The revisions live in ``camsift/store/migrations/versions``; the first one
creates the tables of `camsift.store.schema.metadata` as they were when
migrations were introduced. Changing ``schema.py`` therefore needs a new
revision too (``python tools/db_revision.py "what changed"`` writes one by
autogenerate); ``tests/store/test_migrate.py`` fails until it exists.

A database made before migrations existed (tables, no ``alembic_version``)
is stamped at the first revision, then upgraded like any other.

Several processes may open the same database at once (``camsift run`` and its
stream processes, the web app, a second node on PostgreSQL): the upgrade runs
under a lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL transaction-scoped
advisory lock), so one of them migrates and the others find it done.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from camsift.errors import StorageError

__all__ = ["HEAD", "MIGRATIONS_DIR", "alembic_config", "autogenerate", "differences", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script directory (``env.py``, ``versions/``)."""

_BASE = "0001"
"""The first revision: what a database made before migrations is stamped at."""

HEAD = "0003"
"""The newest revision. A database already at it opens without importing Alembic or taking the
lock (worker processes open the store for every file); ``tests/store/test_migrate.py`` checks
that it is Alembic's head, so a new revision must move it."""

_LOCK_KEY = 0x63616D73  # "cams": the PostgreSQL advisory lock held while migrating

log = logging.getLogger(__name__)


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic ``Config`` for camsift's migrations, bound to ``connection`` when given.

    Returns:
        ``alembic.config.Config`` whose ``attributes["connection"]`` is the connection
        ``env.py`` migrates (typed ``Any``: Alembic's command API is untyped here).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, *, create_missing: bool = True) -> None:
    """Bring the database to the newest revision, under a lock (see the module docstring).

    Args:
        engine: The database.
        create_missing: Then create the tables of `schema.metadata` that no revision made yet, with a
            warning in the log (a table added to ``schema.py`` during development works before its
            revision is written; ``tests/store/test_migrate.py`` still fails until it is).

    Raises:
        StorageError: the database is at a revision this camsift does not know (made by a newer one).
        sqlalchemy.exc.SQLAlchemyError: the database refused (the `Store` turns it into a `StorageError`).
    """
    with engine.connect() as conn:
        if _revision(conn) == HEAD:
            if create_missing:
                _create_missing(conn)
            conn.commit()
            return
    from alembic import command
    from alembic.util.exc import CommandError

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
        tables = set(sa.inspect(conn).get_table_names())
        config = alembic_config(conn)
        if "events" in tables and "alembic_version" not in tables:  # another program's tables are not ours
            log.info("event store made before migrations: stamping revision %s", _BASE)
            command.stamp(config, _BASE)
        try:
            command.upgrade(config, "head")
        except CommandError as err:
            raise StorageError(f"event store {engine.url!r}: {err}; is it used by a newer camsift?") from err
        if create_missing:
            _create_missing(conn)
        conn.commit()


def _revision(conn: Connection) -> str | None:
    """The database's Alembic revision, without Alembic; ``None`` for a new or unversioned database."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _create_missing(conn: Connection) -> None:
    """Create the tables of `schema.metadata` the migrated database lacks, saying so in the log."""
    from camsift.store.schema import metadata

    missing = sorted(set(metadata.tables) - set(sa.inspect(conn).get_table_names()))
    if missing:
        log.warning("tables %s are in schema.py but in no Alembic revision: add one (tools/db_revision.py)", missing)
        metadata.create_all(conn, tables=[metadata.tables[name] for name in missing])


def differences(engine: Engine) -> list[Any]:
    """What differs between the database and `schema.metadata` (Alembic ``compare_metadata``).

    Returns:
        Alembic's diff tuples, e.g. ``("add_column", None, "events", Column(...))``; empty when they match.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from camsift.store.schema import metadata

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs: list[Any] = compare_metadata(context, metadata)
    return diffs


def autogenerate(message: str, engine: Engine) -> Path:
    """Write a new revision with the changes from the migrated ``engine``'s database to `schema.metadata`.

    Args:
        message: What changed, e.g. ``"events: reviewed flag"``; becomes the file's docstring and slug.
        engine: A scratch database; upgraded to the newest revision first.

    Returns:
        The new file under ``migrations/versions`` (review it before committing).
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    upgrade(engine, create_missing=False)
    with engine.connect() as conn:
        config = alembic_config(conn)
        head = ScriptDirectory.from_config(config).get_current_head()
        number = f"{int(head or '0') + 1:04d}"
        script = command.revision(config, message=message, autogenerate=True, rev_id=number)
    path: str = script.path  # type: ignore[union-attr]
    return Path(path)
