"""COCO-80 detectors with a Generalized Focal Loss head: NanoDet-m, NanoDet-Plus and PP-PicoDet share this code.

The head (Li et al., "Generalized Focal Loss", NeurIPS 2020; NanoDet's ``GFLHead`` and ``NanoDetPlusHead``,
PaddleDetection's ``PicoHead``) gives, at each cell of a few feature maps, 80 sigmoid class scores and, for
each side of the box (left, top, right, bottom), logits over the distances ``0 .. bins - 1`` strides from
the cell's centre; the distance is the expectation of the softmax over the bins, times the stride. The models
differ in their input size, strides, number of bins and where a cell's centre lies (`Head`), in their input
normalisation (`Normalisation`), in how a picture is fitted to the input (letterbox or plain resize) and in
the layout of their outputs (each subclass's `GFLDetector._infer`).

Every box found carries two columns of its cell's scores in ``Detections.data``, so that a caller can tell a
"person" that is better explained as an animal (a raccoon or a deer at night):

* ``person_score`` (float32): the cell's person score (the box's confidence when it is labelled person);
* ``animal_score`` (float32): the cell's best score over the COCO animals (`coco.ANIMALS`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from camsift.boxes import nms_keep
from camsift.detections import Detections
from camsift.detectors import MODELS_DIR
from camsift.detectors.coco import ANIMALS, COCO80
from camsift.detectors.runtime import CPU, letterbox, session, stretch
from camsift.errors import DetectorError

__all__ = ["ANIMAL_SCORE", "MAX_CANDIDATES", "MAX_DETECTIONS", "NMS_IOU", "PERSON_SCORE", "GFLDetector", "Head"]

PERSON_SCORE = "person_score"
"""``Detections.data`` column: the person score of the cell each box comes from."""
ANIMAL_SCORE = "animal_score"
"""``Detections.data`` column: the best animal score (`coco.ANIMALS`) of the cell each box comes from."""
NMS_IOU = 0.6
"""Per-class NMS IoU threshold (the test configs of NanoDet and PicoDet)."""
MAX_DETECTIONS = 100
"""Most detections returned per image (NanoDet's ``max_per_img``)."""
MAX_CANDIDATES = 1000
"""Most (cell, class) candidates passed to NMS, best first (mmdet's ``nms_pre``); matters only for low floors."""

_ANIMAL_IDS = np.array([COCO80.index(name) for name in sorted(ANIMALS)])
_PERSON_ID = COCO80.index("person")


@dataclass(frozen=True)
class Head:
    """Where a GFL head's cells lie and how its box distributions read.

    Attributes:
        size: Side of the square model input, pixels.
        strides: Feature-map strides in input pixels, in the model's output order; cells are row-major
            within a map.
        bins: Distance bins per side (the training config's ``reg_max + 1``).
        centre: A cell's centre as a fraction of a stride from its top-left corner: 0.5 for NanoDet-m and
            PicoDet, 0 for NanoDet-Plus (its ``get_single_level_center_priors`` has no half-cell offset).
    """

    size: int
    strides: tuple[int, ...]
    bins: int
    centre: float

    def cells(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Centres ``(N, 2)`` as ``(x, y)`` input pixels and strides ``(N,)`` of every cell, in output order.

        A map of stride ``s`` has ``ceil(size / s)`` cells a side (PicoDet 416 at stride 64: 7), and the
        centre of the cell in row ``r``, column ``c`` is ``((c + centre) * s, (r + centre) * s)``.
        """
        return _cells(self)


@cache
def _cells(head: Head) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    centres, strides = [], []
    for stride in head.strides:
        n = -(-head.size // stride)
        rows, cols = np.divmod(np.arange(n * n, dtype=np.float32), n)
        centres.append(np.stack([cols + head.centre, rows + head.centre], axis=1) * stride)
        strides.append(np.full(n * n, stride, np.float32))
    return np.concatenate(centres).astype(np.float32), np.concatenate(strides)


@dataclass(frozen=True)
class Normalisation:
    """How a model wants its input pixels: channel order and per-channel mean and std (0..255 scale).

    Attributes:
        bgr: The model reads BGR planes (NanoDet, trained on OpenCV's BGR images), else RGB.
        mean: Per plane of the model input, in the model's channel order.
        std: Likewise.
    """

    bgr: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def tensor(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """``(1, 3, H, W)`` float32 model input ``(x - mean) / std`` from ``(H, W, 3)`` uint8 RGB pixels."""
        import cv2

        height, width = pixels.shape[:2]
        tensor = np.empty((1, 3, height, width), np.float32)
        channels = cv2.split(pixels)  # contiguous planes: 0.38 ms against 0.80 from the interleaved pixels (416x416)
        for plane in range(3):  # (x - mean) / std as x * (1 / std) - mean / std, one plane at a time
            channel = channels[2 - plane if self.bgr else plane]
            np.multiply(channel, np.float32(1 / self.std[plane]), out=tensor[0, plane], dtype=np.float32)
            tensor[0, plane] -= np.float32(self.mean[plane] / self.std[plane])
        return tensor


class GFLDetector(ABC):
    """Finds the 80 COCO classes with a GFL-head model; a subclass gives the model's particulars.

    Args:
        threads: ONNX Runtime intra-op threads.
        min_confidence: Floor below which detections are dropped, in ``[0, 1]``; the pipeline applies its own,
            higher, per-label thresholds.
        model: ONNX file; default ``MODELS_DIR / model_file``.
        providers: ONNX Runtime execution providers, best first (`runtime.choose_providers`).

    Attributes:
        name: Registry name (in error messages too).
        head: The model's cells.
        normalisation: The model's input normalisation.
        model_file: The shipped model's file name in ``MODELS_DIR``.
        made_by: The tool in ``tools/`` that makes it (for the missing-file message).
        interpolation: OpenCV flag of the plain resize to the input (`runtime.stretch`); None to letterbox
            (`runtime.letterbox`).

    Raises:
        DetectorError: the model file is missing or unreadable, or onnxruntime is not installed.
        ValueError: ``threads < 1`` or ``min_confidence`` outside ``[0, 1]``.
    """

    labels = frozenset(COCO80)
    name: str
    head: Head
    normalisation: Normalisation
    model_file: str
    made_by: str
    interpolation: int | None

    def __init__(
        self,
        *,
        threads: int = 2,
        min_confidence: float = 0.25,
        model: Path | None = None,
        providers: Sequence[str] = (CPU,),
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        path = Path(model) if model is not None else MODELS_DIR / self.model_file
        if not path.is_file():
            raise DetectorError(f"{self.name}: no model file at {path}; expected the ONNX made by {self.made_by}")
        self.input_size = (self.head.size, self.head.size)
        self.min_confidence = float(min_confidence)
        self._session = session(path, threads=threads, providers=providers, who=self.name)
        self._input = self._session.get_inputs()[0].name
        self._centres, self._strides = self.head.cells()
        self._bins = np.arange(self.head.bins, dtype=np.float32)
        self._classes = np.asarray(COCO80, dtype=np.str_)

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Find COCO objects in one image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB, any size.

        Returns:
            COCO labels, confidence in ``[min_confidence, 1]``, ``xyxy`` in pixels of ``image`` clipped to its
            bounds, the ``person_score`` and ``animal_score`` columns; per-label NMS at `NMS_IOU`, at most
            `MAX_DETECTIONS`, highest confidence first.

        Raises:
            ValueError: ``image`` is not a non-empty ``(H, W, 3)`` uint8 array.
        """
        size = self.input_size
        if self.interpolation is None:
            pixels, scale, offset = letterbox(image, size)
        else:
            pixels, scale, offset = stretch(image, size, interpolation=self.interpolation)
        scores, distributions = self._infer(self.normalisation.tensor(pixels))
        return self._decode(scores, distributions, scale, offset, image.shape[1], image.shape[0])

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """`detect` on each image in turn.

        The graphs are fixed at batch 1: a dynamic-batch export was no faster (bench/NOTES.md).

        Args:
            images: ``(H_i, W_i, 3)`` uint8 RGB images; sizes may differ.
            thorough: Ignored: this backend has one model.
            earlier: Ignored, likewise.

        Returns:
            One `Detections` per image, in order, each in its own image's pixels.
        """
        return [self.detect(image) for image in images]

    @abstractmethod
    def _infer(self, tensor: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Run the model on a ``(1, 3, size, size)`` input; return its cells' class scores ``(N, 80)`` (sigmoid
        applied) and box logits ``(N, 4 * bins)`` (per cell: left, top, right, bottom, each ``bins`` logits), in
        the order of `Head.cells`."""

    def _decode(
        self,
        scores: npt.NDArray[np.float32],
        distributions: npt.NDArray[np.float32],
        scale: npt.NDArray[np.float32],
        offset: npt.NDArray[np.float32],
        width: int,
        height: int,
    ) -> Detections:
        """Model outputs to detections in the original image's pixels.

        Args:
            scores: ``(N, 80)`` class scores.
            distributions: ``(N, 4 * bins)`` box logits.
            scale: ``(2,)`` ``(x, y)`` input pixels per image pixel.
            offset: ``(2,)`` ``(x, y)`` padding before the image, input pixels.
            width: Original image width in pixels.
            height: Original image height in pixels.
        """
        # Every (cell, class) pair above the floor is a candidate, as in NanoDet's and PicoDet's multiclass NMS;
        # found in one pass over the flat scores (a row-wise max over 80 classes costs 5x as much).
        hot = np.flatnonzero(scores.ravel() >= self.min_confidence)
        if len(hot) == 0:
            return _nothing()
        cell_of, cls = np.divmod(hot, scores.shape[1])
        cells, row = np.unique(cell_of, return_inverse=True)
        logits = distributions[cells].reshape(len(cells), 4, len(self._bins))
        weights = np.exp(logits - logits.max(axis=2, keepdims=True))
        distance = (weights @ self._bins) / weights.sum(axis=2) * self._strides[cells, None]
        centre = self._centres[cells]
        boxes = np.concatenate([centre - distance[:, :2], centre + distance[:, 2:]], axis=1)
        boxes = (boxes - np.tile(offset, 2)) / np.tile(scale, 2)
        np.clip(boxes, 0, [width, height, width, height], out=boxes)
        confidence = scores[cell_of, cls]
        if len(confidence) > MAX_CANDIDATES:  # NMS is quadratic: keep the best
            best = np.argpartition(-confidence, MAX_CANDIDATES)[:MAX_CANDIDATES]
            row, cls, confidence = row[best], cls[best], confidence[best]
        xyxy = boxes[row].astype(np.float32, copy=False)
        valid = np.flatnonzero((xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1]))
        # Per-class NMS on the arrays, then a `Detections` of the few kept (not of the hundreds of candidates).
        kept = valid[nms_keep(xyxy[valid], confidence[valid], cls[valid], NMS_IOU)[:MAX_DETECTIONS]]
        cell_scores = scores[cells[row[kept]]]
        return Detections(
            xyxy=xyxy[kept],
            confidence=confidence[kept],
            label=self._classes[cls[kept]],
            data={
                PERSON_SCORE: cell_scores[:, _PERSON_ID].astype(np.float32),
                ANIMAL_SCORE: cell_scores[:, _ANIMAL_IDS].max(axis=1, initial=0).astype(np.float32),
            },
        )


def _nothing() -> Detections:
    """No detections, with the score columns (empty), so that every result has the same columns."""
    return Detections.empty().with_data(
        **{PERSON_SCORE: np.zeros(0, np.float32), ANIMAL_SCORE: np.zeros(0, np.float32)}
    )
