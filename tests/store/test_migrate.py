"""Schema migrations: a migrated database is exactly `schema.metadata`, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from camsift.errors import StorageError
from camsift.store import Store, migrate
from camsift.store.migrate import HEAD, MIGRATIONS_DIR, alembic_config, differences, upgrade


def test_the_migrated_database_matches_schema_py(data_dir: Path, database_url: str | None) -> None:
    data_dir.mkdir()
    engine = sa.create_engine(database_url or f"sqlite:///{data_dir / 'camsift.db'}")
    try:
        upgrade(engine, create_missing=False)  # the revisions alone
        diffs = differences(engine)
    finally:
        engine.dispose()

    assert not diffs, (
        "camsift/store/schema.py differs from the database its migrations make: add an Alembic revision "
        f"(python tools/db_revision.py 'what changed'). Differences: {[_short(d) for d in diffs]}"
    )


def test_opening_a_database_made_before_migrations_stamps_it(data_dir: Path, database_url: str | None) -> None:
    data_dir.mkdir()
    url = database_url or f"sqlite:///{data_dir / 'camsift.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the tables as camsift made them before migrations existed, with no version
        command.upgrade(alembic_config(conn), migrate._BASE)
        conn.execute(sa.text("drop table alembic_version"))
    engine.dispose()

    with Store(data_dir, database_url) as store, store.engine.connect() as conn:
        versions = conn.execute(sa.text("select version_num from alembic_version")).scalars().all()

    heads = {p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py")}
    assert versions == [max(heads)]


def test_opening_again_changes_nothing(data_dir: Path, database_url: str | None, tmp_path: Path) -> None:
    with Store(data_dir, database_url) as first:
        first_url = first.url
        with first.engine.connect() as conn:
            before = conn.execute(sa.text("select version_num from alembic_version")).scalars().all()

    with Store(tmp_path / "other", database_url or first_url) as again, again.engine.connect() as conn:
        after = conn.execute(sa.text("select version_num from alembic_version")).scalars().all()

    assert after == before
    assert len(after) == 1


def test_a_database_from_a_newer_camsift_is_a_storage_error(data_dir: Path, database_url: str | None) -> None:
    with Store(data_dir, database_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '9999'"))

    with pytest.raises(StorageError, match=r"Can't locate revision.*9999.*newer camsift"):
        Store(data_dir, database_url)


@pytest.mark.parametrize("name", ["env.py", "script.py.mako"])
def test_the_migrations_folder_ships_with_the_package(name: str) -> None:
    assert (MIGRATIONS_DIR / name).is_file()


def _short(diff: object) -> str:
    """``add_table api_usage``, ``add_column events.reviewed`` …: one Alembic diff in a few words."""
    if isinstance(diff, list):  # column modifications come as a list of tuples
        return "; ".join(_short(d) for d in diff)
    assert isinstance(diff, tuple)
    kind, *rest = diff
    names = [getattr(x, "name", None) or (x if isinstance(x, str) else None) for x in rest]
    return f"{kind} {'.'.join(n for n in names if n)}"


def test_head_is_the_newest_revision() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_heads() == [HEAD]
