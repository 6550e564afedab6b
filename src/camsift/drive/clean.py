"""Storage monitoring and clean-up of a drive image, by the same rules as the data directory's footage.

On the drive the clips are footage in which nothing is known yet (their
events live on the processor), so they follow ``retention.motion_days``, of
the clip's camera when ``cameras.<name>.retention`` overrides it (the camera
is found as the processor finds it, from the copy's path in the sync
destination, see `retention_days`): a clip older than that goes once it has
been copied off (it is in the sync manifest). And the Sync Module needs more
than 375 MB free on its drive (Blink's requirement), so when the image has
less than ``min_free`` bytes free, copied clips go oldest first until it has.
A clip that was never copied is never deleted.

Writing to the image while the Sync Module uses it would corrupt it (both
sides cache the FAT), so `clean` refuses while the image is attached to the
USB gadget: detach ("server mode"), clean, attach again ("storage mode").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camsift.drive.fat import FatEntry, FatImage
from camsift.drive.gadget import attached_image
from camsift.drive.image import BLINK_MIN_FREE
from camsift.drive.sync import Manifest
from camsift.errors import DriveError
from camsift.logs import get_logger

if TYPE_CHECKING:
    from camsift.config import Settings

__all__ = ["CleanReport", "clean", "retention_days", "storage"]

log = get_logger("camsift.drive")


@dataclass
class CleanReport:
    """What a clean-up did (or would do).

    Attributes:
        deleted: ``(image path, reason)``: ``age`` (older than the retention days) or ``space``.
        not_copied: Old clips left because no sync copied them yet.
        free_before: Free bytes before.
        free_after: Free bytes after (estimated on a dry run).
        total: Bytes of the filesystem.
    """

    deleted: list[tuple[str, str]] = field(default_factory=list)
    not_copied: list[str] = field(default_factory=list)
    free_before: int = 0
    free_after: int = 0
    total: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``camsift drive clean --format json``."""
        return {
            "deleted": [{"path": p, "reason": r} for p, r in self.deleted],
            "not_copied": self.not_copied,
            "free_before": self.free_before,
            "free_after": self.free_after,
            "total": self.total,
        }


def storage(image: Path, fat_tz: tzinfo | None = None) -> tuple[list[FatEntry], int, int]:
    """The image's files, free bytes and total bytes (read-only; fine while attached)."""
    with FatImage(image, fat_tz=fat_tz) as fat:
        free, total = fat.usage()
        return fat.files(), free, total


def retention_days(settings: Settings, dest: Path) -> Callable[[str], float | None]:
    """Days a clip on the drive is kept, by its image path: ``retention.motion_days`` of its camera.

    The camera is the one the processor gives the copy (``dest / path``, see
    `camsift.scanner.camera_for`: ``cameras.<name>.paths`` globs such as
    ``/srv/blink-inbox/**/*_Porch_*``), so the drive and the processor keep a
    camera's footage equally long. A clip of no configured camera gets the global days.

    Args:
        settings: The settings (``retention`` and ``cameras``).
        dest: The folder clips are synced into (the sync manifest's folder).
    """
    from camsift.scanner import camera_for

    cache: dict[str, float | None] = {}

    def days(path: str) -> float | None:
        camera = camera_for(dest / path, settings)
        if camera not in cache:
            cache[camera] = settings.for_camera(camera).retention.motion_days
        return cache[camera]

    return days


def _everywhere(days: float | None) -> Callable[[str], float | None]:
    return lambda _path: days


def clean(
    image: Path,
    manifest: Path,
    *,
    days: float | Callable[[str], float | None] | None,
    now: datetime,
    min_free: int = BLINK_MIN_FREE,
    dry_run: bool = False,
    sys_root: Path = Path("/sys"),
    fat_tz: tzinfo | None = None,
) -> CleanReport:
    """Delete copied clips older than ``days``, then copied clips oldest first until ``min_free`` bytes are free.

    Args:
        image: The drive image (detached).
        manifest: The sync manifest saying what was copied (`camsift.drive.sync.Manifest`).
        days: Retention days of footage with nothing known (``retention.motion_days``), for every clip or
            by the clip's image path (`retention_days`); ``None``: no age rule.
        now: The clock (aware).
        min_free: Bytes the Sync Module needs free (default: Blink's 375 MB).
        dry_run: Only report.
        sys_root: Where sysfs is (tests use a fake tree).
        fat_tz: Zone of the image's FAT timestamps (default UTC).

    Raises:
        DriveError: the image is attached to the USB gadget, or cannot be read or written.
    """
    if not dry_run and attached_image(sys_root) == image.resolve():
        raise DriveError(
            f"{image}: attached to the USB gadget (the Sync Module may be writing): "
            "'camsift drive detach' first, clean, then 'camsift drive attach'"
        )
    copied = Manifest(manifest)
    report = CleanReport()
    with FatImage(image, writable=not dry_run, fat_tz=fat_tz) as fat:
        files = sorted(fat.files(), key=lambda e: e.mtime)
        report.free_before, report.total = fat.usage()
        free = report.free_before
        keep = days if callable(days) else _everywhere(days)
        doomed: list[tuple[FatEntry, str]] = []
        for entry in files:
            entry_days = keep(entry.path)
            if entry_days is not None and entry.mtime < now - timedelta(days=entry_days):
                if copied.has(entry):
                    doomed.append((entry, "age"))
                    free += entry.size
                else:
                    report.not_copied.append(entry.path)
        chosen = {e.path for e, _ in doomed}
        for entry in files:
            if free >= min_free:
                break
            if entry.path not in chosen and copied.has(entry):
                doomed.append((entry, "space"))
                free += entry.size
        for entry, reason in doomed:
            if not dry_run:
                fat.remove(entry)
            report.deleted.append((entry.path, reason))
        if not dry_run and doomed:
            fat.remove_empty_dirs()
            report.free_after = fat.usage()[0]
        else:
            report.free_after = free
    if report.deleted:
        log.info("drive clean", deleted=len(report.deleted), free_mb=round(report.free_after / 1e6), dry_run=dry_run)
    return report
