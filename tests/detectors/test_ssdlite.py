"""SSDLite person detector on real pictures (``images/`` and ``faces/`` of the test data, `helpers.media.DATA`)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from camsift.detections import Detections
from camsift.detectors import Detector, create
from camsift.detectors.ssdlite import SSDLiteDetector
from camsift.errors import DetectorError
from helpers.media import DATA, data_file

IMAGES = DATA / "images"


def load(name: str) -> npt.NDArray[np.uint8]:
    """``name`` under ``images/`` (or another folder of the test data: ``faces/two_people.jpg``), RGB."""
    bgr = cv2.imread(str(data_file(name if "/" in name else f"images/{name}")), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {name}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.uint8, copy=False)


def iou(a: npt.NDArray[np.float32], b: list[float]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


@pytest.fixture(scope="module")
def detector() -> SSDLiteDetector:
    return SSDLiteDetector()


def confident(d: Detections) -> Detections:
    return d[d.confidence > 0.5]


def test_is_a_registered_detector(detector: SSDLiteDetector) -> None:
    assert isinstance(detector, Detector)
    assert isinstance(create("ssdlite", threads=1), SSDLiteDetector)
    assert (detector.name, detector.labels, detector.input_size) == ("ssdlite", frozenset({"person"}), (300, 300))


@pytest.mark.parametrize(
    ("name", "person_box"),
    [
        # Hand-drawn boxes around the one person, in pixels of the 512x512 originals.
        ("skimage_astronaut.png", [18, 15, 365, 512]),
        ("skimage_camera.png", [0, 62, 330, 512]),
    ],
)
def test_finds_the_one_person(detector: SSDLiteDetector, name: str, person_box: list[float]) -> None:
    people = confident(detector.detect(load(name)))
    assert len(people) == 1
    assert people.label.tolist() == ["person"]
    assert iou(people.xyxy[0], person_box) > 0.7


@pytest.mark.parametrize("name", ["skimage_chelsea_cat.png", "skimage_coffee.png", "skimage_rocket.jpg"])
def test_no_person_where_there_is_none(detector: SSDLiteDetector, name: str) -> None:
    assert len(confident(detector.detect(load(name)))) == 0


@pytest.mark.parametrize("name", ["ultralytics_bus.jpg", "ultralytics_zidane.jpg", "faces/two_people.jpg"])
def test_finds_several_people_in_pixels_of_the_original(detector: SSDLiteDetector, name: str) -> None:
    image = load(name)
    height, width = image.shape[:2]
    people = confident(detector.detect(image))
    assert len(people) >= 2
    assert set(people.label.tolist()) == {"person"}
    assert np.all(people.xyxy >= 0)
    assert np.all(people.xyxy[:, [0, 2]] <= width)
    assert np.all(people.xyxy[:, [1, 3]] <= height)
    assert np.all(people.area > 0.05 * width * height)  # whole people at this distance, not fragments


def test_batch_equals_one_by_one(detector: SSDLiteDetector) -> None:
    images = [load(p.name) for p in sorted(IMAGES.iterdir())] * 2  # more than one model call's worth (5 or 8 here)
    batched = detector.detect_batch(images)
    assert len(batched) == len(images)
    for image, got in zip(images, batched, strict=True):
        want = detector.detect(image)
        assert got.label.tolist() == want.label.tolist()
        np.testing.assert_allclose(got.confidence, want.confidence, atol=1e-4)
        np.testing.assert_allclose(got.xyxy, want.xyxy, atol=0.05)
    assert detector.detect_batch([]) == []


def test_floor_confidence_applies(detector: SSDLiteDetector) -> None:
    cat = load("skimage_chelsea_cat.png")
    everything = SSDLiteDetector(min_confidence=0.0).detect(cat)
    assert len(everything) > 10  # the model keeps up to 100 boxes after its NMS
    assert np.all(everything.confidence < 0.2)
    assert len(detector.detect(cat)) == 0


def test_missing_model_is_a_detector_error(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="not found"):
        SSDLiteDetector(model=tmp_path / "nope.onnx")


def test_rejects_non_rgb_input(detector: SSDLiteDetector) -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        detector.detect(np.zeros((10, 10), np.uint8))


def test_the_shipped_graph_is_trimmed() -> None:
    """tools/trim_ssdlite.py: a fixed 300x300 uint8 input, no in-graph loops or NMS, scores and boxes per anchor."""
    import onnx

    from camsift.detectors import MODELS_DIR

    model = onnx.load(str(MODELS_DIR / "ssdlite_person.onnx"))
    dims = [d.dim_value or d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]

    assert dims[1:] == [300, 300, 3]
    assert [o.name for o in model.graph.output] == ["scores", "boxes"]
    assert not {n.op_type for n in model.graph.node} & {"Loop", "NonMaxSuppression"}


@pytest.mark.parametrize("side", [300, 640])
def test_nothing_but_noise_gives_no_box_over_the_whole_picture(detector: SSDLiteDetector, side: int) -> None:
    image = np.random.default_rng(side).integers(0, 40, (side, side, 3), dtype=np.uint8)

    found = detector.detect(image)

    area = (found.xyxy[:, 2] - found.xyxy[:, 0]) * (found.xyxy[:, 3] - found.xyxy[:, 1])
    assert np.all(area < 0.85 * side * side)
    assert np.all((found.xyxy >= 0) & (found.xyxy <= side))
    assert list(found.confidence) == sorted(found.confidence, reverse=True)
