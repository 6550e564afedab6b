"""Where in one frame the detector looks: square regions around moving and tracked objects, the covering
squares of a whole-frame check, and zoomed looks at small objects (`camsift.regions` decides when).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from camsift.boxes import box_ios, box_iou

__all__ = [
    "CONTEXT",
    "MAX_CROPS",
    "MAX_ZOOM",
    "MAX_ZOOMS",
    "MIN_ZOOM_PX",
    "SMALL_PX",
    "cover_squares",
    "plan_regions",
    "whole_frame",
]


MAX_CROPS = 4
"""Crops around moving or tracked objects per frame at most; beyond that the
frame is covered whole instead."""

CONTEXT = 2.0
"""A crop's side is this many times its object's longer side (the object then
fills about half the crop, where SSD-family detectors are most sure)."""

SMALL_PX = 48
"""An object shown smaller than this (model-input pixels) in its look gets a zoomed look (bench/NOTES.md)."""

MAX_ZOOM = 2.0
"""A zoomed look's side is at least the model side over this: enlarged at most 2x (bench/NOTES.md)."""

MIN_ZOOM_PX = 8
"""A box shorter than this (pixels of the frame) gets no zoomed look: even enlarged `MAX_ZOOM` times it
stays below what the detector finds, and the labels count people of 3-8 pixels as marginal."""

MAX_ZOOMS = 1
"""Zoomed looks per frame at most (the one holding the most small objects): each is a model run more."""


def cover_squares(width: int, height: int, side: int | None = None) -> npt.NDArray[np.float32]:
    """Squares of ``side`` (default ``min(width, height)``) that together cover the frame, evenly overlapped.

    Detectors with a square input (SSDLite 300x300, NanoDet 416x416) are far
    surer on a square crop than on a frame squashed to a square: on the shared
    16:9 clips, the share of person frames found at confidence 0.5 went from
    0.07-0.30 (squashed) to 0.60-0.72 (two squares).

    Returns:
        ``(n, 4)`` float32 xyxy frame pixels, row-major.
    """
    side = min(side or min(width, height), width, height)

    def starts(length: int) -> npt.NDArray[np.float64]:
        n = int(np.ceil(length / side - 1e-6))
        return np.linspace(0, length - side, n) if n > 1 else np.zeros(1)

    return np.asarray([[x, y, x + side, y + side] for y in starts(height) for x in starts(width)], np.float32)


