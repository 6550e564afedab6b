"""The ``yolo`` detector on tiny ONNX graphs whose outputs are constants encoding known boxes.

Real YOLO weights cannot be downloaded here, so each test builds a graph of the
right input and output shapes (Ultralytics, YOLOv5/YOLOX, YOLO-NAS) with
``onnx.helper`` and checks that the decoding, letterbox mapping, NMS and class
names give exactly the boxes the constants encode.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from camsift import load_config, scan
from camsift.config import DetectConfig
from camsift.detectors import configured, create
from camsift.detectors.yolo import YoloDetector, class_names_from_metadata
from camsift.errors import DetectorError

if TYPE_CHECKING:
    from onnx import GraphProto, NodeProto

    from camsift import Detections

onnx = pytest.importorskip("onnx", reason="onnx builds the test graphs: pip install onnx")
SIZE = 64  # model input side, pixels
IMAGE = np.zeros((64, 128, 3), np.uint8)  # 128 x 64: scale 0.5, letterbox padding 16 px above and below


def save_model(graph: GraphProto, path: Path, metadata: dict[str, str] | None) -> Path:
    """Save ``graph`` as an opset-17 ONNX model at ``path``, with ``metadata`` as its properties."""
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def constant_model(path: Path, outputs: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> Path:
    """An ONNX model with a ``(1, 3, SIZE, SIZE)`` input whose outputs are the given constants."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value.astype(np.float32), f"{name}_v"))
        for name, value in outputs.items()
    ]
    graph = helper.make_graph(
        nodes,
        "constant_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(v.shape)) for name, v in outputs.items()],
    )
    return save_model(graph, path, metadata)


def padded(rows: list[list[float]], n: int = 16) -> np.ndarray:
    """``(n, len(row))`` candidates: ``rows`` then zeros (real models have thousands, more than columns)."""
    out = np.zeros((n, len(rows[0])), np.float32)
    out[: len(rows)] = rows
    return out


def ultralytics_output() -> np.ndarray:
    """``(1, 4 + 3, 16)``: a person, its near duplicate, a dog, a candidate under the floor, then zeros."""
    candidates = [  # cx, cy, w, h (input pixels), then person, car, dog
        [32, 32, 20, 24, 0.9, 0.1, 0.0],
        [33, 32, 20, 24, 0.8, 0.0, 0.0],
        [10, 24, 8, 8, 0.0, 0.1, 0.6],
        [50, 50, 4, 4, 0.1, 0.2, 0.1],
    ]
    return padded(candidates).T[None]


PERSON = [44.0, 8.0, 84.0, 56.0]  # (22..42, 20..44) in the input, back through the letterbox
DOG = [12.0, 8.0, 28.0, 24.0]


def boxes(found: Detections) -> list[tuple[str, list[float], float]]:
    return [
        (str(lb), [round(float(v), 3) for v in b], round(float(c), 3))
        for lb, b, c in zip(found.label, found.xyxy, found.confidence, strict=True)
    ]


def test_ultralytics_layout_with_names_from_the_metadata(tmp_path: Path) -> None:
    path = constant_model(
        tmp_path / "yolo11.onnx", {"output0": ultralytics_output()}, {"names": "{0: 'person', 1: 'car', 2: 'dog'}"}
    )

    detector = YoloDetector(model=path, threads=1)

    assert (detector.layout, detector.input_size, detector.labels) == (
        "ultralytics",
        (64, 64),
        frozenset({"person", "car", "dog"}),
    )
    assert boxes(detector.detect(IMAGE)) == [("person", PERSON, 0.9), ("dog", DOG, 0.6)]


def test_yolov5_layout_multiplies_objectness_and_class(tmp_path: Path) -> None:
    rows = padded([[32, 32, 20, 24, 0.9, 0.5, 0.1], [10, 24, 8, 8, 0.2, 0.1, 0.9]])[None]
    path = constant_model(tmp_path / "yolov5.onnx", {"output": rows})

    detector = YoloDetector(model=path, class_names=["person", "car"], min_confidence=0.1, threads=1)

    assert detector.layout == "yolov5"
    assert boxes(detector.detect(IMAGE)) == [("person", PERSON, 0.45), ("car", DOG, 0.18)]


