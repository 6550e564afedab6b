"""Labels are checked against the detector's labels wherever they are named, with the closest known one."""

from __future__ import annotations

from pathlib import Path

import pytest

from camsift.camera_overrides import save_camera_settings
from camsift.config import CameraSettings, load_config
from camsift.errors import ConfigError
from camsift.layout import DataDir

SUGGEST = "unknown label 'persn' for detector 'auto'; did you mean 'person'?"


def error_of(tmp_path: Path, text: str, **kw: object) -> str:
    path = tmp_path / "camsift.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, **{"environ": {}, **kw})  # type: ignore[arg-type]
    return str(err.value).replace(str(path), "camsift.yaml")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("objects:\n  labels: [person, persn]\n", f"camsift.yaml:2: objects.labels: {SUGGEST}"),
        (
            "cameras:\n  porch:\n    objects:\n      labels: [persn]\n",
            f"camsift.yaml:4: cameras.porch.objects.labels: {SUGGEST}",
        ),
        (
            "objects:\n  filters:\n    persn: {min_confidence: 0.6}\n",
            f"camsift.yaml:3: objects.filters.persn: {SUGGEST}",
        ),
        (
            "objects:\n  zones:\n    path:\n      polygon: [[0, 0], [1, 0], [1, 1]]\n      labels: [persn]\n",
            f"camsift.yaml:5: objects.zones.path.labels: {SUGGEST}",
        ),
        (
            "cameras:\n  porch:\n    alarm: {labels: [persn]}\n",
            f"camsift.yaml:3: cameras.porch.alarm.labels: {SUGGEST}",
        ),
        (
            "notify:\n  rules:\n    cars:\n      labels: [cars]\n",
            "camsift.yaml:4: notify.rules.cars.labels: unknown label 'cars'",
        ),
        ("objects:\n  labels: [xyzzy]\n", "unknown label 'xyzzy' for detector 'auto'; it knows airplane, apple,"),
        # SSDLite finds people only; a camera that switches to it cannot inherit the global 'car'
        (
            "detect: {detector: ssdlite}\nobjects:\n  labels: [person, car]\n",
            "unknown label 'car' for detector 'ssdlite'; it knows person",
        ),
        (
            "objects:\n  labels: [person, car]\ncameras:\n  porch:\n    detect: {detector: ssdlite}\n",
            "camsift.yaml:2: objects.labels: unknown label 'car' for detector 'ssdlite'; it knows person "
            "(camera 'porch')",
        ),
        # a yolo model's own class names, when given
        (
            "detect:\n  detector: yolo\n  yolo: {model: m.onnx, class_names: [forklift, pallet]}\n"
            "objects:\n  labels: [forklit]\n",
            "camsift.yaml:5: objects.labels: unknown label 'forklit' for detector 'yolo'; did you mean 'forklift'?",
        ),
    ],
)
def test_an_unknown_label_in_the_file_points_at_its_key_and_suggests(tmp_path: Path, text: str, says: str) -> None:
    assert says in error_of(tmp_path, text)


@pytest.mark.parametrize(
    "text",
    [
        "objects:\n  labels: [Person, ' traffic light ', dog]\n  filters: {Car: {min_confidence: 0.7}}\n",
        "detect:\n  detector: yolo\n  yolo: {model: m.onnx, class_names: [forklift]}\nobjects:\n  labels: [forklift]\n",
        "detect:\n  detector: yolo\n  yolo: {model: m.onnx}\nobjects:\n  labels: [anything]\n",  # checked at load
        "detect: {detector: rekognition}\nobjects:\n  labels: [person, car, dog]\n",
    ],
)
def test_known_labels_pass(tmp_path: Path, text: str) -> None:
    path = tmp_path / "camsift.yaml"
    path.write_text(text)

    assert load_config(path, environ={}).objects.labels


def test_rekognition_knows_only_the_labels_it_maps(tmp_path: Path) -> None:
    says = error_of(tmp_path, "detect: {detector: rekognition}\nobjects:\n  labels: [person, backpack]\n")

    assert "unknown label 'backpack' for detector 'rekognition'" in says


def test_an_unknown_label_from_the_environment() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(environ={"CAMSIFT_CAMERAS__PORCH__OBJECTS__LABELS": "[persn]"})

    assert str(err.value) == f"environment: cameras.porch.objects.labels: {SUGGEST}"


def test_the_web_apps_camera_settings_refuse_an_unknown_label_and_keep_the_file(tmp_path: Path) -> None:
    base = load_config(environ={}, overrides={"data_dir": str(tmp_path)})
    values = CameraSettings.of(base, "porch").model_copy(update={"labels": ["person", "persn"]})

    with pytest.raises(ConfigError) as err:
        save_camera_settings(base, "porch", values)

    assert str(err.value) == f"cameras.porch.objects.labels: {SUGGEST}"
    assert not DataDir(tmp_path).overrides.exists()
