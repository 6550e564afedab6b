"""The disk of the data directory, as retention measures it: usage, allocated sizes, and a fast walk."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from camsift.layout import DataDir

__all__ = ["DiskUsage", "allocated", "disk_usage", "walk"]


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
        reserve = allocated(DataDir(path).reserve.stat())
    except OSError:
        reserve = 0
    return DiskUsage(usage.used - reserve, usage.free + reserve)


def allocated(st: os.stat_result) -> int:
    """Bytes a file takes on disk (allocated blocks; its size where blocks are not reported)."""
    blocks = getattr(st, "st_blocks", None)
    return int(blocks) * 512 if blocks is not None else st.st_size


def walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every file under ``root`` (none if it does not exist), as (absolute path, stat); fast on 100,000s of files."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(FileNotFoundError):
                yield path, os.stat(path)