def whole_frame(width: int, height: int, model_side: int, *, tiles: bool = True) -> npt.NDArray[np.float32]:
    """The regions of a full check: the whole frame (the detector stretches it to its square input, as
    COCO-trained models were trained), `cover_squares` for big objects at their shape, plus tiles of side
    ``max(model_side, short side / 2)`` when the frame is large enough that a person of ~100 pixels would
    shrink below what the detector sees in the coarse squares.

    The whole frame sees people whom every covering square cuts in two (a group photo, a person close to the
    camera), for one model run more.
    ``tiles=False`` leaves the tiles out (the whole frame and the coarse squares only).
    """
    coarse = cover_squares(width, height)
    whole = np.array([[0, 0, width, height]], np.float32)
    short = min(width, height)
    parts = [coarse] if width == height else [whole, coarse]
    if tiles and short >= 1.5 * model_side:
        parts.append(cover_squares(width, height, max(model_side, short // 2)))
    return np.concatenate(parts)


def plan_regions(
    boxes: npt.NDArray[np.float32],
    width: int,
    height: int,
    model_side: int,
    whole: bool,
    *,
    fine: bool = True,
    zoom: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """Choose the square parts of a frame to run the detector on.

    Args:
        boxes: ``(k, 4)`` float32 areas of interest (motion, tracked objects), xyxy frame pixels.
        width: Frame width in pixels.
        height: Frame height in pixels.
        model_side: The detector's input side in pixels (300 for SSDLite).
        whole: Whether the whole frame must be checked (re-check, first frame).
        fine: Whether a whole-frame look that ``whole`` did not ask for (objects too many or too big for
            crops: a crowd) includes the fine tiles of `whole_frame`; without them it is 3 model runs at
            720p instead of 11.
        zoom: ``(z, 4)`` float32 boxes, frame pixels, that get a zoomed look (`_zooms`) when the
            regions of a frame whose short side is no longer than ``model_side`` show them small
            (larger frames' crops show every object at native resolution); ``None``: none.

    Returns:
        ``(r, 4)`` float32 square regions xyxy in frame pixels: squares centred
        on the objects (side ``CONTEXT`` x the object, at least ``model_side``,
        at most the frame's short side), merged where they overlap and the merged
        square still holds them all; plus the `whole_frame` squares when ``whole``,
        when objects are too scattered, or when an object is longer than the
        frame's short side (no square holds it; the covering squares see it in parts).
        In a frame whose short side is no longer than ``model_side`` every such square
        would span the short side, so the crops are chosen among the `cover_squares`
        instead (`_cover_picks`): at most those, never two that see the same pixels.
        A frame no larger than ``model_side`` either way is one square with the side of
        its longer side, from its top-left corner: it reaches past the frame's right or
        bottom edge (`RegionDetector` pads it black), and the detector enlarges it whole.
        In those two, after them, at most `MAX_ZOOMS` zoomed looks at small ``zoom`` boxes.
    """
    if max(width, height) <= model_side:
        side = max(width, height)
        one = np.array([[0, 0, side, side]] if whole or len(boxes) else [], np.float32).reshape(-1, 4)
        return _zooms(one, zoom, width, height, model_side, model_side / side)
    if min(width, height) <= model_side:
        cover = cover_squares(width, height)
        coarse = whole_frame(width, height, model_side) if whole else cover[_cover_picks(cover, boxes)]
        return _zooms(coarse, zoom, width, height, model_side, model_side / min(width, height))
    crops, too_big = _merge_squares(boxes, width, height, model_side)
    tiles = whole or fine
    if too_big or len(crops) > MAX_CROPS:
        whole = True
    if len(crops) > MAX_CROPS:
        crops = []
    if not whole:
        return np.asarray(crops, np.float32).reshape(-1, 4)
    full = whole_frame(width, height, model_side, tiles=tiles)
    return np.concatenate([full, _unrepeated(np.asarray(crops, np.float32).reshape(-1, 4), full)])


def _zooms(
    regions: npt.NDArray[np.float32],
    boxes: npt.NDArray[np.float32] | None,
    width: int,
    height: int,
    model_side: int,
    scale: float,
) -> npt.NDArray[np.float32]:
    """``regions`` ``(r, 4)`` and, after them, at most `MAX_ZOOMS` zoomed looks at the ``boxes`` ``(k, 4)``
    that those regions, which enlarge them at most ``scale`` times, show smaller than `SMALL_PX`.

    A zoomed look is a square of side ``CONTEXT`` x the object, at least ``model_side / MAX_ZOOM``, merged
    with its neighbours' as `_merge_squares` merges crops; the detector enlarges it to its input. A
    person 20 pixels tall on 320x240 CCTV is 35 pixels in the coarse square, 60 in a zoomed look.
    Zoomed looks that repeat a region (IoU > 0.8) are left out.
    """
    if boxes is None or not len(boxes):
        return regions
    longer = np.max(boxes[:, 2:] - boxes[:, :2], axis=1)
    small = boxes[(longer * scale < SMALL_PX) & (longer >= MIN_ZOOM_PX)]
    if not len(small):
        return regions
    squares = np.asarray(_merge_squares(small, width, height, model_side / MAX_ZOOM)[0], np.float32)
    held = (box_ios(small, squares) >= 1 - 1e-3).sum(axis=0)
    squares = squares[np.argsort(-held, kind="stable")]
    return np.concatenate([regions, _unrepeated(squares, regions)[:MAX_ZOOMS]])


def _unrepeated(extra: npt.NDArray[np.float32], regions: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The squares of ``extra`` ``(e, 4)`` that repeat none of ``regions`` ``(r, 4)`` (IoU <= 0.8), in order."""
    kept: npt.NDArray[np.float32] = extra[box_iou(extra, regions).max(axis=1, initial=0) <= 0.8]
    return kept


def _cover_picks(cover: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """Which of the ``(n, 4)`` ``cover`` squares to look at for ``boxes`` ``(k, 4)``: for each box, a square
    that holds it whole (one already picked, else the one whose centre is nearest the box's), or every
    square it overlaps when none holds it.

    On a 320x240 highway camera, squares centred on each moving car (each 240 pixels, the frame's
    height) took 2.2 model runs per look; these picks at most 2, with the same pixels enlarged as much.
    """
    picked = np.zeros(len(cover), bool)
    centres = (cover[:, :2] + cover[:, 2:]) / 2
    for box in boxes:
        holds = np.all((cover[:, :2] <= box[:2] + 1e-3) & (cover[:, 2:] >= box[2:] - 1e-3), axis=1)
        if (holds & picked).any():
            continue
        if holds.any():
            distance = np.linalg.norm(centres - (box[:2] + box[2:]) / 2, axis=1)
            picked[np.flatnonzero(holds)[np.argmin(distance[holds])]] = True
        else:
            picked |= np.all((cover[:, :2] < box[2:]) & (cover[:, 2:] > box[:2]), axis=1)
    return picked


def _square(box: npt.NDArray[np.float32], side: float, width: int, height: int) -> npt.NDArray[np.float32]:
    side = min(side, width, height)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1 = float(np.clip(cx - side / 2, 0, width - side))
    y1 = float(np.clip(cy - side / 2, 0, height - side))
    return np.array([x1, y1, x1 + side, y1 + side], np.float32)


def _merge_squares(
    boxes: npt.NDArray[np.float32], width: int, height: int, floor: float
) -> tuple[list[npt.NDArray[np.float32]], bool]:
    """Cover ``boxes`` with few squares, each >= ``floor`` pixels with context around its object.

    Two objects share a square only when one square no larger than the frame's
    short side holds both. Returns the squares and whether some box is longer
    than the short side (then no square can hold it).
    """
    short = min(width, height)
    squares: list[npt.NDArray[np.float32]] = []
    too_big = False
    for box in boxes[np.argsort(-np.prod(boxes[:, 2:] - boxes[:, :2], axis=1))]:
        longer = float(np.max(box[2:] - box[:2]))
        if longer > short:
            too_big = True
            continue
        need = min(max(longer * CONTEXT, floor), short)
        for i, sq in enumerate(squares):
            union = np.concatenate([np.minimum(sq[:2], box[:2]), np.maximum(sq[2:], box[2:])])
            extent = float(np.max(union[2:] - union[:2]))
            side = max(extent, float(sq[2] - sq[0]), need)
            if extent <= short and side <= 1.5 * max(float(sq[2] - sq[0]), need):
                squares[i] = _square(union, side, width, height)
                break
        else:
            squares.append(_square(box, need, width, height))
    return squares, too_big
