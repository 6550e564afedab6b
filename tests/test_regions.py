"""Regions: the square crops the detector looks at, when it looks, and boxes mapped back to the frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from camsift import media
from camsift.config import DetectConfig
from camsift.detections import Detections
from camsift.detectors import create
from camsift.detectors.scripted import ScriptedDetector
from camsift.media import Frame
from camsift.region_plans import MAX_CROPS, MAX_ZOOM, MIN_ZOOM_PX
from camsift.regions import (
    Plan,
    RegionDetector,
    Scheduler,
    cover_squares,
    lift_dark,
    plan_regions,
    whole_frame,
)
from helpers.media import background, data_file

NONE = np.zeros((0, 4), np.float32)

SIZES = [(160, 96), (160, 120), (64, 64), (320, 240), (1280, 720), (1920, 1080), (720, 1280)]


def coverage(squares: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.bool_]:
    covered = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in np.round(squares).astype(int):
        covered[y1:y2, x1:x2] = True
    return covered


def inside_frame(squares: npt.NDArray[np.float32], width: int, height: int) -> bool:
    return bool(np.all(squares[:, :2] >= 0) and np.all(squares[:, 2] <= width) and np.all(squares[:, 3] <= height))


def contains(outer: npt.NDArray[np.float32], box: npt.NDArray[np.float32]) -> bool:
    return bool(np.all(outer[:2] <= box[:2] + 1e-3) and np.all(outer[2:] >= box[2:] - 1e-3))


def sides(squares: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    w, h = squares[:, 2] - squares[:, 0], squares[:, 3] - squares[:, 1]
    assert np.allclose(w, h), f"not square: {squares.tolist()}"
    return w


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("side", [None, 300, 50])
def test_cover_squares_tile_the_frame(width: int, height: int, side: int | None) -> None:
    squares = cover_squares(width, height, side)

    expected = min(side or min(width, height), width, height)
    assert squares.dtype == np.float32
    assert np.allclose(sides(squares), expected)
    assert inside_frame(squares, width, height)
    assert coverage(squares, width, height).all()
    assert len(squares) == int(np.ceil(width / expected - 1e-6)) * int(np.ceil(height / expected - 1e-6))


def test_cover_squares_of_a_16_9_frame_are_two_overlapping_squares() -> None:
    assert cover_squares(1280, 720).tolist() == [[0, 0, 720, 720], [560, 0, 1280, 720]]


@pytest.mark.parametrize(("width", "height", "tiles"), [(320, 240, 0), (1280, 720, 8), (1920, 1080, 8)])
def test_whole_frame_is_the_frame_its_covering_squares_and_finer_tiles_of_large_frames(
    width: int, height: int, tiles: int
) -> None:
    regions = whole_frame(width, height, 300)

    coarse = cover_squares(width, height)
    assert regions[0].tolist() == [0, 0, width, height]  # stretched to the input, as COCO models were trained
    assert np.array_equal(regions[1 : 1 + len(coarse)], coarse)
    assert len(regions) == 1 + len(coarse) + tiles
    assert inside_frame(regions, width, height)
    if tiles:
        assert np.allclose(sides(regions[1 + len(coarse) :]), max(300, min(width, height) // 2))


def test_the_whole_of_a_square_frame_is_its_one_covering_square() -> None:
    assert whole_frame(400, 400, 300).tolist() == [[0, 0, 400, 400]]


ONE_BOX = [
    ((1280, 720), [[600, 300, 640, 400]]),
    ((1280, 720), [[1240, 680, 1280, 720]]),  # in a corner
    ((1280, 720), [[100, 100, 130, 180], [1100, 500, 1140, 600]]),  # far apart, large frame
    ((1920, 1080), [[900, 100, 1200, 1000]]),  # a tall person close to the camera
    ((640, 480), [[0, 200, 40, 300]]),  # touching the left edge
]

TWO_SIDES = [
    ((640, 360), [[2, 134, 22, 162], [618, 134, 638, 162]]),  # boxes at opposite sides
    ((720, 1280), [[300, 10, 340, 90], [300, 1180, 340, 1260]]),  # portrait
]
TOO_BIG = [  # longer than the frame's short side: no square holds them, the covering squares see them in parts
    ((640, 360), [[0, 0, 640, 360]]),  # the whole frame moves
    ((1280, 720), [[100, 100, 1200, 300]]),  # wider than the frame is tall
]

TINY = [  # no larger than the model's input either way: one square from the corner, padded
    ((160, 96), [[70, 30, 86, 54]]),
    ((160, 96), [[2, 34, 22, 62], [138, 34, 158, 62]]),
    ((160, 96), [[0, 0, 160, 96]]),
    ((192, 144), [[10, 100, 40, 140]]),
    ((240, 300), [[100, 260, 140, 300]]),  # portrait
]


@pytest.mark.parametrize(("size", "boxes"), TINY)
def test_a_frame_no_larger_than_the_model_input_is_looked_at_whole(
    size: tuple[int, int], boxes: list[list[float]]
) -> None:
    width, height = size

    moving = plan_regions(np.asarray(boxes, np.float32), width, height, 300, whole=False)
    whole = plan_regions(NONE, width, height, 300, whole=True)

    assert moving.tolist() == whole.tolist() == [[0, 0, max(size), max(size)]]
    assert plan_regions(NONE, width, height, 300, whole=False).shape == (0, 4)


@pytest.mark.parametrize(
    ("boxes", "picked"),
    [
        ([[10, 100, 40, 180]], [[0, 0, 240, 240]]),  # only the left square holds it
        ([[280, 100, 310, 180]], [[80, 0, 320, 240]]),  # only the right one
        ([[150, 100, 180, 180]], [[80, 0, 320, 240]]),  # both do: the one centred nearer
        ([[10, 100, 40, 180], [150, 100, 180, 180]], [[0, 0, 240, 240]]),  # one already picked holds both
        ([[10, 100, 40, 180], [280, 100, 310, 180]], [[0, 0, 240, 240], [80, 0, 320, 240]]),
        ([[0, 0, 320, 240]], [[0, 0, 240, 240], [80, 0, 320, 240]]),  # none holds it: every square it overlaps
    ],
)
def test_a_frame_as_short_as_the_model_input_is_looked_at_in_its_covering_squares(
    boxes: list[list[float]], picked: list[list[float]]
) -> None:
    regions = plan_regions(np.asarray(boxes, np.float32), 320, 240, 300, whole=False)

    assert regions.tolist() == picked
    assert plan_regions(NONE, 320, 240, 300, whole=True).tolist() == whole_frame(320, 240, 300).tolist()


@pytest.mark.parametrize(("size", "boxes"), ONE_BOX + TWO_SIDES + TOO_BIG)
def test_planned_crops_are_squares_in_the_frame_that_contain_every_box(
    size: tuple[int, int], boxes: list[list[float]]
) -> None:
    width, height = size
    moving = np.asarray(boxes, np.float32)

    regions = plan_regions(moving, width, height, 300, whole=False)

    fits = all(max(b[2] - b[0], b[3] - b[1]) <= min(width, height) for b in boxes)
    assert 1 <= len(regions) <= (MAX_CROPS if fits else len(regions))
    assert inside_frame(regions, width, height)
    squares = regions[~np.all(regions == [0, 0, width, height], axis=1)]  # but the whole frame of a full check
    assert np.all(sides(squares) >= min(300, width, height) - 1e-3)
    assert np.all(sides(squares) <= min(width, height) + 1e-3)
    for box in moving:
        if max(box[2] - box[0], box[3] - box[1]) > min(width, height):
            x1, y1, x2, y2 = np.round(box).astype(int)
            assert coverage(regions, width, height)[y1:y2, x1:x2].all()
        else:
            assert any(contains(r, box) for r in regions), f"{box.tolist()} is in no crop of {regions.tolist()}"


CYCLIST = np.array([[290, 95, 300, 120]], np.float32)  # 25 px tall on 320x240 highway CCTV


def test_a_small_object_in_a_frame_no_larger_than_the_model_input_gets_a_zoomed_look_too() -> None:
    regions = plan_regions(CYCLIST, 320, 240, 416, whole=False, zoom=CYCLIST)

    assert regions[0].tolist() == [0, 0, 320, 320]  # the coarse look stays: the zoom is an addition
    zoomed = regions[1:]
    assert len(zoomed) == 1
    assert inside_frame(zoomed, 320, 240)
    assert sides(zoomed)[0] == pytest.approx(416 / MAX_ZOOM)  # 2x enlarged, not 1.3x: the floor, not 2 x 25 px
    assert contains(zoomed[0], CYCLIST[0])
    assert plan_regions(CYCLIST, 320, 240, 416, whole=False).tolist() == [[0, 0, 320, 320]]  # none asked for


@pytest.mark.parametrize(
    ("size", "box", "zoomed"),
    [
        ((320, 240), [100, 50, 110, 70], True),  # 20 px, shown 26 px in the one 320 square
        ((320, 240), [100, 50, 110, 90], False),  # 40 px, shown 52 px
        ((320, 240), [100, 50, 140, 140], False),  # 90 px, shown 117 px: big enough already
        ((320, 240), [100, 50, 104, 50 + MIN_ZOOM_PX - 1], False),  # too small to find even enlarged
        ((640, 360), [300, 100, 315, 130], True),  # 30 px in a 360 cover square shown at 416/360
        ((1280, 720), [600, 300, 620, 340], False),  # 40 px: its 416 crop shows it at native resolution
    ],
)
def test_only_objects_shown_small_get_a_zoomed_look(size: tuple[int, int], box: list[float], zoomed: bool) -> None:
    width, height = size
    boxes = np.array([box], np.float32)

    plain = plan_regions(boxes, width, height, 416, whole=False)
    regions = plan_regions(boxes, width, height, 416, whole=False, zoom=boxes)

    assert regions[: len(plain)].tolist() == plain.tolist()
    assert len(regions) == len(plain) + zoomed
    if zoomed:
        assert contains(regions[-1], boxes[0])
        assert sides(regions[-1:])[0] < min(sides(plain)[0], 416)  # the object enlarged more than in its look


def test_a_frame_gets_one_zoomed_look_where_most_small_objects_are() -> None:
    lone = [20, 20, 30, 45]
    pair = [[500, 250, 510, 275], [530, 290, 540, 315]]  # two small objects one zoom square holds
    boxes = np.array([lone, *pair], np.float32)

    regions = plan_regions(boxes, 640, 360, 416, whole=False, zoom=boxes)
    zoomed = regions[len(plan_regions(boxes, 640, 360, 416, whole=False)) :]

    assert len(zoomed) == 1
    assert all(contains(zoomed[0], np.array(b, np.float32)) for b in pair)
    assert not contains(zoomed[0], np.array(lone, np.float32))


def test_scheduler_zooms_on_small_motion_on_thorough_looks_and_on_small_tracked_objects_always() -> None:
    schedule = Scheduler(DetectConfig(thorough_s=1.0, refresh_s=0.2, recheck_s=100), 320, 240, 416)
    far, near = np.array([[20, 20, 30, 45]], np.float32), CYCLIST

    first = schedule.plan(0.0, far, NONE)  # thorough: the small motion is zoomed at
    between = schedule.plan(0.4, far, NONE)  # not thorough: the coarse look only
    tracked = schedule.plan(0.6, NONE, near)  # a small tracked object is zoomed at on every look

    assert first is not None
    assert first.thorough
    assert contains(first.regions[-1], far[0])
    assert len(first.regions) == 2
    assert between is not None
    assert not between.thorough
    assert between.regions.tolist() == [[0, 0, 320, 320]]
    assert tracked is not None
    assert len(tracked.regions) == 2
    assert contains(tracked.regions[-1], near[0])


def test_crop_gives_the_object_room_around_it() -> None:
    (region,) = plan_regions(np.array([[900, 300, 1000, 500]], np.float32), 1920, 1080, 300, whole=False)

    assert sides(region[None])[0] == pytest.approx(400)  # twice the object's longer side
    assert ((region[0] + region[2]) / 2, (region[1] + region[3]) / 2) == pytest.approx((950, 400))


def test_nothing_moving_and_no_check_due_means_no_crops() -> None:
    assert plan_regions(np.zeros((0, 4), np.float32), 1280, 720, 300, whole=False).shape == (0, 4)


def test_whole_check_covers_the_frame_and_keeps_extra_crops() -> None:
    moving = np.array([[600, 300, 640, 400]], np.float32)

    regions = plan_regions(moving, 1280, 720, 300, whole=True)

    full = whole_frame(1280, 720, 300)
    assert np.array_equal(regions[: len(full)], full)
    assert coverage(regions, 1280, 720).all()
    assert any(contains(r, moving[0]) for r in regions)


def test_too_many_scattered_boxes_give_a_whole_frame_check() -> None:
    xs = np.linspace(0, 1880, 8)
    ys = np.tile([0, 1000], 4)
    boxes = np.column_stack([xs, ys, xs + 40, ys + 80]).astype(np.float32)

    regions = plan_regions(boxes, 1920, 1080, 300, whole=False)

    assert coverage(regions, 1920, 1080).all()


def test_a_crowd_between_thorough_looks_is_looked_at_without_the_fine_tiles() -> None:
    xs = np.linspace(0, 1880, 8)
    ys = np.tile([0, 1000], 4)
    boxes = np.column_stack([xs, ys, xs + 40, ys + 80]).astype(np.float32)

    fast = plan_regions(boxes, 1920, 1080, 300, whole=False, fine=False)
    thorough = plan_regions(boxes, 1920, 1080, 300, whole=False, fine=True)
    due = plan_regions(boxes, 1920, 1080, 300, whole=True, fine=False)

    assert fast.tolist() == whole_frame(1920, 1080, 300, tiles=False).tolist()  # the frame and 2 squares
    assert len(fast) == 3
    assert coverage(fast, 1920, 1080).all()
    assert thorough.tolist() == whole_frame(1920, 1080, 300).tolist() == due.tolist()
    assert len(thorough) > len(fast)


# --- the scheduler -----------------------------------------------------------------------------------------------


def test_scheduler_checks_the_whole_frame_first_and_every_recheck_s() -> None:
    schedule = Scheduler(DetectConfig(recheck_s=5.0, thorough_s=5.0, refresh_s=100), 1280, 720, 300)
    tracked = np.array([[600, 300, 640, 400]], np.float32)  # a person standing still

    plans = {t: schedule.plan(t, NONE, tracked if t else NONE) for t in np.round(np.arange(0, 11, 0.2), 1)}

    assert [t for t, p in plans.items() if p is not None] == [0.0, 5.0, 10.0]
    for t in (0.0, 5.0, 10.0):
        plan = plans[t]
        assert isinstance(plan, Plan)
        assert plan.thorough
        assert np.array_equal(plan.regions[: len(whole_frame(1280, 720, 300))], whole_frame(1280, 720, 300))


def test_scheduler_checks_an_idle_scene_again_only_once_something_moved() -> None:
    schedule = Scheduler(DetectConfig(recheck_s=5.0), 1280, 720, 300)
    moving = np.array([[600, 300, 640, 400]], np.float32)
    times = np.round(np.arange(0, 21, 0.2), 1)

    # nothing moves and nothing is tracked for 12 s: the first frame only; then one motion, far from a recheck
    plans = {t: schedule.plan(t, moving if t == 12.0 else NONE, NONE) for t in times}

    looked = {t: len(p.regions) for t, p in plans.items() if p is not None}
    assert looked == {0.0: len(whole_frame(1280, 720, 300)), 12.0: len(whole_frame(1280, 720, 300)) + 1}
    assert all(p is None for t, p in plans.items() if t > 12.0)  # idle again: no recheck at 17 s


def test_scheduler_looks_where_something_moves() -> None:
    schedule = Scheduler(DetectConfig(), 1280, 720, 300)
    schedule.plan(0.0, NONE, NONE)
    moving = np.array([[600, 300, 640, 400]], np.float32)

    plan = schedule.plan(0.2, moving, NONE)

    assert plan is not None
    assert len(plan.regions) == 1
    assert contains(plan.regions[0], moving[0])
    assert not plan.thorough  # the slower second opinion comes every thorough_s


def test_scheduler_refreshes_tracked_objects_every_refresh_s() -> None:
    schedule = Scheduler(DetectConfig(refresh_s=0.4, thorough_s=2.0), 1280, 720, 300)
    schedule.plan(0.0, NONE, NONE)
    tracked = np.array([[600, 300, 640, 400]], np.float32)
    times = [round(0.2 * i, 1) for i in range(1, 13)]  # a 5 fps sample of a 10 fps clip: 0.2, 0.4 ... 2.4

    looked = [t for t in times if schedule.plan(t, tracked, tracked) is not None]

    # motion on the tracked object itself is not news: only the refresh counts
    assert looked == [0.4, 0.8, 1.2, 1.6, 2.0, 2.4]


def test_scheduler_thorough_every_thorough_s() -> None:
    schedule = Scheduler(DetectConfig(thorough_s=1.0, recheck_s=100), 1280, 720, 300)
    schedule.plan(0.0, NONE, NONE)
    left, right = np.array([[100, 300, 140, 400]], np.float32), np.array([[1000, 300, 1040, 400]], np.float32)
    times = np.round(np.arange(0.2, 3.1, 0.2), 1)

    # motion at either end of the frame in turn: every frame has something new to look at
    plans = [schedule.plan(t, left if i % 2 else right, NONE) for i, t in enumerate(times)]

    assert all(p is not None for p in plans)
    assert [t for t, p in zip(times, plans, strict=True) if p and p.thorough] == [1.0, 2.0, 3.0]


def test_scheduler_looks_thoroughly_again_at_what_only_a_thorough_look_found() -> None:
    schedule = Scheduler(DetectConfig(thorough_s=2.0, recheck_s=100), 1280, 720, 300)
    left, right = np.array([[100, 300, 140, 400]], np.float32), np.array([[1000, 300, 1040, 400]], np.float32)
    person = Detections(left, np.array([0.8]), np.array(["person"]))
    nothing = Detections.empty()
    slow: dict[float, list[list[float]]] = {}
    for t in np.round(np.arange(0.0, 4.9, 0.4), 1):
        plan = schedule.plan(float(t), np.concatenate([left, right]), NONE)  # both keep moving, looked at each time
        assert plan is not None
        if plan.slow().any():
            slow[float(t)] = plan.regions[plan.slow()].tolist()
        # the fast model never sees this person; the thorough one does from 2 s
        found = person if t >= 2.0 and plan.slow()[plan_holds(plan, left)].any() else nothing
        schedule.seen(found, plan)

    # 2.4: the second look that lets the tracker confirm the person, only in the crop that holds them;
    # the cadence itself stays every 2 s
    assert sorted(slow) == [0.0, 2.0, 2.4, 4.0, 4.4]
    assert all(len(slow[t]) >= 2 for t in (0.0, 2.0, 4.0))  # every region: both moving things, or the whole frame
    assert len(slow[2.4]) == len(slow[4.4]) == 1
    assert contains(np.asarray(slow[2.4][0], np.float32), left[0])


def plan_holds(plan: Plan, box: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    return np.array([contains(r, box[0]) for r in plan.regions])


def test_scheduler_looks_again_at_motion_it_explained_every_refresh_s() -> None:
    schedule = Scheduler(DetectConfig(refresh_s=0.4, recheck_s=100), 1280, 720, 300)
    schedule.plan(0.0, NONE, NONE)
    trees = np.array([[600, 300, 640, 400]], np.float32)  # moving on every frame, never a person
    times = [round(0.2 * i, 1) for i in range(1, 11)]

    looked = [t for t in times if schedule.plan(t, trees, NONE) is not None]

    assert looked == [0.2, 0.6, 1.0, 1.4, 1.8]


def test_scheduler_never_holds_back_motion_next_to_a_tracked_object() -> None:
    schedule = Scheduler(DetectConfig(refresh_s=0.4, recheck_s=100), 1280, 720, 300)
    schedule.plan(0.0, NONE, NONE)
    tracked = np.array([[600, 300, 640, 400]], np.float32)
    schedule.plan(0.2, tracked, tracked)  # looked at: the crop around the person
    walked_on = tracked + np.array([50, 0, 50, 0], np.float32)  # a person walking by more than their width

    assert schedule.plan(0.4 - 0.1, walked_on, tracked) is not None


# --- detecting in regions ----------------------------------------------------------------------------------------


def test_region_detector_maps_boxes_back_to_the_frame() -> None:
    red = [(100, 200, 140, 300), (1000, 400, 1060, 520)]
    rgb = background(1280, 720, red)
    frame = Frame(0, 0.0, None, 1280, 720, _rgb=rgb)
    detector = RegionDetector(create("scripted"))

    found = detector.detect(frame, Plan(whole_frame(1280, 720, 300), thorough=True))

    assert sorted(found.xyxy.tolist()) == [list(map(float, b)) for b in red]
    assert found.label.tolist() == ["person", "person"]


def test_object_cut_by_overlapping_crops_is_one_detection() -> None:
    rgb = background(1280, 720, [(540, 300, 600, 420)])  # straddles the edge of the first square (0..720)
    frame = Frame(0, 0.0, None, 1280, 720, _rgb=rgb)
    squares = np.array([[0, 0, 560, 560], [480, 0, 1040, 560]], np.float32)

    found = RegionDetector(create("scripted")).detect(frame, Plan(squares, thorough=True))

    assert found.xyxy.tolist() == [[540, 300, 600, 420]]


def test_region_detector_looks_thoroughly_only_where_the_plan_says() -> None:
    frame = Frame(0, 0.0, None, 1280, 720, _rgb=background(1280, 720, [(100, 300, 140, 400)]))
    squares = np.array([[0, 0, 400, 400], [600, 0, 1000, 400], [880, 320, 1280, 720]], np.float32)
    calls: list[tuple[int, bool]] = []
    scripted = create("scripted")

    class Spy:
        name, labels, input_size = "spy", scripted.labels, scripted.input_size

        def detect_batch(
            self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
        ) -> list[Detections]:
            calls.append((len(images), thorough))
            return scripted.detect_batch(images)

    plan = Plan(squares, thorough=False, confirm=np.array([[90, 290, 150, 410]], np.float32))
    found = RegionDetector(Spy()).detect(frame, plan)  # type: ignore[arg-type]

    assert plan.slow().tolist() == [True, False, False]
    assert calls == [(1, True), (2, False)]
    assert found.xyxy.tolist() == [[100, 300, 140, 400]]


def test_region_detector_gives_second_opinions_back_while_their_place_stays_still() -> None:
    post = (100, 300, 140, 400)
    frame = Frame(0, 0.0, None, 1280, 720, _rgb=background(1280, 720, [post]))
    squares = np.array([[0, 200, 400, 600], [600, 0, 1000, 400]], np.float32)
    given: list[list[list[list[float]]]] = []
    scripted = create("scripted")

    class Ensemble:  # its second model turns down what the first finds, when it looks (thorough looks here)
        name, labels, input_size = "spy", scripted.labels, scripted.input_size

        def detect_batch(
            self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
        ) -> list[Detections]:
            given.append([e.xyxy.tolist() for e in earlier])
            said = 0.0 if thorough else np.nan
            return [d.with_data(second_opinion=np.full(len(d), said)) for d in scripted.detect_batch(images)]

    detector = RegionDetector(Ensemble())  # type: ignore[arg-type]
    still, elsewhere, over = NONE, np.array([[700, 100, 760, 200]], np.float32), np.array([post], np.float32)
    looks = [(True, still), (False, still), (False, elsewhere), (True, still), (False, still), (False, over)]
    for thorough, moving in [*looks, (False, still)]:
        detector.detect(frame, Plan(squares, thorough=thorough), moving)

    post_in_crops = [[[100.0, 100.0, 140.0, 200.0]], []]  # in the first square's pixels; none in the second
    # a thorough look asks afresh (and renews the memory); motion over the post ends it
    assert given == [[], post_in_crops, post_in_crops, [], post_in_crops, [], []]


def test_region_detector_pads_a_small_frame_and_keeps_boxes_in_it() -> None:
    red = [(130, 60, 158, 94)]  # near the bottom-right corner of a 160x96 frame
    frame = Frame(0, 0.0, None, 160, 96, _rgb=background(160, 96, red))
    regions = plan_regions(NONE, 160, 96, 300, whole=True)
    seen: list[tuple[int, ...]] = []
    scripted = create("scripted")

    class Spy:
        name, labels, input_size = "spy", scripted.labels, scripted.input_size

        def detect_batch(
            self, images: list[npt.NDArray[np.uint8]], *, thorough: bool = True, earlier: Sequence[Detections] = ()
        ) -> list[Detections]:
            seen.extend(image.shape for image in images)
            # a box reaching into the black margin comes back clipped to the frame
            grown = np.array([0, 0, 10, 10], np.float32)
            return [d.replace(xyxy=d.xyxy + grown) for d in scripted.detect_batch(images)]

    found = RegionDetector(Spy()).detect(frame, Plan(regions, thorough=True))  # type: ignore[arg-type]

    assert seen == [(160, 160, 3)]
    assert found.xyxy.tolist() == [[130, 60, 160, 96]]


def test_no_regions_no_detections() -> None:
    frame = Frame(0, 0.0, None, 160, 96, _rgb=background(160, 96, [(10, 10, 30, 30)]))
    detector = create("scripted")
    assert isinstance(detector, ScriptedDetector)

    found = RegionDetector(detector).detect(frame, Plan(NONE, thorough=True))

    assert len(found) == 0
    assert detector.calls == 0


def test_lift_dark_stretches_only_dark_pictures() -> None:
    rng = np.random.default_rng(1)
    dark = rng.integers(0, 30, (120, 160, 3), dtype=np.uint8)
    bright = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    black = np.full((120, 160, 3), 3, np.uint8)

    lifted = lift_dark(dark)

    assert (lifted.shape, lifted.dtype) == (dark.shape, np.dtype(np.uint8))
    assert lifted.mean() > 4 * dark.mean()
    assert lift_dark(bright) is bright
    assert lift_dark(black) is black  # nothing to stretch: noise is not amplified


def test_lift_dark_lets_the_detector_see_a_man_in_a_dark_yard() -> None:
    """ken2190_night_lowlight at 2 s: the man walks from the lit shed into the dark (labelled present)."""
    frame = next(f for f in media.frames(data_file("clips/ken2190_night_lowlight.mp4")) if f.ts_s >= 2.0)
    crop = frame.rgb()[240:1080, 600:1440]
    ssdlite = create("ssdlite", threads=1, min_confidence=0.05)

    def best(image: npt.NDArray[np.uint8]) -> float:
        found = ssdlite.detect(image)
        return float(found.confidence.max(initial=0))

    assert best(crop) < 0.5 <= best(lift_dark(crop))


def test_a_box_to_confirm_is_looked_at_thoroughly_only_where_it_is_seen_largest() -> None:
    whole = whole_frame(1280, 720, 416, tiles=False)  # the frame and its two coarse squares
    crop = np.array([[60, 200, 476, 616]], np.float32)
    person = np.array([[100, 300, 140, 400]], np.float32)

    plan = Plan(np.concatenate([whole, crop]), thorough=False, confirm=person)

    assert plan.slow().tolist() == [False, False, False, True]  # not the frame and square that also hold it


def test_scheduler_does_not_confirm_what_is_already_an_event() -> None:
    schedule = Scheduler(DetectConfig(thorough_s=2.0, recheck_s=100), 1280, 720, 300)
    left, right = np.array([[100, 300, 140, 400]], np.float32), np.array([[1000, 300, 1040, 400]], np.float32)
    both = np.concatenate([left, right])
    people = Detections(both, np.array([0.8, 0.8]), np.array(["person", "person"]))

    first = schedule.plan(0.0, both, NONE)  # thorough: finds both, the left one already an event
    assert first is not None
    assert first.thorough
    schedule.seen(people, first, settled=left)
    second = schedule.plan(0.4, both, both)

    assert second is not None
    assert not second.thorough
    assert second.confirm.tolist() == right.tolist()
