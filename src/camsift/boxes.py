"""Box geometry on `Detections`: duplicate suppression across crops.

Thin wrappers over supervision's box utilities so every stage merges
duplicates the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from camsift.detections import Detections

__all__ = ["PART_AREA_RATIO", "PART_IOS", "PART_TOP", "absorb_parts", "box_ios", "box_iou", "nms", "nms_keep"]


def nms(detections: Detections, iou: float = 0.5, *, smaller: bool = False) -> Detections:
    """Drop lower-confidence duplicates of the same label (non-maximum suppression).

    Args:
        detections: Boxes in one image's pixels.
        iou: Overlap above which the lower-confidence box of a pair is dropped.
        smaller: Measure overlap as intersection over the *smaller* box (IoS)
            instead of IoU. Use it when merging boxes found in overlapping crops,
            where a person cut by a crop edge gives a partial box inside the
            whole one (IoU stays low, IoS is near 1).

    Returns:
        The kept detections, highest confidence first.
    """
    if len(detections) < 2:
        return detections
    _, class_id = np.unique(detections.label, return_inverse=True)
    if not smaller:
        return detections[nms_keep(detections.xyxy, detections.confidence, class_id, iou)]
    import supervision as sv

    predictions = np.column_stack([detections.xyxy, detections.confidence, class_id]).astype(np.float64)
    metric = sv.OverlapMetric.IOS if smaller else sv.OverlapMetric.IOU
    keep = sv.box_non_max_suppression(predictions, iou_threshold=iou, overlap_metric=metric)
    kept = detections[keep]
    return kept[np.argsort(-kept.confidence, kind="stable")]


def nms_keep(
    xyxy: npt.NDArray[np.float32], confidence: npt.NDArray[np.float32], group: npt.NDArray[np.integer], iou: float
) -> npt.NDArray[np.int64]:
    """The boxes that greedy non-maximum suppression keeps, within each group (a label), as `nms` on arrays.

    Args:
        xyxy: ``(n, 4)`` boxes, one image's pixels.
        confidence: ``(n,)`` their confidences.
        group: ``(n,)`` integers; boxes of different groups never suppress each other.
        iou: Overlap above which the lower-confidence box of a pair is dropped.

    Returns:
        ``(k,)`` indices into the boxes, highest confidence first (ties in index order).
    """
    # OpenCV's batched NMS: the same greedy rule as supervision's (kept the same boxes on 300 random sets
    # of up to 800 boxes), without its full IoU matrix over all labels: 6 ms against 29 for 1000 boxes.
    # A detector's own NMS over a crowded crop took 9 % of a busy street's CPU with supervision's.
    import cv2

    if len(xyxy) < 2:
        return np.arange(len(xyxy), dtype=np.int64)
    xywh = np.column_stack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])
    picked = cv2.dnn.NMSBoxesBatched(xywh.astype(np.float64).tolist(), confidence.tolist(), group.tolist(), -1.0, iou)
    kept = np.sort(np.asarray(picked, np.int64).reshape(-1))
    return kept[np.argsort(-confidence[kept], kind="stable")]


def box_ios(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Intersection over the smaller box, for every pair (supervision's ``box_iou_batch`` with the IoS metric).

    Args:
        a: ``(n, 4)`` xyxy boxes.
        b: ``(m, 4)`` xyxy boxes, same pixels.

    Returns:
        ``(n, m)`` float64 in ``[0, 1]``; 1 when one box lies inside the other, 0 against an empty box.
    """
    return _overlap(a, b, smaller=True)


def box_iou(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Intersection over union, for every pair (supervision's ``box_iou_batch``).

    Args:
        a: ``(n, 4)`` xyxy boxes.
        b: ``(m, 4)`` xyxy boxes, same pixels.

    Returns:
        ``(n, m)`` float64 in ``[0, 1]``; 0 between two empty boxes.
    """
    return _overlap(a, b, smaller=False)


def _overlap(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating], *, smaller: bool) -> npt.NDArray[np.float64]:
    import supervision as sv

    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    metric = sv.OverlapMetric.IOS if smaller else sv.OverlapMetric.IOU
    return np.asarray(sv.box_iou_batch(a, b, overlap_metric=metric), np.float64).reshape(len(a), len(b))


PART_IOS = 0.9
"""A box this much inside (intersection over its own area) a bigger box of the same label is a part of it."""

PART_AREA_RATIO = 2.0
"""... when the bigger box is at least this many times its area ..."""

PART_TOP = 0.1
"""... and their tops are within this fraction of the bigger box's height. Detectors report a person's head
and shoulders, or upper body, as a second "person" inside the whole one; on the shared single-person
photos that doubled the events. A person standing in front of another (a child before an adult) has
its top well below the other's and stays separate (measurements: bench/NOTES.md)."""

PART_SURE = 0.5
"""... and the bigger box is at least this fraction of the part's confidence: a faint box around a group
(a detector's low-score guess) must not swallow the people in it."""


def absorb_parts(detections: Detections) -> Detections:
    """Merge boxes that lie inside a bigger box of the same label into it (as Frigate drops objects inside others).

    The bigger box keeps its place and takes the higher confidence of the two,
    since both are sightings of one object.

    Args:
        detections: Boxes in one image's pixels, duplicates already merged (`nms`).

    Returns:
        The detections without the parts, in the same order.
    """
    if len(detections) < 2:
        return detections
    xyxy = detections.xyxy
    area = np.prod(xyxy[:, 2:] - xyxy[:, :2], axis=1)
    top, height = xyxy[:, 1], xyxy[:, 3] - xyxy[:, 1]
    part_of = (  # [i, j]: box i is a part of box j (the smaller of a pair is the one IoS measures)
        (box_ios(xyxy, xyxy) >= PART_IOS)
        & (area[None, :] >= PART_AREA_RATIO * area[:, None])
        & (np.abs(top[:, None] - top[None, :]) <= PART_TOP * height[None, :])
        & (detections.label[:, None] == detections.label[None, :])
        & (detections.confidence[None, :] >= PART_SURE * detections.confidence[:, None])
    )
    parts = part_of.any(axis=1)
    if not parts.any():
        return detections
    confidence = detections.confidence.copy()
    for i in np.flatnonzero(parts):
        holder = int(np.flatnonzero(part_of[i])[np.argmax(area[part_of[i]])])
        confidence[holder] = max(confidence[holder], confidence[i])
    return detections.replace(confidence=confidence)[~parts]
