"""The data directory: where every file camsift keeps lives (`DataDir`), one rule for names, one atomic writer.

Layout::

    <data_dir>/camsift.db                the event store (`camsift.store`), unless ``database`` names a server
    <data_dir>/events/YYYY-MM-DD/<camera>/<HHMMSS>-<label>-<event id>[-annotated].jpg   (`DataDir.picture`)
    <data_dir>/faces/YYYY-MM-DD/<camera>/<HHMMSS>-person-<event id>-face<n>.jpg         (`DataDir.face`)
    <data_dir>/clips/YYYY-MM-DD/<camera>/<HHMMSS>-<camera>.mp4   live-stream recordings (`DataDir.clip`)
    <data_dir>/live/<camera>.jpg         the latest picture of each live camera (`DataDir.live_frame`)
    <data_dir>/ftp/<user>/…              FTP uploads (unless the source sets ``root``)
    <data_dir>/blink/…                   Blink login token, downloaded clips and download state
    <data_dir>/retention-journal/        retention's deletion journal (`camsift.retention`)
    <data_dir>/retention-reserve         space kept for that journal when the disk fills up
    <data_dir>/camera-overrides.yaml     camera settings changed in the web app (`camsift.camera_overrides`)
    <data_dir>/camsift-run.lock          held by the one ``camsift run`` using the directory
    <data_dir>/cache/                    browser-playable copies of footage (`camsift.web.playable`)

Dates and times in folder and file names are local wall-clock time (what an
owner browsing the folders expects); camera and label names are reduced by
`safe_name`, so no name can leave its folder. Every file written whole goes
through `atomic_writer`, so a reader or a crash never sees half of it. This
module imports no database layer: worker processes, which write pictures but
never the database, do not load SQLAlchemy (22 MB of each worker's memory).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, overload

if TYPE_CHECKING:
    from camsift.config import SourceConfig
    from camsift.events import Event

__all__ = [
    "FULL_BELOW",
    "RECORDING_SUFFIX",
    "RESERVE_BYTES",
    "DataDir",
    "atomic_writer",
    "recording_path",
    "safe_name",
    "write_atomically",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

RESERVE_BYTES = 4 * 2**20
"""Bytes `DataDir.keep_reserve` sets aside for a full disk: room to open the event store and for retention's
journal and deleting transaction (a batch journals a few tens of kB; SQLite's WAL grows a few pages a row)."""

FULL_BELOW = 2**20
"""Free bytes under which a disk counts as full when opening the event store (`DataDir.release_reserve`)."""

RECORDING_SUFFIX = ".part"
"""Appended to a recording's name while it is written (`recording_path`): a live clip or a Blink download."""


def safe_name(name: str) -> str:
    """``name`` reduced to ``[A-Za-z0-9._-]`` (runs of anything else become ``_``, leading and trailing dots and
    underscores go), for folder and file names and camsift camera names; ``"camera"`` when nothing is left.

    Example:
        >>> safe_name("Front Door"), safe_name("../..")
        ('Front_Door', 'camera')
    """
    return _UNSAFE.sub("_", name).strip("._") or "camera"


def recording_path(path: Path) -> Path:
    """``<path>.part``: where a recording that ends up at ``path`` is written until it is complete."""
    return path.with_name(path.name + RECORDING_SUFFIX)


class _Place:
    """A file or folder at a fixed name in the data directory: read on a `DataDir`, it is that path."""

    def __init__(self, name: str, doc: str) -> None:
        self.name, self.__doc__ = name, doc

    @overload
    def __get__(self, data: None, owner: type[DataDir]) -> _Place: ...

    @overload
    def __get__(self, data: DataDir, owner: type[DataDir]) -> Path: ...

    def __get__(self, data: DataDir | None, owner: type[DataDir]) -> Path | _Place:
        return self if data is None else data.root / self.name


@dataclass(frozen=True)
class DataDir:
    """The data directory (the ``data_dir`` setting) and the place of every file in it (see the module docstring).

    Args:
        root: The folder; made absolute (symlinks resolved) so that paths compare and store the same.

    Example:
        >>> data = DataDir(Path("camsift-data"))
        >>> data.picture(event, annotated=True)  # doctest: +SKIP
        PosixPath('/srv/camsift-data/events/2026-11-22/porch/143005-person-3f9c0a1b2c4d-001-annotated.jpg')
    """

    root: Path

    database = _Place("camsift.db", "The SQLite event store (used unless the ``database`` setting names a server).")
    events = _Place("events", "Snapshots of events (`picture`).")
    faces = _Place("faces", "Pictures of the faces seen on events (`face`).")
    clips = _Place("clips", "Live-stream recordings (`clip`).")
    live = _Place("live", "The latest picture of each live camera (`live_frame`).")
    ftp = _Place("ftp", "FTP uploads, when the ``ftp`` source sets no ``root`` of its own.")
    blink = _Place("blink", "Blink's login token, downloaded clips and download state (`camsift.blink`).")
    journal = _Place("retention-journal", "Retention's deletion journal (`camsift.retention`).")
    reserve = _Place("retention-reserve", "Space set aside for a full disk (`keep_reserve`, `RESERVE_BYTES`).")
    overrides = _Place("camera-overrides.yaml", "Camera settings changed in the web app (`camsift.camera_overrides`).")
    run_lock = _Place("camsift-run.lock", "Held by the ``camsift run`` that uses the directory.")
    cache = _Place("cache", "Copies made for the web app: browser-playable footage (`camsift.web.playable`).")

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.resolve())

    def has_store(self, database: str | None) -> bool:
        """Whether there is an event store to open: ``database`` (the setting) names one, or `database` exists."""
        return database is not None or self.database.exists()

    @property
    def picture_dirs(self) -> tuple[Path, Path]:
        """The folders of pictures derived from footage: `events` and `faces`."""
        return self.events, self.faces

    def picture(self, event: Event, annotated: bool = False, tz: tzinfo | None = None) -> Path:
        """Where an event's snapshot lives: ``events/YYYY-MM-DD/<camera>/<HHMMSS>-<label>-<id>[-annotated].jpg``.

        Args:
            event: The event (its ``start_utc``, camera, label and id are used).
            annotated: The annotated copy instead of the clean one.
            tz: Time zone of the folder dates; ``None`` = this machine's.
        """
        local = event.start_utc.astimezone(tz)
        label = _UNSAFE.sub("_", event.label)
        name = f"{local:%H%M%S}-{label}-{event.id}{'-annotated' if annotated else ''}.jpg"
        return self.events / f"{local:%Y-%m-%d}" / safe_name(event.camera) / name

    def face(self, event: Event, n: int, tz: tzinfo | None = None) -> Path:
        """Where the picture of face ``n`` of an event lives: beside its snapshot, under ``faces/``."""
        snapshot = self.picture(event, False, tz)
        return self.faces / snapshot.parent.relative_to(self.events) / f"{snapshot.stem}-face{n}.jpg"

    def clip(self, camera: str, start_utc: datetime, tz: tzinfo | None = None) -> Path:
        """Where a clip recorded from a live stream lives: ``clips/YYYY-MM-DD/<camera>/<HHMMSS>-<camera>.mp4``.

        Args:
            camera: Camera name.
            start_utc: Wall-clock time of the clip's first frame (aware).
            tz: Time zone of folder dates and names; ``None`` = this machine's.

        Returns:
            A path no clip has: a second clip in the same second gets ``-1``, ``-2`` … appended (a clip still
            being written, `recording_path`, counts as taken).
        """
        local = start_utc.astimezone(tz)
        name = safe_name(camera)
        folder = self.clips / f"{local:%Y-%m-%d}" / name
        path = folder / f"{local:%H%M%S}-{name}.mp4"
        n = 0
        while path.exists() or recording_path(path).exists():
            n += 1
            path = folder / f"{local:%H%M%S}-{name}-{n}.mp4"
        return path

    def live_frame(self, camera: str) -> Path:
        """Where camera ``camera``'s latest picture lives: ``live/<camera>.jpg``."""
        return self.live / f"{safe_name(camera)}.jpg"

    def footage_root(self, source: SourceConfig) -> Path:
        """The folder where ``source``'s footage arrives: an ``ftp`` source's ``root`` (default `ftp`), a
        ``folder`` source's ``path``, `blink` for a ``blink`` source, `clips` for a ``stream``."""
        if source.type == "ftp":
            return (source.root or self.ftp).expanduser().resolve()
        if source.type == "folder":
            return source.path.expanduser().resolve()
        return self.blink if source.type == "blink" else self.clips

    def keep_reserve(self) -> bool:
        """Set `RESERVE_BYTES` aside in `reserve` (allocated, not sparse) unless they are already, or there is
        no room for them and as much again; returns whether they are set aside.

        On a full disk they are what lets the event store open (SQLite needs a few pages for its shared memory
        and WAL) and retention write its journal: `release_reserve` gives them back.
        """
        path = self.reserve
        try:
            if path.exists() and path.stat().st_size >= RESERVE_BYTES:
                return True
            if shutil.disk_usage(self.root).free < 2 * RESERVE_BYTES:
                return False
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
            finally:
                os.close(fd)
        except OSError:
            path.unlink(missing_ok=True)
            return False
        return True

    def full(self) -> bool:
        """Whether the disk of the data directory has less than `FULL_BELOW` bytes free."""
        try:
            return shutil.disk_usage(self.root).free < FULL_BELOW
        except OSError:
            return False

    def release_reserve(self, *, unless_free: int = 0) -> bool:
        """Give `reserve` back to the disk, unless ``unless_free`` bytes are free anyway; returns whether it was."""
        try:
            if unless_free and shutil.disk_usage(self.root).free >= unless_free:
                return False
            self.reserve.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def owned_roots(self, sources: Iterable[SourceConfig]) -> list[Path]:
        """The folders of footage camsift owns: `clips`, and the footage roots of ``sources`` that lie inside
        the data directory (a folder elsewhere, or the data directory itself, is the owner's)."""
        roots = [self.clips, *(self.footage_root(s) for s in sources)]
        return [r for r in dict.fromkeys(roots) if r.is_relative_to(self.root) and r != self.root]


@contextmanager
def atomic_writer(path: Path, *, mode: int = 0o666, sync: bool = True) -> Iterator[BinaryIO]:
    """Write ``path`` whole or not at all: a hidden temporary file in the same folder, renamed over ``path``
    when the block ends without an error (removed when it raises). Folders are created as needed.

    Args:
        path: The file to replace or create.
        mode: Permission bits of the new file, less the umask (``0o600`` for a file holding secrets).
        sync: fsync the file before the rename and the folder after it, so that the new content survives a
            power cut (a picture replaced every second skips it).

    Yields:
        The temporary file, open for binary writing.

    Raises:
        OSError: the folder or the file cannot be written.

    Example:
        >>> with atomic_writer(DataDir(Path("d")).overrides) as f:  # doctest: +SKIP
        ...     f.write(b"porch: {motion: {threshold: 35}}\\n")
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync:
        _fsync_dir(path.parent)


def write_atomically(path: Path, data: bytes | str, *, mode: int = 0o666, sync: bool = True) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) by `atomic_writer`.

    Raises:
        OSError: the folder or the file cannot be written.
    """
    with atomic_writer(path, mode=mode, sync=sync) as f:
        f.write(data.encode() if isinstance(data, str) else data)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
