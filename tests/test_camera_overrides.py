"""Per-camera settings from the web app (``camera-overrides.yaml``) and false positives in the object filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camsift import Detections
from camsift.camera_overrides import (
    add_false_positive,
    false_positive_index,
    remove_false_positive,
    save_camera_settings,
)
from camsift.config import CameraSettings, FalsePositive, ObjectsConfig, load_config
from camsift.errors import ConfigError
from camsift.filters import FALSE_POSITIVE_MARGIN, ObjectFilter
from camsift.layout import DataDir


def test_saved_settings_are_merged_over_the_yaml(tmp_path: Path) -> None:
    yaml_file = tmp_path / "camsift.yaml"
    yaml_file.write_text("cameras:\n  porch:\n    motion: {threshold: 30, contour_area: 12}\n")
    base = load_config(yaml_file, environ={}, overrides={"data_dir": str(tmp_path / "data")})
    values = CameraSettings.of(base, "porch").model_copy(update={"motion_threshold": 45, "labels": ["person", "cat"]})

    save_camera_settings(base, "porch", values)
    again = load_config(yaml_file, environ={}, overrides={"data_dir": str(tmp_path / "data")}).for_camera("porch")

    assert again.motion.threshold == 45
    assert again.motion.contour_area == 12  # a key the file does not set stays the YAML's
    assert again.objects.labels == ["person", "cat"]
    assert load_config(yaml_file, environ={}).for_camera("porch").motion.threshold == 30  # another data_dir


def test_a_bad_change_is_refused_and_not_written(tmp_path: Path) -> None:
    base = load_config(environ={}, overrides={"data_dir": str(tmp_path)})
    values = CameraSettings.of(base, "porch").model_copy(update={"pre_roll_s": 45.0})  # buffer_s is 30

    with pytest.raises(ConfigError, match="pre_roll_s"):
        save_camera_settings(base, "porch", values)

    assert not DataDir(tmp_path).overrides.exists()


def test_a_misshapen_file_is_a_config_error(tmp_path: Path) -> None:
    DataDir(tmp_path).overrides.write_text("porch: [1, 2]\n")

    with pytest.raises(ConfigError, match=r"camera-overrides\.yaml"):
        load_config(environ={}, overrides={"data_dir": str(tmp_path)})


def test_false_positives_accumulate_per_camera_once_each_and_can_be_removed(tmp_path: Path) -> None:
    base = load_config(environ={}, overrides={"data_dir": str(tmp_path)})
    first = FalsePositive(label="person", box=(0.1, 0.2, 0.3, 0.9), confidence=0.6, event="e1")
    again = first.model_copy(update={"event": "e2", "box": (0.1, 0.2, 0.3, 0.89)})  # the same coat, next day
    other = FalsePositive(label="person", box=(0.6, 0.2, 0.8, 0.9), confidence=0.5, event="e3")

    changed = add_false_positive(
        add_false_positive(add_false_positive(base, "porch", first), "porch", again), "porch", other
    )
    twice = add_false_positive(changed, "porch", first)

    assert [f.event for f in changed.for_camera("porch").objects.false_positives] == ["e1", "e3"]
    assert twice is changed
    assert changed.for_camera("garden").objects.false_positives == []
    assert false_positive_index(changed, "porch", again) == 0
    removed = remove_false_positive(changed, "porch", 0)
    assert [f.event for f in removed.for_camera("porch").objects.false_positives] == ["e3"]
    reloaded = load_config(environ={}, overrides={"data_dir": str(tmp_path)})
    assert [f.event for f in reloaded.for_camera("porch").objects.false_positives] == ["e3"]
    with pytest.raises(ConfigError, match="no false positive number 2"):
        remove_false_positive(removed, "porch", 1)


W, H = 200, 100
COAT = (0.1, 0.2, 0.3, 0.9)  # relative box of a coat on a hook that was taken for a person


def detections(*rows: tuple[str, float, tuple[float, float, float, float]]) -> Detections:
    return Detections(
        xyxy=np.array([box for _, _, box in rows], np.float32).reshape(-1, 4),
        confidence=[c for _, c, _ in rows],
        label=[label for label, _, _ in rows],
    )


@pytest.mark.parametrize(
    ("label", "confidence", "box", "kept"),
    [
        ("person", 0.6, (20, 20, 60, 90), False),  # the same thing again
        ("person", 0.6 + FALSE_POSITIVE_MARGIN, (22, 21, 61, 88), False),  # a little surer, a little moved
        ("person", 0.9, (20, 20, 60, 90), True),  # much surer: a real person standing there
        ("person", 0.6, (120, 20, 160, 90), True),  # elsewhere
        ("person", 0.6, (20, 20, 40, 50), True),  # overlaps less than IoU 0.5
        ("dog", 0.6, (20, 20, 60, 90), True),  # another label
    ],
)
def test_filter_drops_detections_like_a_false_positive(
    label: str, confidence: float, box: tuple[float, float, float, float], kept: bool
) -> None:
    marked = FalsePositive(label="person", box=COAT, confidence=0.6)
    config = ObjectsConfig(labels=["person", "dog"], false_positives=[marked])

    filt = ObjectFilter(config, W, H)
    out = filt.after_tracking(filt.apply(detections((label, confidence, box))))

    assert (len(out) == 1) is kept


def test_a_false_positive_hides_only_what_never_left_its_place() -> None:
    """A coat never moves; a person walking through the coat's place came from elsewhere (and stays shown)."""
    config = ObjectsConfig(labels=["person"], false_positives=[FalsePositive(label="person", box=COAT, confidence=0.9)])
    filt = ObjectFilter(config, W, H)
    coat, elsewhere = (20, 20, 60, 90), (120, 20, 160, 90)

    def frame(*tracks: tuple[int, tuple[float, float, float, float]]) -> list[int]:
        rows = [("person", 0.9, box) for _, box in tracks]
        d = Detections(
            xyxy=np.array([box for _, box in tracks], np.float32).reshape(-1, 4),
            confidence=[c for _, c, _ in rows],
            label=[label for label, _, _ in rows],
            tracker_id=np.array([t for t, _ in tracks], np.int64),
        )
        return [int(t) for t in filt.after_tracking(d).tracker_id]

    assert frame((1, coat)) == []  # the coat
    assert frame((1, coat), (2, elsewhere)) == [2]  # a walker appears elsewhere
    assert frame((1, coat), (2, coat)) == [2]  # ... and passes the coat: still shown
    assert frame((3, coat)) == []  # someone steps out right at the coat's place
    assert frame((3, elsewhere)) == [3]  # ... and walks away: from now on an object like any other
    assert frame((3, coat)) == [3]
    assert frame((1, coat)) == []  # the coat never moved


def test_refreshed_picks_up_a_change_once(tmp_path: Path) -> None:
    from camsift.camera_overrides import refreshed

    base = load_config(environ={}, overrides={"data_dir": str(tmp_path)})
    assert refreshed(base) is base  # no file yet

    save_camera_settings(base, "porch", CameraSettings.of(base, "porch").model_copy(update={"motion_threshold": 50}))
    first = refreshed(base)

    assert first.for_camera("porch").motion.threshold == 50
    assert refreshed(base) is first  # unchanged file: no new parse
    DataDir(tmp_path).overrides.write_text("porch: [oops]\n")
    assert refreshed(base) is base  # a broken file is ignored, not fatal
