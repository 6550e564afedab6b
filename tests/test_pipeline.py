"""The pipeline: frame sampling, figures, failures part-way, and people found (or not) in real footage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from camsift import Settings, load_config
from camsift.detections import Detections
from camsift.detectors import Detector, create
from camsift.errors import MediaError
from camsift.events import Event
from camsift.media import Frame, frames
from camsift.pipeline import Pipeline, Sampler
from helpers.media import DATA, EPOCH, SyntheticClip, Walk, data_file, run_pipeline


def at(*times: float) -> list[Frame]:
    return [Frame(i, t, i, 16, 16) for i, t in enumerate(times)]


def first_in_each_cell(times: list[float], step: float) -> list[float]:
    picked, cells = [], set()
    for t in times:
        cell = int(np.floor(t / step + 1e-3 / step))
        if cell not in cells:
            cells.add(cell)
            picked.append(t)
    return picked


@pytest.mark.parametrize(
    ("times", "fps"),
    [
        ([i / 10 for i in range(40)], 5.0),  # 10 fps clip: every other frame
        ([i / 30 for i in range(90)], 5.0),  # 30 fps: every sixth
        ([i / 29.97 for i in range(90)], 2.0),
        (np.cumsum([0, *[0.08, 0.09] * 10]).tolist(), 5.0),  # a GIF with uneven delays
        ([i / 15 for i in range(30)], 30.0),  # asking for more than there is: every frame
        ([0.0, 0.01, 0.02, 3.0, 3.01, 7.5], 1.0),  # gaps (a variable-rate stream)
    ],
)
def test_sampler_keeps_the_first_frame_of_every_step(times: list[float], fps: float) -> None:
    kept = [f.ts_s for f in Sampler(fps).sample(at(*times))]

    assert kept == pytest.approx(first_in_each_cell(times, 1 / fps))


def test_sampler_on_a_real_10_fps_clip(make_clip: Callable[..., SyntheticClip]) -> None:
    clip = make_clip("cam/clip.mp4", seconds=4.0, fps=10)

    kept = [f.index for f in Sampler(5.0).sample(frames(clip.path))]

    assert kept == list(range(0, 40, 2))


def test_stats_count_frames_and_time(
    make_clip: Callable[..., SyntheticClip], scripted_settings: Callable[..., Settings]
) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 3.5)], seconds=4.0, fps=10)
    pipeline = Pipeline(scripted_settings(), create("scripted"))

    events = list(pipeline.events(frames(clip.path), camera="c", start_utc=EPOCH, id_prefix="p"))

    st = pipeline.stats
    assert len(events) == 1
    assert (st.frames, st.sampled) == (40, 20)
    assert st.footage_s == pytest.approx(4.0)
    assert 1 <= st.detector_runs <= st.sampled
    assert st.regions >= st.detector_runs
    assert {"decode", "motion", "detect", "track"} <= set(st.seconds)
    assert all(v >= 0 for v in st.seconds.values())


def test_decoding_failure_keeps_the_events_found_before(
    make_clip: Callable[..., SyntheticClip], scripted_settings: Callable[..., Settings]
) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 2.0)], seconds=8.0)

    def breaks_at_5s() -> Iterator[Frame]:
        for frame in frames(clip.path):
            if frame.ts_s >= 5.0:
                raise MediaError(clip.path, "decoding failed after 50 frames: boom")
            yield frame

    pipeline = Pipeline(scripted_settings(), create("scripted"))
    got: list[Event] = []
    with pytest.raises(MediaError, match="boom"):
        got.extend(pipeline.events(breaks_at_5s(), camera="c", start_utc=EPOCH, id_prefix="p"))

    assert len(got) == 1
    assert got[0].end_s <= 2.0
    assert pipeline.stats.frames == 50


def test_empty_frames_no_events(scripted_settings: Callable[..., Settings]) -> None:
    pipeline = Pipeline(scripted_settings(), create("scripted"))

    assert list(pipeline.events(iter([]), camera="c", start_utc=EPOCH, id_prefix="p")) == []
    assert pipeline.stats.frames == 0


@pytest.mark.parametrize(
    ("walks", "last_s"),
    [
        ([], None),  # nothing moves
        ([Walk(1.0, 2.0)], 2.0),  # the last sampled frame (5 fps) with the rectangle in it
        ([Walk(0.4, 1.0), Walk(2.6, 3.0)], 3.0),
    ],
)
def test_last_motion_is_the_last_sampled_frame_in_which_the_gate_saw_motion(
    make_clip: Callable[..., SyntheticClip],
    scripted_settings: Callable[..., Settings],
    walks: list[Walk],
    last_s: float | None,
) -> None:
    moving = make_clip("cam/moving.mp4", [Walk(0.5, 3.5)], seconds=4.0, fps=10)
    clip = make_clip("cam/clip.mp4", walks, seconds=5.0, fps=10)
    pipeline = Pipeline(scripted_settings(), create("scripted"))
    list(pipeline.events(frames(moving.path), camera="c", start_utc=EPOCH, id_prefix="p"))
    assert pipeline.last_motion_s == pytest.approx(3.4)

    list(pipeline.events(frames(clip.path), camera="c", start_utc=EPOCH, id_prefix="p"))  # starts afresh

    assert pipeline.last_motion_s == (None if last_s is None else pytest.approx(last_s))


# --- real footage, the default detector --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defaults() -> Settings:
    return load_config(environ={})


@pytest.mark.parametrize(
    ("name", "min_events", "min_long"),
    [
        ("anubhav666_example_01_street.mp4", 10, 3),  # ~20 pedestrians in every frame
        ("ken2190_ecuador_street.mp4", 2, 2),  # 3 people walking through the whole clip
    ],
)
def test_people_found_in_street_clips(
    clip_labels: dict[str, dict[str, Any]],
    auto_detector: Detector,
    defaults: Settings,
    name: str,
    min_events: int,
    min_long: int,
) -> None:
    path = data_file(f"clips/{name}")
    truth = clip_labels[name]

    events = run_pipeline(path, defaults, auto_detector)

    assert len(events) >= min_events
    assert {e.label for e in events} == {"person"}
    assert all(0 <= e.start_s <= e.end_s <= truth["last_frame_time_s"] + 1e-6 for e in events)
    assert all(e.confidence >= 0.5 for e in events)
    assert sum(e.duration_s >= 0.6 * truth["last_frame_time_s"] for e in events) >= min_long
    for e in events:
        x1, y1, x2, y2 = e.box_xyxy
        assert 0 <= x1 < x2 <= truth["width"] + 1
        assert 0 <= y1 < y2 <= truth["height"] + 1


def test_the_first_person_through_the_empty_room(
    clip_labels: dict[str, dict[str, Any]], auto_detector: Detector, defaults: Settings
) -> None:
    name = "intel_one-by-one-person-detection.mp4"  # an empty room; six people walk through it, one at a time
    (start, end), (second, _) = clip_labels[name]["person_intervals_s"][:2]  # 6.0 .. 19.9, then 22.7 ..

    events = run_pipeline(data_file(f"clips/{name}"), defaults, auto_detector, until_s=second - 0.5)

    assert {e.label for e in events} == {"person"}
    assert start - 0.5 <= min(e.start_s for e in events)
    assert max(e.end_s for e in events) <= end + 0.5
    covered = sum(e.end_s - e.start_s for e in events)
    assert covered >= 0.8 * (end - start)  # the whole walk through, in one event or a few


def test_no_one_in_the_waving_trees_before_the_man_walks_in(auto_detector: Detector, defaults: Settings) -> None:
    events = run_pipeline(data_file("clips/wavingtrees_15fps.mp4"), defaults, auto_detector, until_s=15.0)

    assert events == []


@pytest.mark.slow
def test_the_one_man_passing_the_waving_trees(
    clip_labels: dict[str, dict[str, Any]], auto_detector: Detector, defaults: Settings
) -> None:
    path = data_file("clips/wavingtrees_15fps.mp4")
    ((start, end),) = clip_labels["wavingtrees_15fps.mp4"]["person_intervals_s"]  # 16.13 .. 17.27

    events = run_pipeline(path, defaults, auto_detector)

    assert len(events) == 1
    assert events[0].label == "person"
    assert start - 0.2 <= events[0].start_s <= events[0].end_s <= end + 0.2


NO_PEOPLE = ["skimage_chelsea_cat.png", "skimage_coffee.png", "skimage_rocket.jpg", "skimage_motorcycle_left.png"]


@pytest.mark.parametrize(
    ("name", "at_least"),
    [
        ("skimage_astronaut.png", 1),
        ("skimage_camera.png", 1),
        ("ultralytics_bus.jpg", 3),
        ("ultralytics_zidane.jpg", 2),
    ],
)
def test_person_in_pictures_of_people(auto_detector: Detector, defaults: Settings, name: str, at_least: int) -> None:
    path = data_file(f"images/{name}")
    (frame,) = frames(path)

    found = run_pipeline(path, defaults, auto_detector, still=True)

    assert len(found) >= at_least
    assert {e.label for e in found} == {"person"}
    assert all((e.start_s, e.end_s) == (0.0, 0.0) for e in found)
    assert all(e.confidence >= defaults.events.still_min_confidence for e in found)
    assert all(0 <= e.box_xyxy[0] < e.box_xyxy[2] <= frame.width + 1 for e in found)


def sample_of_snapshots() -> list[str]:
    """Every fourth picture of each ``snapshots/`` folder (porch cats, raccoons and false triggers at
    night, camera-trap animals, traffic): none has a person."""
    root = DATA / "snapshots"
    picked = []
    for folder in ["porch_night/cat", "porch_night/raccoon", "porch_night/empty", "serengeti_gallery", "wsdot_traffic"]:
        files = sorted(p for p in (root / folder).glob("*") if p.is_file())  # tests/data has only the camera trap
        picked += [str(p.relative_to(DATA)) for p in files[::4]]
    return picked


@pytest.mark.parametrize("name", [f"images/{n}" for n in NO_PEOPLE] + sample_of_snapshots())
def test_no_person_in_pictures_without_people(auto_detector: Detector, defaults: Settings, name: str) -> None:
    path = data_file(name)

    events = run_pipeline(path, defaults, auto_detector, still=True)

    assert [(e.label, e.confidence) for e in events] == []


def test_idle_while_nothing_moves_and_nothing_is_tracked(
    make_clip: Callable[..., SyntheticClip], scripted_settings: Callable[..., Settings]
) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(1.0, 2.0)], seconds=4.0, fps=10)
    pipeline = Pipeline(scripted_settings(), create("scripted"))
    idle: dict[float, bool] = {}

    def watched() -> Iterator[Frame]:
        for frame in frames(clip.path):
            idle[round(frame.ts_s, 1)] = pipeline.idle  # what the loop saw up to the frame before
            yield frame

    list(pipeline.events(watched(), camera="c", start_utc=EPOCH, id_prefix="p"))

    assert idle[0.0] is False  # before the first frame
    assert all(idle[t] for t in (0.3, 0.5, 0.9))  # a still picture so far
    assert not any(idle[t] for t in (1.3, 1.5, 1.9))  # the rectangle moves, then is tracked
    assert pipeline.idle is False  # the loop is over


def test_what_cannot_become_an_event_is_not_looked_at_again_thoroughly(
    make_clip: Callable[..., SyntheticClip], scripted_settings: Callable[..., Settings]
) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 3.5)], seconds=4.0, fps=10)
    scripted = create("scripted")
    light = Detections(np.array([[130, 5, 140, 25]], np.float32), np.array([0.9]), np.array(["traffic light"]))

    class Spy:
        """The scripted detector; with ``seen``, plus that traffic light only thorough looks see (as NanoDet-Plus
        finds things PicoDet does not). The settings want only people."""

        name, labels, input_size = "spy", scripted.labels, scripted.input_size

        def __init__(self, extra: Detections) -> None:
            self.extra, self.thorough_at = extra, list[bool]()  # per look: asked thoroughly anywhere

        def detect_batch(self, images: list[Any], *, thorough: bool = True, earlier: Any = ()) -> list[Detections]:
            self.thorough_at.append(thorough)
            found = scripted.detect_batch(images)
            return [Detections.merge([d, self.extra]) for d in found] if thorough else found

    runs = {}
    for name, extra in (("plain", Detections.empty()), ("light", light)):
        spy = Spy(extra)
        pipeline = Pipeline(scripted_settings(), spy)  # type: ignore[arg-type]
        events = list(pipeline.events(frames(clip.path), camera="c", start_utc=EPOCH, id_prefix="p"))
        assert [e.label for e in events] == ["person"]
        runs[name] = spy.thorough_at

    assert len(runs["plain"]) >= 10
    assert runs["light"] == runs["plain"]  # the light, never an event, brought no thorough look of its own
