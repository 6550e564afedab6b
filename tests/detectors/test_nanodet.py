"""NanoDet-m COCO-80 detector on real pictures from ``../shared/data``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from camsift.detections import Detections
from camsift.detectors import MODELS_DIR, Detector, create
from camsift.detectors.coco import COCO80
from camsift.detectors.nanodet import NanoDetDetector
from camsift.errors import DetectorError
from helpers.media import DATA, data_file

IMAGES = DATA / "images"
COCO128 = DATA / "coco128"
needs_coco128 = pytest.mark.skipif(  # COCO's pictures carry their own Flickr licences: none is in tests/data
    not COCO128.is_dir(), reason=f"COCO128 benchmark not found at {COCO128} (only ../shared/data has it)"
)


def load(path: Path) -> npt.NDArray[np.uint8]:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.uint8, copy=False)


def iou(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """``(n, m)`` IoU of xyxy boxes ``a (n, 4)`` and ``b (m, 4)``."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    wh = np.clip(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    result: npt.NDArray[np.float64] = inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
    return result


@pytest.fixture(scope="module")
def detector() -> NanoDetDetector:
    return NanoDetDetector()


def test_is_a_registered_detector(detector: NanoDetDetector) -> None:
    assert isinstance(detector, Detector)
    assert isinstance(create("nanodet", threads=1), NanoDetDetector)
    assert (detector.name, detector.input_size) == ("nanodet", (416, 416))
    assert detector.labels == frozenset(COCO80)


