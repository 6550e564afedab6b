"""Review thumbnails: a snapshot cropped around its objects, boxes drawn, small, kept in memory.

A street camera's snapshot is mostly street: the review grid shows the part
with the objects, large enough to tell a person from a post. A thumbnail is
built once per picture and set of boxes (keyed by the file's size and
modification time, so a rescan that rewrites the picture builds a new one)
and kept in a bounded in-memory cache; browsers cache it too
(`THUMB_CACHE_CONTROL`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from camsift.errors import StorageError

__all__ = ["THUMB_CACHE_CONTROL", "THUMB_SIZE", "crop_around", "thumbnail"]

Box = tuple[float, float, float, float]

THUMB_SIZE = (320, 180)
"""Width and height of a thumbnail in pixels (16:9, the grid's card)."""

THUMB_CACHE_CONTROL = "private, max-age=86400"
"""Browsers keep a thumbnail for a day (a rescan gives the same event new pictures rarely)."""

MARGIN = 0.6
"""The crop extends this fraction of the objects' width and height on every side."""

MIN_FRACTION = 0.3
"""The crop is at least this fraction of the picture's width (a distant person still shows its surroundings)."""

_CACHED = 4096
"""Thumbnails kept in memory (about 12 KB each: 50 MB at most)."""


def crop_around(boxes: Sequence[Box], width: int, height: int, aspect: float = 16 / 9) -> tuple[int, int, int, int]:
    """The region of a ``width`` x ``height`` picture to show for ``boxes``.

    Args:
        boxes: Object boxes ``(x1, y1, x2, y2)`` in the picture's pixels (at least one).
        width: Picture width in pixels.
        height: Picture height in pixels.
        aspect: Width / height of the region.

    Returns:
        ``(left, top, right, bottom)`` in pixels: the boxes' union with `MARGIN` around it, widened
        to ``aspect`` and to at least `MIN_FRACTION` of the width, shifted to stay inside the picture
        (the whole picture when the region would not fit).

    Raises:
        ValueError: no boxes.
    """
    if not boxes:
        raise ValueError("crop_around needs at least one box")
    x1 = min(b[0] for b in boxes)
    y1 = min(b[1] for b in boxes)
    x2 = max(b[2] for b in boxes)
    y2 = max(b[3] for b in boxes)
    w = (x2 - x1) * (1 + 2 * MARGIN)
    h = (y2 - y1) * (1 + 2 * MARGIN)
    w = max(w, h * aspect, width * MIN_FRACTION)
    h = w / aspect
    if w >= width or h >= height:
        return (0, 0, width, height)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left = min(max(0.0, cx - w / 2), width - w)
    top = min(max(0.0, cy - h / 2), height - h)
    return (round(left), round(top), round(left + w), round(top + h))


def thumbnail(picture: Path, boxes: Sequence[Box]) -> bytes:
    """A JPEG of ``picture`` cropped around ``boxes`` with them drawn, `THUMB_SIZE` at most.

    Args:
        picture: A full-resolution snapshot.
        boxes: Object boxes in the snapshot's pixels; none: the whole picture.

    Raises:
        StorageError: the picture is missing or unreadable.
    """
    try:
        stat = picture.stat()
    except OSError as err:
        raise StorageError(f"{picture}: cannot read snapshot: {err.strerror or err}") from err
    return _build(str(picture), stat.st_size, stat.st_mtime_ns, tuple(tuple(b) for b in boxes))


@functools.lru_cache(maxsize=_CACHED)
def _build(path: str, _size: int, _mtime_ns: int, boxes: tuple[Box, ...]) -> bytes:
    from PIL import Image, ImageDraw, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            full_w, full_h = image.size
            region = crop_around(boxes, full_w, full_h) if boxes else (0, 0, full_w, full_h)
            crop_w = region[2] - region[0]
            # Decode at the smallest JPEG scale that still gives the thumbnail its pixels.
            image.draft("RGB", (full_w * THUMB_SIZE[0] // crop_w, full_h * THUMB_SIZE[0] // crop_w))
            sx, sy = image.size[0] / full_w, image.size[1] / full_h
            picture = image.convert("RGB")
    except (OSError, UnidentifiedImageError) as err:
        raise StorageError(f"{path}: cannot read snapshot: {err}") from err
    draw = ImageDraw.Draw(picture)
    line = max(1, round(2 * crop_w * sx / THUMB_SIZE[0]))  # 2 pixels once shrunk to the thumbnail
    for bx1, by1, bx2, by2 in boxes:
        draw.rectangle((bx1 * sx, by1 * sy, bx2 * sx, by2 * sy), outline=(255, 196, 0), width=line)
    picture = picture.crop((round(region[0] * sx), round(region[1] * sy), round(region[2] * sx), round(region[3] * sy)))
    picture.thumbnail(THUMB_SIZE)
    out = BytesIO()
    picture.save(out, format="JPEG", quality=78)
    return out.getvalue()
