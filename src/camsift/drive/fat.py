"""The FAT filesystem inside a drive image, read and trimmed in user space with pyfatfs (no mount, no root).

Names: a long (VFAT) name when the entry has one, else its 8.3 name in the
case Windows shows it (the lower-case flags of the entry's NT byte), so
``blink/`` written by a Sync Module or by mtools reads as ``blink``. FAT keeps
local wall-clock times with no zone; the Sync Module names its clips in UTC,
so times are read as UTC unless told otherwise.
"""

from __future__ import annotations

import posixpath
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from camsift.drive.image import partition
from camsift.errors import DriveError

__all__ = ["FatEntry", "FatImage"]

_CHUNK = 1 << 20
_SKIP_DIRS = {"system volume information", "$recycle.bin", ".trashes", ".spotlight-v100", ".fseventsd"}


@dataclass(frozen=True)
class FatEntry:
    """A file in the image.

    Attributes:
        path: Relative POSIX path as a person sees it (``blink/25-11/25-11-22/12-30-05_Porch_001.mp4``).
        size: Bytes.
        mtime: Last write time (aware; FAT keeps 2-second steps).
        fat_path: The path pyfatfs opens it by.
    """

    path: str
    size: int
    mtime: datetime
    fat_path: str


def _import_pyfatfs() -> Any:
    try:
        with warnings.catch_warnings():  # pyfatfs' dependency `fs` imports pkg_resources (deprecated)
            warnings.simplefilter("ignore", DeprecationWarning)
            from pyfatfs.PyFatFS import PyFatFS
    except ImportError as err:
        raise DriveError("reading FAT images needs pyfatfs: pip install 'camsift[drive]'") from err
    return PyFatFS


def _display(entry: Any) -> str:
    if entry.lfn_entry is not None:
        return str(entry.get_long_name())
    name, _, ext = str(entry.get_short_name()).partition(".")
    if entry.ntres & 0x08:
        name = name.lower()
    if entry.ntres & 0x10:
        ext = ext.lower()
    return f"{name}.{ext}" if ext else name


