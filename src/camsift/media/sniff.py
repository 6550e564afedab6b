"""Telling footage from a file that only has the right suffix, and a whole file from one cut off, by its bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from camsift.errors import MediaError

__all__ = ["check_size", "cut_off", "sniff"]


def check_size(path: Path) -> None:
    """Check that ``path`` can be stat'ed and is not empty.

    Raises:
        MediaError: unreadable or empty (0 bytes) file, naming it.
    """
    try:
        size = path.stat().st_size
    except OSError as err:
        raise MediaError(path, err.strerror or str(err)) from err
    if size == 0:
        raise MediaError(path, "empty file (0 bytes)")


# First bytes of each container (from each format's specification), to tell footage from a file that only has
# the right suffix. QuickTime files may start with any top-level atom; MPEG-TS packets start with 0x47.
_ISO_ATOMS = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
_MAGIC: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    ".jpg": ("JPEG image", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("JPEG image", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".png": ("PNG image", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ".gif": ("GIF", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    ".mp4": ("MP4 clip", lambda b: b[4:8] in _ISO_ATOMS),
    ".m4v": ("MP4 clip", lambda b: b[4:8] in _ISO_ATOMS),
    ".mov": ("QuickTime clip", lambda b: b[4:8] in _ISO_ATOMS),
    ".avi": ("AVI clip", lambda b: b[:4] == b"RIFF" and b[8:12] == b"AVI "),
    ".mkv": ("Matroska clip", lambda b: b.startswith(b"\x1a\x45\xdf\xa3")),
    ".ts": ("MPEG-TS clip", lambda b: b[:1] == b"\x47"),
}


def sniff(path: Path, name: str | None = None) -> str | None:
    """Check by its first bytes that a file is the kind of media its name says, without decoding it.

    Args:
        path: The file.
        name: The name whose suffix says what the file should be (an upload
            still under a temporary name); default: ``path``'s own.

    Returns:
        ``None`` when it looks right, else a one-line reason (``"not a JPEG
        image: it starts with 3c 68 74 6d"``, ``"not an image or video (suffix '.txt')"``).

    Raises:
        MediaError: empty or unreadable file.
    """
    suffix = Path(name or path.name).suffix.lower()
    if suffix not in _MAGIC:
        return f"not an image or video (suffix {suffix or 'none'!r})"
    check_size(path)
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as err:
        raise MediaError(path, f"cannot read: {err.strerror or err}") from err
    what, looks_right = _MAGIC[suffix]
    return None if looks_right(head) else f"not a {what}: it starts with {head[:8].hex(' ')}"


_JPEG_TAIL = 1024
"""Bytes at the end of a JPEG searched for its end marker (some cameras pad after it)."""


def cut_off(path: Path, name: str | None = None) -> str | None:
    """Check that a file ends where its format says it ends (an upload whose sender stopped halfway does not).

    JPEG: its end-of-image marker (``FF D9``, which entropy-coded data never contains) is in its last
    `_JPEG_TAIL` bytes; PNG: it ends with its ``IEND`` chunk; MP4/QuickTime: no top-level box runs past
    the end of the file (ISO/IEC 14496-12 box sizes); AVI: the RIFF size is all there. Other formats are
    not checked. Call it after `sniff`.

    Args:
        path: The file.
        name: The name whose suffix says what the file should be; default: ``path``'s own.

    Returns:
        ``None`` when it looks whole, else a one-line reason (``"cut off: no JPEG end marker"``).

    Raises:
        MediaError: unreadable file.
    """
    suffix = Path(name or path.name).suffix.lower()
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            if suffix in (".jpg", ".jpeg"):
                f.seek(max(0, size - _JPEG_TAIL))
                return None if b"\xff\xd9" in f.read() else "cut off: no JPEG end marker"
            if suffix == ".png":
                f.seek(max(0, size - 8))
                return None if f.read() == b"IEND\xaeB`\x82" else "cut off: no PNG end chunk"
            if suffix == ".avi":
                declared = int.from_bytes(f.read(8)[4:8], "little") + 8
                return None if declared <= size else f"cut off: {size} of {declared} bytes"
            if suffix in (".mp4", ".m4v", ".mov"):
                return _boxes_cut_off(f, size)
    except OSError as err:
        raise MediaError(path, f"cannot read: {err.strerror or err}") from err
    return None


def _boxes_cut_off(f: BinaryIO, size: int) -> str | None:
    """Walk an ISO base media file's top-level boxes; a reason if one runs past ``size`` bytes."""
    offset = 0
    while offset + 8 <= size:
        f.seek(offset)
        header = f.read(16)
        length, kind = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
        if length == 1 and len(header) == 16:
            length = int.from_bytes(header[8:16], "big")
        elif length == 0:  # the last box, to the end of the file
            return None
        if length < 8:
            return f"cut off: a broken {kind!r} box at byte {offset}"
        if offset + length > size:
            return f"cut off: its {kind!r} box needs {offset + length} bytes, {size} arrived"
        offset += length
    return None if offset == size else f"cut off: {size - offset} stray bytes at the end"
