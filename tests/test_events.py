"""Events from generated footage: one object walking through is one event, with the right times and box.

Every test here runs the real pipeline (motion gate, regions, filters, tracker,
event builder) on a generated clip with the ``scripted`` detector, which reports
the red rectangle as a person.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camsift import Detections, Settings
from camsift.config import EventsConfig, ObjectsConfig
from camsift.detectors import create
from camsift.events import Event, EventBuilder
from camsift.media import Frame, frames
from camsift.pipeline import Pipeline
from helpers.media import EPOCH, SyntheticClip, Walk, background, run_pipeline, write_image

MakeClip = Callable[..., SyntheticClip]


def look_s(s: Settings) -> float:
    """How long a tracked object may go unlooked-at: ``refresh_s`` plus a sample step (and rounding)."""
    return s.detect.refresh_s + 2 / s.detect.fps


def assert_matches_walk(event: Event, clip: SyntheticClip, walk: Walk, s: Settings) -> None:
    """The event spans the walk and its box is the rectangle where it was in the best frame.

    Times are exact to one look: between looks the detector only runs where something new moves,
    so a tracked object is looked at every ``refresh_s`` (plus a sample step)."""
    look = look_s(s)
    assert event.label == "person"
    assert walk.start_s <= event.start_s <= walk.start_s + look
    assert walk.end_s - look <= event.end_s <= walk.end_s + 1e-6
    assert event.start_utc == EPOCH + timedelta(seconds=event.start_s)
    assert event.end_utc == EPOCH + timedelta(seconds=event.end_s)
    assert event.confidence == pytest.approx(0.9)
    assert event.best is not None
    assert event.box_xyxy == pytest.approx(clip.box_of(walk, event.best.ts_s), abs=1)


def test_one_object_walking_through_is_one_event(
    make_clip: MakeClip, scripted_settings: Callable[..., Settings]
) -> None:
    walk = Walk(0.5, 3.5)
    clip = make_clip("cam/clip.mp4", [walk], seconds=4.0)
    s = scripted_settings()

    events = run_pipeline(clip.path, s)

    assert len(events) == 1
    assert_matches_walk(events[0], clip, walk, s)
    assert events[0].hits >= 5
    assert events[0].id == "test-001"


def test_long_walk_at_15_fps_is_still_one_event(
    make_clip: MakeClip, scripted_settings: Callable[..., Settings]
) -> None:
    walk = Walk(1.0, 11.0, x_from=0.0, x_to=1.0, y=0.3)
    clip = make_clip("cam/long.mp4", [walk], seconds=12.0, fps=15, size=(320, 180))
    s = scripted_settings()

    events = run_pipeline(clip.path, s)

    assert len(events) == 1
    assert_matches_walk(events[0], clip, walk, s)


@pytest.mark.parametrize("lost_s", [1.0, 3.0])
def test_object_that_comes_back_after_lost_s_is_two_events(
    make_clip: MakeClip, scripted_settings: Callable[..., Settings], lost_s: float
) -> None:
    there, back = Walk(0.5, 2.5, 0.0, 0.6), Walk(2.5 + lost_s + 1.0, 4.5 + lost_s + 1.0, 1.0, 0.4)
    clip = make_clip("cam/clip.mp4", [there, back], seconds=back.end_s + 1.0)
    s = scripted_settings(**{"events.lost_s": lost_s})

    events = sorted(run_pipeline(clip.path, s), key=lambda e: e.start_s)

    assert len(events) == 2
    assert_matches_walk(events[0], clip, there, s)
    assert_matches_walk(events[1], clip, back, s)
    assert events[0].id != events[1].id


@pytest.mark.parametrize(("hidden_s", "count"), [(1.0, 1), (2.0, 1), (4.0, 2)])
def test_object_hidden_for_a_while_is_one_event_unless_gone_longer_than_lost_s(
    make_clip: MakeClip,
    scripted_settings: Callable[..., Settings],
    hidden_s: float,
    count: int,
) -> None:
    # standing still in the middle, hidden (behind a van) for hidden_s
    first, second = Walk(0.5, 2.0, 0.5, 0.5), Walk(2.0 + hidden_s, 3.5 + hidden_s, 0.5, 0.5)
    clip = make_clip("cam/clip.mp4", [first, second], seconds=second.end_s + 0.5)
    s = scripted_settings(**{"events.lost_s": 3.0})

    events = run_pipeline(clip.path, s)

    assert len(events) == count
    assert first.start_s <= events[0].start_s <= first.start_s + look_s(s)
    assert second.end_s - look_s(s) <= events[-1].end_s <= second.end_s


@pytest.mark.parametrize(
    "size",
    [
        (640, 360),
        (1280, 720),
        (320, 240),
        (160, 96),
    ],
)
def test_two_people_at_once_are_two_events(
    make_clip: MakeClip, scripted_settings: Callable[..., Settings], size: tuple[int, int]
) -> None:
    walks = [Walk(0.5, 3.5, 0.0, 0.3, y=0.1), Walk(0.5, 3.5, 1.0, 0.7, y=0.9)]
    clip = make_clip("cam/clip.mp4", walks, size=size, box=(size[0] // 10, size[1] // 4))
    s = scripted_settings()

    events = sorted(run_pipeline(clip.path, s), key=lambda e: e.box_xyxy[0])

    assert len(events) == 2
    for event, walk in zip(events, walks, strict=True):
        assert_matches_walk(event, clip, walk, s)


def test_a_flash_of_one_frame_is_no_event(make_clip: MakeClip, scripted_settings: Callable[..., Settings]) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(2.0, 2.0, 0.5, 0.5)], seconds=4.0)

    assert run_pipeline(clip.path, scripted_settings()) == []


@pytest.mark.parametrize(("min_hits", "count"), [(2, 1), (30, 0)])
def test_min_hits(make_clip: MakeClip, scripted_settings: Callable[..., Settings], min_hits: int, count: int) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 3.5)], seconds=4.0)

    assert len(run_pipeline(clip.path, scripted_settings(**{"events.min_hits": min_hits}))) == count


RIGHT_HALF = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
TOP_STRIP = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.1], [0.0, 0.1]]
EVERYWHERE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("overrides", "count", "zones"),
    [
        ({}, 1, ()),
        ({"objects.labels": ["car"]}, 0, None),
        ({"objects.zones": {"right": {"polygon": RIGHT_HALF}}}, 1, ("right",)),
        ({"objects.zones": {"top": {"polygon": TOP_STRIP}}, "objects.required_zones": ["top"]}, 0, None),
        ({"objects.zones": {"right": {"polygon": RIGHT_HALF}}, "objects.required_zones": ["right"]}, 1, ("right",)),
        ({"objects.mask": [EVERYWHERE]}, 0, None),
        ({"motion.mask": [EVERYWHERE], "detect.recheck_s": 100}, 0, None),
        ({"objects.filters": {"person": {"min_area": 0.05}}}, 0, None),  # the box is 2.5 % of the frame
        ({"objects.filters": {"person": {"max_area": 0.01}}}, 0, None),
        ({"objects.filters": {"person": {"min_area": 0.01, "max_area": 0.05}}}, 1, ()),
        ({"objects.default": {"min_confidence": 0.95}}, 0, None),  # scripted says 0.9
    ],
)
def test_settings_that_decide_what_counts(
    make_clip: MakeClip,
    scripted_settings: Callable[..., Settings],
    overrides: dict[str, Any],
    count: int,
    zones: tuple[str, ...] | None,
) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 3.5)], seconds=4.0)

    events = run_pipeline(clip.path, scripted_settings(**overrides))

    assert len(events) == count
    if count:
        assert events[0].zones == zones


def test_events_come_out_as_their_object_leaves(
    make_clip: MakeClip, scripted_settings: Callable[..., Settings]
) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 2.0)], seconds=8.0)
    read: list[float] = []

    def counted() -> Iterator[Frame]:
        for frame in frames(clip.path):
            read.append(frame.ts_s)
            yield frame

    pipeline = Pipeline(scripted_settings(**{"events.lost_s": 2.0}), create("scripted"))
    stream = pipeline.events(counted(), camera="cam", start_utc=EPOCH, id_prefix="x")
    first = next(stream)

    assert first.end_s <= 2.0
    assert 2.0 + 2.0 < read[-1] < 5.0  # yielded about lost_s after the last sighting, not at the end of the clip
    assert list(stream) == []
    assert read[-1] == pytest.approx(clip.last_s)


@pytest.mark.parametrize(("lost_s", "count"), [(3.0, 1), (1.0, 2)])
def test_an_object_lost_for_a_moment_that_comes_back_elsewhere_is_one_event(
    make_clip: MakeClip, scripted_settings: Callable[..., Settings], lost_s: float, count: int
) -> None:
    # gone for 1.2 s (a dark patch, a pillar), back lower down and further on: the tracker starts a new track
    walks = [Walk(0.5, 2.0, 0.0, 0.4, 0.2), Walk(3.2, 5.0, 0.9, 1.0, 0.9)]
    clip = make_clip("cam/clip.mp4", walks, seconds=6.0)

    events = run_pipeline(clip.path, scripted_settings(**{"events.lost_s": lost_s}))

    assert len(events) == count
    assert events[0].start_s == pytest.approx(0.6, abs=0.25)
    assert events[-1].end_s == pytest.approx(5.0, abs=0.25)


def test_same_footage_same_event_ids(make_clip: MakeClip, scripted_settings: Callable[..., Settings]) -> None:
    clip = make_clip("cam/clip.mp4", [Walk(0.5, 2.0), Walk(5.5, 7.0, 1.0, 0.0)], seconds=8.0)
    s = scripted_settings()

    first, again = run_pipeline(clip.path, s), run_pipeline(clip.path, s)

    assert [e.id for e in first] == [e.id for e in again] == ["test-001", "test-002"]
    assert first == again


# --- still pictures ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("boxes", "still_min", "count"),
    [([(40, 30, 60, 70)], 0.6, 1), ([(10, 10, 30, 50), (120, 40, 150, 90)], 0.6, 2), ([(40, 30, 60, 70)], 0.95, 0)],
)
def test_picture_gives_one_event_per_object(
    tmp_path: Path,
    scripted_settings: Callable[..., Settings],
    boxes: list[tuple[int, int, int, int]],
    still_min: float,
    count: int,
) -> None:
    path = write_image(tmp_path / "snap.png", background(160, 96, boxes))
    s = scripted_settings(**{"events.still_min_confidence": still_min})

    events = run_pipeline(path, s, still=True)

    assert len(events) == count
    assert sorted(e.box_xyxy for e in events) == sorted(tuple(map(float, b)) for b in boxes)[:count]
    assert all((e.start_s, e.end_s, e.start_utc, e.hits) == (0.0, 0.0, EPOCH, 1) for e in events)


# --- the event builder alone -------------------------------------------------------------------------------------


def test_best_snapshot_avoids_boxes_cut_by_the_frame_edge() -> None:
    builder = EventBuilder("cam", EPOCH, EventsConfig(), ObjectsConfig(), "x", 200, 100)
    looks = [(0.0, (0, 20, 30, 80), 0.9), (0.2, (50, 20, 80, 80), 0.8), (0.4, (170, 20, 200, 80), 0.95)]
    for ts, box, confidence in looks:
        d = Detections(xyxy=[box], confidence=[confidence], label=["person"], tracker_id=[1])
        builder.feed(Frame(int(ts * 5), ts, int(ts * 1000), 200, 100), d)

    (event,) = builder.finish()

    assert event.box_xyxy == (50.0, 20.0, 80.0, 80.0)
    assert event.best is not None
    assert event.best.pts == 200
    assert (event.start_s, event.end_s, event.confidence, event.hits) == (0.0, 0.4, 0.95, 3)


def test_track_with_too_few_sure_sightings_is_no_event() -> None:
    builder = EventBuilder("cam", EPOCH, EventsConfig(min_hits=2), ObjectsConfig(), "x", 200, 100)
    for i, confidence in enumerate([0.35, 0.9, 0.4]):  # one sure sighting, two weak ones
        d = Detections(xyxy=[(50, 20, 80, 80)], confidence=[confidence], label=["person"], tracker_id=[1])
        builder.feed(Frame(i, i * 0.2, i, 200, 100), d)

    assert builder.finish() == []


def test_feed_ends_tracks_not_seen_for_lost_s() -> None:
    builder = EventBuilder("cam", EPOCH, EventsConfig(lost_s=1.0), ObjectsConfig(), "x", 200, 100)
    d = Detections(xyxy=[(50, 20, 80, 80)], confidence=[0.9], label=["person"], tracker_id=[1])
    builder.feed(Frame(0, 0.0, 0, 200, 100), d)
    builder.feed(Frame(1, 0.2, 1, 200, 100), d)

    assert builder.feed(Frame(2, 1.0, 2, 200, 100), Detections.empty()) == []
    (ended,) = builder.feed(Frame(3, 1.4, 3, 200, 100), Detections.empty())
    assert (ended.start_s, ended.end_s, ended.id) == (0.0, 0.2, "x-001")
    assert builder.finish() == []
    assert np.isclose(ended.duration_s, 0.2)


def test_a_rejoined_track_is_one_event_and_forgotten_once_it_ends() -> None:
    builder = EventBuilder("cam", EPOCH, EventsConfig(lost_s=3.0, min_hits=1), ObjectsConfig(), "x", 200, 100)

    def seen(i: int, ts: float, tid: int, x: int) -> list[Event]:
        d = Detections(xyxy=[(x, 20, x + 30, 80)], confidence=[0.9], label=["person"], tracker_id=[tid])
        return builder.feed(Frame(i, ts, i, 200, 100), d)

    seen(0, 0.0, 1, 10)
    seen(1, 0.2, 1, 20)
    seen(2, 1.4, 2, 120)  # unseen 1.2 s, back further on under a new tracker id: the same person
    seen(3, 1.6, 2, 130)
    (ended,) = builder.feed(Frame(4, 5.0, 4, 200, 100), Detections.empty())

    assert (ended.id, ended.start_s, ended.end_s, ended.hits) == ("x-001", 0.0, 1.6, 4)
    assert builder._same == {}  # a stream that runs for weeks keeps no map entry per object it rejoined


# --- the event as data ---------------------------------------------------------------------------------------------


SHOT = Path("/data/events/2026-11-22/porch/143006-person-abc-001.jpg")

FIELDS: list[tuple[str, Any, Any]] = [  # field, value, as JSON
    ("id", "abc-001", "abc-001"),
    ("camera", "porch", "porch"),
    ("label", "person", "person"),
    ("start_s", 1.5, 1.5),
    ("end_s", 4.25, 4.25),
    ("start_utc", EPOCH, "2026-11-22T14:30:05+00:00"),
    ("end_utc", EPOCH + timedelta(seconds=2.75), "2026-11-22T14:30:07.750000+00:00"),
    ("confidence", 0.93, 0.93),
    ("box_xyxy", (10.0, 20.5, 110.0, 220.0), [10.0, 20.5, 110.0, 220.0]),
    ("zones", ("door",), ["door"]),
    ("hits", 7, 7),
    ("sub_label", "Alice", "Alice"),
    ("sub_label_score", 0.81, 0.81),
    ("source", Path("/footage/porch/a.mp4"), "/footage/porch/a.mp4"),
    ("snapshot", SHOT, str(SHOT)),
    ("snapshot_annotated", None, None),
    ("clip", None, None),
    ("top_score", 0.88, 0.88),
    ("stationary", True, True),
]


def test_to_dict_is_json_with_camsifts_and_frigates_names() -> None:
    event = Event(**{name: value for name, value, _ in FIELDS})

    doc = event.to_dict()

    assert json.loads(json.dumps(doc)) == doc
    assert doc == {
        **{name: shown for name, _, shown in FIELDS},
        "start_time": EPOCH.timestamp(),
        "end_time": EPOCH.timestamp() + 2.75,
        "box": [10.0, 20.5, 110.0, 220.0],
        "has_snapshot": True,
        "has_clip": True,  # the footage is a video
    }
    assert event.fields() == {name: value for name, value, _ in FIELDS}  # not best, shots, faces


# --- track-level decisions and stationary objects ------------------------------------------------------------------


def feed_track(
    builder: EventBuilder, scores: list[float], boxes: list[tuple[float, float, float, float]], moving_at: set[int]
) -> list[Event]:
    """Feed one track (id 1) a look every 0.2 s: ``scores[i]`` at ``boxes[i]`` (the last box repeats), with
    motion over the box on the looks in ``moving_at``; return the events at the end."""
    for i, score in enumerate(scores):
        box = boxes[min(i, len(boxes) - 1)]
        d = Detections(xyxy=[box], confidence=[score], label=["person"], tracker_id=[1])
        motion = np.asarray([box] if i in moving_at else [], np.float32).reshape(-1, 4)
        builder.feed(Frame(i, i * 0.2, i, 400, 300), d, motion)
    return builder.finish()


def builder() -> EventBuilder:
    return EventBuilder("cam", EPOCH, EventsConfig(min_hits=2), ObjectsConfig(), "x", 400, 300)


STILL = [(100.0, 50.0, 160.0, 250.0)]
WALK = [(20.0 + 30 * i, 50.0, 80.0 + 30 * i, 250.0) for i in range(8)]


def test_one_lucky_look_in_three_is_no_event() -> None:
    # two sure looks far apart: the median of every window of the last 10 (padded to 3) stays under 0.5
    scores = [0.9, 0.3, 0.3, 0.3, 0.3, 0.9, 0.3, 0.3, 0.3, 0.3, 0.3]

    assert feed_track(builder(), scores, WALK, moving_at=set(range(11))) == []


def test_two_sure_looks_in_three_make_an_event_with_its_computed_score() -> None:
    (event,) = feed_track(builder(), [0.3, 0.8, 0.7, 0.3], WALK, moving_at={0, 1, 2, 3})

    assert event.top_score == 0.7  # median of (0.3, 0.8, 0.7)
    assert event.confidence == 0.8
    assert not event.stationary


LOOK_ALIKE = [0.9, 0.9] + [0.4] * 20  # sure for a moment, then the detector's usual doubt


def test_a_look_alike_that_never_moves_is_no_event_over_a_long_stay() -> None:
    assert feed_track(builder(), LOOK_ALIKE, STILL, moving_at=set()) == []


def test_the_same_evidence_on_something_that_moves_is_an_event() -> None:
    (event,) = feed_track(builder(), LOOK_ALIKE, WALK, moving_at=set(range(22)))

    assert not event.stationary
    assert event.top_score == 0.9


def test_a_person_who_walks_in_and_stands_still_stays_an_event() -> None:
    (event,) = feed_track(builder(), LOOK_ALIKE, WALK[:1], moving_at={0})  # appeared with motion, then stood

    assert not event.stationary


def test_a_stationary_object_with_strong_evidence_is_an_event_marked_stationary() -> None:
    (event,) = feed_track(builder(), [0.8] * 20, STILL, moving_at=set())

    assert event.stationary
    assert event.top_score == 0.8


@pytest.mark.parametrize(
    ("scores", "confirmed_at"),
    [
        ([0.3, 0.8, 0.7, 0.3], 2),  # the look that makes two sure looks in three: as soon as the event rule holds
        ([0.9, 0.3, 0.3, 0.3, 0.3, 0.9, 0.3, 0.3], None),  # one lucky look in three: never, as no event is made
    ],
)
def test_a_track_is_confirmed_in_progress_by_the_rule_that_makes_its_event(
    scores: list[float], confirmed_at: int | None
) -> None:
    build = builder()
    seen: list[int] = []
    for i, score in enumerate(scores):
        box = WALK[min(i, len(WALK) - 1)]
        d = Detections(xyxy=[box], confidence=[score], label=["person"], tracker_id=[7])
        build.feed(Frame(i, i * 0.2, i, 400, 300), d, np.asarray([box], np.float32))
        if build.confirmed():
            seen.append(i)
        assert build.settled(d).tolist() == [bool(build.confirmed())]  # the same rule, per detection
    found = build.confirmed()
    events = build.finish()

    assert (seen[0] if seen else None) == confirmed_at
    assert len(events) == (confirmed_at is not None)
    if events:
        [now] = found
        assert (now.track, now.label, now.first_s) == (7, "person", events[0].start_s)
        assert now.box_xyxy == events[0].box_xyxy
    assert build.confirmed() == []  # ended: no longer in progress
