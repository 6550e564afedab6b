"""Events in progress on live streams: one row per camera and track, told once, matched to a clip or dropped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from camsift.store import Store
from camsift.store.live import LiveEvent, LiveEvents, live_id

T0 = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)


@pytest.fixture
def live(data_dir: Path, database_url: str | None) -> Iterator[LiveEvents]:
    """The table on each backend (SQLite, PostgreSQL: see `database_url`)."""
    with Store(data_dir, database_url) as store:
        yield store.live


def confirmed(track: str, camera: str = "door", label: str = "person", start_s: float = 0.0) -> LiveEvent:
    start = T0 + timedelta(seconds=start_s)
    return LiveEvent(
        live_id(camera, track, start), camera, track, label, start, start + timedelta(seconds=0.6), 0.91,
        (10.0, 20.0, 50.0, 120.0), ("porch",),
    )  # fmt: skip


def test_a_track_recorded_twice_is_one_row_and_is_told_once(live: LiveEvents) -> None:
    first = confirmed("2026-11-22T14:30:00+00:00/1")

    assert live.open(first) is True
    assert live.open(first) is False  # the stream wrote it again (a retry)
    assert live.open(confirmed("2026-11-22T14:30:00+00:00/1", camera="gate")) is True  # another camera's track 1

    assert sorted(e.id for e in live.unannounced()) == sorted([first.id, live_id("gate", first.track, T0)])
    live.announced(first.id, alarm=True)
    [left] = live.unannounced()
    assert left.camera == "gate"
    [door] = live.in_progress("door")
    assert (door.announced, door.alarm, door.zones, door.box_xyxy) == (
        True,
        True,
        ("porch",),
        (10.0, 20.0, 50.0, 120.0),
    )
    assert door.event().end_utc == T0 + timedelta(seconds=0.6)
    assert door.event().snapshot is None


def test_the_id_is_stable_for_a_camera_and_track_and_differs_between_them() -> None:
    assert live_id("door", "s/1", T0) == live_id("door", "s/1", T0)
    assert live_id("door", "s/1", T0).startswith(f"{T0.timestamp():.6f}-")
    assert len({live_id("door", "s/1", T0), live_id("door", "s/2", T0), live_id("gate", "s/1", T0)}) == 3


def test_candidates_are_open_rows_in_the_clip_and_rows_the_same_clip_matched(live: LiveEvents, tmp_path: Path) -> None:
    clip, other = tmp_path / "a.mp4", tmp_path / "b.mp4"
    inside, before, matched_here, matched_elsewhere, across = (
        confirmed("s/1", start_s=5),
        confirmed("s/2", start_s=-30),
        confirmed("s/3", start_s=6),
        confirmed("s/4", start_s=7),
        confirmed("s/5", start_s=-1.5),  # first seen before the clip, confirmed in it (0.6 s later)
    )
    for row in (inside, before, matched_here, matched_elsewhere, across):
        live.open(row)
    live.matched([matched_here.id], clip)
    live.matched([matched_elsewhere.id], other)

    found = live.candidates("door", T0, T0 + timedelta(seconds=10), clip)

    assert [c.id for c in found] == [across.id, inside.id, matched_here.id]
    assert [c.state for c in found] == ["open", "open", "matched"]
    assert live.candidates("gate", T0, T0 + timedelta(seconds=10), clip) == []

    live.dropped(inside.id)
    assert [c.id for c in live.in_progress()] == [across.id, before.id]  # newest first
    assert live.prune(0) == 3  # matched and dropped rows go; the open ones stay
    assert [c.id for c in live.in_progress()] == [across.id, before.id]
