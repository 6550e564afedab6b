"""PP-PicoDet-S on ONNX Runtime: a COCO-80 detector as cheap as SSDLite with nearly twice its person AP50.

The models are ``models/picodet_s_416_coco.onnx`` and ``models/picodet_s_320_coco.onnx``: PaddleDetection's
own ONNX exports of PP-PicoDet-S (legacy v1; weights Apache-2.0, https://github.com/PaddlePaddle/PaddleDetection),
cleaned by ``tools/convert_picodet.py`` (weights out of the graph inputs, opset 14, hard-swish fused; outputs
unchanged to 3e-5). Provenance, checksums, the output layout and measured speed and accuracy are in
``models/MODEL_CARD.md``.

The head is PaddleDetection's ``PicoHead``, a GFL head decoded by `camsift.detectors.gfl`: four feature maps
(strides 8, 16, 32, 64 px), 80 sigmoid class scores and 4 x 8 distance bins per cell, cells centred at
``(col + 0.5) * stride`` (without the half cell, person AP50 on COCO128 falls from 0.68 to 0.48).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from camsift.detectors import register
from camsift.detectors.gfl import GFLDetector, Head, Normalisation

__all__ = ["IMAGENET", "INPUTS", "PicoDetDetector"]

INPUTS = (416, 320)
"""Input sides a model is shipped for; 416 is the default (COCO mAP 30.6 against 27.1 at 320)."""
IMAGENET = Normalisation(bgr=False, mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
"""PicoDet's training normalisation: RGB, ImageNet mean/std (``NormalizeImage`` with ``is_scale``) x 255."""
_STRIDES = (8, 16, 32, 64)
_SCORES = [f"scores_{s}" for s in _STRIDES]
_BOXES = [f"boxes_{s}" for s in _STRIDES]
_INTERPOLATION = {416: cv2.INTER_CUBIC, 320: cv2.INTER_LINEAR}
"""Plain resize to the input, as in PicoDet's eval pipeline (``Resize`` with ``keep_ratio: False``), by the higher
person AP50 on COCO128: bicubic (PicoDet's own ``interp: 2``) at 416 (0.678 against 0.669 bilinear), bilinear at
320 (0.629 against 0.618); see the model card."""


@register("picodet")
class PicoDetDetector(GFLDetector):
    """Finds the 80 COCO classes with PP-PicoDet-S (416x416 or 320x320 input).

    The image is resized to the input without keeping its aspect ratio (bicubic at 416, bilinear at 320), as
    the model was trained; a letterbox scored lower on COCO128 (see ``models/MODEL_CARD.md``).

    Args:
        input: Side of the model input, one of `INPUTS`: 416 (registry name ``picodet``) or 320
            (``picodet-320``, about 0.6x the time, person AP50 0.62 against 0.68).
        **options: ``threads``, ``min_confidence``, ``model`` (default ``MODELS_DIR / f"picodet_s_{input}_coco.onnx"``)
            and ``providers``, as for every `GFLDetector`.

    Raises:
        DetectorError: the model file is missing or unreadable, or onnxruntime is not installed.
        ValueError: ``input`` not in `INPUTS`, ``threads < 1`` or ``min_confidence`` outside ``[0, 1]``.

    Example:
        >>> detector = PicoDetDetector(threads=1)  # doctest: +SKIP
        >>> found = detector.detect(rgb_frame)  # doctest: +SKIP
        >>> people = found[(found.label == "person") & (found.data["person_score"] > found.data["animal_score"])]
    """

    normalisation = IMAGENET
    made_by = "tools/convert_picodet.py"

    def __init__(self, *, input: int = 416, **options: Any) -> None:
        if input not in INPUTS:
            raise ValueError(f"picodet: input must be one of {', '.join(map(str, INPUTS))}, got {input}")
        self.name = "picodet" if input == INPUTS[0] else f"picodet-{input}"
        self.head = Head(size=input, strides=_STRIDES, bins=8, centre=0.5)
        self.model_file = f"picodet_s_{input}_coco.onnx"
        self.interpolation = _INTERPOLATION[input]
        super().__init__(**options)

    def _infer(self, tensor: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        outputs = self._session.run(_SCORES + _BOXES, {self._input: tensor})
        return np.concatenate([o[0] for o in outputs[:4]]), np.concatenate([o[0] for o in outputs[4:]])


register("picodet-320")(partial(PicoDetDetector, input=320))
