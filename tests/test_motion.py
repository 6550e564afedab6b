"""The motion gate: where something moved, in full-resolution pixels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from camsift.config import MotionConfig
from camsift.media import Frame
from camsift.motion import MotionGate
from helpers.media import background


def frame(index: int, rgb: npt.NDArray[np.uint8]) -> Frame:
    return Frame(index, index * 0.2, None, rgb.shape[1], rgb.shape[0], _rgb=rgb)


def walk(width: int, height: int, steps: int, box: tuple[int, int] = (16, 24)) -> list[tuple[int, int, int, int]]:
    """Red-box positions moving left to right at mid-height, ``steps`` positions."""
    xs = np.linspace(4, width - box[0] - 4, steps).astype(int)
    y = (height - box[1]) // 2
    return [(int(x), y, int(x) + box[0], y + box[1]) for x in xs]


def covers(outer: npt.NDArray[np.float32], inner: tuple[int, int, int, int], slack: float = 2.0) -> bool:
    return bool(
        outer[0] <= inner[0] + slack
        and outer[1] <= inner[1] + slack
        and outer[2] >= inner[2] - slack
        and outer[3] >= inner[3] - slack
    )


@pytest.mark.parametrize(("width", "height"), [(160, 96), (64, 64), (640, 360)])
def test_moving_box_is_found_where_it_is(width: int, height: int) -> None:
    box = (16 * width // 160, 24 * width // 160)
    positions = walk(width, height, 8, box)
    gate = MotionGate(MotionConfig(), width, height)

    first = gate.check(frame(0, background(width, height, [positions[0]])))
    moving = [gate.check(frame(i, background(width, height, [p]))) for i, p in enumerate(positions[1:], 1)]

    assert first.shape == (0, 4)  # nothing to compare with yet
    margin = 0.1 * max(width, height)
    for i, (boxes, now) in enumerate(zip(moving, positions[1:], strict=True), 1):
        assert boxes.dtype == np.float32
        assert len(boxes) >= 1, f"step {i}"
        assert any(covers(b, now) for b in boxes), f"step {i}: {boxes.tolist()} misses {now}"
        # nothing is reported away from the path walked so far (a fading trail may remain behind)
        lo = np.array([positions[0][0], now[1]]) - margin
        hi = np.array([now[2], now[3]]) + margin
        assert np.all(boxes[:, :2] >= lo), f"step {i}: {boxes.tolist()}"
        assert np.all(boxes[:, 2:] <= hi), f"step {i}: {boxes.tolist()}"
        assert np.all(boxes >= 0)
        assert np.all(boxes[:, 2:] <= [width, height])


def test_still_scene_has_no_motion() -> None:
    gate = MotionGate(MotionConfig(), 160, 96)
    still = background(160, 96, [(40, 30, 56, 54)])

    assert [len(gate.check(frame(i, still.copy()))) for i in range(6)] == [0] * 6


def test_specks_smaller_than_contour_area_are_ignored() -> None:
    gate = MotionGate(MotionConfig(contour_area=50), 160, 96)
    gate.check(frame(0, background(160, 96)))

    assert len(gate.check(frame(1, background(160, 96, [(80, 40, 82, 42)])))) == 0
    assert len(gate.check(frame(2, background(160, 96, [(80, 40, 100, 70)])))) == 1


def test_masked_area_is_ignored() -> None:
    config = MotionConfig(mask=[[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]])
    gate = MotionGate(config, 160, 96)

    found = [len(gate.check(frame(i, background(160, 96, [p])))) for i, p in enumerate(walk(160, 96, 5))]

    assert found == [0] * 5


def test_mask_covers_only_its_polygon() -> None:
    left_half = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
    gate = MotionGate(MotionConfig(mask=[left_half]), 160, 96)
    gate.check(frame(0, background(160, 96)))

    assert len(gate.check(frame(1, background(160, 96, [(10, 30, 30, 60)])))) == 0
    boxes = gate.check(frame(2, background(160, 96, [(110, 30, 130, 60)])))
    assert len(boxes) == 1
    assert boxes[0][0] >= 80


def test_whole_frame_change_resets_the_background() -> None:
    gate = MotionGate(MotionConfig(), 160, 96)
    day = background(160, 96)
    night = day.copy()
    night[4:-4] = 200  # IR switch: everything but the black and white bands changes

    gate.check(frame(0, day))
    switched = gate.check(frame(1, night))
    after = gate.check(frame(2, night.copy()))

    assert switched.tolist() == [[0, 0, 160, 96]]
    assert len(after) == 0  # the new scene is the background now
