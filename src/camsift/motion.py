"""Motion gate: which parts of a frame changed, so the detector looks only there.

Frame differencing against a running-average background on a small grey copy,
as Frigate's ``ImprovedMotionDetector`` and blinkvault do: blur, contrast
stretch, ``|frame - background|`` above a threshold, dilate, contours, drop
specks. When most of the frame changes at once (scene cut, IR switch, camera
pan), the background is reset and the whole frame reported instead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from camsift.config import MotionConfig
from camsift.media import Frame

__all__ = ["MotionGate"]


class MotionGate:
    """Finds moving regions frame after frame of one clip or stream.

    Args:
        config: Thresholds and the motion mask.
        width: Full-resolution frame width in pixels.
        height: Full-resolution frame height in pixels.
    """

    def __init__(self, config: MotionConfig, width: int, height: int) -> None:
        import cv2

        self._cv2 = cv2
        self.config = config
        self.scale = min(1.0, config.frame_height / height)
        self.size = (max(8, round(width * self.scale)), max(8, round(height * self.scale)))
        self._full = np.array([width, height, width, height], np.float32)
        self._whole = np.array([[0, 0, width, height]], np.float32)
        self._background: npt.NDArray[np.float32] | None = None
        self._mask: npt.NDArray[np.uint8] | None = None
        if config.mask:
            w, h = self.size
            self._mask = np.full((h, w), 255, np.uint8)
            for polygon in config.mask:
                pts = np.round(np.asarray(polygon, np.float32) * [w, h]).astype(np.int32)
                cv2.fillPoly(self._mask, [pts], 0)

    def check(self, frame: Frame) -> npt.NDArray[np.float32]:
        """Moving regions of ``frame``.

        Args:
            frame: The next sampled frame of the same clip.

        Returns:
            ``(k, 4)`` float32 boxes ``xyxy`` in full-resolution pixels; empty
            on the first frame (nothing to compare with) and when nothing moved.
        """
        cv2 = self._cv2
        w, h = self.size
        grey = cv2.GaussianBlur(frame.gray(w, h), (3, 3), 0)
        grey = cv2.normalize(grey, None, 0, 255, cv2.NORM_MINMAX)  # contrast stretch: night clips
        current = grey.astype(np.float32)
        if self._background is None:
            self._background = current
            return np.zeros((0, 4), np.float32)
        diff = cv2.absdiff(current, self._background).astype(np.uint8)
        cv2.accumulateWeighted(current, self._background, self.config.frame_alpha)
        _, moving = cv2.threshold(diff, self.config.threshold, 255, cv2.THRESH_BINARY)
        if self._mask is not None:
            moving = cv2.bitwise_and(moving, self._mask)
        if np.count_nonzero(moving) > self.config.lightning_fraction * moving.size:
            self._background = current
            return self._whole.copy()
        moving = cv2.dilate(moving, None, iterations=2)
        contours, _ = cv2.findContours(moving, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes = [cv2.boundingRect(c) for c in contours if cv2.contourArea(c) >= self.config.contour_area]
        if not boxes:
            return np.zeros((0, 4), np.float32)
        xywh = np.asarray(boxes, np.float32)
        xyxy = np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])
        return np.minimum(xyxy / self.scale, self._full)
