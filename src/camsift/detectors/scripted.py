"""``scripted``: a fake detector for tests and demos of the mechanics.

It "detects" a person wherever pure-red pixels form a blob, so a generated
clip with a red rectangle moving across it exercises sampling, motion,
regions, tracking, events and storage exactly, with no model and no
guesswork. It is registered like the real backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from camsift.detections import Detections
from camsift.detectors import register

__all__ = ["ScriptedDetector"]


@register("scripted")
class ScriptedDetector:
    """Reports each blob of red pixels (R > 200, G and B < 60) as ``label``.

    Args:
        label: Label to report.
        confidence: Confidence to report.
        threads: Ignored (accepted like every backend).
        labels: Ignored (accepted like ``auto``).
    """

    name = "scripted"
    input_size = (300, 300)

    def __init__(self, label: str = "person", confidence: float = 0.9, threads: int = 1, labels: object = None) -> None:
        self.label = label
        self.confidence = confidence
        self.labels = frozenset({label})
        self.calls = 0

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """See `Detector.detect`."""
        import cv2

        self.calls += 1
        red = ((image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(red)
        boxes = [(x, y, x + w, y + h) for x, y, w, h, area in stats[1:count] if area >= 4]
        n = len(boxes)
        return Detections(
            xyxy=np.asarray(boxes, np.float32), confidence=np.full(n, self.confidence), label=np.full(n, self.label)
        )

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """See `Detector.detect_batch`."""
        return [self.detect(image) for image in images]