def test_yolox_is_padded_at_the_bottom_right(tmp_path: Path) -> None:
    rows = padded([[20, 10, 20, 12, 1.0, 0.8]])[None]
    path = constant_model(tmp_path / "yolox.onnx", {"output": rows})

    detector = YoloDetector(model=path, class_names=["person"], layout="yolox", threads=1)

    assert boxes(detector.detect(IMAGE)) == [("person", [20.0, 8.0, 60.0, 32.0], 0.8)]  # no top padding


def test_yolo_nas_two_outputs(tmp_path: Path) -> None:
    xyxy = np.array([[22, 20, 42, 44], [6, 20, 14, 28]], np.float32)[None]
    scores = np.array([[0.7, 0.05], [0.02, 0.3]], np.float32)[None]
    path = constant_model(tmp_path / "nas.onnx", {"boxes": xyxy, "scores": scores})

    detector = YoloDetector(model=path, class_names=["person", "dog"], threads=1)

    assert detector.layout == "yolo-nas"
    assert boxes(detector.detect(IMAGE)) == [("person", PERSON, 0.7), ("dog", DOG, 0.3)]


def test_80_classes_without_names_are_coco(tmp_path: Path) -> None:
    rows = np.zeros((1, 84, 100), np.float32)
    rows[0, :4, 0], rows[0, 4 + 2, 0] = [32, 32, 20, 24], 0.8  # class 2: car
    path = constant_model(tmp_path / "coco.onnx", {"output0": rows})

    assert boxes(YoloDetector(model=path, threads=1).detect(IMAGE)) == [("car", PERSON, 0.8)]


@pytest.mark.parametrize(
    ("outputs", "options", "message"),
    [
        ({"output0": ultralytics_output()}, {"class_names": ["person"]}, "has 3 classes but 1 class names"),
        ({"odd": np.zeros((1, 10), np.float32)}, {}, "match no known layout"),
        ({"output0": ultralytics_output()}, {"layout": "yolo-nas"}, "outputs .* are ultralytics"),
    ],
)
def test_bad_models_are_one_line_errors(
    tmp_path: Path, outputs: dict[str, np.ndarray], options: dict[str, Any], message: str
) -> None:
    path = constant_model(tmp_path / "m.onnx", outputs)

    with pytest.raises(DetectorError, match=message):
        YoloDetector(model=path, threads=1, **options)


def nas_with_dynamic_classes(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """The YOLO-NAS graph of `test_yolo_nas_two_outputs` (2 classes), its class dimension dynamic.

    Constant scores have a shape ONNX Runtime infers whatever the graph declares, so here they are
    tiled by the dynamic batch size (1 at run time) and reshaped to ``(1, 2, -1)``: ``(1, 2, 'classes')``.
    """
    from onnx import TensorProto, helper, numpy_helper

    def constant(name: str, value: np.ndarray) -> NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, f"{name}_v"))

    xyxy = np.array([[22, 20, 42, 44], [6, 20, 14, 28]], np.float32)[None]
    scores = np.array([0.7, 0.05, 0.02, 0.3], np.float32)
    nodes = [
        constant("boxes", xyxy),
        constant("flat", scores),
        constant("first", np.array([0], np.int64)),
        constant("second", np.array([1], np.int64)),
        constant("shape", np.array([1, 2, -1], np.int64)),
        helper.make_node("Shape", ["images"], ["input_shape"]),
        helper.make_node("Slice", ["input_shape", "first", "second"], ["batch"]),
        helper.make_node("Tile", ["flat", "batch"], ["tiled"]),
        helper.make_node("Reshape", ["tiled", "shape"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "nas_dynamic_classes",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 2, 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2, "classes"]),
        ],
    )
    return save_model(graph, path, metadata)


