"""`camsift.drive.image`: the FAT32 image a Sync Module 2 takes, checked with fsck.vfat and mtools."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from camsift.drive import create_image, parse_size, partition
from camsift.errors import DriveError
from helpers.drive import PARTITION, fsck, mtools, needs_mtools, new_image


@pytest.mark.parametrize(
    ("text", "size"),
    [("32G", 32 * 2**30), ("64M", 64 * 2**20), ("1.5G", int(1.5 * 2**30)), ("512", 512), ("2TiB", 2 * 2**40)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "big", "32X", "-1G"])
def test_parse_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(DriveError, match="expected a number"):
        parse_size(text)


@needs_mtools
def test_a_new_image_is_sparse_mbr_fat32_and_clean(tmp_path: Path) -> None:
    image = tmp_path / "blink.img"
    notes = create_image(image, parse_size("1G"))
    assert notes == []
    assert image.stat().st_size == 2**30
    assert image.stat().st_blocks * 512 < 16 * 2**20  # sparse: the FATs only
    head = image.read_bytes()[:512]
    assert head[510:] == b"\x55\xaa"
    assert head[446 + 4] == 0x0C  # one FAT32 (LBA) partition
    assert struct.unpack_from("<II", head, 446 + 8) == (2048, 2**30 // 512 - 2048)
    found = partition(image)
    assert (found.offset, found.size, found.kind) == (2**20, 2**30 - 2**20, "FAT32 (LBA)")
    checked = fsck(image, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    info = mtools("minfo", "-i", f"{image}{PARTITION}", "::")
    assert "BLINK" in info
    assert "fat_bits=32" in info.replace(" ", "") or "FAT32" in info


@needs_mtools
def test_small_test_images_get_a_note(tmp_path: Path) -> None:
    assert create_image(tmp_path / "small.img", parse_size("64M")) == [
        "the Sync Module 2 takes drives of 1 GB to 256 GB; this image is for tests only"
    ]


@pytest.mark.parametrize(
    ("size", "label", "match"),
    [(2**20, "BLINK", "outside FAT32's range"), (2**30, "lower", "label"), (2**30, "TWELVECHARSX", "label")],
)
def test_bad_requests_are_one_line_errors(tmp_path: Path, size: int, label: str, match: str) -> None:
    with pytest.raises(DriveError, match=match):
        create_image(tmp_path / "x.img", size, label)
    assert not (tmp_path / "x.img").exists()


@needs_mtools
def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    image = new_image(tmp_path / "blink.img")
    before = image.read_bytes()[:4096]
    with pytest.raises(DriveError, match="already exists"):
        create_image(image, parse_size("64M"))
    assert image.read_bytes()[:4096] == before


def test_partition_errors(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.img"
    tiny.write_bytes(b"x" * 100)
    with pytest.raises(DriveError, match="not a disk image"):
        partition(tiny)
    exfat = tmp_path / "exfat.img"
    mbr = bytearray(512)
    mbr[446 + 4] = 0x07
    mbr[446 + 8 : 446 + 16] = struct.pack("<II", 2048, 100000)
    mbr[510:] = b"\x55\xaa"
    exfat.write_bytes(bytes(mbr))
    with pytest.raises(DriveError, match="exFAT"):
        partition(exfat)
    with pytest.raises(DriveError, match="cannot read"):
        partition(tmp_path / "missing.img")