@needs_coco128
def test_coco80_is_the_coco128_order() -> None:
    lines = (COCO128 / "config.yaml").read_text().splitlines()
    names = [line.split(":", 1)[1].strip() for line in lines if line.strip().split(":")[0].strip().isdigit()]
    assert tuple(names) == COCO80
    assert len(set(COCO80)) == 80


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": Path("/nonexistent/nanodet.onnx")}, "no model file at /nonexistent/nanodet.onnx"),
        ({"model": Path(__file__)}, "cannot load"),
    ],
)
def test_unusable_model_is_a_detector_error(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        NanoDetDetector(**options)


def test_missing_onnxruntime_is_a_detector_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` raise ImportError
    with pytest.raises(DetectorError, match="pip install onnxruntime"):
        NanoDetDetector()


@pytest.mark.parametrize(
    ("options", "message"), [({"threads": 0}, "threads"), ({"min_confidence": 1.5}, "min_confidence")]
)
def test_bad_options_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NanoDetDetector(model=MODELS_DIR / "nanodet_m_416_int8.onnx", **options)


@pytest.mark.parametrize(
    "image",
    [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), np.float32)],
    ids=["grey", "rgba", "float"],
)
def test_rejects_non_rgb_uint8(detector: NanoDetDetector, image: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        detector.detect(image)


def test_blank_image_gives_nothing(detector: NanoDetDetector) -> None:
    assert len(detector.detect(np.full((240, 320, 3), 128, np.uint8))) == 0


def test_motorcycle(detector: NanoDetDetector) -> None:
    found = detector.detect(load(data_file("images/skimage_motorcycle_left.png")))
    assert found.label[0] == "motorcycle"
    assert found.confidence[0] > 0.7
    # Hand-drawn box around the whole motorcycle, pixels of the 741x500 original.
    assert iou(found.xyxy[0], np.array([95, 95, 690, 450]))[0, 0] > 0.8


def test_bus_and_people(detector: NanoDetDetector) -> None:
    found = detector.detect(load(data_file("images/ultralytics_bus.jpg")))
    bus = found[found.label == "bus"]
    assert len(bus) == 1
    assert bus.confidence[0] > 0.6
    assert iou(bus.xyxy, np.array([15, 230, 805, 740]))[0, 0] > 0.8
    people = found[(found.label == "person") & (found.confidence > 0.35)]
    # The two men in front of the bus, hand-drawn, pixels of the 810x1080 original.
    men = np.array([[50, 400, 245, 900], [215, 405, 345, 860]])
    assert (iou(people.xyxy, men).max(axis=0) > 0.7).all()
    assert np.all((found.xyxy >= 0) & (found.xyxy <= [810, 1080, 810, 1080]))


def test_cat_is_a_cat(detector: NanoDetDetector) -> None:
    found = detector.detect(load(IMAGES / "skimage_chelsea_cat.png"))
    assert "cat" in found.label[:2]
    # With a plain (aspect-distorting) resize this model calls the cat a person at 0.59;
    # letterboxed it stays below 0.2.
    assert not np.any((found.label == "person") & (found.confidence > 0.3))


def test_boxes_follow_the_image_scale(detector: NanoDetDetector) -> None:
    image = load(IMAGES / "skimage_astronaut.png")
    doubled = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR).astype(np.uint8, copy=False)
    small, large = detector.detect(image)[:1], detector.detect(doubled)[:1]
    assert small.label[0] == large.label[0] == "person"
    np.testing.assert_allclose(large.xyxy[0], small.xyxy[0] * 2, atol=4)


def test_batch_equals_one_by_one(detector: NanoDetDetector) -> None:
    images = [load(IMAGES / n) for n in ("skimage_astronaut.png", "skimage_camera.png", "skimage_coffee.png")]
    for batched, single in zip(detector.detect_batch(images), [detector.detect(im) for im in images], strict=True):
        assert list(batched.label) == list(single.label)
        np.testing.assert_array_equal(batched.xyxy, single.xyxy)
    assert detector.detect_batch([]) == []


def coco128() -> list[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64], npt.NDArray[np.str_]]]:
    """COCO128 images (RGB) with ground-truth ``xyxy`` pixel boxes and labels."""
    samples = []
    for path in sorted((COCO128 / "images" / "train2017").glob("*.jpg")):
        image = load(path)
        height, width = image.shape[:2]
        label_file = COCO128 / "labels" / "train2017" / f"{path.stem}.txt"
        rows = np.loadtxt(label_file, ndmin=2) if label_file.exists() else np.zeros((0, 5))
        rows = rows.reshape(-1, 5)
        cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        samples.append((image, boxes, np.asarray(COCO80, np.str_)[rows[:, 0].astype(int)]))
    return samples


def ap50(
    found: list[Detections], truth: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]], label: str
) -> float:
    """COCO-style AP at IoU 0.5 for one label: greedy matching by confidence, 101-point interpolation."""
    hits: list[tuple[float, bool]] = []
    positives = 0
    for d, (boxes, labels) in zip(found, truth, strict=True):
        gt = boxes[labels == label]
        positives += len(gt)
        mine = d[d.label == label]
        overlap = iou(mine.xyxy, gt)
        used = np.zeros(len(gt), bool)
        for i in np.argsort(-mine.confidence, kind="stable"):
            best = int(np.argmax(np.where(used, -1, overlap[i]))) if len(gt) else -1
            hit = best >= 0 and overlap[i, best] >= 0.5 and not used[best]
            if hit:
                used[best] = True
            hits.append((float(mine.confidence[i]), hit))
    assert positives, f"no {label} in the ground truth"
    if not hits:
        return 0.0
    hits.sort(key=lambda h: -h[0])
    tp = np.cumsum([h for _, h in hits])
    recall = tp / positives
    precision = np.maximum.accumulate((tp / np.arange(1, len(hits) + 1))[::-1])[::-1]
    at = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    return float(np.mean(np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0.0)))


@needs_coco128
@pytest.mark.slow
def test_coco128_person_and_car_ap50() -> None:
    # Measured with this detector (letterbox, floor 0.05, NMS 0.6): person 0.634, car 0.139,
    # mAP50 over the 71 classes present 0.486. COCO128 is part of COCO train2017, on which
    # NanoDet was trained, so these are optimistic; the floors only guard against regressions
    # (a wrong normalisation gives person 0.43, a wrong cell centre 0.48).
    detector = NanoDetDetector(min_confidence=0.05)
    samples = coco128()
    found = [detector.detect(image) for image, _, _ in samples]
    truth = [(boxes, labels) for _, boxes, labels in samples]
    assert ap50(found, truth, "person") > 0.60
    assert ap50(found, truth, "car") > 0.11


def test_the_shipped_model_is_int8_with_a_float_first_layer_and_head() -> None:
    """tools/quantize_nanodet.py: int8 convolutions (QDQ) but for the first one and the head's six."""
    import onnx

    first_and_head = {"Conv__1", "Conv__36", "Conv__41", "Conv__43", "Conv__37", "Conv__42", "Conv__44"}
    model = onnx.load(str(MODELS_DIR / "nanodet_m_416_int8.onnx"))
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    dequantized = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    quantized = {n.name for n in convs if n.input[0] in dequantized}

    assert len(convs) == 34
    assert quantized == {n.name for n in convs} - first_and_head
