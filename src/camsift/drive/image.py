"""The disk image a Blink Sync Module 2 takes for its USB stick: an MBR with one FAT32 partition.

The layout follows the Blink Sync Brain project's ``create-virtual-storage.sh``
(an MS-DOS partition table, one primary FAT32 partition from 1 MiB to the end,
formatted with ``mkfs.vfat -F 32``) and Blink's own requirements for a USB
drive: FAT32 (or exFAT), 1 GB to 256 GB, more than 375 MB free
(support.blinkforhome.com, "Sync Module 2 local storage operation").

The image is sparse: a new 32 GiB image takes a few MiB of real disk until
clips are written into it. The partition table is one MBR sector (16 bytes of
it describe the partition: `_mbr`), and the filesystem is made by
``mkfs.vfat`` (dosfstools) at the partition's offset (``--offset``), so no
loop device, no partitioning tool and no root are needed.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from camsift.errors import DriveError

__all__ = ["BLINK_MIN_FREE", "Partition", "create_image", "parse_size", "partition"]

SECTOR = 512
START_SECTOR = 2048
"""The partition starts at 1 MiB, as parted and fdisk place it."""

BLINK_MIN_FREE = 375 * 10**6
"""Free space the Sync Module 2 needs on its drive ("more than 375 MB")."""

_MIN_SIZE = 64 * 2**20  # FAT32 needs 65,525 clusters: 64 MiB holds them at 512-byte clusters
_MAX_SIZE = 2 * 2**40  # FAT32's limit with 512-byte sectors
_BLINK_MAX = 256 * 10**9
_FAT_TYPES = {0x0B: "FAT32 (CHS)", 0x0C: "FAT32 (LBA)", 0x06: "FAT16", 0x0E: "FAT16 (LBA)", 0x01: "FAT12"}
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass(frozen=True)
class Partition:
    """Where the FAT filesystem lies in an image.

    Attributes:
        offset: Bytes from the start of the image.
        size: Bytes.
        kind: Partition type (``"FAT32 (LBA)"`` …), or ``"no partition table"`` when the whole
            image is one filesystem (a "superfloppy").
    """

    offset: int
    size: int
    kind: str


def parse_size(text: str) -> int:
    """``"32G"`` -> bytes. Units K, M, G, T are powers of 1024 (``32G`` = 32 GiB); no unit = bytes.

    Raises:
        DriveError: not a size.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if match is None:
        raise DriveError(f"size {text!r}: expected a number with an optional unit K, M, G or T, e.g. 32G")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise DriveError(f"{name} not found: install it with 'apt-get install {package}'")
    return found


def create_image(path: Path, size: int, label: str = "BLINK") -> list[str]:
    """Create a sparse image of ``size`` bytes: an MBR with one FAT32 partition (type 0x0C) from 1 MiB.

    Args:
        path: The image file to create (must not exist).
        size: Bytes, 64 MiB to 2 TiB (the Sync Module takes 1 GB to 256 GB).
        label: Volume label, at most 11 characters.

    Returns:
        Notes for the user (a size outside what the Sync Module takes).

    Raises:
        DriveError: the file exists, the size or label is out of range, ``sfdisk`` or ``mkfs.vfat``
            is missing or failed (the half-made image is removed).
    """
    if path.exists():
        raise DriveError(f"{path}: already exists; remove it first or choose another name")
    if not _MIN_SIZE <= size <= _MAX_SIZE:
        raise DriveError(f"{path}: size {size} bytes is outside FAT32's range (64 MiB to 2 TiB)")
    if not re.fullmatch(r"[A-Z0-9_ -]{1,11}", label):
        raise DriveError(f"label {label!r}: expected 1-11 capital letters, digits, '_', '-' or spaces")
    mkfs = _tool("mkfs.vfat", "dosfstools")
    notes = []
    if not 10**9 <= size <= _BLINK_MAX:
        notes.append("the Sync Module 2 takes drives of 1 GB to 256 GB; this image is for tests only")
    sectors = size // SECTOR
    try:
        with path.open("xb") as image:
            image.truncate(sectors * SECTOR)
            image.write(_mbr(START_SECTOR, sectors - START_SECTOR))
        blocks_kib = (sectors - START_SECTOR) * SECTOR // 1024
        _run([mkfs, "-F", "32", "-n", label, "--offset", str(START_SECTOR), str(path), str(blocks_kib)])
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return notes


def _mbr(start: int, count: int) -> bytes:
    """A master boot record with one partition of type 0x0C (FAT32, LBA) at sectors ``start`` .. ``start+count``.

    Layout per the classic MBR: disk signature at 440, four 16-byte entries from 446 (status, CHS start,
    type, CHS end, LBA start, sector count), 0x55AA at 510. CHS fields say "use LBA" (1023/254/63).
    """
    chs_lba = b"\xfe\xff\xff"
    entry = b"\x00" + chs_lba + b"\x0c" + chs_lba + struct.pack("<II", start, count)
    signature = int.from_bytes(os.urandom(4), "little") or 1
    return bytes(440) + struct.pack("<IH", signature, 0) + entry + bytes(48) + b"\x55\xaa"


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    except subprocess.CalledProcessError as err:
        reason = (err.stderr or err.stdout or "").strip().splitlines()
        raise DriveError(f"{Path(command[0]).name} failed: {reason[-1] if reason else err.returncode}") from err
    except OSError as err:
        raise DriveError(f"cannot run {command[0]}: {err.strerror or err}") from err


def partition(path: Path) -> Partition:
    """Find the FAT filesystem in an image: the first FAT partition of its MBR, or the whole image.

    Raises:
        DriveError: the image cannot be read, its partition is exFAT or NTFS (type 0x07: pyfatfs
            reads FAT12/16/32 only), or no FAT filesystem is found.
    """
    try:
        with path.open("rb") as image:
            head = image.read(SECTOR)
            total = image.seek(0, 2)
    except OSError as err:
        raise DriveError(f"{path}: cannot read the image: {err.strerror or err}") from err
    if len(head) < SECTOR:
        raise DriveError(f"{path}: not a disk image ({len(head)} bytes)")
    if head[82:87] == b"FAT32" or head[54:59] in (b"FAT12", b"FAT16"):
        return Partition(0, total, "no partition table")
    if head[510:512] == b"\x55\xaa":
        for n in range(4):
            entry = head[446 + 16 * n : 446 + 16 * (n + 1)]
            kind = entry[4]
            start, count = struct.unpack_from("<II", entry, 8)
            if kind in _FAT_TYPES and count:
                return Partition(start * SECTOR, count * SECTOR, _FAT_TYPES[kind])
            if kind == 0x07:
                raise DriveError(
                    f"{path}: its partition is exFAT or NTFS (type 0x07), which camsift cannot read; "
                    "the Blink app may have reformatted it: make a new image with 'camsift drive create'"
                )
    raise DriveError(f"{path}: no FAT filesystem found (expected an MBR with a FAT32 partition)")
