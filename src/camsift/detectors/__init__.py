"""Object detectors behind one small Protocol, with an explicit registry.

A detector takes one RGB image and returns `Detections` in that image's pixels.
Backends register themselves with ``@register("name")``; the list of backend
modules below is explicit (no discovery by importing every module), and each
module keeps its heavy imports (ONNX Runtime, cloud SDKs) inside its
constructor so that importing camsift stays cheap.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from camsift.detections import Detections
from camsift.detectors.coco import COCO80
from camsift.errors import DetectorError

if TYPE_CHECKING:
    from camsift.config import DetectConfig

__all__ = [
    "MODELS_DIR",
    "SECOND_OPINION",
    "Detector",
    "available",
    "configured",
    "create",
    "register",
    "unknown_label",
    "vocabulary",
]

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Folder of the ONNX models shipped inside the package (see its MODEL_CARD.md)."""

# name -> module that registers it; imported only when that name is asked for.
_MODULES: dict[str, str] = {
    "ssdlite": "camsift.detectors.ssdlite",
    "nanodet": "camsift.detectors.nanodet",
    "picodet": "camsift.detectors.picodet",
    "picodet-320": "camsift.detectors.picodet",
    "nanodet-plus": "camsift.detectors.nanodet_plus",
    "auto": "camsift.detectors.auto",
    "scripted": "camsift.detectors.scripted",
    "yolo": "camsift.detectors.yolo",
    "rekognition": "camsift.detectors.rekognition",
    "deepstack": "camsift.detectors.deepstack",
}

_ONNX = frozenset({"auto", "ssdlite", "nanodet", "picodet", "picodet-320", "nanodet-plus", "yolo"})
"""Backends running ONNX Runtime locally: they take ``providers``."""

_SECTIONS = ("yolo", "rekognition", "deepstack")
"""Backends with their own section under ``detect``, whose keys are their constructor's options."""

_FACTORIES: dict[str, Callable[..., Detector]] = {}

SECOND_OPINION = "second_opinion"
"""``Detections.data`` column (float32) an ensemble backend (``auto``) adds: per person box, the confidence its
second model gave the same person (0: it looked and saw none there; NaN: it did not look)."""


