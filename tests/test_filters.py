"""Object filters: labels, confidence floor, size, masks and zones by the bottom centre of a box."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from camsift import Detections
from camsift.config import ObjectsConfig
from camsift.filters import FLOOR_FACTOR, ObjectFilter

W, H = 200, 100
LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
BOTTOM_HALF = [(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]


def detections(*rows: tuple[str, float, tuple[float, float, float, float]]) -> Detections:
    return Detections(
        xyxy=np.array([box for _, _, box in rows], np.float32).reshape(-1, 4),
        confidence=[c for _, c, _ in rows],
        label=[label for label, _, _ in rows],
    )


def kept(config: dict[str, Any], d: Detections) -> list[tuple[str, tuple[float, ...]]]:
    out = ObjectFilter(ObjectsConfig.model_validate(config), W, H).apply(d)
    return [(str(label), tuple(box)) for label, box in zip(out.label.tolist(), out.xyxy.tolist(), strict=True)]


def test_only_wanted_labels() -> None:
    d = detections(("person", 0.9, (0, 0, 10, 10)), ("car", 0.9, (20, 0, 30, 10)), ("dog", 0.9, (40, 0, 50, 10)))

    assert [lab for lab, _ in kept({"labels": ["person", "dog"]}, d)] == ["person", "dog"]
    assert kept({"labels": ["bicycle"]}, d) == []


@pytest.mark.parametrize(
    ("confidence", "is_kept"),
    [(0.5, True), (0.5 * FLOOR_FACTOR, True), (0.5 * FLOOR_FACTOR - 0.01, False), (0.05, False)],
)
def test_weak_detections_are_kept_down_to_the_tracking_floor(confidence: float, is_kept: bool) -> None:
    assert bool(kept({}, detections(("person", confidence, (0, 0, 10, 10))))) is is_kept


def test_per_label_confidence() -> None:
    d = detections(("person", 0.4, (0, 0, 10, 10)), ("car", 0.4, (20, 0, 30, 10)))
    config = {"labels": ["person", "car"], "filters": {"car": {"min_confidence": 0.9}}}

    assert [lab for lab, _ in kept(config, d)] == ["person"]


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({}, ["tiny", "mid", "huge"]),
        ({"min_area": 0.01}, ["mid", "huge"]),  # 1 % of 200x100 = 200 px²
        ({"max_area": 0.5}, ["tiny", "mid"]),
        ({"min_area": 0.01, "max_area": 0.5}, ["mid"]),
    ],
)
def test_min_and_max_area_as_a_fraction_of_the_frame(limits: dict[str, float], expected: list[str]) -> None:
    boxes = {"tiny": (0, 0, 10, 10), "mid": (50, 20, 90, 80), "huge": (0, 0, 200, 90)}  # 100, 2400, 18000 px²
    d = detections(*[("person", 0.9, box) for box in boxes.values()])
    by_box: dict[tuple[int, ...], str] = {box: name for name, box in boxes.items()}

    out = kept({"filters": {"person": limits}}, d)

    assert [by_box[tuple(int(v) for v in box)] for _, box in out] == expected


def test_mask_drops_objects_standing_in_it() -> None:
    d = detections(
        ("person", 0.9, (10, 10, 30, 60)),  # bottom centre (20, 60): left half
        ("person", 0.9, (150, 10, 170, 60)),  # (160, 60): right half
        ("person", 0.9, (80, 10, 140, 60)),  # body across the line, feet at (110, 60): right half
    )

    assert [box for _, box in kept({"mask": [LEFT_HALF]}, d)] == [(150, 10, 170, 60), (80, 10, 140, 60)]


def test_zones_are_entered_by_the_bottom_centre() -> None:
    d = detections(
        ("person", 0.9, (10, 10, 30, 90)),  # feet at (20, 90): left and bottom
        ("person", 0.9, (150, 5, 170, 40)),  # feet at (160, 40): neither
        ("person", 0.9, (90, 0, 130, 70)),  # body in both halves, feet at (110, 70): bottom only
    )
    config = {"zones": {"left": {"polygon": LEFT_HALF}, "bottom": {"polygon": BOTTOM_HALF}}}

    out = ObjectFilter(ObjectsConfig.model_validate(config), W, H).apply(d)

    assert out.data["zones"].tolist() == ["left,bottom", "", "bottom"]


def test_zone_only_for_its_labels() -> None:
    d = detections(("person", 0.9, (10, 10, 30, 90)), ("car", 0.9, (40, 10, 60, 90)))
    config = {"labels": ["person", "car"], "zones": {"drive": {"polygon": LEFT_HALF, "labels": ["car"]}}}

    out = ObjectFilter(ObjectsConfig.model_validate(config), W, H).apply(d)

    assert out.data["zones"].tolist() == ["", "drive"]


def test_required_zones_keep_only_objects_inside_them() -> None:
    d = detections(("person", 0.9, (10, 10, 30, 90)), ("person", 0.9, (150, 10, 170, 90)))
    config = {"zones": {"left": {"polygon": LEFT_HALF}}, "required_zones": ["left"]}

    assert kept(config, d) == [("person", (10, 10, 30, 90))]


def test_nothing_in_nothing_out() -> None:
    out = ObjectFilter(ObjectsConfig(), W, H).apply(Detections.empty())

    assert len(out) == 0
    assert out.data["zones"].shape == (0,)