class FatImage:
    """An open FAT filesystem in a disk image (`camsift.drive.image.partition` finds it).

    Args:
        path: The image.
        writable: Open for deleting files (only while no USB host uses the image).
        fat_tz: Zone of the FAT timestamps (default UTC, as the Sync Module keeps them).

    Raises:
        DriveError: no FAT filesystem, pyfatfs missing, or pyfatfs cannot read it.

    Example:
        >>> with FatImage(Path("blink.img")) as image:  # doctest: +SKIP
        ...     print([e.path for e in image.files()])
    """

    def __init__(self, path: Path, *, writable: bool = False, fat_tz: tzinfo | None = None) -> None:
        self.path = path
        self.fat_tz = fat_tz or UTC
        self._changed = False
        self.partition = partition(path)
        fat_fs = _import_pyfatfs()
        try:
            self._fs = fat_fs(str(path), offset=self.partition.offset, read_only=not writable, utc=True)
        except Exception as err:  # pyfatfs raises its own errors, OSError and ValueError alike
            raise DriveError(f"{path}: cannot read its FAT filesystem: {err}") from err

    def close(self) -> None:
        """Write back changes (when writable) and close.

        After deletions the FAT32 FSInfo sector's free-cluster count is set to the
        true count (pyfatfs leaves it as it was), so the Sync Module, which may trust
        it, sees the space that was freed; ``fsck.vfat`` finds nothing to correct.
        """
        free = self.usage()[0] // int(self._fs.fs.bytes_per_cluster) if self._changed else None
        self._fs.close()
        if free is not None:
            _write_fsinfo(self.path, self.partition.offset, free)

    def __enter__(self) -> FatImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def files(self) -> list[FatEntry]:
        """Every file, by path (system folders such as ``System Volume Information`` left out)."""
        return sorted(self._walk(self._fs.fs.root_dir, "", ""), key=lambda e: e.path)

    def _walk(self, folder: Any, shown: str, fat: str) -> Iterator[FatEntry]:
        dirs, files, _ = folder.get_entries()
        for entry in files:
            if entry.is_volume_id() or entry.is_special():
                continue
            mtime = entry.get_mtime()
            yield FatEntry(
                posixpath.join(shown, _display(entry)),
                int(entry.filesize),
                datetime(
                    mtime.year, mtime.month, mtime.day, mtime.hour, mtime.minute, mtime.second, tzinfo=self.fat_tz
                ),
                posixpath.join(fat, str(entry)),
            )
        for entry in dirs:
            if entry.is_special() or _display(entry).lower() in _SKIP_DIRS:
                continue
            yield from self._walk(entry, posixpath.join(shown, _display(entry)), posixpath.join(fat, str(entry)))

    def copy(self, entry: FatEntry, out: IO[bytes]) -> int:
        """Copy ``entry``'s bytes to ``out``; returns how many.

        Raises:
            DriveError: the file cannot be read (a cluster chain cut short while it was being written …).
        """
        copied = 0
        try:
            with self._fs.openbin(entry.fat_path, "r") as src:
                while block := src.read(_CHUNK):
                    out.write(block)
                    copied += len(block)
        except Exception as err:  # pyfatfs raises its own errors, OSError and ValueError alike
            raise DriveError(f"{self.path}: cannot read {entry.path}: {err}") from err
        return copied

    def remove(self, entry: FatEntry) -> None:
        """Delete a file (image opened ``writable``).

        Raises:
            DriveError: pyfatfs refused.
        """
        self._changed = True
        try:
            self._fs.remove(entry.fat_path)
        except Exception as err:  # pyfatfs raises its own errors, OSError and ValueError alike
            raise DriveError(f"{self.path}: cannot delete {entry.path}: {err}") from err

    def remove_empty_dirs(self, keep: str = "blink") -> int:
        """Delete empty folders (deepest first), except the top folder ``keep``; returns how many."""
        removed = 0
        self._changed = True
        for _ in range(8):  # a folder emptied by removing its children goes in the next round
            empty = [p for p, d in self._dirs(self._fs.fs.root_dir, "") if d.is_empty() and p.lower() != keep]
            for fat_path in empty:
                try:
                    self._fs.removedir(fat_path)
                    removed += 1
                except Exception as err:  # pyfatfs raises its own errors, OSError and ValueError alike
                    raise DriveError(f"{self.path}: cannot delete folder {fat_path}: {err}") from err
            if not empty:
                break
        return removed

    def _dirs(self, folder: Any, fat: str) -> Iterator[tuple[str, Any]]:
        dirs, _, _ = folder.get_entries()
        for entry in dirs:
            if entry.is_special() or _display(entry).lower() in _SKIP_DIRS:
                continue
            path = posixpath.join(fat, str(entry))
            yield path, entry
            yield from self._dirs(entry, path)

    def usage(self) -> tuple[int, int]:
        """``(free, total)`` bytes of the filesystem's data area (free clusters counted in the FAT)."""
        fat = self._fs.fs
        cluster = int(fat.bytes_per_cluster)
        data_sectors = int(fat._get_total_sectors()) - int(fat.first_data_sector)
        clusters = data_sectors // int(fat.bpb_header["BPB_SecPerClus"])  # the FAT has a few unused entries more
        free = sum(1 for c in fat.fat[2 : clusters + 2] if c == 0)
        return free * cluster, clusters * cluster


def _write_fsinfo(image: Path, offset: int, free_clusters: int) -> None:
    """Set the FAT32 FSInfo free count (and "next free: unknown") in the FSInfo sector and its backup.

    Offsets per Microsoft's FAT specification: BPB_BytsPerSec at 11, BPB_FSInfo at 48, BPB_BkBootSec at
    50; in the FSInfo sector FSI_LeadSig at 0, FSI_StrucSig at 484, FSI_Free_Count at 488, FSI_Nxt_Free at 492.
    """
    with image.open("r+b") as f:
        f.seek(offset)
        boot = f.read(512)
        if boot[82:87] != b"FAT32":
            return
        sector, fsinfo, backup = struct.unpack_from("<H", boot, 11)[0], *struct.unpack_from("<HH", boot, 48)
        for at in {fsinfo, backup + fsinfo} if backup else {fsinfo}:
            base = offset + at * sector
            f.seek(base)
            head = f.read(496)
            if (
                struct.unpack_from("<I", head, 0)[0] == 0x41615252
                and struct.unpack_from("<I", head, 484)[0] == 0x61417272
            ):
                f.seek(base + 488)
                f.write(struct.pack("<II", free_clusters, 0xFFFFFFFF))
