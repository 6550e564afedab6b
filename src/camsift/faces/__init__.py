"""Faces: engines that find and embed faces, the known-faces library, and what an event's faces say.

A face engine takes an RGB image and returns `Face` values: a box, the
detector's score, a sharpness measure and an embedding (a vector in which
photos of one person lie close together). Engines are listed explicitly in
`ENGINES` and imported only when asked for, so ``import camsift`` never loads
dlib; a different embedding model can replace dlib by adding a row there.
Embeddings are stored with the engine's ``model`` name and only compared
with embeddings of the same model.

The pieces:

- `camsift.faces.library`: `Library.match` (nearest known example, vetoed by
  "not this person" examples), `decide` (one answer per event), `cluster`
  (grouping unknown faces);
- `camsift.faces.enrol`: checking a photo before it joins the library;
- `camsift.faces.recognizer`: `FaceRecognizer`, the stage that names the person
  events of a clip, and `face_recognizer`, which builds it from the settings
  and the stored library.

This module imports nothing heavy.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from camsift.errors import DetectorError

__all__ = ["ENGINES", "UNKNOWN", "Embedding", "Face", "FaceEngine", "FaceSighting", "create_engine", "engine_model"]

UNKNOWN = "unknown"
"""``Event.sub_label`` of a person whose face was seen and is not in the library (never a person's name)."""

Embedding = npt.NDArray[np.float32]
"""``(dim,)`` float32 face embedding (dlib: 128 values, Euclidean distances)."""

ENGINES: dict[str, str] = {"dlib": "camsift.faces.dlib_engine:DlibEngine"}
"""Engine name -> ``module:class`` that implements `FaceEngine`; imported on first use."""


@dataclass(frozen=True, eq=False)
class Face:
    """One face an engine found in an image.

    Attributes:
        box_xyxy: ``(x1, y1, x2, y2)`` in pixels of the image given to the engine (may reach outside it).
        score: Detector score (dlib HOG: SVM margin, about -0.5..3; higher is surer).
        sharpness: Variance of the Laplacian of the aligned grey face (dlib: 150x150); under ~30 looks blurred.
        embedding: The face's embedding.
    """

    box_xyxy: tuple[float, float, float, float]
    score: float
    sharpness: float
    embedding: Embedding = field(repr=False)

    @property
    def size_px(self) -> float:
        """Width of the face box in pixels."""
        return self.box_xyxy[2] - self.box_xyxy[0]


class FaceEngine(Protocol):
    """What every face engine provides.

    Attributes:
        name: Registry name, e.g. ``"dlib"``.
        model: Name of the embedding model, stored with every embedding.
        min_face_px: Smallest face the detector finds at ``scale=1``, in pixels.
    """

    name: str
    model: str
    min_face_px: int

    def faces(self, image: npt.NDArray[np.uint8], *, scale: float = 1.0) -> list[Face]:
        """Find and embed the faces in an image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB.
            scale: Resize factor of the copy the detector searches (2 finds faces half as
                big, at four times the cost); embeddings always come from ``image`` itself.

        Returns:
            Faces with boxes in pixels of ``image``.
        """
        ...


def _engine_class(name: str) -> Any:
    if name not in ENGINES:
        raise DetectorError(f"unknown face engine {name!r}; expected one of {', '.join(sorted(ENGINES))}")
    module, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def create_engine(name: str) -> FaceEngine:
    """Load the face engine registered as ``name``.

    Raises:
        DetectorError: unknown name, missing model files, or the ``faces`` extra is not installed.
    """
    engine: FaceEngine = _engine_class(name)()
    return engine


def engine_model(name: str) -> str:
    """The embedding model of engine ``name``, without loading it (its module imports nothing heavy).

    Raises:
        DetectorError: unknown name.
    """
    return str(_engine_class(name).model)


@dataclass(frozen=True, eq=False)
class FaceSighting:
    """A face seen on an event, and what the library made of it.

    Attributes:
        n: Number of the face within its event (0, 1 …).
        ts_s: Time of its frame, seconds from the first decoded frame.
        box_xyxy: Face box in full-resolution frame pixels.
        score: Detector score.
        sharpness: See `Face.sharpness`.
        model: Embedding model (`FaceEngine.model`).
        embedding: The embedding.
        name: The known person it matched; ``None`` when unknown.
        distance: Distance to the nearest known example (``None`` with an empty library).
        crop: Saved picture of the face, once saved.
    """

    n: int
    ts_s: float
    box_xyxy: tuple[float, float, float, float]
    score: float
    sharpness: float
    model: str
    embedding: Embedding = field(repr=False)
    name: str | None = None
    distance: float | None = None
    crop: Path | None = None

    def replace(self, **changes: Any) -> FaceSighting:
        """A copy with some fields replaced."""
        return replace(self, **changes)
