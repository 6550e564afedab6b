"""Retention: what camsift keeps, for how long, and the disk-usage limit.

What goes (`Retention.plan`):

Ages count from **arrival**: when camsift received (and analysed) the file,
not when it was recorded. An archive imported today (a clip whose container
says 2017, a folder of old snapshots) is kept for its full retention period
from today instead of disappearing at the next pass; for a camera's own
uploads the two differ by seconds. An event with no file row counts from its
start, footage no row knows of and orphan pictures from their mtime.

- **events** past their category's days (``retention.<category>_days``, per
  camera): the row, its faces, its snapshots and face pictures. Categories:
  ``known_face`` (a recognised face), ``unknown_face``, ``person``, ``other``
  (vehicles, animals); pinned events never go;
- **footage camsift owns** (files under the data directory: live-stream clips,
  FTP uploads, Blink downloads: `camsift.layout.DataDir.owned_roots`) with the
  last event found in it, or after ``motion_days`` when nothing was found in
  it (``motion``); its ``files`` row goes with it. A file outside the data
  directory (a folder given to ``camsift scan``) is never deleted; its row
  stays while the file exists, so a later scan does not bring back events that
  retention removed;
- **orphan pictures**: files under ``events/`` and ``faces/`` that no row
  refers to, once older than ``orphan_age_s`` (a younger one may belong to an
  analysis whose row is not written yet);
- when the disk of the data directory is above ``max_disk_percent``: more of
  the same, category by category (``disk_order``), oldest first, until the
  estimate is below the limit.

A full disk must not stop retention from freeing it: `DataDir.keep_reserve`
sets `RESERVE_BYTES` aside (``<data_dir>/retention-reserve``) while there is
room, and a batch whose journal or deleting transaction fails for lack of
space is tried again once that reserve is given back; it is set aside again
after the pass.

How it goes (`Retention.apply`), crash-safe, in batches:

1. the batch's files are written to a journal, ``<data_dir>/retention-journal/<id>.json``
   (`camsift.layout.DataDir.journal`; fsync'd, locked by the writer while it works);
2. one transaction deletes the rows (checking again that each event is not
   pinned meanwhile, that footage has no event left, that an orphan is still
   unreferenced); this commit is the point of no return;
3. the files that no row refers to any more are unlinked (a clip that another
   event still shows stays), then the journal is removed.

Readers never see a row whose file is gone. A kill after 1 leaves a journal
that `Retention.repair` (run at every start of ``camsift run`` and by
``camsift retention``) settles with one rule: a journaled file that no row
refers to is deleted (the transaction committed: finish), one that a row
still refers to is kept (it did not: roll back). Repair also clears
references to files that are missing (a power cut after the unlink but before
SQLite's WAL reached the disk, or a file deleted by hand): the column is set
to NULL and the event is kept, because its row (time, label, box) is still
evidence. If more than half of the referenced files are missing, the data
directory looks unmounted and repair changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from camsift.config import RetentionCategory, RetentionConfig, Settings
from camsift.errors import StorageError, disk_full
from camsift.faces import UNKNOWN
from camsift.layout import RESERVE_BYTES, DataDir, atomic_writer
from camsift.listeners import Problem
from camsift.logs import get_logger
from camsift.media import MEDIA_SUFFIXES
from camsift.store import Store
from camsift.store.schema import event_faces_table, events_table, files_table, jobs_table

if TYPE_CHECKING:
    from camsift.listeners import ServiceContext

__all__ = [
    "DiskUsage",
    "Doomed",
    "Outcome",
    "Plan",
    "RepairReport",
    "Retention",
    "RetentionCompanion",
    "category_of",
    "disk_usage",
]

log = get_logger("camsift.retention")

Kind = Literal["event", "footage", "orphan"]
Reason = Literal["age", "disk", "orphan"]

_BATCH = 200
_CHUNK = 500  # rows per IN (...) list: far below SQLite's variable limit
_UNMOUNTED_FRACTION = 0.5
_UNMOUNTED_MIN = 10


def category_of(label: str, sub_label: str | None) -> RetentionCategory:
    """An event's retention category: a recognised face, an unrecognised one, a person, anything else.

    ``sub_label`` is the face's name, `camsift.faces.UNKNOWN`, or ``None`` (no usable face seen).
    """
    if label == "person":
        if sub_label == UNKNOWN:
            return "unknown_face"
        return "known_face" if sub_label else "person"
    return "other"


@dataclass(frozen=True)
class DiskUsage:
    """Space on the filesystem holding the data directory, as ``df`` counts it.

    Attributes:
        used: Bytes in use.
        free: Bytes available to camsift (without the blocks reserved for root).
    """

    used: int
    free: int

    @property
    def percent(self) -> float:
        """Used share of ``used + free``, 0-100 (``df``'s ``Use%``)."""
        total = self.used + self.free
        return 100.0 * self.used / total if total else 0.0


def disk_usage(path: Path) -> DiskUsage:
    """`DiskUsage` of the filesystem holding the data directory ``path`` (`shutil.disk_usage`); the space its
    reserve sets aside (`DataDir.keep_reserve`) counts as free, as it is given back when the disk fills."""
    usage = shutil.disk_usage(path)
    try:
        reserve = _allocated(DataDir(path).reserve.stat())
    except OSError:
        reserve = 0
    return DiskUsage(usage.used - reserve, usage.free + reserve)


@dataclass(frozen=True)
class Doomed:
    """One thing retention deletes.

    Attributes:
        kind: ``event`` (a row, its faces and pictures), ``footage`` (a file camsift owns and/or its
            ``files`` row) or ``orphan`` (a picture no row refers to).
        key: The event id; the footage's absolute path; the orphan's path relative to the data directory.
        camera: Camera name (``""`` when unknown).
        category: Retention category (``None`` for an orphan).
        start_utc: When its retention age starts: when camsift received the file (its ``files`` row's
            ``processed_utc``; footage no row knows of and an orphan: its mtime).
        reason: ``age`` (past its days), ``disk`` (over max_disk_percent) or ``orphan``.
        paths: Files to delete, relative to the data directory.
        size: Bytes the files take on disk (allocated blocks).
        row: A ``files`` row goes too (footage only).
    """

    kind: Kind
    key: str
    camera: str
    category: RetentionCategory | None
    start_utc: datetime
    reason: Reason
    paths: tuple[str, ...]
    size: int
    row: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``camsift retention --format json``."""
        return {
            "kind": self.kind,
            "key": self.key,
            "camera": self.camera,
            "category": self.category,
            "start_utc": self.start_utc.isoformat(),
            "reason": self.reason,
            "paths": list(self.paths),
            "bytes": self.size,
        }


@dataclass
class Plan:
    """What a retention pass would delete.

    Attributes:
        items: In deletion order.
        now_utc: The clock the ages were measured with.
        disk: Usage of the data directory's disk before the pass.
        limit_percent: ``max_disk_percent`` (``None``: no limit).
    """

    items: list[Doomed]
    now_utc: datetime
    disk: DiskUsage
    limit_percent: float | None

    @property
    def size(self) -> int:
        """Bytes the plan frees."""
        return sum(i.size for i in self.items)

    @property
    def over_limit(self) -> bool:
        """The disk is above ``max_disk_percent``."""
        return self.limit_percent is not None and self.disk.percent > self.limit_percent

    def summary(self) -> dict[str, dict[str, int]]:
        """Items and bytes by ``"<reason>/<kind>/<category>"``, sorted."""
        counts: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        for i in self.items:
            key = f"{i.reason}/{i.kind}/{i.category or '-'}"
            counts[key] += 1
            sizes[key] += i.size
        return {k: {"items": counts[k], "bytes": sizes[k]} for k in sorted(counts)}

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``camsift retention --dry-run --format json``."""
        return {
            "now_utc": self.now_utc.isoformat(),
            "disk_percent": round(self.disk.percent, 2),
            "limit_percent": self.limit_percent,
            "bytes": self.size,
            "summary": self.summary(),
            "items": [i.to_dict() for i in self.items],
        }


@dataclass
class Outcome:
    """What `Retention.apply` did.

    Attributes:
        deleted: Items deleted.
        kept: Items left in place because they changed since the plan (pinned, a new event in the footage …).
        disk: Usage after the pass.
    """

    deleted: list[Doomed] = field(default_factory=list)
    kept: list[Doomed] = field(default_factory=list)
    disk: DiskUsage | None = None

    @property
    def size(self) -> int:
        """Bytes freed."""
        return sum(i.size for i in self.deleted)


@dataclass
class RepairReport:
    """What `Retention.repair` found and did.

    Attributes:
        journals: Interrupted deletions settled.
        finished: Files of those deletions deleted (their rows were gone).
        rolled_back: Files of those deletions kept (a row still refers to them).
        dangling: References to missing files cleared (set to NULL).
        refused: Why dangling references were left alone (``None``: they were not).
    """

    journals: int = 0
    finished: int = 0
    rolled_back: int = 0
    dangling: int = 0
    refused: str | None = None


@dataclass
class _Event:
    id: str
    camera: str
    category: RetentionCategory
    start_utc: datetime
    source: str | None
    pinned: bool
    paths: tuple[str, ...]


@dataclass
class _Footage:
    path: str  # absolute
    camera: str
    start_utc: datetime
    owned: bool
    row: bool
    events: list[str]


class Retention:
    """Applies the ``retention`` settings to a data directory and its event store.

    Args:
        settings: The configuration (``retention``, per-camera overrides, sources for owned folders).
        store: The open event store of ``settings.data_dir``.
        now: The clock (UTC, aware); tests fake the age of everything through it.
        usage: Measures the data directory's disk (tests inject a small disk).
        on_unlink: Called after each file is deleted, with its path (tests slow a deletion down
            through it to kill it midway).
        batch: Items per transaction.

    Example:
        >>> with Store(settings.data_dir) as store:  # doctest: +SKIP
        ...     retention = Retention(settings, store)
        ...     retention.repair()
        ...     plan = retention.plan()
        ...     print(len(plan.items), plan.size)
        ...     retention.apply(plan)
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        now: Callable[[], datetime] | None = None,
        usage: Callable[[Path], DiskUsage] = disk_usage,
        on_unlink: Callable[[Path], None] | None = None,
        batch: int = _BATCH,
    ) -> None:
        self.settings, self.store = settings, store
        self.data = DataDir(store.data_dir)
        self.data_dir = self.data.root
        self.now = now or (lambda: datetime.now(UTC))
        self.usage = usage
        self.on_unlink = on_unlink
        self.batch = batch
        self._camera_rules: dict[str, RetentionConfig] = {}

    # --- planning -----------------------------------------------------------------------------------------------

    def plan(self) -> Plan:
        """Everything a pass would delete now, in order (see the module docstring).

        Raises:
            StorageError: the database cannot be read.
        """
        now = self.now()
        try:
            with self.store.engine.connect() as conn:
                events = self._events(conn)
                footage = self._footage(conn, events)
                referenced = _picture_references(conn)
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"retention: cannot read the event store: {err.__class__.__name__}") from err
        disk = self.usage(self.data_dir)
        limit = self.settings.retention.max_disk_percent
        items: list[Doomed] = []
        remaining = {f.path: len(f.events) for f in footage.values()}
        doomed_events: set[str] = set()

        def add_event(e: _Event, reason: Reason) -> None:
            items.append(self._doomed_event(e, reason))
            doomed_events.add(e.id)
            if e.source in footage:
                remaining[e.source] -= 1
                if remaining[e.source] == 0:
                    add_footage(footage[e.source], reason, e.category)

        def add_footage(f: _Footage, reason: Reason, category: RetentionCategory) -> None:
            keep_row = not f.owned and Path(f.path).exists()  # the row stops a scan from bringing events back
            if f.owned or (f.row and not keep_row):
                items.append(self._doomed_footage(f, reason, category))

        for e in sorted(events.values(), key=lambda e: e.start_utc):
            if not e.pinned and self._expired(e.camera, e.category, e.start_utc, now):
                add_event(e, "age")
        for f in footage.values():
            if not f.events and self._expired(f.camera, "motion", f.start_utc, now):
                add_footage(f, "age", "motion")
        items.extend(self._orphans(referenced, now))

        if limit is not None and disk.percent > limit:
            need = disk.used - int(limit / 100 * (disk.used + disk.free)) - sum(i.size for i in items)
            order = {c: n for n, c in enumerate(self.settings.retention.disk_order)}
            done = {i.key for i in items}
            candidates: list[tuple[int, datetime, _Event | _Footage]] = [
                (order[e.category], e.start_utc, e)
                for e in events.values()
                if not e.pinned and e.id not in doomed_events and e.category in order
            ]
            if "motion" in order:
                candidates += [
                    (order["motion"], f.start_utc, f)
                    for f in footage.values()
                    if f.owned and not f.events and f.path not in done
                ]
            candidates.sort(key=lambda c: (c[0], c[1]))
            for _, _, thing in candidates:
                if need <= 0:
                    break
                before = len(items)
                if isinstance(thing, _Event):
                    add_event(thing, "disk")
                else:
                    add_footage(thing, "disk", "motion")
                need -= sum(i.size for i in items[before:])
        return Plan(items, now, disk, limit)

    def _expired(self, camera: str, category: RetentionCategory, start: datetime, now: datetime) -> bool:
        days = self._rules(camera).days(category)
        return days is not None and now - start > timedelta(days=days)

    def _rules(self, camera: str) -> RetentionConfig:
        """The camera's retention settings (merged once per camera: `Settings.for_camera` validates)."""
        if camera not in self._camera_rules:
            self._camera_rules[camera] = self.settings.for_camera(camera).retention
        return self._camera_rules[camera]

    def _events(self, conn: Connection) -> dict[str, _Event]:
        t, f = events_table, event_faces_table
        crops: dict[str, list[str]] = defaultdict(list)
        for event_id, crop in conn.execute(sa.select(f.c.event_id, f.c.crop).where(f.c.crop.is_not(None))):
            crops[event_id].append(crop)
        query = sa.select(
            t.c.id, t.c.camera, t.c.label, t.c.sub_label, t.c.start_utc, t.c.source, t.c.pinned,
            t.c.snapshot, t.c.snapshot_annotated, t.c.clip, files_table.c.processed_utc,
        ).outerjoin(files_table, files_table.c.path == t.c.source)  # fmt: skip
        events = {}
        for row in conn.execute(query):
            names = [row.snapshot, row.snapshot_annotated, *crops.get(row.id, ())]
            if row.clip is not None and not self._footage_path(row.clip):  # a clip that is not the source file
                names.append(row.clip)
            events[row.id] = _Event(
                row.id,
                row.camera,
                category_of(row.label, row.sub_label),
                row.processed_utc or row.start_utc,  # its age counts from its file's arrival
                row.source,
                bool(row.pinned),
                tuple(n for n in dict.fromkeys(names) if n),
            )
        return events

    def _footage_path(self, clip: str) -> bool:
        """Whether an event's ``clip`` (relative) is footage handled as a file of its own (a source file)."""
        return any((self.data_dir / clip).is_relative_to(root) for root in self._roots)

    @functools.cached_property
    def _roots(self) -> list[Path]:
        """Folders under the data directory where footage that camsift owns arrives (`DataDir.owned_roots`)."""
        return self.data.owned_roots(self.settings.sources.values())

    def _owned(self, path: Path, camera: str) -> bool:
        return (
            self._rules(camera).delete_footage
            and path.is_relative_to(self.data_dir)
            and not any(path.is_relative_to(d) for d in self.data.picture_dirs)
        )

    def _footage(self, conn: Connection, events: dict[str, _Event]) -> dict[str, _Footage]:
        """Every processed file, and footage files in the owned folders that no row knows of."""
        by_source: dict[str, list[str]] = defaultdict(list)
        for e in events.values():
            if e.source is not None:
                by_source[e.source].append(e.id)
        f = files_table
        footage = {}
        for row in conn.execute(sa.select(f.c.path, f.c.camera, f.c.processed_utc)):
            start = row.processed_utc  # arrival, not the recording date its container may claim
            owned = self._owned(Path(row.path), row.camera)
            footage[row.path] = _Footage(row.path, row.camera, start, owned, True, by_source.get(row.path, []))
        if not self.settings.retention.delete_footage:
            return footage
        active = set(
            conn.execute(sa.select(jobs_table.c.path).where(jobs_table.c.state.in_(("pending", "leased")))).scalars()
        )
        for root in self._roots:
            for name, st in _walk(root):
                media = os.path.splitext(name)[1].lower() in MEDIA_SUFFIXES and not os.path.basename(name).startswith(
                    "."
                )
                if media and name not in footage and name not in active:  # never a token or a state file
                    footage[name] = _Footage(name, "", datetime.fromtimestamp(st.st_mtime, UTC), True, False, [])
        return footage

    def _orphans(self, referenced: set[str], now: datetime) -> Iterator[Doomed]:
        oldest = now - timedelta(seconds=self.settings.retention.orphan_age_s)
        skip = len(str(self.data_dir)) + 1
        for folder in self.data.picture_dirs:
            for path, st in _walk(folder):
                name = path[skip:].replace(os.sep, "/")
                mtime = datetime.fromtimestamp(st.st_mtime, UTC)
                if name not in referenced and mtime < oldest:
                    yield Doomed("orphan", name, "", None, mtime, "orphan", (name,), _allocated(st))

    def _doomed_event(self, e: _Event, reason: Reason) -> Doomed:
        return Doomed("event", e.id, e.camera, e.category, e.start_utc, reason, e.paths, self._size(e.paths))

    def _doomed_footage(self, f: _Footage, reason: Reason, category: RetentionCategory) -> Doomed:
        path = Path(f.path)
        paths = (path.relative_to(self.data_dir).as_posix(),) if f.owned else ()
        return Doomed("footage", f.path, f.camera, category, f.start_utc, reason, paths, self._size(paths), f.row)

    def _size(self, names: Iterable[str]) -> int:
        size = 0
        root = str(self.data_dir)
        for name in names:
            with contextlib.suppress(OSError):
                size += _allocated(os.stat(os.path.join(root, name)))
        return size

    # --- deleting -----------------------------------------------------------------------------------------------

    def apply(self, plan: Plan) -> Outcome:
        """Delete what ``plan`` lists, batch by batch (see the module docstring); then prune empty folders.

        An item that changed since the plan (pinned meanwhile, footage with a new
        event, an orphan that a row now refers to) is kept and listed in ``kept``.

        Raises:
            StorageError: the database refused the deletion, or the journal cannot be written
                (nothing of that batch was deleted).
        """
        outcome = Outcome()
        self.data.keep_reserve()
        for start in range(0, len(plan.items), self.batch):
            batch = plan.items[start : start + self.batch]
            deleted, kept = self._delete(batch)
            outcome.deleted += deleted
            outcome.kept += kept
        if plan.items:
            self._prune_folders(plan.now_utc)
            log.info(
                "retention pass",
                deleted=len(outcome.deleted),
                kept=len(outcome.kept),
                freed_mb=round(outcome.size / 1e6, 1),
                summary=plan.summary(),
            )
        self.data.keep_reserve()  # set aside again from the space just freed
        outcome.disk = self.usage(self.data_dir)
        return outcome

    def run(self) -> tuple[Plan, Outcome]:
        """`plan` then `apply`: one retention pass."""
        plan = self.plan()
        return plan, self.apply(plan)

    def _delete(self, batch: Sequence[Doomed]) -> tuple[list[Doomed], list[Doomed]]:
        """`_delete_batch`; on a full disk (its journal or the database cannot grow) again, with the reserve freed."""
        try:
            return self._delete_batch(batch)
        except StorageError as err:
            if not disk_full(err) or not self.data.release_reserve():
                raise
            log.warning("data disk full: retention uses its reserve space", freed_mb=RESERVE_BYTES / 2**20)
        return self._delete_batch(batch)

    def _delete_batch(self, batch: Sequence[Doomed]) -> tuple[list[Doomed], list[Doomed]]:
        names = sorted({n for item in batch for n in item.paths})
        with _Journal(self.data, names) as _:
            try:
                with _write(self.store) as conn:
                    accepted = self._accept(conn, batch)
                    ids = [i.key for i in accepted if i.kind == "event"]
                    rows = [i.key for i in accepted if i.kind == "footage" and i.row]
                    for chunk in _chunks(ids):
                        conn.execute(event_faces_table.delete().where(event_faces_table.c.event_id.in_(chunk)))
                        conn.execute(events_table.delete().where(events_table.c.id.in_(chunk)))
                    for chunk in _chunks(rows):
                        conn.execute(files_table.delete().where(files_table.c.path.in_(chunk)))
                    # a file another row still needs (a clip two events share, footage with a job) stays
                    needed = _referenced(conn, sorted({n for i in accepted for n in i.paths}), self.data_dir)
            except sa.exc.SQLAlchemyError as err:
                raise StorageError(f"retention: the event store refused a deletion: {err.__class__.__name__}") from err
            for name in sorted({n for i in accepted for n in i.paths} - needed):
                self._unlink(self.data_dir / name)
        done = set(map(id, accepted))
        return accepted, [i for i in batch if id(i) not in done]

    def _accept(self, conn: Connection, batch: Sequence[Doomed]) -> list[Doomed]:
        """The items of ``batch`` that may still go, checked inside the deleting transaction."""
        t = events_table
        ids = [i.key for i in batch if i.kind == "event"]
        deletable = set()
        for chunk in _chunks(ids):
            deletable |= set(conn.execute(sa.select(t.c.id).where(t.c.id.in_(chunk), t.c.pinned.is_(False))).scalars())
        accepted = [i for i in batch if i.kind == "event" and i.key in deletable]
        sources = [i.key for i in batch if i.kind == "footage"]
        busy = set()
        for chunk in _chunks(sources):
            query = sa.select(t.c.source).where(t.c.source.in_(chunk), t.c.id.not_in(deletable or [""]))
            busy |= set(conn.execute(query).scalars())
        unrowed = [i.key for i in batch if i.kind == "footage" and not i.row]
        busy |= _paths_known(conn, unrowed)
        accepted += [i for i in batch if i.kind == "footage" and i.key not in busy]
        orphans = [i.key for i in batch if i.kind == "orphan"]
        referenced = _referenced(conn, orphans, self.data_dir)
        accepted += [i for i in batch if i.kind == "orphan" and i.key not in referenced]
        return accepted

    def _unlink(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            log.warning("cannot delete file", path=str(path), reason=err.strerror or str(err))
            return
        if self.on_unlink is not None:
            self.on_unlink(path)

    def _prune_folders(self, now: datetime) -> None:
        """Remove empty dated folders untouched for ``orphan_age_s`` (a fresh one may be about to be written)."""
        oldest = (now - timedelta(seconds=self.settings.retention.orphan_age_s)).timestamp()
        for root in [*self.data.picture_dirs, *self._roots]:
            if not root.is_dir():
                continue
            for folder, dirs, files in os.walk(root, topdown=False):
                here = Path(folder)
                if here == root or files or (dirs and any((here / d).exists() for d in dirs)):
                    continue
                with contextlib.suppress(OSError):
                    if here.stat().st_mtime < oldest:
                        here.rmdir()

    # --- repair -------------------------------------------------------------------------------------------------

    def repair(self, *, dry_run: bool = False) -> RepairReport:
        """Settle interrupted deletions and clear references to missing files (see the module docstring).

        Args:
            dry_run: Only count what would be done.

        Raises:
            StorageError: the database cannot be read or written.
        """
        report = RepairReport()
        try:
            for journal in sorted(self.data.journal.glob("*.json")):
                self._settle(journal, report, dry_run)
            self._clear_dangling(report, dry_run)
        except sa.exc.SQLAlchemyError as err:
            raise StorageError(f"retention repair: the event store failed: {err.__class__.__name__}") from err
        if report.journals or report.dangling or report.refused:
            log.warning("retention repair", **report.__dict__, dry_run=dry_run)
        return report

    def _settle(self, journal: Path, report: RepairReport, dry_run: bool) -> None:
        try:
            handle = journal.open("r")
        except FileNotFoundError:  # settled by its writer meanwhile
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its writer is alive and working on it
                return
            try:
                names = [str(n) for n in json.load(handle)["paths"]]
            except (ValueError, KeyError, TypeError):
                names = []  # a journal cut by a crash before its rename cannot exist; a corrupt one lists nothing
            with self.store.engine.connect() as conn:
                referenced = _referenced(conn, names, self.data_dir)
            report.journals += 1
            report.rolled_back += len(referenced)
            gone = [n for n in names if n not in referenced]
            report.finished += len(gone)
            if dry_run:
                return
            for name in gone:
                self._unlink(self.data_dir / name)
            journal.unlink(missing_ok=True)

    def _clear_dangling(self, report: RepairReport, dry_run: bool) -> None:
        t, f = events_table, event_faces_table
        columns = [t.c.snapshot, t.c.snapshot_annotated, t.c.clip]
        with self.store.engine.connect() as conn:
            names = {n for c in columns for n in conn.execute(sa.select(c).where(c.is_not(None))).scalars()}
            names |= set(conn.execute(sa.select(f.c.crop).where(f.c.crop.is_not(None))).scalars())
        missing = sorted(n for n in names if not (self.data_dir / n).exists())
        if not missing:
            return
        if len(missing) >= _UNMOUNTED_MIN and len(missing) > _UNMOUNTED_FRACTION * len(names):
            report.refused = (
                f"{len(missing)} of {len(names)} pictures and clips are missing from {self.data_dir}: "
                "is the data disk mounted? Nothing was changed"
            )
            return
        report.dangling = len(missing)
        if dry_run:
            return
        with _write(self.store) as conn:
            for chunk in _chunks(missing):
                for column in columns:
                    conn.execute(t.update().where(column.in_(chunk)).values({column.name: None}))
                conn.execute(f.update().where(f.c.crop.in_(chunk)).values(crop=None))


# --- helpers ------------------------------------------------------------------------------------------------------


def _allocated(st: os.stat_result) -> int:
    """Bytes a file takes on disk (allocated blocks; its size where blocks are not reported)."""
    blocks = getattr(st, "st_blocks", None)
    return int(blocks) * 512 if blocks is not None else st.st_size


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every file under ``root`` (none if it does not exist), as (absolute path, stat); fast on 100,000s of files."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(FileNotFoundError):
                yield path, os.stat(path)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


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


@contextlib.contextmanager
def _write(store: Store) -> Iterator[Connection]:
    """A write transaction; on SQLite taken at once (``BEGIN IMMEDIATE``), so what it reads stays true."""
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
        yield conn
        conn.commit()


class _Journal:
    """One batch's files, on disk before its rows are deleted (see the module docstring).

    Written by `atomic_writer` (fsync'd and renamed, folder fsync'd), so a journal is whole or
    absent; its writer locks it before the rename and holds the lock until the batch is done,
    so `Retention.repair` in another process leaves a live batch alone.
    """

    def __init__(self, data: DataDir, names: list[str]) -> None:
        self.path = data.journal / f"{uuid.uuid4().hex}.json"
        self.names = names
        self._lock: int | None = None

    def __enter__(self) -> _Journal:
        try:
            with atomic_writer(self.path) as out:
                out.write(json.dumps({"paths": self.names}).encode())
                fcntl.flock(out.fileno(), fcntl.LOCK_EX)
                self._lock = os.dup(out.fileno())  # the lock lives as long as a descriptor of the file
        except OSError as err:
            if self._lock is not None:  # a journal renamed into place stays, and repair settles it
                os.close(self._lock)
            raise StorageError(f"{self.path}: cannot write the retention journal: {err.strerror or err}") from err
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:  # on an error the journal stays, and repair settles it
            self.path.unlink(missing_ok=True)
        if self._lock is not None:
            os.close(self._lock)


# --- inside `camsift run` -----------------------------------------------------------------------------------------


RESOLVE_MARGIN_PCT = 5.0
"""Points below ``max_disk_percent`` the disk must be for its ``disk_limit`` problem to be resolved."""

RESOLVE_AFTER_S = 3600.0
"""Seconds without a pass over ``max_disk_percent`` before its ``disk_limit`` problem is resolved."""


class RetentionCompanion:
    """Retention inside ``camsift run``: repair at start, then a pass every ``retention.interval_s``.

    The first pass comes ``first_pass_s`` after the start (the service settles
    first). When the disk is above ``max_disk_percent`` the owner is told once
    (`Problem` ``disk_limit``: what was deleted, and whether that was enough),
    and once more when it is resolved (``resolved=True``): with hysteresis, so a
    disk that retention keeps just under its limit is not a flapping alarm. It
    is resolved only once the disk is `RESOLVE_MARGIN_PCT` points below the
    limit and no pass found it over the limit for `RESOLVE_AFTER_S` seconds;
    until then passes over the limit tell nothing new. The notifier's own
    ``disk_full`` report (``notify.problems.disk_used_pct``) is a separate alarm.

    Args:
        settings: The configuration.
        first_pass_s: Seconds from the start to the first pass.
        usage: Measures the data directory's disk (tests inject a small disk).
        clock: Monotonic seconds (tests advance it).
    """

    name = "retention"

    def __init__(
        self,
        settings: Settings,
        *,
        first_pass_s: float = 60.0,
        usage: Callable[[Path], DiskUsage] = disk_usage,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.first_pass_s = first_pass_s
        self.usage = usage
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._told = False
        self._last_over = 0.0  # clock() of the last pass that found the disk over the limit
        self.passes = 0

    def start(self, service: ServiceContext) -> None:
        """Repair at once (in the caller: before any source starts), then pass on a thread."""
        store = service.store
        assert store is not None, "the service starts companions once its store is open"
        retention = Retention(self.settings, store, usage=self.usage)
        try:
            retention.repair()
        except StorageError as err:
            log.error("retention repair failed", reason=str(err))
        self._thread = threading.Thread(target=self._loop, args=(service, retention), name="retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in progress (a batch is short; a kill midway is repaired at the next start)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self, service: ServiceContext, retention: Retention) -> None:
        wait = self.first_pass_s
        while not self._stop.wait(wait):
            wait = self.settings.retention.interval_s
            try:
                plan, outcome = retention.run()
            except Exception:  # a bad pass must not end the schedule
                log.exception("retention pass failed")
                continue
            self.passes += 1
            self._tell(service, plan, outcome)

    def _tell(self, service: ServiceContext, plan: Plan, outcome: Outcome) -> None:
        limit = plan.limit_percent
        after = outcome.disk or plan.disk
        if limit is None:
            return
        if plan.over_limit:
            self._last_over = self.clock()
        if plan.over_limit and not self._told:
            self._told = True
            still = (
                f"It is still {after.percent:.0f} % full: nothing more may be deleted (pinned events, footage "
                "outside camsift, other files on that disk). Free some space or add a disk."
                if after.percent > limit
                else f"It is now {after.percent:.0f} % full."
            )
            service.problem(
                Problem(
                    "disk_limit",
                    f"Data disk {plan.disk.percent:.0f} % full (limit {limit:.0f} %)",
                    f"camsift deleted {len(outcome.deleted)} older items ({outcome.size / 1e6:.0f} MB) from "
                    f"{self.settings.data_dir}, least important first. {still}",
                ),
            )
        elif (
            self._told
            and not plan.over_limit
            and after.percent <= limit - RESOLVE_MARGIN_PCT
            and self.clock() - self._last_over >= RESOLVE_AFTER_S
        ):
            self._told = False
            service.problem(Problem("disk_limit", f"Data disk back to {after.percent:.0f} % full", resolved=True))
