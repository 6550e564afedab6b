"""NanoDet-Plus-m-1.5x 416 on ONNX Runtime: the strongest bundled COCO-80 detector, at about twice SSDLite's cost.

The model is ``models/nanodet_plus_m_1.5x_416.onnx``: NanoDet-Plus-m-1.5x (https://github.com/RangiLyu/nanodet,
weights Apache-2.0) converted by ``tools/convert_nanodet_plus.py`` from an OpenVINO IR with int8 weights: the
weights dequantised to float32, the activation quantisation and the IR's embedded pre-processing dropped.
Provenance, checksums, the output layout and measured speed and accuracy are in ``models/MODEL_CARD.md``.

The head is NanoDet-Plus's ``NanoDetPlusHead``, a GFL head decoded by `camsift.detectors.gfl`: four feature
maps (strides 8, 16, 32, 64 px, 3598 cells), 80 sigmoid class scores and 4 x 8 distance bins per cell, cells
centred at ``(col, row) * stride`` with no half-cell offset (with it, person AP50 on COCO128 drops to 0.55).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from camsift.detectors import register
from camsift.detectors.gfl import GFLDetector, Head
from camsift.detectors.nanodet import NANODET_NORMALISATION

__all__ = ["HEAD", "NanoDetPlusDetector"]

HEAD = Head(size=416, strides=(8, 16, 32, 64), bins=8, centre=0.0)
"""3598 cells (52x52 + 26x26 + 13x13 + 7x7); 8 distance bins (NanoDet-Plus ``reg_max`` 7)."""
_CLASSES = 80


@register("nanodet-plus")
class NanoDetPlusDetector(GFLDetector):
    """Finds the 80 COCO classes with NanoDet-Plus-m-1.5x (416x416 input, 3598 cells).

    The image is resized to 416x416 without keeping its aspect ratio (bicubic), as the model was trained, and fed
    as BGR with NanoDet's normalisation.

    Args:
        threads: ONNX Runtime intra-op threads.
        min_confidence: Floor below which detections are dropped, in ``[0, 1]``; the pipeline applies its own,
            higher, per-label thresholds.
        model: ONNX file; default ``MODELS_DIR / "nanodet_plus_m_1.5x_416.onnx"``.
        providers: ONNX Runtime execution providers, best first (`runtime.choose_providers`).

    Raises:
        DetectorError: the model file is missing or unreadable, or onnxruntime is not installed.
        ValueError: ``threads < 1`` or ``min_confidence`` outside ``[0, 1]``.

    Example:
        >>> detector = NanoDetPlusDetector(threads=1)  # doctest: +SKIP
        >>> found = detector.detect(rgb_frame)  # doctest: +SKIP
    """

    name = "nanodet-plus"
    head = HEAD
    normalisation = NANODET_NORMALISATION
    model_file = "nanodet_plus_m_1.5x_416.onnx"
    made_by = "tools/convert_nanodet_plus.py"
    interpolation = cv2.INTER_CUBIC
    """Plain resize to the input (NanoDet-Plus's ``keep_ratio: False`` configs), bicubic by the higher person AP50
    on COCO128: 0.710 against 0.702 bilinear (mAP50 0.627 against 0.634; see the model card)."""

    def _infer(self, tensor: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        (output,) = self._session.run(["output"], {self._input: tensor})  # (1, 3598, 80 scores + 4 x 8 logits)
        return output[0, :, :_CLASSES], output[0, :, _CLASSES:]