@runtime_checkable
class Detector(Protocol):
    """What every detector backend provides.

    Attributes:
        name: Registry name, e.g. ``"ssdlite"``.
        labels: Every label this detector can return (COCO names).
        input_size: ``(width, height)`` in pixels of the model's native input;
            the pipeline plans its crops around it so that small, distant
            objects are seen at native resolution.
    """

    name: str
    labels: frozenset[str]
    input_size: tuple[int, int]

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Find objects in one image.

        Args:
            image: ``(H, W, 3)`` uint8 RGB pixels, any size.

        Returns:
            Detections with ``xyxy`` in pixels of ``image``, after the model's
            own duplicate suppression, above the backend's floor confidence.
        """
        ...

    def detect_batch(
        self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
    ) -> list[Detections]:
        """`detect` on several images at once (one model call where the model allows).

        Args:
            images: ``(H_i, W_i, 3)`` uint8 RGB images; sizes may differ.
            thorough: Spend more compute to find more (an ensemble backend
                asks its slower model too); single-model backends ignore it.
            earlier: Empty, or one per image: boxes in that image's pixels with the `SECOND_OPINION` an
                earlier look at the same place of the same scene got (a caller keeps what the backend
                returned). On a fast look an ensemble backend need not ask its second model again where it
                would ask about nothing else; single-model backends ignore it.

        Returns:
            One `Detections` per image, in the same order, each in its own image's pixels.
        """
        ...


def register(name: str) -> Callable[[Callable[..., Detector]], Callable[..., Detector]]:
    """Class/function decorator that records a detector factory under ``name``."""

    def deco(factory: Callable[..., Detector]) -> Callable[..., Detector]:
        _FACTORIES[name] = factory
        return factory

    return deco


def available() -> list[str]:
    """Names that `create` accepts."""
    return sorted(_MODULES)


def create(name: str, **options: Any) -> Detector:
    """Build the detector registered as ``name``.

    Args:
        name: One of `available()`.
        **options: Passed to the backend's constructor (e.g. ``threads=1``).

    Raises:
        DetectorError: unknown name, missing model file or missing extra.
    """
    return _factory(name)(**options)


def _factory(name: str) -> Callable[..., Detector]:
    if name not in _MODULES:
        raise DetectorError(f"unknown detector {name!r}; expected one of {', '.join(available())}")
    if name not in _FACTORIES:
        importlib.import_module(_MODULES[name])
    return _FACTORIES[name]


def vocabulary(detect: DetectConfig) -> frozenset[str] | None:
    """Every label the detector that ``detect`` names can report, known before any model loads.

    A backend states its labels in its class's ``labels`` (SSDLite: person; NanoDet,
    DeepStack: the 80 COCO names; Rekognition: the labels it maps); one that sets them
    per instance (``auto``: those asked for; ``scripted``: its one label) reports COCO
    names; ``yolo`` reports ``detect.yolo.class_names``. Importing a backend's module is
    cheap: heavy imports wait for its constructor.

    Returns:
        The labels, or ``None`` when only the loaded model knows them (``yolo`` without ``class_names``).

    Raises:
        DetectorError: unknown detector name.
    """
    if detect.detector == "yolo":
        return frozenset(detect.yolo.class_names) if detect.yolo.class_names else None
    known = getattr(_factory(detect.detector), "labels", None)
    return known if isinstance(known, frozenset) else frozenset(COCO80)


def unknown_label(label: str, known: Collection[str], detector: str) -> str:
    """The one-line reason a label is refused, with the closest known one (difflib's ratio, as ``git`` suggests).

    Example:
        >>> unknown_label("persn", {"person", "car"}, "auto")
        "unknown label 'persn' for detector 'auto'; did you mean 'person'?"
    """
    names = sorted(known)
    close = difflib.get_close_matches(label, names, n=1)
    if close:
        hint = f"did you mean {close[0]!r}?"
    else:
        hint = f"it knows {', '.join(names[:12])}" + (f" … ({len(names)} labels)" if len(names) > 12 else "")
    return f"unknown label {label!r} for detector {detector!r}; {hint}"


def configured(
    detect: DetectConfig,
    *,
    threads: int,
    labels: frozenset[str],
    data_dir: Path | None = None,
    database: str | None = None,
) -> Detector:
    """Build the detector a ``detect`` config section names, with its options from that section.

    Args:
        detect: The section (``detect.detector`` names the backend; ``detect.providers`` go to ONNX
            backends; ``detect.yolo`` / ``detect.rekognition`` / ``detect.deepstack`` to theirs).
        threads: Inference threads.
        labels: Labels wanted (``objects.labels``; ``auto`` loads only the models they need).
        data_dir: The data directory; with ``database``, the event store where ``rekognition`` counts
            its paid requests.
        database: The ``database`` setting.

    Raises:
        DetectorError: as `create`; or a label in ``labels`` that a model whose labels the config could
            not know (``yolo`` without ``class_names``) does not have.
    """
    name = detect.detector
    options: dict[str, Any] = {"threads": threads}
    if name == "auto":
        options["labels"] = labels
    if name in _ONNX:
        options["providers"] = tuple(detect.providers)
    if name in _SECTIONS:
        options.update(dict(getattr(detect, name)))
    if name == "rekognition":
        options.update(data_dir=data_dir, database=database)
    detector = create(name, **options)
    unknown = sorted(labels - detector.labels)
    if unknown and vocabulary(detect) is None:  # a model naming its own classes: what is asked for is checked now
        raise DetectorError(f"objects.labels: {unknown_label(unknown[0], detector.labels, name)}")
    return detector
