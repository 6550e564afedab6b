"""The event store: events and processed files in one database, pictures on disk.

All SQL lives here (SQLAlchemy Core, so the same code runs on SQLite by
default and on PostgreSQL when configured): `camsift.layout.DataDir.database`
by default. The pictures and clips it names live where `camsift.layout` says;
the database holds UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from camsift.errors import StorageError
from camsift.events import Event, FileRecord
from camsift.logs import get_logger
from camsift.store.clock import Clock, utc_now
from camsift.store.engine import database_url, open_database
from camsift.store.live import LiveEvents
from camsift.store.outbox import Marks, Outbox
from camsift.store.queries import EventMarks, ReviewFilter, event_of
from camsift.store.queue import JobQueue
from camsift.store.schema import event_faces_table, events_table, files_table
from camsift.store.status import ServiceBoard
from camsift.store.usage import UsageBoard

if TYPE_CHECKING:
    from camsift.store.faces import FaceStore
    from camsift.store.retention import RetentionTables
    from camsift.store.users import UserStore

__all__ = ["EventMarks", "ReviewFilter", "Store", "database_url"]

log = get_logger("camsift.store")


class Store:
    """Events and processed files, in SQLite by default, or PostgreSQL (several nodes share one store).

    Opening runs the schema migrations (`camsift.store.migrate.upgrade`).

    Args:
        data_dir: The data directory (created if missing).
        url: SQLAlchemy URL, see `database_url`; default SQLite in the data directory (`DataDir.database`).
        clock: What time it is for every table (`camsift.store.clock`: aware UTC datetimes); default the
            real clock. A test passes a clock it moves on itself instead of sleeping.

    Raises:
        StorageError: the directory or the database cannot be opened.

    Example:
        >>> store = Store(Path("camsift-data"))  # doctest: +SKIP
        >>> [e.label for e in store.events(label="person", limit=5)]  # doctest: +SKIP
    """

    def __init__(self, data_dir: Path, url: str | None = None, *, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.data_dir = data_dir.resolve()
        self.url = database_url(url, self.data_dir)
        self.engine: Engine = open_database(self.data_dir, url)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()

    @cached_property
    def jobs(self) -> JobQueue:
        """The durable job queue of ``camsift run`` (`camsift.store.queue`)."""
        return JobQueue(self.engine, self.clock)

    @cached_property
    def board(self) -> ServiceBoard:
        """What the running service tells other processes (`camsift.store.status`)."""
        return ServiceBoard(self.engine, self.clock)

    @cached_property
    def outbox(self) -> Outbox:
        """The durable outbox of notifications (`camsift.store.outbox`)."""
        return Outbox(self.engine, self.clock)

    @cached_property
    def live(self) -> LiveEvents:
        """Events in progress on live streams (`camsift.store.live`)."""
        return LiveEvents(self.engine, self.data_dir, self.clock)

    @cached_property
    def notify_marks(self) -> Marks:
        """What notifications remember between messages (`camsift.store.outbox`)."""
        return Marks(self.engine)

    @cached_property
    def usage(self) -> UsageBoard:
        """Requests to paid cloud APIs per UTC day (`camsift.store.usage`)."""
        return UsageBoard(self.engine, self.clock)

    @cached_property
    def users(self) -> UserStore:
        """Web-app users, sessions and API tokens (`camsift.store.users`)."""
        from camsift.store.users import UserStore

        return UserStore(self)

    @cached_property
    def faces(self) -> FaceStore:
        """The known-faces library and the faces seen on events (`camsift.store.faces`)."""
        from camsift.store.faces import FaceStore

        return FaceStore(self)

    @cached_property
    def retention(self) -> RetentionTables:
        """Retention's rows, its deleting transaction and repair's queries (`camsift.store.retention`)."""
        from camsift.store.retention import RetentionTables

        return RetentionTables(self.engine, self.data_dir)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def relative(self, path: Path | None) -> str | None:
        """``path`` relative to the data directory, as stored in the database."""
        return None if path is None else path.resolve().relative_to(self.data_dir).as_posix()

    def file(self, path: Path) -> FileRecord | None:
        """The record of a processed file, or ``None`` if it was never processed."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(files_table).where(files_table.c.path == str(path))).mappings().first()
        if row is None:
            return None
        return FileRecord(**{**row, "path": Path(row["path"])})

    def save(self, record: FileRecord, events: list[Event]) -> None:
        """Record a processed file and its events in one transaction.

        Events found earlier in the same file are replaced (their pictures that
        the new events do not reuse are deleted after the commit). The faces
        seen on the events (``Event.faces``) are recorded with them.

        Raises:
            StorageError: the database refused the write.
        """
        from camsift.store.faces import face_crops, face_rows

        source = str(record.path)
        try:
            with self.engine.begin() as conn:
                old = conn.execute(
                    sa.select(events_table.c.snapshot, events_table.c.snapshot_annotated, events_table.c.clip).where(
                        events_table.c.source == source
                    )
                ).all()
                old_faces = face_crops(conn, source)
                conn.execute(events_table.delete().where(events_table.c.source == source))
                conn.execute(files_table.delete().where(files_table.c.path == source))
                conn.execute(files_table.insert().values(**{**record.__dict__, "path": source}))
                if events:
                    conn.execute(events_table.insert(), [self._row(e, source) for e in events])
                if faces := face_rows(events, self.relative):
                    conn.execute(event_faces_table.insert(), faces)
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"{record.path}: cannot record in event store: {err.__class__.__name__}") from err
        pictures = [p for e in events for p in (e.snapshot, e.snapshot_annotated, e.clip, *(f.crop for f in e.faces))]
        kept = {self.relative(p) for p in pictures if p}
        for name in ({n for row in old for n in row if n} | old_faces) - kept:
            (self.data_dir / name).unlink(missing_ok=True)

    def _row(self, e: Event, source: str) -> dict[str, Any]:
        """The ``events`` row of ``e`` (`Event.fields`: the box in four columns, the zones comma-separated,
        pictures and clip relative to the data directory)."""
        row = e.fields()
        x1, y1, x2, y2 = row.pop("box_xyxy")
        return {
            **row,
            "x1": x1,
            "y1": y1,
            "x2": x2,
            "y2": y2,
            "zones": ",".join(e.zones),
            "source": source,
            "snapshot": self.relative(e.snapshot),
            "snapshot_annotated": self.relative(e.snapshot_annotated),
            "clip": self.relative(e.clip),
        }

    def _marked(self, result: sa.CursorResult[Any]) -> list[tuple[Event, EventMarks]]:
        """The events of a query over the ``events`` table's columns, each with its marks."""
        keys = tuple(result.keys())
        reviewed, pinned = keys.index("reviewed"), keys.index("pinned")
        rows = [tuple(row) for row in result]
        return [(event_of(self.data_dir, keys, r), EventMarks(bool(r[reviewed]), bool(r[pinned]))) for r in rows]

    def events(
        self,
        *,
        camera: str | None = None,
        label: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source: Path | None = None,
        limit: int | None = None,
        offset: int = 0,
        review: ReviewFilter | None = None,
    ) -> list[Event]:
        """Stored events, newest first.

        Args:
            camera: Only this camera.
            label: Only this label.
            since: Only events that started at or after this time (aware).
            until: Only events that started before this time (aware).
            source: Only events found in this file.
            limit: At most this many.
            offset: Skip this many first (paging).
            review: Further filters of the review grid (face, clip, reviewed, pinned).
        """
        marked = self.marked_events(
            camera=camera,
            label=label,
            since=since,
            until=until,
            source=source,
            limit=limit,
            offset=offset,
            review=review,
        )
        return [event for event, _ in marked]

    def marked_events(
        self,
        *,
        camera: str | None = None,
        label: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source: Path | None = None,
        limit: int | None = None,
        offset: int = 0,
        review: ReviewFilter | None = None,
    ) -> list[tuple[Event, EventMarks]]:
        """`events` with each event's marks, read in the same query (the review page reads a day of them)."""
        t = events_table
        query = self._where(sa.select(t), camera, label, since, until, source, review)
        query = query.order_by(t.c.start_utc.desc(), t.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return self._marked(conn.execute(query))

    def count_events(
        self,
        *,
        camera: str | None = None,
        label: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        review: ReviewFilter | None = None,
    ) -> int:
        """How many events `events` would list with the same filters and no limit."""
        query = self._where(
            sa.select(sa.func.count()).select_from(events_table), camera, label, since, until, None, review
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def _where(
        query: sa.Select[Any],
        camera: str | None,
        label: str | None,
        since: datetime | None,
        until: datetime | None,
        source: Path | None,
        review: ReviewFilter | None,
    ) -> sa.Select[Any]:
        t = events_table
        for column, value in ((t.c.camera, camera), (t.c.label, label), (t.c.source, source and str(source))):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(t.c.start_utc >= since.astimezone(UTC).replace(tzinfo=None))
        if until is not None:
            query = query.where(t.c.start_utc < until.astimezone(UTC).replace(tzinfo=None))
        return query if review is None else query.where(*review.conditions())

    def latest_per_camera(self) -> dict[str, Event]:
        """The newest event of every camera, by camera name."""
        t = events_table
        newest = sa.select(t.c.camera, sa.func.max(t.c.start_utc).label("start")).group_by(t.c.camera).subquery()
        query = sa.select(t).join(newest, sa.and_(t.c.camera == newest.c.camera, t.c.start_utc == newest.c.start))
        with self.engine.connect() as conn:
            found = self._marked(conn.execute(query.order_by(t.c.camera, t.c.id)))
        return {event.camera: event for event, _ in found}

    # --- the web app: one event, marks, deletion, what there is to filter by -----------------------------------

    def event(self, event_id: str) -> Event | None:
        """A stored event by id."""
        with self.engine.connect() as conn:
            found = self._marked(conn.execute(sa.select(events_table).where(events_table.c.id == event_id)))
        return found[0][0] if found else None

    def marks(self, event_ids: list[str]) -> dict[str, EventMarks]:
        """The reviewed and pinned marks of events, by id (unknown ids are left out)."""
        t = events_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.id, t.c.reviewed, t.c.pinned).where(t.c.id.in_(event_ids)))
            return {row.id: EventMarks(bool(row.reviewed), bool(row.pinned)) for row in rows}

    def set_sub_label(self, event_id: str, sub_label: str | None, score: float | None = None) -> bool:
        """Set (or clear, with ``None``) an event's sub-label and its score (0..1); returns whether the event exists.

        A later change of the event's faces (naming one, a wrong match) sets it from the faces again.

        Raises:
            StorageError: the database refused the write.
        """
        return bool(self._update([event_id], "set the sub-label of", sub_label=sub_label, sub_label_score=score))

    def mark(self, event_ids: list[str], *, reviewed: bool | None = None, pinned: bool | None = None) -> int:
        """Set the reviewed and/or pinned mark of events; returns how many events exist among ``event_ids``.

        Raises:
            StorageError: the database refused the write.
        """
        values = {k: v for k, v in (("reviewed", reviewed), ("pinned", pinned)) if v is not None}
        if not values or not event_ids:
            return 0
        return self._update(event_ids, "mark", **values)

    def _update(self, event_ids: list[str], what: str, **values: Any) -> int:
        """Set columns of events; returns how many exist. Raises `StorageError` saying ``cannot <what> events``."""
        t = events_table
        try:
            with self.engine.begin() as conn:
                return int(conn.execute(t.update().where(t.c.id.in_(event_ids)).values(**values)).rowcount)
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"cannot {what} events: {err.__class__.__name__}") from err

    def delete_event(self, event_id: str) -> bool:
        """Delete an event and its pictures; its clip too once no other event uses it.

        The row goes first (one transaction, its faces with it), then the files:
        a crash in between leaves a stray file, never a row without its picture.
        Footage outside the data directory (a watched folder's files) is never deleted.

        Returns:
            Whether the event existed.

        Raises:
            StorageError: the database refused the write.
        """
        from camsift.store.faces import face_crops_of

        t = events_table
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    sa.select(t.c.snapshot, t.c.snapshot_annotated, t.c.clip).where(t.c.id == event_id)
                ).first()
                if row is None:
                    return False
                crops = face_crops_of(conn, event_id)
                conn.execute(t.delete().where(t.c.id == event_id))
                clip_used = (
                    row.clip is not None
                    and conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.clip == row.clip)).scalar_one()
                )
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"cannot delete event {event_id}: {err.__class__.__name__}") from err
        names = {row.snapshot, row.snapshot_annotated, *crops} | ({row.clip} if not clip_used else set())
        for name in names - {None}:
            path = (self.data_dir / name).resolve()
            if path.is_relative_to(self.data_dir):
                path.unlink(missing_ok=True)
        return True

    def cameras(self) -> list[str]:
        """Every camera with a stored event, by name."""
        return self._distinct(events_table.c.camera)

    def labels(self) -> list[str]:
        """Every label of a stored event, by name."""
        return self._distinct(events_table.c.label)

    def _distinct(self, column: sa.Column[Any]) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(column).distinct().order_by(column)).scalars())

    def recent_labels(self, camera: str, files: int) -> list[set[str]]:
        """For each of ``camera``'s last ``files`` analysed files (newest first), the labels of its events."""
        f, t = files_table, events_table
        with self.engine.connect() as conn:
            paths = (
                conn.execute(
                    sa.select(f.c.path)
                    .where(f.c.camera == camera, f.c.status == "ok")
                    .order_by(f.c.processed_utc.desc())
                    .limit(files)
                )
                .scalars()
                .all()
            )
            found: dict[str, set[str]] = {p: set() for p in paths}
            for source, label in conn.execute(sa.select(t.c.source, t.c.label).where(t.c.source.in_(paths))):
                found[source].add(label)
        return [found[p] for p in paths]

    def files(self) -> Iterator[FileRecord]:
        """Every processed file, by path."""
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(files_table).order_by(files_table.c.path)).mappings():
                yield FileRecord(**{**row, "path": Path(row["path"])})
