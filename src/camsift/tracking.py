"""Tracking: one object walking through is one track, not fifty detections.

ByteTrack (Zhang et al. 2022) from Roboflow's ``trackers`` package, one tracker
per label (ByteTrack is class-agnostic), driven by frame timestamps so that
irregular detection frames (motion-gated) age tracks in seconds, not calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from camsift.config import ObjectsConfig
from camsift.detections import Detections
from camsift.filters import FLOOR_FACTOR

__all__ = ["Tracker"]

MIN_GIOU = -0.4
"""Association threshold on generalised IoU (Rezatofighi et al. 2019). Frames are
analysed a few times a second, so a person close to the camera can move by
their own width between two looks: plain IoU is then 0 and the track breaks;
GIoU is about -0.33 for two same-size boxes one width apart."""

_TRACKERS_FPS = 30.0
"""``trackers`` counts its lost-track buffer in frames of a 30 fps stream even in timestamp mode."""


class Tracker:
    """Assigns a stable ``tracker_id`` to each object across the frames of one clip.

    Args:
        objects: Per-label ``min_confidence``; detections down to `FLOOR_FACTOR` of it
            start and extend tracks (an event still needs sure sightings).
        lost_s: Seconds a track survives without a matching detection.
    """

    def __init__(self, objects: ObjectsConfig, lost_s: float) -> None:
        self.objects = objects
        self.lost_s = lost_s
        self._trackers: dict[str, Any] = {}
        self._ids: dict[tuple[str, int], int] = {}
        self._last: dict[int, tuple[float, npt.NDArray[np.float32]]] = {}
        self._pending: list[tuple[str, npt.NDArray[np.float32]]] = []
        self._pending_s = 0.0
        self._born: dict[int, float] = {}

    def _tracker_for(self, label: str) -> Any:
        if label not in self._trackers:
            from trackers import ByteTrackTracker, GIoU

            floor = self.objects.filter_for(label).min_confidence * FLOOR_FACTOR
            self._trackers[label] = ByteTrackTracker(
                lost_track_buffer=round(self.lost_s * _TRACKERS_FPS),
                frame_rate=_TRACKERS_FPS,
                track_activation_threshold=floor,
                high_conf_det_threshold=floor,
                minimum_consecutive_frames=1,
                iou=GIoU(),
                minimum_iou_threshold=MIN_GIOU,
            )
        return self._trackers[label]

    def update(self, detections: Detections, ts_s: float) -> Detections:
        """Match ``detections`` of the frame at ``ts_s`` to tracks.

        Args:
            detections: Filtered detections of one frame, frame pixels.
            ts_s: The frame's time in seconds (increasing).

        Returns:
            The detections that belong to a confirmed track, with ``tracker_id``
            set (unique across labels within this clip) and a ``first_s``
            column: when the track was first seen. ByteTrack confirms a track at
            its second sighting; ``first_s`` goes back to the first one.
        """
        import supervision as sv

        parts = []
        pending: list[tuple[str, npt.NDArray[np.float32]]] = []
        for label in sorted(set(self._trackers) | set(detections.label.tolist())):
            part = detections[detections.label == label]
            sv_d = sv.Detections(
                xyxy=part.xyxy.astype(np.float64), confidence=part.confidence, data={"row": np.arange(len(part))}
            )
            tracked = self._tracker_for(label).update(sv_d, timestamp=ts_s)
            if not len(tracked):
                continue
            ok = tracked.tracker_id >= 0
            pending.extend((label, box) for box in part.xyxy[tracked.data["row"][~ok]])
            mine = part[tracked.data["row"][ok]]
            ids = [
                self._id_for(label, int(t), box, ts_s) for t, box in zip(tracked.tracker_id[ok], mine.xyxy, strict=True)
            ]
            parts.append(mine.replace(tracker_id=np.asarray(ids, np.int64)))
        result = Detections.merge(parts)
        for tid, box in zip(result.tracker_id.tolist(), result.xyxy, strict=True):
            self._last[tid] = (ts_s, box)
        self._last = {t: v for t, v in self._last.items() if ts_s - v[0] <= self.lost_s}
        self._pending = pending
        self._pending_s = ts_s
        return result.with_data(first_s=np.asarray([self._born[t] for t in result.tracker_id.tolist()], np.float64))

    def _id_for(self, label: str, track: int, box: npt.NDArray[np.float32], ts_s: float) -> int:
        """camsift's id for ByteTrack's ``(label, track)``; a new one notes when it was first seen
        (the previous look's time when a detection of that label then lies within `MIN_GIOU` of it)."""
        key = (label, track)
        if key not in self._ids:
            from trackers import GIoU

            self._ids[key] = len(self._ids) + 1
            seen = [b for lab, b in self._pending if lab == label]
            # The same association rule as the tracker's: a walking person may have moved by its width.
            earlier = len(seen) and GIoU().compute(box[None], np.asarray(seen)).max() >= MIN_GIOU
            self._born[self._ids[key]] = self._pending_s if earlier else ts_s
        return self._ids[key]

    def boxes(self) -> npt.NDArray[np.float32]:
        """Where to look next: ``(k, 4)`` float32 frame-pixel boxes of tracks seen within
        ``lost_s`` and of last frame's detections still waiting for a second sighting."""
        boxes = [box for _, box in self._last.values()] + [box for _, box in self._pending]
        return np.asarray(boxes, np.float32).reshape(-1, 4)
