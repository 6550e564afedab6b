"""Box geometry: duplicates merged by NMS, parts of an object absorbed into it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camsift import Detections, load_config
from camsift.boxes import absorb_parts, box_ios, box_iou, nms, nms_keep
from camsift.detectors import Detector
from helpers.media import run_pipeline


def found(*rows: tuple[float, float, float, float, float], label: str = "person") -> Detections:
    a = np.array(rows, np.float32).reshape(-1, 5)
    return Detections(xyxy=a[:, :4], confidence=a[:, 4], label=np.full(len(a), label))


def test_nms_keeps_the_surer_of_two_duplicates() -> None:
    kept = nms(found((0, 0, 100, 200, 0.6), (5, 5, 105, 205, 0.9)))

    assert kept.confidence.tolist() == pytest.approx([0.9])


def test_nms_keep_suppresses_within_a_group_only_and_lists_the_surest_first() -> None:
    xyxy = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    confidence = np.array([0.5, 0.9, 0.7, 0.6], np.float32)

    kept = nms_keep(xyxy, confidence, np.array([3, 3, 7, 3]), 0.6)

    assert kept.tolist() == [1, 2, 3]  # box 0 is box 1's weaker duplicate; box 2 is of another group


def test_iou_and_ios_of_every_pair() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], np.float32)
    b = np.array([[5, 0, 15, 10], [2, 2, 4, 4]], np.float32)

    assert box_iou(a, b).ravel().tolist() == pytest.approx([50 / 150, 4 / 100, 0.0, 0.0])
    assert box_ios(a, b).ravel().tolist() == pytest.approx([0.5, 1.0, 0.0, 0.0])
    assert box_iou(a, b[:0]).shape == (2, 0)


def test_head_and_shoulders_inside_the_whole_person_is_one_object() -> None:
    whole, head = (30, 90, 970, 970, 0.84), (485, 85, 750, 485, 0.99)  # biden.jpg, as the detector saw it

    kept = absorb_parts(found(whole, head))

    assert kept.xyxy.tolist() == [[30, 90, 970, 970]]
    assert kept.confidence.tolist() == pytest.approx([0.99])  # both were sightings of one person


@pytest.mark.parametrize(
    "boxes",
    [
        [(100, 100, 300, 500, 0.9), (150, 300, 250, 480, 0.8)],  # a child in front of an adult: top far below
        [(100, 100, 300, 500, 0.9), (100, 100, 250, 400, 0.8)],  # not small enough to be a part
        [(100, 100, 300, 500, 0.9), (250, 100, 350, 220, 0.8)],  # only partly inside
    ],
)
def test_separate_objects_stay_separate(boxes: list[tuple[float, float, float, float, float]]) -> None:
    assert len(absorb_parts(found(*boxes))) == 2


def test_other_labels_are_not_parts() -> None:
    both = Detections.merge([found((100, 100, 300, 500, 0.9)), found((120, 100, 200, 200, 0.8), label="dog")])

    assert sorted(absorb_parts(both).label.tolist()) == ["dog", "person"]


@pytest.mark.slow
# obama_and_biden.jpg shows four people (the two men, the girl and a woman cut in half by its right edge):
# one event each, no part twice.
@pytest.mark.parametrize(("name", "people"), [("biden.jpg", 1), ("obama.jpg", 1), ("obama_and_biden.jpg", 4)])
def test_one_event_per_person_on_real_photos(
    shared_data: Path, auto_detector: Detector, name: str, people: int
) -> None:
    events = run_pipeline(shared_data / "faces" / name, load_config(environ={}), auto_detector, still=True)

    assert [e.label for e in events] == ["person"] * people
