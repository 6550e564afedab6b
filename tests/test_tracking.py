"""Tracking: stable ids per object across frames, first-sighting times, tracks that expire."""

from __future__ import annotations

import numpy as np
import pytest

from camsift import Detections
from camsift.config import ObjectsConfig
from camsift.tracking import Tracker


def seen(*boxes: tuple[float, float, float, float], label: str = "person", confidence: float = 0.9) -> Detections:
    return Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), confidence),
        label=np.full(len(boxes), label),
    )


def walk(tracker: Tracker, step_px: float, looks: int = 8, every_s: float = 0.4) -> list[Detections]:
    """A 20x60 box moving right by ``step_px`` between looks, ``every_s`` apart."""
    out = []
    for i in range(looks):
        x = 100 + step_px * i
        out.append(tracker.update(seen((x, 100, x + 20, 160)), round(every_s * i, 3)))
    return out


@pytest.mark.parametrize("step_px", [0, 4, 10, 20])
def test_one_object_keeps_one_id(step_px: float) -> None:
    results = walk(Tracker(ObjectsConfig(), lost_s=3.0), step_px)

    assert len(results[0]) == 0  # confirmed at its second sighting
    assert [r.tracker_id.tolist() for r in results[1:]] == [[1]] * 7
    assert results[-1].xyxy.tolist() == [[100 + 7 * step_px, 100, 120 + 7 * step_px, 160]]


def test_first_sighting_time_of_a_slow_object() -> None:
    results = walk(Tracker(ObjectsConfig(), lost_s=3.0), step_px=4)

    assert {float(r.data["first_s"][0]) for r in results[1:]} == {0.0}


@pytest.mark.parametrize("step_px", [12, 20])
def test_first_sighting_time_of_a_walking_object(step_px: float) -> None:
    results = walk(Tracker(ObjectsConfig(), lost_s=3.0), step_px)

    assert {float(r.data["first_s"][0]) for r in results[1:]} == {0.0}


def test_object_gone_longer_than_lost_s_is_a_new_track() -> None:
    tracker = Tracker(ObjectsConfig(), lost_s=1.0)
    box = (100, 100, 120, 160)

    ids = [(t, tracker.update(seen(box), t)) for t in (0.0, 0.4, 0.8, 1.2, 3.0, 3.4, 3.8)]

    assert [(t, r.tracker_id.tolist()) for t, r in ids] == [
        (0.0, []),
        (0.4, [1]),
        (0.8, [1]),
        (1.2, [1]),
        (3.0, []),  # 1.8 s later: the old track has expired, the new one is not confirmed yet
        (3.4, [2]),
        (3.8, [2]),
    ]
    assert ids[-1][1].data["first_s"].tolist() == [3.0]


def test_object_gone_less_than_lost_s_keeps_its_id() -> None:
    tracker = Tracker(ObjectsConfig(), lost_s=3.0)
    box = (100, 100, 120, 160)

    ids = [
        tracker.update(seen(box) if t < 1 or t > 2 else Detections.empty(), t).tracker_id.tolist()
        for t in (0, 0.4, 0.8, 1.2, 1.6, 2.4, 2.8)
    ]

    assert ids == [[], [1], [1], [], [], [1], [1]]


def test_ids_are_unique_across_objects_and_labels() -> None:
    tracker = Tracker(ObjectsConfig(labels=["person", "car"]), lost_s=3.0)
    frame = Detections.merge(
        [seen((100, 100, 120, 160)), seen((300, 100, 360, 140), label="car"), seen((500, 100, 520, 160))]
    )

    tracker.update(frame, 0.0)
    out = tracker.update(frame, 0.2)

    pairs = sorted(zip(out.label.tolist(), out.tracker_id.tolist(), out.xyxy[:, 0].tolist(), strict=True))
    assert [label for label, _, _ in pairs] == ["car", "person", "person"]
    assert len({tid for _, tid, _ in pairs}) == 3


def test_boxes_to_look_at_next() -> None:
    tracker = Tracker(ObjectsConfig(), lost_s=1.0)
    box = (100, 100, 120, 160)

    assert tracker.boxes().shape == (0, 4)
    tracker.update(seen(box), 0.0)
    assert tracker.boxes().tolist() == [list(box)]  # waiting for a second sighting
    tracker.update(seen(box), 0.4)
    tracker.update(Detections.empty(), 0.8)
    assert tracker.boxes().tolist() == [list(box)]  # tracked, seen 0.4 s ago
    tracker.update(Detections.empty(), 1.6)
    assert tracker.boxes().shape == (0, 4)  # not seen for more than lost_s
