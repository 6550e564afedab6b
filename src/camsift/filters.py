"""Object filters: labels, confidence, size, masks and zones; marked false positives after tracking.

Zones and masks are polygons in relative coordinates (0..1, origin top-left);
an object is inside one when the bottom centre of its box is (where a person
stands), as in Frigate. Zone tests use supervision's `PolygonZone`.
"""

from __future__ import annotations

import numpy as np

from camsift.config import ObjectsConfig
from camsift.detections import Detections

__all__ = ["FALSE_POSITIVE_IOU", "FALSE_POSITIVE_MARGIN", "FLOOR_FACTOR", "ObjectFilter"]

FLOOR_FACTOR = 0.6
"""Detections down to this fraction of a label's ``min_confidence`` are kept so that
the tracker can follow an object through weak frames (ByteTrack's second,
low-score association: Zhang et al. 2022, "ByteTrack", §3). An object still
needs one detection at ``min_confidence`` to become an event."""

FALSE_POSITIVE_IOU = 0.5
"""A detection overlapping a marked false positive of its label by at least this IoU is the same thing
(PASCAL VOC's match criterion: Everingham et al. 2010, §4.2)."""

FALSE_POSITIVE_MARGIN = 0.15
"""...unless it is surer than the marked one by more than this: a real person standing where a coat hangs
usually scores well above the coat, so a false positive never hides everyone at that place."""


class ObjectFilter:
    """Keeps the detections that may belong to an event, and names their zones.

    Args:
        config: Labels, per-label limits, mask and zones.
        width: Frame width in pixels.
        height: Frame height in pixels.
    """

    def __init__(self, config: ObjectsConfig, width: int, height: int) -> None:
        import supervision as sv

        self.config = config
        self._sv = sv
        self._frame_area = float(width * height)
        scale = np.array([width, height], np.float32)

        def zone(polygon: list[tuple[float, float]]) -> sv.PolygonZone:
            pts = np.round(np.asarray(polygon, np.float32) * scale).astype(np.int64)
            return sv.PolygonZone(pts, triggering_anchors=(sv.Position.BOTTOM_CENTER,))

        self._masks = [zone(p) for p in config.mask]
        self._zones = {name: (zone(z.polygon), set(z.labels)) for name, z in config.zones.items()}
        size = np.array([width, height, width, height], np.float64)
        self._wrong = [(f.label, np.asarray(f.box, np.float64) * size, f.confidence) for f in config.false_positives]
        self._moved: set[int] = set()  # tracks seen outside every false positive (`after_tracking`)
        labels = sorted(set(config.labels))
        self._labels = np.asarray(labels, np.str_)
        limits = [config.filter_for(label) for label in labels]
        self._floor = np.array([f.min_confidence * FLOOR_FACTOR for f in limits], np.float32)
        self._min_area = np.array([f.min_area for f in limits], np.float32)
        self._max_area = np.array([f.max_area for f in limits], np.float32)

    def apply(self, detections: Detections) -> Detections:
        """Drop detections that cannot be part of an event; add a ``zones`` column.

        Args:
            detections: In full-resolution frame pixels.

        Returns:
            The kept detections, with ``data["zones"]`` a comma-joined str of
            the zone names each one is in (``""`` for none).
        """
        d = detections[np.isin(detections.label, self._labels)]
        if not len(d):
            return d.with_data(zones=np.zeros(0, np.str_))
        row = np.searchsorted(self._labels, d.label)
        area = d.area / self._frame_area
        keep = (d.confidence >= self._floor[row]) & (area >= self._min_area[row]) & (area <= self._max_area[row])
        d = d[keep]
        if self._masks and len(d):
            sv_d = self._sv.Detections(xyxy=d.xyxy.astype(np.float64))
            d = d[~np.any([m.trigger(sv_d) for m in self._masks], axis=0)]
        names = [[] for _ in range(len(d))]  # type: list[list[str]]
        if self._zones and len(d):
            sv_d = self._sv.Detections(xyxy=d.xyxy.astype(np.float64))
            for name, (polygon, labels) in self._zones.items():
                inside = polygon.trigger(sv_d)
                for i in np.flatnonzero(inside):
                    if not labels or d.label[i] in labels:
                        names[i].append(name)
        d = d.with_data(zones=np.asarray([",".join(n) for n in names], np.str_))
        if self.config.required_zones:
            required = set(self.config.required_zones)
            d = d[np.array([bool(required & set(n)) for n in names], bool)]
        return d

    def after_tracking(self, tracked: Detections) -> Detections:
        """Drop the tracked detections that are a marked false positive (``config.false_positives``).

        A detection like a marked false positive (`matches_false_positive`) is dropped only while its
        track has never been seen elsewhere: a coat on a hook never leaves its place, a person walking
        through that place came from somewhere else and is kept. Detections not tracked yet
        (``tracker_id`` -1) are dropped when they match.

        Args:
            tracked: The tracker's output for one frame (``tracker_id`` set).
        """
        if not self._wrong or not len(tracked):
            return tracked
        hit = self.matches_false_positive(tracked)
        for track_id in tracked.tracker_id[~hit]:
            if track_id >= 0:
                self._moved.add(int(track_id))
        moved = np.isin(tracked.tracker_id, np.fromiter(self._moved, np.int64, len(self._moved)))
        keep: np.ndarray = ~hit | ((tracked.tracker_id >= 0) & moved)
        return tracked[keep]

    def matches_false_positive(self, d: Detections) -> np.ndarray:
        """``(n,)`` bool: each detection matches a marked false positive (see `FALSE_POSITIVE_IOU`)."""
        boxes = np.stack([box for _, box, _ in self._wrong])
        iou = self._sv.box_iou_batch(d.xyxy.astype(np.float64), boxes)  # (n detections, m false positives)
        same = d.label[:, None] == np.array([label for label, _, _ in self._wrong])[None, :]
        not_surer = d.confidence[:, None] <= np.array([c for _, _, c in self._wrong])[None, :] + FALSE_POSITIVE_MARGIN
        hit: np.ndarray = np.any(same & not_surer & (iou >= FALSE_POSITIVE_IOU), axis=1)
        return hit
