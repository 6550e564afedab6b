"""`camsift.analysis.file`: one clip or image analysed, its snapshots saved, no database."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from camsift import Settings
from camsift.analysis.file import analyse_file
from helpers.media import SyntheticClip, Walk, cut_in_half, write_clip

MakeClip = Callable[..., SyntheticClip]
MakeSettings = Callable[..., Settings]

SNAPSHOT = re.compile(r"events/(\d{4}-\d\d-\d\d)/([^/]+)/(\d{6})-([a-z_]+)-([0-9a-f]{12}-\d{3})(-annotated)?\.jpg$")


def test_nothing_is_written_to_the_database(
    make_clip: MakeClip, data_dir: Path, scripted_settings: MakeSettings
) -> None:
    """Face recognition settled before the file reaches the worker, as its callers do (`faces_settled`)."""
    clip = make_clip("porch/a.mp4", [Walk(0.5, 3.5)], seconds=4.0)

    result = analyse_file(clip.path, "porch", scripted_settings(**{"faces.enabled": False}))

    assert (result.status, len(result.events)) == ("ok", 1)
    assert result.record is not None
    assert (result.record.path, result.record.camera) == (clip.path, "porch")
    assert [e.source for e in result.events] == [clip.path]
    assert sorted(p.name for p in data_dir.iterdir()) == ["events"]  # pictures, and no camsift.db


@pytest.fixture
def half(tmp_path: Path, footage: Path) -> Path:
    """footage/cam/half.mp4: the first half of an 8 s clip of one walk from 0.5 s to 2 s."""
    whole = write_clip(tmp_path / "whole.mp4", [Walk(0.5, 2.0)], seconds=8.0, faststart=True)
    return cut_in_half(whole.path, footage / "cam" / "half.mp4")


def test_half_a_clip_is_an_error_that_keeps_the_events_found_before(
    half: Path, scripted_settings: MakeSettings
) -> None:
    result = analyse_file(half, "cam", scripted_settings(), threads=1)

    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("decoding failed after")
    assert len(result.events) == 1
    assert 0 < result.duration_s < 8.0
    assert result.events[0].snapshot is not None
    assert result.events[0].snapshot.is_file()


def test_half_a_clip_is_an_error_with_many_decoder_threads(half: Path, scripted_settings: MakeSettings) -> None:
    result = analyse_file(half, "cam", scripted_settings(), threads=4)

    assert result.status == "error"


# --- snapshots ---------------------------------------------------------------------------------------------------


def test_snapshots_on_disk(make_clip: MakeClip, data_dir: Path, scripted_settings: MakeSettings) -> None:
    clip = make_clip("front door/a.mp4", [Walk(0.5, 3.5, y=0.3)], seconds=4.0, size=(320, 180), box=(24, 48))

    result = analyse_file(clip.path, "front door", scripted_settings())

    (event,) = result.events
    assert event.snapshot is not None
    assert event.snapshot_annotated is not None
    for path, annotated in ((event.snapshot, False), (event.snapshot_annotated, True)):
        rel = path.relative_to(data_dir.resolve()).as_posix()
        match = SNAPSHOT.fullmatch(rel)
        assert match, rel
        day, camera, hhmmss, label, event_id, marked = match.groups()
        assert (day, hhmmss) == (f"{event.start_utc:%Y-%m-%d}", f"{event.start_utc:%H%M%S}")  # UTC settings
        assert (camera, label, event_id, bool(marked)) == ("front_door", "person", event.id, annotated)
        with Image.open(path) as img:
            assert (img.format, img.size) == ("JPEG", (320, 180))  # full resolution
    clean = np.asarray(Image.open(event.snapshot).convert("RGB")).astype(int)
    marked = np.asarray(Image.open(event.snapshot_annotated).convert("RGB")).astype(int)
    assert np.abs(clean - marked).mean() > 1  # boxes and caption drawn
    x1, y1, x2, y2 = (round(v) for v in event.box_xyxy)
    inside = clean[y1 + 4 : y2 - 4, x1 + 4 : x2 - 4]
    assert inside[..., 0].min() > 200
    assert inside[..., 1:].max() < 60
    assert np.abs(clean[y1 - 20 : y1 - 10, x1:x2] - 128).max() < 12  # and nothing drawn around it
    assert (x1, y1, x2, y2) in [clip.box_of(clip.walks[0], t) for t in clip.visible_times()]


def test_picture_gets_full_size_snapshots(tmp_path: Path, footage: Path, scripted_settings: MakeSettings) -> None:
    from helpers.media import background, write_image

    path = write_image(footage / "cam" / "snap.jpg", background(400, 300, [(100, 100, 140, 200)]), quality=95)

    result = analyse_file(path, "cam", scripted_settings())

    (event,) = result.events
    assert (result.status, result.duration_s, event.start_s) == ("ok", 0.0, 0.0)
    assert event.box_xyxy == pytest.approx((100, 100, 140, 200), abs=2)
    assert event.snapshot is not None
    assert event.snapshot_annotated is not None
    with Image.open(event.snapshot) as clean, Image.open(event.snapshot_annotated) as marked:
        assert clean.size == marked.size == (400, 300)


def test_wall_clock_time_from_the_file_name(footage: Path, scripted_settings: MakeSettings, data_dir: Path) -> None:
    clip = write_clip(footage / "porch" / "20261122_143005.mp4", [Walk(0.5, 3.5)], seconds=4.0)

    result = analyse_file(clip.path, "porch", scripted_settings())

    (event,) = result.events
    assert event.start_utc == datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC) + timedelta(seconds=event.start_s)
    assert event.end_utc - event.start_utc == timedelta(seconds=event.end_s - event.start_s)
    assert event.snapshot is not None
    assert event.snapshot.parent == data_dir.resolve() / "events" / "2026-11-22" / "porch"
    assert result.record is not None
    assert result.record.time_origin == "name"


def test_wall_clock_time_from_metadata(footage: Path, scripted_settings: MakeSettings) -> None:
    clip = write_clip(
        footage / "porch" / "20201231_235959.mp4", [Walk(0.5, 3.5)], creation_time="2026-11-22T14:30:05.000000Z"
    )

    result = analyse_file(clip.path, "porch", scripted_settings())

    (event,) = result.events
    assert result.record is not None
    assert result.record.time_origin == "metadata"
    assert event.start_utc == datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC) + timedelta(seconds=event.start_s)


def test_wall_clock_time_from_mtime(footage: Path, scripted_settings: MakeSettings) -> None:
    clip = write_clip(footage / "porch" / "clip.mp4", [Walk(0.5, 3.5)], seconds=4.0)
    ended = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)
    os.utime(clip.path, (ended.timestamp(), ended.timestamp()))

    result = analyse_file(clip.path, "porch", scripted_settings())

    assert result.record is not None
    assert result.record.time_origin == "mtime"
    assert result.record.start_utc is not None
    assert ended - timedelta(seconds=4.2) <= result.record.start_utc <= ended - timedelta(seconds=3.8)