def test_a_dynamic_class_count_without_names_is_an_error_at_load(tmp_path: Path) -> None:
    path = nas_with_dynamic_classes(tmp_path / "nas_dynamic.onnx")

    with pytest.raises(DetectorError, match=r"nas_dynamic\.onnx.*dynamic.*set detect\.yolo\.class_names") as err:
        YoloDetector(model=path, threads=1)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("options", "metadata"),
    [({"class_names": ["person", "dog"]}, None), ({}, {"names": "{0: 'person', 1: 'dog'}"})],
    ids=["class_names", "metadata"],
)
def test_a_dynamic_class_count_takes_the_names_given(
    tmp_path: Path, options: dict[str, Any], metadata: dict[str, str] | None
) -> None:
    detector = YoloDetector(model=nas_with_dynamic_classes(tmp_path / "nas.onnx", metadata), threads=1, **options)

    assert detector.labels == {"person", "dog"}
    assert boxes(detector.detect(IMAGE)) == [("person", PERSON, 0.7), ("dog", DOG, 0.3)]


def test_too_few_names_for_a_dynamic_class_count_fail_at_detect(tmp_path: Path) -> None:
    detector = YoloDetector(model=nas_with_dynamic_classes(tmp_path / "nas.onnx"), class_names=["person"], threads=1)

    with pytest.raises(DetectorError, match="gave 2 class scores per candidate but 1 class names"):
        detector.detect(IMAGE)


def test_a_missing_model_is_a_detector_error(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match=r"set detect\.yolo\.model"):
        create("yolo")
    with pytest.raises(DetectorError, match="no model file at"):
        create("yolo", model=tmp_path / "nope.onnx")


@pytest.mark.parametrize(
    ("props", "names"),
    [
        ({"names": "{0: 'person', 1: 'fork lift'}"}, ["person", "fork lift"]),
        ({"names": "['a', 'b']"}, ["a", "b"]),
        ({"names": "not python"}, None),
        ({}, None),
    ],
)
def test_class_names_from_metadata(props: dict[str, str], names: list[str] | None) -> None:
    assert class_names_from_metadata(props) == names


def test_configured_from_the_detect_section_with_an_absent_gpu_provider(tmp_path: Path) -> None:
    path = constant_model(tmp_path / "m.onnx", {"output0": ultralytics_output()})
    detect = DetectConfig.model_validate(
        {
            "detector": "yolo",
            "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
            "yolo": {"model": str(path), "class_names": ["person", "car", "dog"], "min_confidence": 0.7},
        }
    )

    detector = configured(detect, threads=1, labels=frozenset({"person"}))

    assert isinstance(detector, YoloDetector)
    assert boxes(detector.detect(IMAGE)) == [("person", PERSON, 0.9)]


def test_labels_the_models_own_names_lack_fail_at_load(tmp_path: Path) -> None:
    """Without class_names the config cannot know the model's labels: they are checked when it loads."""
    path = constant_model(
        tmp_path / "m.onnx", {"output0": ultralytics_output()}, {"names": "{0: 'person', 1: 'car', 2: 'dog'}"}
    )
    detect = DetectConfig.model_validate({"detector": "yolo", "yolo": {"model": str(path)}})

    with pytest.raises(DetectorError, match=r"objects\.labels: unknown label 'persn' .*did you mean 'person'\?"):
        configured(detect, threads=1, labels=frozenset({"persn"}))
    assert configured(detect, threads=1, labels=frozenset({"person", "dog"})).labels == {"person", "car", "dog"}


def test_a_scan_with_a_yolo_model_records_its_events(shared_data: Path, tmp_path: Path) -> None:
    """The whole scan path (config, workers, pipeline, store) with a yolo model on a real picture."""
    path = constant_model(
        tmp_path / "m.onnx", {"output0": ultralytics_output()}, {"names": "{0: 'person', 1: 'car', 2: 'dog'}"}
    )
    settings = load_config(
        environ={},
        overrides={"data_dir": str(tmp_path / "data"), "detect.detector": "yolo", "detect.yolo.model": str(path)},
    )

    report = scan([shared_data / "images" / "skimage_astronaut.png"], settings, jobs=1)

    (result,) = report.files
    assert result.status == "ok"
    # The constant box appears in every crop the pipeline looks at, so there may be several events.
    assert result.events
    assert {e.label for e in result.events} == {"person"}
    assert all(e.snapshot is not None and e.snapshot.is_file() for e in result.events)
