"""``yolo``: bring your own ONNX detector from the YOLO family.

Three output layouts are understood, told apart by the graph's outputs (or
forced with ``detect.yolo.layout``):

* **Ultralytics** YOLOv8 / YOLO11 (``yolo export format=onnx``): one output
  ``(1, 4 + nc, N)``: per candidate ``cx, cy, w, h`` in input pixels, then
  ``nc`` class scores (sigmoid; no objectness). Class names are in the ONNX
  metadata property ``names`` (``{0: 'person', 1: 'bicycle', …}``). Input:
  RGB / 255, letterboxed to the centre with grey 114 (Ultralytics' ``LetterBox``).
* **YOLOv5 / YOLOX** style: one output ``(1, N, 5 + nc)``: ``cx, cy, w, h``,
  objectness, ``nc`` class probabilities; confidence = objectness x class.
  YOLOv5 wants RGB / 255 centred; YOLOX (``layout: yolox``) wants BGR 0-255
  padded at the bottom and right (its ``preproc``), with ``decode_in_inference``
  on (the default of its ONNX export).
* **YOLO-NAS** (super-gradients export): two outputs, boxes ``(1, N, 4)``
  ``x1, y1, x2, y2`` in input pixels and scores ``(1, N, nc)``. Input as Ultralytics.

Decoding follows Ultralytics' ``non_max_suppression``: each candidate keeps its
best class (``multi_label=False``), candidates under ``min_confidence`` go,
then per-class NMS at ``nms_iou`` (0.7, Ultralytics' predict default) and at
most 300 boxes. Boxes are mapped back through the letterbox and clipped to the
image. Models exported with NMS inside (YOLOv10 ``(1, 300, 6)``) are not
supported.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from camsift.boxes import nms
from camsift.detections import Detections
from camsift.detectors import register
from camsift.detectors.coco import COCO80
from camsift.detectors.runtime import CPU, letterbox, session
from camsift.errors import DetectorError

__all__ = ["Layout", "YoloDetector", "class_names_from_metadata"]

Layout = Literal["auto", "ultralytics", "yolov5", "yolox", "yolo-nas"]

DEFAULT_SIZE = 640
"""Input side in pixels when the graph's input size is dynamic (the exporters' default ``imgsz``)."""

MAX_DETECTIONS = 300
"""Most boxes per image (Ultralytics' ``max_det``)."""

_PAD = 114  # letterbox grey of Ultralytics, YOLOv5, YOLOX and super-gradients


def class_names_from_metadata(props: dict[str, str]) -> list[str] | None:
    """Class names from an Ultralytics export's ONNX metadata (``names`` = ``"{0: 'person', …}"``).

    Returns:
        Names in class-id order, or ``None`` when there is no usable ``names`` entry.
    """
    text = props.get("names")
    if not text:
        return None
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        return [str(names[i]) for i in sorted(names)]
    if isinstance(names, list):
        return [str(n) for n in names]
    return None


@register("yolo")
class YoloDetector:
    """Detections from a YOLO-family ONNX model (see the module docstring for the layouts).

    Args:
        model: The ``.onnx`` file.
        class_names: Names in class order; default: the model's ``names`` metadata, else COCO-80
            (when the model has 80 classes).
        min_confidence: Floor in ``[0, 1]`` below which candidates are dropped.
        nms_iou: Per-class NMS IoU threshold.
        layout: ``"auto"`` (from the outputs' shapes) or one of the layouts; ``"yolox"`` must be
            named (its outputs look like YOLOv5's, its input does not).
        threads: ONNX Runtime intra-op threads.
        providers: ONNX Runtime execution providers, best first.

    Raises:
        DetectorError: no model given, the file cannot be loaded, the outputs match no layout,
            the class names do not match the model's class count, or the class count is dynamic
            and there are no class names (neither ``class_names`` nor the ``names`` metadata).

    Example:
        >>> detector = YoloDetector(model=Path("yolo11n.onnx"))  # doctest: +SKIP
        >>> found = detector.detect(rgb_frame)  # doctest: +SKIP
    """

    name = "yolo"

    def __init__(
        self,
        *,
        model: Path | None = None,
        class_names: Sequence[str] | None = None,
        min_confidence: float = 0.25,
        nms_iou: float = 0.7,
        layout: Layout = "auto",
        threads: int = 2,
        providers: Sequence[str] = (CPU,),
    ) -> None:
        if model is None:
            raise DetectorError("yolo: no model; set detect.yolo.model to your ONNX file")
        path = Path(model).expanduser()
        self._session: Any = session(path, threads=threads, providers=providers, who="yolo")
        inputs = self._session.get_inputs()
        self._input = inputs[0].name
        shape = inputs[0].shape  # [N, 3, H, W]; dynamic dimensions are names or None
        h, w = (d if isinstance(d, int) and d > 0 else DEFAULT_SIZE for d in shape[2:4])
        self.input_size = (w, h)
        outputs = [o.shape for o in self._session.get_outputs()]
        self.layout, classes = _layout(outputs, layout, path)
        meta = self._session.get_modelmeta().custom_metadata_map
        names = list(class_names) if class_names else class_names_from_metadata(meta)
        if names is None and classes is None:
            raise DetectorError(
                f"yolo: {path}: the class dimension of its outputs {outputs} is dynamic and the model has no "
                "'names' metadata, so its classes are unknown; set detect.yolo.class_names (names in class order)"
            )
        if names is None:
            names = list(COCO80) if classes == len(COCO80) else [f"class_{i}" for i in range(classes or 0)]
        if classes is not None and len(names) != classes:
            raise DetectorError(f"yolo: {path} has {classes} classes but {len(names)} class names were given")
        self.model = path
        self._names = np.asarray(names, np.str_)
        self.labels = frozenset(names)
        self.min_confidence = float(min_confidence)
        self.nms_iou = float(nms_iou)

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Find objects in one image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB, any size.

        Returns:
            The model's class names as labels, confidence in ``[min_confidence, 1]``, ``xyxy`` in pixels
            of ``image`` clipped to its bounds; per-class NMS; at most 300, highest confidence first.

        Raises:
            ValueError: ``image`` is not an ``(H, W, 3)`` uint8 array.
            DetectorError: the model gives another number of class scores than there are class names
                (possible only when its class dimension is dynamic).
        """
        yolox = self.layout == "yolox"
        canvas, scale, offset = letterbox(image, self.input_size, pad=_PAD, centre=not yolox)
        planes = canvas[:, :, ::-1] if yolox else canvas  # YOLOX was trained on BGR
        tensor = planes.transpose(2, 0, 1)[None].astype(np.float32)
        if not yolox:
            tensor /= 255.0
        outputs = self._session.run(None, {self._input: tensor})
        boxes, scores = _candidates(self.layout, outputs)
        if scores.shape[1] != len(self._names):
            raise DetectorError(
                f"yolo: {self.model} gave {scores.shape[1]} class scores per candidate but "
                f"{len(self._names)} class names are set (detect.yolo.class_names)"
            )
        best = scores.argmax(axis=1)
        confidence = scores[np.arange(len(scores)), best]
        keep = confidence >= self.min_confidence
        xyxy = (boxes[keep] - np.tile(offset, 2)) / np.tile(scale, 2)
        height, width = image.shape[:2]
        np.clip(xyxy, 0, [width, height, width, height], out=xyxy)
        found = Detections(xyxy=xyxy, confidence=confidence[keep], label=self._names[best[keep]])
        found = found[(found.xyxy[:, 2] > found.xyxy[:, 0]) & (found.xyxy[:, 3] > found.xyxy[:, 1])]
        return nms(found, iou=self.nms_iou)[:MAX_DETECTIONS]

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """`detect` on each image in turn (exports are usually fixed at batch 1); ``thorough`` and ``earlier``
        are ignored."""
        return [self.detect(image) for image in images]


def _layout(outputs: list[list[Any]], wanted: Layout, path: Path) -> tuple[Layout, int | None]:
    """The layout of a model's outputs and its class count (``None`` when a dimension is dynamic).

    Raises:
        DetectorError: the outputs fit no layout (or not the one asked for).
    """

    def dim(d: Any) -> int | None:
        return d if isinstance(d, int) and d > 0 else None

    found: Layout | None = None
    classes: int | None = None
    if len(outputs) == 2 and len(outputs[0]) == 3 and dim(outputs[0][2]) == 4 and len(outputs[1]) == 3:
        found, classes = "yolo-nas", dim(outputs[1][2])
    elif len(outputs) == 1 and len(outputs[0]) == 3:
        rows, cols = dim(outputs[0][1]), dim(outputs[0][2])
        if rows is not None and (cols is None or rows < cols):  # (1, 4 + nc, N): N is the long side
            found, classes = "ultralytics", rows - 4
        elif cols is not None and cols > 5:
            found, classes = "yolov5", cols - 5
    if found is None:
        raise DetectorError(
            f"yolo: {path}: outputs {outputs} match no known layout "
            "(Ultralytics (1, 4+nc, N), YOLOv5/YOLOX (1, N, 5+nc), YOLO-NAS (1, N, 4) + (1, N, nc))"
        )
    if wanted == "yolox" and found == "yolov5":
        return "yolox", classes
    if wanted not in ("auto", found):
        raise DetectorError(f"yolo: {path}: layout {wanted!r} was asked for but the outputs {outputs} are {found}")
    return found, classes


def _candidates(layout: Layout, outputs: list[Any]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Model outputs to candidates: ``(N, 4)`` xyxy boxes in input pixels and ``(N, nc)`` class confidences."""
    if layout == "yolo-nas":
        return np.asarray(outputs[0][0], np.float32), np.asarray(outputs[1][0], np.float32)
    if layout == "ultralytics":
        rows = np.asarray(outputs[0][0], np.float32).T  # (N, 4 + nc)
        centre, scores = rows[:, :4], rows[:, 4:]
    else:  # yolov5, yolox
        rows = np.asarray(outputs[0][0], np.float32)  # (N, 5 + nc)
        centre, scores = rows[:, :4], rows[:, 5:] * rows[:, 4:5]
    half = centre[:, 2:] / 2
    return np.concatenate([centre[:, :2] - half, centre[:, :2] + half], axis=1), scores
