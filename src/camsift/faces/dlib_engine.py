"""The ``dlib`` face engine: HOG face detector, 5-point alignment, ResNet embedding.

Models: dlib's frontal face detector (HOG + linear SVM, built into dlib) and
the files of PyPI ``face-recognition-models`` 0.3.0 (MIT; dlib's
``shape_predictor_5_face_landmarks`` and ``dlib_face_recognition_resnet_model_v1``,
99.38 % on LFW at distance 0.6 per dlib's documentation). That package's
``__init__`` imports ``pkg_resources``, which setuptools 81 removed, so its
folder is found with `importlib.util.find_spec` without importing it, and
``face_recognition`` itself is not used.

Measured on two cores (``bench/faces.py``): detection ~0.16 µs per pixel
searched, embedding ~90 ms per face. dlib's CNN detector (6.6 s per image on
a CPU) is not offered.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from camsift.errors import DetectorError
from camsift.faces import Face

__all__ = ["DlibEngine", "models_dir"]

CHIP_PX = 150
CHIP_PADDING = 0.25
"""Aligned face size and padding that dlib's ResNet was trained on (``compute_face_descriptor``'s own)."""

_INSTALL = "pip install 'camsift[faces]'"


def models_dir() -> Path:
    """The ``models`` folder of ``face_recognition_models``, found without importing the package.

    Raises:
        DetectorError: the package is not installed.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorError(f"face recognition needs the face-recognition-models package: {_INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class DlibEngine:
    """Faces by dlib (see the module docstring).

    Raises:
        DetectorError: dlib or the model files are missing (the message says what to install).
    """

    name = "dlib"
    model = "dlib_face_recognition_resnet_model_v1"
    min_face_px = 80
    """dlib's HOG window: smaller faces are found only in an enlarged copy."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as err:
            raise DetectorError(f"face recognition needs dlib: {_INSTALL}") from err
        folder = models_dir()
        files = [folder / "shape_predictor_5_face_landmarks.dat", folder / "dlib_face_recognition_resnet_model_v1.dat"]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise DetectorError(f"{folder}: face model files missing: {', '.join(missing)}; reinstall: {_INSTALL}")
        self._dlib: Any = dlib
        self._detector: Any = dlib.get_frontal_face_detector()
        self._landmarks: Any = dlib.shape_predictor(str(files[0]))
        self._encoder: Any = dlib.face_recognition_model_v1(str(files[1]))

    def faces(self, image: npt.NDArray[np.uint8], *, scale: float = 1.0) -> list[Face]:
        """Find faces (HOG, on ``image`` resized by ``scale``) and embed each from ``image`` (`FaceEngine.faces`)."""
        import cv2

        image = np.ascontiguousarray(image)
        searched = image
        if scale != 1.0:
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            interpolation = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
            searched = np.asarray(cv2.resize(image, size, interpolation=interpolation), dtype=np.uint8)
        rects, scores, _ = self._detector.run(searched, 0, 0.0)
        found = []
        for rect, score in zip(rects, scores, strict=True):
            box = (rect.left() / scale, rect.top() / scale, (rect.right() + 1) / scale, (rect.bottom() + 1) / scale)
            shape = self._landmarks(image, self._dlib.rectangle(*(round(v) for v in box)))
            chip = np.asarray(self._dlib.get_face_chip(image, shape, size=CHIP_PX, padding=CHIP_PADDING))
            grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
            sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
            embedding = np.asarray(self._encoder.compute_face_descriptor(chip), dtype=np.float32)
            found.append(Face(box, float(score), sharpness, embedding))
        return found
