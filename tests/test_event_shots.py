"""`EventBuilder` keeps each event's best few frames (``events.best_frames``), spread in time, best first."""

from __future__ import annotations

import pytest

from camsift.config import EventsConfig, ObjectsConfig
from camsift.detections import Detections
from camsift.events import EventBuilder
from camsift.media import Frame
from helpers.media import EPOCH


def shots_of(confidences: list[float], best_frames: int, step_s: float = 0.2) -> list[float]:
    builder = EventBuilder("cam", EPOCH, EventsConfig(best_frames=best_frames), ObjectsConfig(), "x", 200, 100)
    for i, confidence in enumerate(confidences):
        d = Detections(xyxy=[(50, 20, 80, 80)], confidence=[confidence], label=["person"], tracker_id=[1])
        builder.feed(Frame(i, round(i * step_s, 3), i, 200, 100), d)
    (event,) = builder.finish()
    assert event.best is event.shots[0]
    return [s.ts_s for s in event.shots]


@pytest.mark.parametrize(
    ("confidences", "best_frames", "expected"),
    [
        # 0.8 s (0.8) is too near 0.2 s (0.9); 0.8 s, 1.0 s, 1.2 s replace each other as each is better
        ([0.6, 0.9, 0.7, 0.8, 0.5, 0.65, 0.7, 0.55], 3, [0.2, 1.2]),
        ([0.6, 0.9, 0.7, 0.8, 0.5, 0.65, 0.7, 0.55, 0.6, 0.5, 0.6], 3, [0.2, 1.2, 2.0]),
        ([0.6, 0.9, 0.7, 0.8, 0.5, 0.65, 0.7, 0.55], 1, [0.2]),
        ([0.9, 0.9, 0.9, 0.9], 3, [0.0, 0.6]),  # ties: the earliest stays
        ([0.7, 0.7], 3, [0.0]),
    ],
)
def test_best_frames_are_kept_half_a_second_apart(
    confidences: list[float], best_frames: int, expected: list[float]
) -> None:
    assert shots_of(confidences, best_frames) == expected
