"""Copy new clips off a drive image into a folder that ``camsift run`` watches, without mounting it.

Safe against the Sync Module writing at the same time (the image attached to
the USB gadget): the image is listed twice, ``settle_s`` apart, and only files
whose size and time did not change in between are copied; after the copy the
image is listed a third time and a copy whose file changed meanwhile is
dropped (the next sync takes it again). The Blink Sync Brain design avoids
the question by detaching the image while it is read ("server mode") and
attaching it again afterwards ("storage mode"); `camsift drive sync` works
either way, and ``camsift drive clean`` (which writes) only on a detached image.

Copies keep the image's relative paths and times, land as hidden
``.<name>.part`` files (which camsift's folder source ignores), are fsync'd
and then renamed, so the watching service only ever sees whole clips. A
manifest (``<dest>/.camsift-drive-sync.json``: path -> size and time) makes a
sync idempotent, also after the service moved or deleted the copies.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from camsift.drive.fat import FatEntry, FatImage
from camsift.drive.image import BLINK_MIN_FREE
from camsift.errors import DriveError
from camsift.layout import write_atomically
from camsift.logs import get_logger
from camsift.media import MEDIA_SUFFIXES

__all__ = ["MANIFEST_NAME", "Manifest", "SyncReport", "sync"]

log = get_logger("camsift.drive")

MANIFEST_NAME = ".camsift-drive-sync.json"


@dataclass
class SyncReport:
    """What one sync did.

    Attributes:
        copied: Image paths copied.
        unstable: Image paths still being written (changed between the looks): left for the next sync.
        already: Files copied by an earlier sync.
        failed: ``(image path, reason)`` of files that could not be copied.
        free: Free bytes on the image (below `BLINK_MIN_FREE` the Sync Module stops recording: a warning
            is logged; ``camsift drive clean`` makes room).
    """

    copied: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    free: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``camsift drive sync --format json``."""
        return {
            "copied": self.copied,
            "unstable": self.unstable,
            "already": self.already,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "free": self.free,
        }


class Manifest:
    """What earlier syncs copied: image path -> ``[size, mtime]`` (Unix seconds), in a JSON file.

    Args:
        path: The manifest file (created on first save, mode 0644, written atomically).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.copied: dict[str, tuple[int, float]] = {}
        try:
            doc = json.loads(path.read_text())
            self.copied = {str(k): (int(v[0]), float(v[1])) for k, v in doc["copied"].items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
            raise DriveError(
                f"{path}: not a readable sync manifest ({err}); move it away to copy everything again"
            ) from err

    def has(self, entry: FatEntry) -> bool:
        """Whether ``entry`` (same size and time) was copied before."""
        return self.copied.get(entry.path) == (entry.size, entry.mtime.timestamp())

    def add(self, entry: FatEntry) -> None:
        """Record ``entry`` as copied."""
        self.copied[entry.path] = (entry.size, entry.mtime.timestamp())

    def keep_only(self, paths: set[str]) -> None:
        """Forget files no longer on the image (cleaned up), so the manifest does not grow forever."""
        self.copied = {p: v for p, v in self.copied.items() if p in paths}

    def save(self) -> None:
        """Write atomically (`camsift.layout.write_atomically`: temporary file, fsync, rename)."""
        try:
            write_atomically(self.path, json.dumps({"copied": {p: list(v) for p, v in sorted(self.copied.items())}}))
        except OSError as err:
            raise DriveError(f"{self.path}: cannot write the sync manifest: {err.strerror or err}") from err


def _clips(image: Path, fat_tz: tzinfo | None) -> dict[str, FatEntry]:
    with FatImage(image, fat_tz=fat_tz) as fat:
        return {e.path: e for e in fat.files() if Path(e.path).suffix.lower() in MEDIA_SUFFIXES and e.size > 0}


def sync(
    image: Path,
    dest: Path,
    *,
    settle_s: float = 5.0,
    manifest: Path | None = None,
    fat_tz: tzinfo | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Copy the image's complete, stable clips that are new into ``dest`` (see the module docstring).

    Args:
        image: The drive image.
        dest: The folder to copy into (created); keep it where ``camsift run`` watches.
        settle_s: Seconds between the two looks; a clip that changed in between is left for later.
        manifest: The manifest file; default ``<dest>/.camsift-drive-sync.json``.
        fat_tz: Zone of the image's FAT timestamps (default UTC).
        sleep: Waits between the looks (tests change the image in between).

    Returns:
        What was copied, left or failed. One file that cannot be read never stops the others.

    Raises:
        DriveError: the image or its filesystem cannot be read, ``dest`` or the manifest cannot be written.

    Example:
        >>> sync(Path("/var/lib/camsift-drive/blink.img"), Path("/srv/blink-inbox")).copied  # doctest: +SKIP
        ['blink/25-11/25-11-22/12-30-05_Porch_001.mp4']
    """
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DriveError(f"{dest}: cannot create the destination folder: {err.strerror or err}") from err
    done = Manifest(manifest or dest / MANIFEST_NAME)
    report = SyncReport()
    first = _clips(image, fat_tz)
    sleep(settle_s)
    copies: dict[str, Path] = {}
    with FatImage(image, fat_tz=fat_tz) as fat:
        report.free = fat.usage()[0]
        second = {e.path: e for e in fat.files() if e.path in first}
        for path, entry in sorted(second.items()):
            if done.has(entry):
                report.already += 1
            elif first[path] != entry:
                report.unstable.append(path)
            else:
                try:
                    copies[path] = _copy(fat, entry, dest)
                except DriveError as err:
                    report.failed.append((path, str(err)))
                    log.warning("clip not copied", path=path, reason=str(err))
        report.unstable += sorted(set(first) - set(second))  # gone or renamed meanwhile
    third = _clips(image, fat_tz)
    for path, part in copies.items():
        entry = second[path]
        if third.get(path) != entry:  # written to while it was copied: drop the copy, take it next time
            part.unlink(missing_ok=True)
            report.unstable.append(path)
            continue
        target = dest / path
        os.replace(part, target)
        done.add(entry)
        report.copied.append(path)
    done.keep_only(set(third))
    done.save()
    if report.copied or report.failed:
        log.info("drive sync", copied=len(report.copied), unstable=len(report.unstable), failed=len(report.failed))
    if report.free < BLINK_MIN_FREE:
        log.warning("drive image nearly full: the Sync Module needs 375 MB free", free_mb=round(report.free / 1e6))
    return report


def _copy(fat: FatImage, entry: FatEntry, dest: Path) -> Path:
    """Copy ``entry`` to a hidden ``.part`` beside its final place under ``dest`` (fsync'd, times kept)."""
    target = dest / entry.path
    if not target.parent.resolve().is_relative_to(dest.resolve()):  # a link at the name itself is replaced
        raise DriveError(f"{entry.path}: a name that leaves the destination folder")
    part = target.with_name(f".{target.name}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        part.unlink(missing_ok=True)  # a copy cut short, or a link: never written through
        with part.open("xb") as out:
            size = fat.copy(entry, out)
            out.flush()
            os.fsync(out.fileno())
        if size != entry.size:
            raise DriveError(f"{entry.path}: read {size} of {entry.size} bytes")
        stamp = entry.mtime.timestamp()
        os.utime(part, (stamp, stamp))
    except OSError as err:
        with contextlib.suppress(OSError):
            part.unlink()
        raise DriveError(f"{target}: cannot write the copy: {err.strerror or err}") from err
    except DriveError:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return part
