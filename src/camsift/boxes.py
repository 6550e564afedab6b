"""Box geometry on `Detections`: duplicate suppression across crops.

Thin wrappers over supervision's box utilities so every stage merges
duplicates the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from camsift.detections import Detections

__all__ = ["box_ios", "nms"]


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
    import supervision as sv

    _, class_id = np.unique(detections.label, return_inverse=True)
    predictions = np.column_stack([detections.xyxy, detections.confidence, class_id]).astype(np.float64)
    metric = sv.OverlapMetric.IOS if smaller else sv.OverlapMetric.IOU
    keep = sv.box_non_max_suppression(predictions, iou_threshold=iou, overlap_metric=metric)
    kept = detections[keep]
    return kept[np.argsort(-kept.confidence, kind="stable")]


def box_ios(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Intersection over the smaller box, for every pair.

    Args:
        a: ``(n, 4)`` xyxy boxes.
        b: ``(m, 4)`` xyxy boxes, same pixels.

    Returns:
        ``(n, m)`` float64 in ``[0, 1]``; 1 when one box lies inside the other.
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    wh = np.clip(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    return np.where(smaller > 0, inter / np.maximum(smaller, 1e-9), 0.0)
