"""PP-PicoDet-S (416, 320) and NanoDet-Plus: real pictures of the test data, GFL decoding, the registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from test_nanodet import COCO128, ap50, coco128  # the COCO128 loader and AP of the NanoDet-m tests

from camsift.config import DetectConfig
from camsift.detectors import MODELS_DIR, Detector, configured, create
from camsift.detectors.coco import ANIMALS, COCO80
from camsift.detectors.gfl import ANIMAL_SCORE, PERSON_SCORE, GFLDetector
from camsift.detectors.nanodet_plus import NanoDetPlusDetector
from camsift.detectors.picodet import PicoDetDetector
from camsift.errors import DetectorError
from helpers.media import data_file

NAMES = ["picodet", "picodet-320", "nanodet-plus"]


def load(name: str) -> npt.NDArray[np.uint8]:
    """``name`` under ``images/`` (or another folder of the test data: ``faces/two_people.jpg``), RGB."""
    bgr = cv2.imread(str(data_file(name if "/" in name else f"images/{name}")), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {name}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.uint8, copy=False)


def iou(a: npt.NDArray[np.floating], b: Sequence[Sequence[float]]) -> npt.NDArray[np.floating[Any]]:
    """``(n, m)`` IoU of xyxy boxes ``a (n, 4)`` and ``b (m, 4)``."""
    import supervision as sv

    result: npt.NDArray[np.floating[Any]] = sv.box_iou_batch(np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b))
    return result


@pytest.fixture(scope="module", params=NAMES)
def detector(request: pytest.FixtureRequest) -> GFLDetector:
    made = create(request.param, threads=1)
    assert isinstance(made, GFLDetector)
    return made


def sure(found: Any, label: str) -> Any:
    return found[(found.label == label) & (found.confidence >= 0.5)]


# --- real pictures --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "person_box"),
    [
        # Hand-drawn boxes around the one person, in pixels of the 512x512 originals.
        ("skimage_astronaut.png", [18, 15, 365, 512]),
        ("skimage_camera.png", [0, 62, 330, 512]),
    ],
)
def test_finds_the_one_person(detector: GFLDetector, name: str, person_box: list[float]) -> None:
    people = sure(detector.detect(load(name)), "person")

    assert len(people) == 1
    assert iou(people.xyxy, [person_box])[0, 0] > 0.8
    assert people.data[PERSON_SCORE][0] == people.confidence[0]
    assert people.data[ANIMAL_SCORE][0] < 0.1


def test_bus_and_the_people_before_it(detector: GFLDetector) -> None:
    found = detector.detect(load("ultralytics_bus.jpg"))  # 810x1080, portrait

    bus = sure(found, "bus")
    assert len(bus) == 1
    assert iou(bus.xyxy, [[15, 230, 805, 740]])[0, 0] > 0.85
    # The three people standing in front of the bus, hand-drawn, pixels of the original.
    men = [[50, 400, 245, 905], [215, 400, 345, 860], [670, 380, 810, 875]]
    assert (iou(sure(found, "person").xyxy, men).max(axis=0) > 0.8).all()
    assert np.all((found.xyxy >= 0) & (found.xyxy <= [810, 1080, 810, 1080]))


def test_zidane(detector: GFLDetector) -> None:
    people = sure(detector.detect(load("ultralytics_zidane.jpg")), "person")  # 1280x720, landscape

    # Hand-drawn: Zidane on the right, the man bending towards him on the left (his box reaches the right man).
    assert len(people) == 2
    assert (iou(people.xyxy, [[745, 40, 1160, 720], [100, 200, 1000, 720]]).max(axis=0) > 0.75).all()


def test_the_cat_is_a_cat_not_a_person(detector: GFLDetector) -> None:
    found = detector.detect(load("skimage_chelsea_cat.png"))

    assert found.label[0] == "cat"
    assert found.data[ANIMAL_SCORE][0] == found.confidence[0] > 0.8
    assert not np.any((found.label == "person") & (found.confidence >= 0.5))
    assert np.all(found.data[PERSON_SCORE] < 0.1)


def test_boxes_follow_the_image_scale(detector: GFLDetector) -> None:
    image = load("skimage_astronaut.png")
    doubled = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC).astype(np.uint8, copy=False)

    small, large = sure(detector.detect(image), "person"), sure(detector.detect(doubled), "person")

    assert len(small) == len(large) == 1
    np.testing.assert_allclose(large.xyxy[0], small.xyxy[0] * 2, atol=6)


def test_batch_equals_one_by_one(detector: GFLDetector) -> None:
    images = [load(n) for n in ("skimage_astronaut.png", "faces/two_people.jpg", "skimage_coffee.png")]

    for batched, single in zip(detector.detect_batch(images), [detector.detect(im) for im in images], strict=True):
        assert batched.label.tolist() == single.label.tolist()
        np.testing.assert_array_equal(batched.xyxy, single.xyxy)
    assert detector.detect_batch([]) == []


def test_floor_confidence_applies() -> None:
    image = load("faces/two_people.jpg")
    low = PicoDetDetector(threads=1, min_confidence=0.05).detect(image)
    high = PicoDetDetector(threads=1, min_confidence=0.6).detect(image)

    assert len(low) > 3 * len(high) > 0
    assert low.confidence.min() >= 0.05
    assert high.confidence.min() >= 0.6
    assert list(low.confidence) == sorted(low.confidence, reverse=True)


@pytest.mark.slow
@pytest.mark.skipif(not COCO128.is_dir(), reason=f"COCO128 benchmark not found at {COCO128}")
@pytest.mark.parametrize(
    ("name", "person", "car"), [("picodet", 0.65, 0.13), ("picodet-320", 0.6, 0.11), ("nanodet-plus", 0.68, 0.2)]
)
def test_coco128_person_and_car_ap50(name: str, person: float, car: float) -> None:
    # Measured (floor 0.05, this AP): person 0.676 / 0.627 / 0.709, car 0.159 / 0.135 / 0.238. COCO128 is part of
    # COCO train2017, on which these models were trained; the floors guard against regressions: a missing
    # half-cell offset gives PicoDet 0.48, an added one NanoDet-Plus 0.55, RGB fed to NanoDet-Plus 0.67.
    detector = create(name, threads=2, min_confidence=0.05)
    samples = coco128()
    found = [detector.detect(image) for image, _, _ in samples]
    truth = [(boxes, labels) for _, boxes, labels in samples]

    assert ap50(found, truth, "person") > person
    assert ap50(found, truth, "car") > car


# --- decoding mechanics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cell_centre"),
    [
        # Cell (row 3, col 5) of the stride-16 map, the map after stride 8's 52x52 (416) or 40x40 (320) cells.
        ("picodet", (5.5 * 16, 3.5 * 16)),
        ("picodet-320", (5.5 * 16, 3.5 * 16)),
        ("nanodet-plus", (5 * 16, 3 * 16)),  # no half-cell offset
    ],
)
def test_decode_puts_a_box_around_its_cell_in_image_pixels(name: str, cell_centre: tuple[float, float]) -> None:
    detector = create(name, threads=1)
    assert isinstance(detector, GFLDetector)
    side = detector.input_size[0]
    cells = len(detector._centres)
    cell = (side // 8) ** 2 + 3 * (side // 16) + 5
    scores = np.zeros((cells, 80), np.float32)
    scores[cell, COCO80.index("dog")] = 0.9
    scores[cell, COCO80.index("person")] = 0.3
    scores[cell, COCO80.index("cat")] = 0.4
    logits = np.full((cells, 4, 8), -30.0, np.float32)
    logits[cell, [0, 1, 2, 3], [1, 2, 3, 4]] = 30.0  # left 1, top 2, right 3, bottom 4 strides, all but certain
    width, height = 1000, 500  # a non-square picture: x scaled by side / 1000, y by side / 500
    scale = np.array([side / width, side / height], np.float32)

    found = detector._decode(scores, logits.reshape(cells, 32), scale, np.zeros(2, np.float32), width, height)

    assert found.label.tolist() == ["dog", "cat", "person"]  # every class above the floor, no NMS across classes
    x, y = cell_centre
    expected = np.array([(x - 16) / scale[0], (y - 32) / scale[1], (x + 48) / scale[0], (y + 64) / scale[1]])
    np.testing.assert_allclose(found.xyxy, np.tile(expected, (3, 1)), rtol=1e-5)
    np.testing.assert_allclose(found.data[PERSON_SCORE], 0.3)
    np.testing.assert_allclose(found.data[ANIMAL_SCORE], 0.9)


def test_animals_are_the_coco_animal_supercategory() -> None:
    assert sorted(ANIMALS) == ["bear", "bird", "cat", "cow", "dog", "elephant", "giraffe", "horse", "sheep", "zebra"]


@pytest.mark.parametrize("shape", [(240, 320, 3), (1, 1, 3), (3, 700, 3)], ids=["blank", "one-pixel", "sliver"])
def test_featureless_or_tiny_pictures_give_nothing(detector: GFLDetector, shape: tuple[int, int, int]) -> None:
    found = detector.detect(np.full(shape, 128, np.uint8))

    assert len(found) == 0
    assert set(found.data) == {PERSON_SCORE, ANIMAL_SCORE}


@pytest.mark.parametrize(
    "image",
    [np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32)],
    ids=["empty", "grey", "float"],
)
def test_rejects_what_is_not_an_rgb_picture(detector: GFLDetector, image: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        detector.detect(image)


# --- registry and options -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "side"),
    [
        ("picodet", PicoDetDetector, 416),
        ("picodet-320", PicoDetDetector, 320),
        ("nanodet-plus", NanoDetPlusDetector, 416),
    ],
)
def test_registered_by_name(name: str, kind: type, side: int) -> None:
    detector = create(name, threads=1)

    assert isinstance(detector, kind)
    assert isinstance(detector, Detector)
    assert (detector.name, detector.input_size, detector.labels) == (name, (side, side), frozenset(COCO80))


def test_picodet_input_option() -> None:
    assert PicoDetDetector(input=320, threads=1).name == "picodet-320"
    with pytest.raises(ValueError, match="input must be one of 416, 320"):
        PicoDetDetector(input=300)


def test_configured_by_name_with_providers() -> None:
    detector = configured(
        DetectConfig(detector="picodet-320", providers=["CUDAExecutionProvider", "CPUExecutionProvider"]),
        threads=1,
        labels=frozenset({"person"}),
    )

    assert detector.name == "picodet-320"
    assert detector._session.get_providers() == ["CPUExecutionProvider"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: create("picodet-416"), "unknown detector 'picodet-416'; expected one of .*nanodet-plus.*picodet"),
        (lambda: PicoDetDetector(model=Path("/nonexistent/p.onnx")), "picodet: no model file at /nonexistent/p.onnx"),
        (lambda: NanoDetPlusDetector(model=Path(__file__)), "nanodet-plus: cannot load"),
        (lambda: NanoDetPlusDetector(threads=0), ValueError),
        (lambda: PicoDetDetector(min_confidence=1.5), ValueError),
    ],
)
def test_bad_names_and_options(make: Any, message: str | type[Exception]) -> None:
    if isinstance(message, str):
        with pytest.raises(DetectorError, match=message):
            make()
    else:
        with pytest.raises(message):
            make()


# --- the shipped files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", [416, 320])
def test_shipped_picodet_is_cleaned(side: int) -> None:
    """tools/convert_picodet.py: opset 14, weights not graph inputs, hard-swish fused, outputs named by stride."""
    import onnx

    model = onnx.load(str(MODELS_DIR / f"picodet_s_{side}_coco.onnx"))
    ops = [n.op_type for n in model.graph.node]

    assert model.opset_import[0].version == 14
    assert [i.name for i in model.graph.input] == ["image"]
    assert (ops.count("HardSwish"), ops.count("Clip"), ops.count("Div")) == (87, 0, 0)
    assert [o.name for o in model.graph.output] == [f"{k}_{s}" for k in ("scores", "boxes") for s in (8, 16, 32, 64)]


def test_shipped_nanodet_plus_is_float_without_quantisation_or_preprocessing() -> None:
    """tools/convert_nanodet_plus.py: float32 weights, no FakeQuantize left, a float NCHW input."""
    import onnx

    model = onnx.load(str(MODELS_DIR / "nanodet_plus_m_1.5x_416.onnx"))
    (image,) = model.graph.input

    assert [d.dim_value for d in image.type.tensor_type.shape.dim] == [1, 3, 416, 416]
    assert image.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert {t.data_type for t in model.graph.initializer} <= {onnx.TensorProto.FLOAT, onnx.TensorProto.INT64}
    assert sum(t.data_type == onnx.TensorProto.FLOAT for t in model.graph.initializer) >= 220  # weights and biases
    assert not {n.op_type for n in model.graph.node} & {"QuantizeLinear", "DequantizeLinear", "Gather", "Sub", "Div"}
