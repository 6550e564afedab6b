"""`Retention`: a pass over one data directory: gather the facts, plan (`camsift.retention.plan.choose`), delete
in journaled batches, and repair what a kill left (see `camsift.retention` for the rules)."""

from __future__ import annotations

import contextlib
import functools
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from camsift.config import RetentionConfig, Settings
from camsift.errors import StorageError, disk_full
from camsift.layout import RESERVE_BYTES, DataDir
from camsift.logs import get_logger
from camsift.media import MEDIA_SUFFIXES
from camsift.retention.disk import DiskUsage, allocated, disk_usage, walk
from camsift.retention.journal import Journal, settling
from camsift.retention.model import Doomed, Outcome, Plan, RepairReport, category_of
from camsift.retention.plan import EventFacts, Facts, FootageFacts, PictureFile, choose
from camsift.store import Store
from camsift.store.retention import EventRow, RetentionRows

__all__ = ["Retention"]

log = get_logger("camsift.retention")

_BATCH = 200
_UNMOUNTED_FRACTION = 0.5
_UNMOUNTED_MIN = 10


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
        return choose(self.facts(), self.settings.retention, self._rules, now)

    def facts(self) -> Facts:
        """What `plan` weighs: the store's rows, the files of the picture and owned folders, the disk.

        Raises:
            StorageError: the database cannot be read.
        """
        rows = self.store.retention.rows()
        sizes: dict[str, int] = {}  # relative name -> bytes on disk, of every file walked
        footage = self._footage(rows, sizes)
        pictures = list(self._pictures(sizes))
        events = [self._event(row, sizes) for row in rows.events]
        by_source: dict[str, list[str]] = defaultdict(list)
        for e in events:
            if e.source is not None:
                by_source[e.source].append(e.id)
        with_events = {p: replace(f, events=tuple(by_source.get(p, ()))) for p, f in footage.items()}
        return Facts(events, with_events, pictures, rows.references, self.usage(self.data_dir))

    def _rules(self, camera: str) -> RetentionConfig:
        """The camera's retention settings (merged once per camera: `Settings.for_camera` validates)."""
        if camera not in self._camera_rules:
            self._camera_rules[camera] = self.settings.for_camera(camera).retention
        return self._camera_rules[camera]

    def _event(self, row: EventRow, sizes: dict[str, int]) -> EventFacts:
        names = [row.snapshot, row.snapshot_annotated, *row.crops]
        if row.clip is not None and not self._footage_path(row.clip):  # a clip that is not the source file
            names.append(row.clip)
        paths = tuple(n for n in dict.fromkeys(names) if n)
        return EventFacts(
            row.id,
            row.camera,
            category_of(row.label, row.sub_label),
            row.processed_utc or row.start_utc,  # its age counts from its file's arrival
            row.source,
            row.pinned,
            paths,
            self._size(paths, sizes),
        )

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

    def _footage(self, rows: RetentionRows, sizes: dict[str, int]) -> dict[str, FootageFacts]:
        """Every processed file, and footage files in the owned folders that no row knows of (their events come
        later: `_with_events`)."""
        skip = len(str(self.data_dir)) + 1
        unrowed: list[FootageFacts] = []
        known = {row.path for row in rows.files}
        if self.settings.retention.delete_footage:
            for root in self._roots:
                for name, st in walk(root):
                    size = sizes[name[skip:].replace(os.sep, "/")] = allocated(st)
                    media = os.path.splitext(name)[1].lower() in MEDIA_SUFFIXES and not os.path.basename(
                        name
                    ).startswith(".")
                    if media and name not in known and name not in rows.active_jobs:  # never a token or a state file
                        relative = (Path(name).relative_to(self.data_dir).as_posix(),)
                        mtime = datetime.fromtimestamp(st.st_mtime, UTC)
                        unrowed.append(FootageFacts(name, "", mtime, True, False, (), True, relative, size))
        footage = {}
        for row in rows.files:
            path = Path(row.path)
            owned = self._owned(path, row.camera)
            paths = (path.relative_to(self.data_dir).as_posix(),) if owned else ()
            present = owned or path.exists()  # a foreign file's row stays while the file exists
            start = row.processed_utc  # arrival, not the recording date its container may claim
            footage[row.path] = FootageFacts(
                row.path, row.camera, start, owned, True, (), present, paths, self._size(paths, sizes)
            )
        for f in unrowed:
            footage.setdefault(f.path, f)
        return footage

    def _pictures(self, sizes: dict[str, int]) -> Iterable[PictureFile]:
        """Every file under the picture folders (their sizes noted in ``sizes``)."""
        skip = len(str(self.data_dir)) + 1
        for folder in self.data.picture_dirs:
            for path, st in walk(folder):
                name = path[skip:].replace(os.sep, "/")
                size = sizes[name] = allocated(st)
                yield PictureFile(name, datetime.fromtimestamp(st.st_mtime, UTC), size)

    def _size(self, names: Iterable[str], sizes: dict[str, int]) -> int:
        """Bytes ``names`` (relative) take on disk: from the walk, else asked of the disk (0 when missing)."""
        size = 0
        root = str(self.data_dir)
        for name in names:
            if name in sizes:
                size += sizes[name]
                continue
            with contextlib.suppress(OSError):
                size += allocated(os.stat(os.path.join(root, name)))
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
        with Journal(self.data, names) as _:
            deletion = self.store.retention.delete(
                [i.key for i in batch if i.kind == "event"],
                {i.key: i.row for i in batch if i.kind == "footage"},
                [i.key for i in batch if i.kind == "orphan"],
                names,
            )
            gone = {"event": deletion.events, "footage": deletion.footage, "orphan": deletion.orphans}
            accepted = [
                i for kind in ("event", "footage", "orphan") for i in batch if i.kind == kind and i.key in gone[kind]
            ]
            # a file another row still needs (a clip two events share, footage with a job) stays
            for name in sorted({n for i in accepted for n in i.paths} - deletion.needed):
                self._unlink(self.data_dir / name)
        done = set(map(id, accepted))
        return accepted, [i for i in batch if id(i) not in done]

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
        for journal in sorted(self.data.journal.glob("*.json")):
            self._settle(journal, report, dry_run)
        self._clear_dangling(report, dry_run)
        if report.journals or report.dangling or report.refused:
            log.warning("retention repair", **report.__dict__, dry_run=dry_run)
        return report

    def _settle(self, journal: Path, report: RepairReport, dry_run: bool) -> None:
        with settling(journal) as names:
            if names is None:
                return
            referenced = self.store.retention.referenced(names)
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
        names = self.store.retention.picture_references()
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
        self.store.retention.clear_references(missing)
