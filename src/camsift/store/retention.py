"""The SQL of retention (`camsift.retention`): the rows a pass plans from, the deleting transaction, and the
references repair checks (`Store.retention`).

Reached as ``store.retention``. Names of pictures and clips are relative to the data directory, as the
``events`` and ``event_faces`` tables hold them; footage paths are absolute, as the ``files`` and ``jobs``
tables hold them.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from camsift.errors import StorageError
from camsift.store.schema import event_faces_table, events_table, files_table, jobs_table

__all__ = ["Deletion", "EventRow", "FileRow", "RetentionRows", "RetentionTables"]

_CHUNK = 500  # rows per IN (...) list: far below SQLite's variable limit


@dataclass(frozen=True)
class EventRow:
    """One stored event as retention sees it.

    Attributes:
        id: The event id.
        camera: Camera name.
        label: Its label (``person``, ``car`` …).
        sub_label: The face's name, ``unknown``, or ``None``.
        start_utc: When it started (UTC).
        processed_utc: When camsift received its file (the ``files`` row of ``source``; ``None``: no row).
        source: Absolute path of the footage it was found in (``None``: none).
        pinned: The owner pinned it.
        snapshot: Snapshot name (relative), or ``None``.
        snapshot_annotated: Annotated snapshot name (relative), or ``None``.
        clip: Clip name (relative), or ``None``.
        crops: Names (relative) of its faces' pictures.
    """

    id: str
    camera: str
    label: str
    sub_label: str | None
    start_utc: datetime
    processed_utc: datetime | None
    source: str | None
    pinned: bool
    snapshot: str | None
    snapshot_annotated: str | None
    clip: str | None
    crops: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileRow:
    """One processed file (a ``files`` row).

    Attributes:
        path: Absolute path.
        camera: Camera name.
        processed_utc: When camsift received (and analysed) it (UTC).
    """

    path: str
    camera: str
    processed_utc: datetime


@dataclass(frozen=True)
class RetentionRows:
    """What a retention pass plans from, read in one transaction.

    Attributes:
        events: Every event, in the database's order.
        files: Every processed file.
        active_jobs: Paths (absolute) of unfinished jobs (pending or leased): footage about to be analysed.
        references: Every picture or clip name (relative) an event or a face refers to.
    """

    events: list[EventRow]
    files: list[FileRow]
    active_jobs: frozenset[str]
    references: frozenset[str]


@dataclass(frozen=True)
class Deletion:
    """What `RetentionTables.delete` deleted.

    Attributes:
        events: Ids of the events deleted (with their faces).
        footage: Paths of the footage that may go (no event left in it, no job for it); their ``files`` rows,
            where they had one, were deleted.
        orphans: Names of the orphan pictures no row refers to.
        needed: Those of the names given that some row still refers to after the deletion.
    """

    events: set[str]
    footage: set[str]
    orphans: set[str]
    needed: set[str]


class RetentionTables:
    """Retention's queries on the event store (`camsift.store.Store.retention`).

    Args:
        engine: The store's engine.
        data_dir: The data directory (absolute), to which picture names are relative.
    """

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir

    def rows(self) -> RetentionRows:
        """The rows a pass plans from.

        Raises:
            StorageError: the database cannot be read.
        """
        try:
            with self.engine.connect() as conn:
                return RetentionRows(
                    _events(conn), _files(conn), frozenset(_active_jobs(conn)), frozenset(_picture_references(conn))
                )
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"retention: cannot read the event store: {err.__class__.__name__}") from err

    def delete(
        self, events: Sequence[str], footage: Mapping[str, bool], orphans: Sequence[str], names: Sequence[str]
    ) -> Deletion:
        """Delete in one transaction what may still go; the commit is retention's point of no return.

        Checked inside the transaction: an event is not pinned meanwhile, footage has no event left (but
        those deleted here) and no unfinished job, and a footage path without a row has not got one, an
        orphan is still unreferenced.

        Args:
            events: Event ids.
            footage: Footage paths (absolute), each with whether it has a ``files`` row to delete.
            orphans: Orphan picture names (relative).
            names: Files (relative) the caller means to unlink afterwards: those still needed are returned.

        Raises:
            StorageError: the database refused the deletion (nothing was deleted).
        """
        t = events_table
        try:
            with self._write() as conn:
                deletable: set[str] = set()
                for chunk in _chunks(events):
                    query = sa.select(t.c.id).where(t.c.id.in_(chunk), t.c.pinned.is_(False))
                    deletable |= set(conn.execute(query).scalars())
                busy: set[str] = set()
                for chunk in _chunks(list(footage)):
                    query = sa.select(t.c.source).where(t.c.source.in_(chunk), t.c.id.not_in(deletable or [""]))
                    busy |= set(conn.execute(query).scalars())
                busy |= _paths_known(conn, [p for p, row in footage.items() if not row])
                gone = {p for p in footage if p not in busy}
                unreferenced = set(orphans) - _referenced(conn, orphans, self.data_dir)
                ids = sorted(deletable)
                for chunk in _chunks(ids):
                    conn.execute(event_faces_table.delete().where(event_faces_table.c.event_id.in_(chunk)))
                    conn.execute(t.delete().where(t.c.id.in_(chunk)))
                for chunk in _chunks(sorted(p for p in gone if footage[p])):
                    conn.execute(files_table.delete().where(files_table.c.path.in_(chunk)))
                # a file another row still needs (a clip two events share, footage with a job) stays
                needed = _referenced(conn, names, self.data_dir)
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"retention: the event store refused a deletion: {err.__class__.__name__}") from err
        return Deletion(deletable, gone, unreferenced, needed)

    def referenced(self, names: Sequence[str]) -> set[str]:
        """Those of ``names`` (relative) that some row still refers to (an event, a face, a file row, an
        unfinished job).

        Raises:
            StorageError: the database cannot be read.
        """
        with self._repairing(), self.engine.connect() as conn:
            return _referenced(conn, names, self.data_dir)

    def picture_references(self) -> set[str]:
        """Every picture or clip name (relative) an event or a face refers to.

        Raises:
            StorageError: the database cannot be read.
        """
        with self._repairing(), self.engine.connect() as conn:
            return _picture_references(conn)

    def clear_references(self, names: Sequence[str]) -> None:
        """Set every reference to ``names`` (relative; missing files) to NULL; the events stay.

        Raises:
            StorageError: the database refused the change.
        """
        t, f = events_table, event_faces_table
        columns = [t.c.snapshot, t.c.snapshot_annotated, t.c.clip]
        with self._repairing(), self._write() as conn:
            for chunk in _chunks(names):
                for column in columns:
                    conn.execute(t.update().where(column.in_(chunk)).values({column.name: None}))
                conn.execute(f.update().where(f.c.crop.in_(chunk)).values(crop=None))

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite taken at once (``BEGIN IMMEDIATE``), so what it reads stays true."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            yield conn
            conn.commit()

    @staticmethod
    @contextlib.contextmanager
    def _repairing() -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"retention repair: the event store failed: {err.__class__.__name__}") from err


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _events(conn: Connection) -> list[EventRow]:
    t, f = events_table, event_faces_table
    crops: dict[str, list[str]] = defaultdict(list)
    for event_id, crop in conn.execute(sa.select(f.c.event_id, f.c.crop).where(f.c.crop.is_not(None))):
        crops[event_id].append(crop)
    query = sa.select(
        t.c.id, t.c.camera, t.c.label, t.c.sub_label, t.c.start_utc, files_table.c.processed_utc, t.c.source,
        t.c.pinned, t.c.snapshot, t.c.snapshot_annotated, t.c.clip,
    ).outerjoin(files_table, files_table.c.path == t.c.source)  # fmt: skip
    return [
        EventRow(
            row.id,
            row.camera,
            row.label,
            row.sub_label,
            row.start_utc,
            row.processed_utc,
            row.source,
            bool(row.pinned),
            row.snapshot,
            row.snapshot_annotated,
            row.clip,
            tuple(crops.get(row.id, ())),
        )
        for row in conn.execute(query)
    ]


def _files(conn: Connection) -> list[FileRow]:
    f = files_table
    query = sa.select(f.c.path, f.c.camera, f.c.processed_utc)
    return [FileRow(row.path, row.camera, row.processed_utc) for row in conn.execute(query)]


def _active_jobs(conn: Connection) -> set[str]:
    j = jobs_table
    return set(conn.execute(sa.select(j.c.path).where(j.c.state.in_(("pending", "leased")))).scalars())


def _picture_references(conn: Connection) -> set[str]:
    """Every picture or clip name (relative) that an event or a face refers to."""
    t, f = events_table, event_faces_table
    names = set()
    for column in (t.c.snapshot, t.c.snapshot_annotated, t.c.clip, f.c.crop):
        names |= set(conn.execute(sa.select(column).where(column.is_not(None))).scalars())
    return names


def _paths_known(conn: Connection, paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` (absolute) that a ``files`` row or an unfinished job refers to."""
    known = set()
    j = jobs_table
    for chunk in _chunks(paths):
        known |= set(conn.execute(sa.select(files_table.c.path).where(files_table.c.path.in_(chunk))).scalars())
        active = j.c.state.in_(("pending", "leased"))
        known |= set(conn.execute(sa.select(j.c.path).where(j.c.path.in_(chunk), active)).scalars())
    return known


def _referenced(conn: Connection, names: Sequence[str], data_dir: Path) -> set[str]:
    """Those of ``names`` (relative to ``data_dir``) that some row still refers to."""
    t, f = events_table, event_faces_table
    found: set[str] = set()
    for chunk in _chunks(names):
        for column in (t.c.snapshot, t.c.snapshot_annotated, t.c.clip, f.c.crop):
            found |= set(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
        absolute = {str(data_dir / n): n for n in chunk}
        found |= {absolute[p] for p in _paths_known(conn, list(absolute))}
    return found
