"""Drive images for the tests: made by ``camsift.drive.create_image`` (mkfs.vfat) and filled with mtools
the way a Blink Sync Module 2 writes its USB stick: ``blink/<YY-MM>/<YY-MM-DD>/<HH-MM-SS>_<camera>_<n>.mp4``,
names and times in UTC (the layout the Blink USB-gadget projects find on the stick)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from camsift.drive import create_image

needs_mtools = pytest.mark.skipif(
    shutil.which("mcopy") is None or shutil.which("mkfs.vfat", path="/usr/sbin:/sbin:" + os.environ["PATH"]) is None,
    reason="dosfstools and mtools are needed: apt-get install dosfstools mtools",
)

PARTITION = "@@1M"  # mtools: the filesystem starts 1 MiB into the image


def mtools(*args: str) -> str:
    """Run an mtools command with times in UTC; return its output."""
    env = {**os.environ, "TZ": "UTC", "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout


def blink_path(when: datetime, camera: str, n: int) -> str:
    """Where a Sync Module puts a clip recorded at ``when`` (UTC)."""
    return f"blink/{when:%y-%m}/{when:%y-%m-%d}/{when:%H-%M-%S}_{camera}_{n:03d}.mp4"


@dataclass(frozen=True)
class Clip:
    """A clip written into an image: its path there, its content, its time."""

    path: str
    source: Path
    when: datetime


def put(image: Path, clip: Clip, scratch: Path) -> None:
    """Write ``clip`` into ``image`` with mtools (folders made as needed), its time kept (``mcopy -m``)."""
    parts = clip.path.split("/")
    for depth in range(1, len(parts)):
        folder = "/".join(parts[:depth])
        if subprocess.run(
            ["mdir", "-i", f"{image}{PARTITION}", f"::{folder}"],
            env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
            capture_output=True,
            check=False,
        ).returncode:
            mtools("mmd", "-i", f"{image}{PARTITION}", f"::{folder}")
    local = scratch / Path(clip.path).name
    shutil.copyfile(clip.source, local)
    stamp = clip.when.timestamp()
    os.utime(local, (stamp, stamp))
    mtools("mcopy", "-o", "-m", "-i", f"{image}{PARTITION}", str(local), f"::{clip.path}")


def new_image(path: Path, size: str = "64M") -> Path:
    from camsift.drive import parse_size

    create_image(path, parse_size(size))
    return path


def fsck(image: Path, scratch: Path) -> subprocess.CompletedProcess[str]:
    """``fsck.vfat -n`` (check, change nothing) of the image's partition, copied out of it."""
    part = scratch / "partition.bin"
    with image.open("rb") as src, part.open("wb") as out:
        src.seek(2**20)
        shutil.copyfileobj(src, out)
    tool = shutil.which("fsck.vfat", path="/usr/sbin:/sbin:" + os.environ["PATH"])
    assert tool is not None
    return subprocess.run([tool, "-n", str(part)], capture_output=True, text=True, check=False)
