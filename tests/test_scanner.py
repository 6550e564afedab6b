"""``camsift.scan``: batches with bad files, snapshots on disk, the database, idempotent rescans, cameras."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from camsift import ScanReport, Settings, Store, scan
from camsift.errors import SourceError
from camsift.scanner import Workers, collect
from conftest import BadFiles, SyntheticClip, Walk, cut_in_half, write_clip

MakeClip = Callable[..., SyntheticClip]
MakeSettings = Callable[..., Settings]

SNAPSHOT = re.compile(r"events/(\d{4}-\d\d-\d\d)/([^/]+)/(\d{6})-([a-z_]+)-([0-9a-f]{12}-\d{3})(-annotated)?\.jpg$")


def by_name(report: ScanReport) -> dict[str, object]:
    return {f.path.name: f for f in report.files}


def rows(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / "camsift.db") as db:
        (n,) = db.execute(f"select count(*) from {table}").fetchone()
    return int(n)


@pytest.fixture
def two_cameras(make_clip: MakeClip) -> list[SyntheticClip]:
    """porch/a.mp4 (one walker), porch/b.mp4 (two walks 5 s apart), garden/c.mp4 (nobody)."""
    return [
        make_clip("porch/a.mp4", [Walk(0.5, 3.5)], seconds=4.0),
        make_clip("porch/b.mp4", [Walk(0.5, 2.0), Walk(6.0, 7.5, 1.0, 0.0)], seconds=8.0),
        make_clip("garden/c.mp4", [], seconds=2.0),
    ]


# --- a batch -----------------------------------------------------------------------------------------------------


def test_batch_with_bad_files_completes(
    two_cameras: list[SyntheticClip], bad_files: BadFiles, footage: Path, scripted_settings: MakeSettings
) -> None:
    report = scan([footage, bad_files.text], scripted_settings(), jobs=1)

    files = by_name(report)
    assert sorted(files) == ["a.mp4", "b.mp4", "c.mp4", "notes.txt", "random.mp4", "truncated.mp4", "zero.mp4"]
    expected = {
        "a.mp4": ("ok", 1),
        "b.mp4": ("ok", 2),
        "c.mp4": ("ok", 0),
        "zero.mp4": ("error", 0),
        "random.mp4": ("error", 0),
        "truncated.mp4": ("error", 0),
        "notes.txt": ("error", 0),
    }
    assert {name: (f.status, len(f.events)) for name, f in files.items()} == expected
    reasons = {f.path.name: f.error for f in report.failed}
    assert reasons == {
        "zero.mp4": "empty file (0 bytes)",
        "random.mp4": reasons["random.mp4"],
        "truncated.mp4": reasons["truncated.mp4"],
        "notes.txt": "not a clip or image (suffix '.txt')",
    }
    assert reasons["random.mp4"].startswith("cannot open video")
    assert reasons["truncated.mp4"].startswith("cannot open video")
    assert all("\n" not in r and len(r) < 200 for r in reasons.values())
    assert all(f.error is None for f in report.files if f.status == "ok")
    summary = report.summary()
    assert {k: summary[k] for k in ("files", "ok", "skipped", "errors", "events", "interrupted")} == {
        "files": 7,
        "ok": 3,
        "skipped": 0,
        "errors": 4,
        "events": {"person": 3},
        "interrupted": False,
    }
    assert summary["footage_s"] == pytest.approx(4.0 + 8.0 + 2.0)


def test_files_come_back_in_the_order_found(
    two_cameras: list[SyntheticClip], footage: Path, scripted_settings: MakeSettings
) -> None:
    report = scan([footage / "porch", footage / "garden"], scripted_settings(), jobs=1)

    assert [f.path for f in report.files] == [c.path for c in two_cameras]


def test_jobs_in_worker_processes_give_the_same_result(
    two_cameras: list[SyntheticClip],
    bad_files: BadFiles,
    footage: Path,
    data_dir: Path,
    scripted_settings: MakeSettings,
) -> None:
    alone = scan([footage], scripted_settings(data_dir=str(data_dir / "one")), jobs=1)
    pooled = scan([footage], scripted_settings(data_dir=str(data_dir / "two")), jobs=2)

    def outcome(report: ScanReport) -> list[tuple]:
        return [
            (f.path, f.status, f.error, [(e.id, e.start_s, e.end_s, e.box_xyxy) for e in f.events])
            for f in report.files
        ]

    assert outcome(pooled) == outcome(alone)
    assert len(pooled.files) == 6


def test_half_a_clip_is_an_error_that_keeps_the_events_found_before(
    tmp_path: Path, footage: Path, scripted_settings: MakeSettings
) -> None:
    whole = write_clip(tmp_path / "whole.mp4", [Walk(0.5, 2.0)], seconds=8.0, faststart=True)
    half = cut_in_half(whole.path, footage / "cam" / "half.mp4")

    (result,) = scan([half], scripted_settings(**{"detect.threads": 1}), jobs=1).files

    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("decoding failed after")
    assert len(result.events) == 1
    assert 0 < result.duration_s < 8.0
    assert result.events[0].snapshot is not None
    assert result.events[0].snapshot.is_file()


def test_half_a_clip_is_an_error_with_many_decoder_threads(
    tmp_path: Path, footage: Path, scripted_settings: MakeSettings
) -> None:
    whole = write_clip(tmp_path / "whole.mp4", [Walk(0.5, 2.0)], seconds=8.0, faststart=True)
    half = cut_in_half(whole.path, footage / "cam" / "half.mp4")

    (result,) = scan([half], scripted_settings(**{"detect.threads": 4}), jobs=1).files

    assert result.status == "error"


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".avi", ".ts", ".m4v", ".gif"])
def test_every_clip_format_is_scanned(footage: Path, scripted_settings: MakeSettings, suffix: str) -> None:
    clip = write_clip(footage / "cam" / f"clip{suffix.upper()}", [Walk(0.5, 3.5)], seconds=4.0)

    (result,) = scan([footage], scripted_settings(), jobs=1).files

    assert (result.path, result.status, len(result.events)) == (clip.path, "ok", 1)
    assert result.duration_s == pytest.approx(4.0, abs=0.01)  # 40 frames of 0.1 s


# --- snapshots ---------------------------------------------------------------------------------------------------


def test_snapshots_on_disk(make_clip: MakeClip, data_dir: Path, scripted_settings: MakeSettings) -> None:
    clip = make_clip("front door/a.mp4", [Walk(0.5, 3.5, y=0.3)], seconds=4.0, size=(320, 180), box=(24, 48))

    (result,) = scan([clip.path], scripted_settings(), jobs=1).files

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
    from conftest import background, write_image

    path = write_image(footage / "cam" / "snap.jpg", background(400, 300, [(100, 100, 140, 200)]), quality=95)

    (result,) = scan([path], scripted_settings(), jobs=1).files

    (event,) = result.events
    assert (result.status, result.duration_s, event.start_s) == ("ok", 0.0, 0.0)
    assert event.box_xyxy == pytest.approx((100, 100, 140, 200), abs=2)
    with Image.open(event.snapshot) as clean, Image.open(event.snapshot_annotated) as marked:
        assert clean.size == marked.size == (400, 300)


# --- the database ------------------------------------------------------------------------------------------------


def test_database_matches_the_returned_events(
    two_cameras: list[SyntheticClip],
    bad_files: BadFiles,
    footage: Path,
    data_dir: Path,
    scripted_settings: MakeSettings,
) -> None:
    report = scan([footage], scripted_settings(), jobs=1)

    with Store(data_dir) as store:
        for f in report.files:
            stored = sorted(store.events(source=f.path), key=lambda e: e.id)
            assert stored == sorted(f.events, key=lambda e: e.id), f.path.name
            record = store.file(f.path)
            assert record is not None
            assert (record.status, record.error, record.camera) == (f.status, f.error, f.camera)
            assert record.size == f.path.stat().st_size
            assert record.sha256 == (
                hashlib.sha256(f.path.read_bytes()).hexdigest() if record.size else hashlib.sha256(b"").hexdigest()
            )
            assert record.duration_s == pytest.approx(f.duration_s)
        assert len(store.events()) == 3
    assert rows(data_dir, "files") == 6


def test_wall_clock_time_from_the_file_name(footage: Path, scripted_settings: MakeSettings, data_dir: Path) -> None:
    clip = write_clip(footage / "porch" / "20261122_143005.mp4", [Walk(0.5, 3.5)], seconds=4.0)

    (result,) = scan([clip.path], scripted_settings(), jobs=1).files

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

    (result,) = scan([clip.path], scripted_settings(), jobs=1).files

    (event,) = result.events
    assert result.record is not None
    assert result.record.time_origin == "metadata"
    assert event.start_utc == datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC) + timedelta(seconds=event.start_s)


def test_wall_clock_time_from_mtime(footage: Path, scripted_settings: MakeSettings) -> None:
    clip = write_clip(footage / "porch" / "clip.mp4", [Walk(0.5, 3.5)], seconds=4.0)
    ended = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)
    os.utime(clip.path, (ended.timestamp(), ended.timestamp()))

    (result,) = scan([clip.path], scripted_settings(), jobs=1).files

    assert result.record is not None
    assert result.record.time_origin == "mtime"
    assert result.record.start_utc is not None
    assert ended - timedelta(seconds=4.2) <= result.record.start_utc <= ended - timedelta(seconds=3.8)


# --- rescanning --------------------------------------------------------------------------------------------------


def test_rescan_skips_unchanged_files_and_force_redoes_them(
    two_cameras: list[SyntheticClip], footage: Path, data_dir: Path, scripted_settings: MakeSettings
) -> None:
    s = scripted_settings()
    first = scan([footage], s, jobs=1)
    shots = sorted(p for p in (data_dir / "events").rglob("*.jpg"))
    stamps = [p.stat().st_mtime_ns for p in shots]

    again = scan([footage], s, jobs=1)

    assert [f.status for f in again.files] == ["skipped"] * 3
    assert [sorted(e.id for e in f.events) for f in again.files] == [
        sorted(e.id for e in f.events) for f in first.files
    ]
    assert again.summary()["events"] == first.summary()["events"] == {"person": 3}
    assert (rows(data_dir, "events"), rows(data_dir, "files")) == (3, 3)
    assert [p.stat().st_mtime_ns for p in shots] == stamps  # nothing rewritten

    forced = scan([footage], s, jobs=1, force=True)

    assert [f.status for f in forced.files] == ["ok"] * 3
    assert [[e.id for e in f.events] for f in forced.files] == [[e.id for e in f.events] for f in first.files]
    assert (rows(data_dir, "events"), rows(data_dir, "files")) == (3, 3)
    assert sorted(p for p in (data_dir / "events").rglob("*.jpg")) == shots


def test_changed_file_is_analysed_again_and_its_old_events_replaced(
    make_clip: MakeClip, data_dir: Path, scripted_settings: MakeSettings
) -> None:
    s = scripted_settings()
    clip = make_clip("porch/a.mp4", [Walk(0.5, 2.0), Walk(5.5, 7.0, 1.0, 0.0)], seconds=8.0)
    before = scan([clip.path], s, jobs=1).files[0]
    old_shots = [e.snapshot for e in before.events]

    make_clip("porch/a.mp4", [Walk(0.5, 3.5)], seconds=4.0)  # the camera overwrote the file
    after = scan([clip.path], s, jobs=1).files[0]

    assert (len(before.events), after.status, len(after.events)) == (2, "ok", 1)
    with Store(data_dir) as store:
        assert [e.id for e in store.events()] == [after.events[0].id]
    assert all(p is not None and not p.exists() for p in old_shots if p != after.events[0].snapshot)
    assert len(list((data_dir / "events").rglob("*.jpg"))) == 2


# --- cameras -----------------------------------------------------------------------------------------------------


def test_camera_from_folder_config_globs_or_override(
    two_cameras: list[SyntheticClip], footage: Path, scripted_settings: MakeSettings
) -> None:
    s = scripted_settings(**{"cameras.front": {"paths": [f"{footage}/porch/b.*"]}})

    named = {f.path.name: f.camera for f in scan([footage], s, jobs=1).files}
    forced = {f.path.name: f.camera for f in scan([footage], s, jobs=1, force=True, camera="yard").files}

    assert named == {"a.mp4": "porch", "b.mp4": "front", "c.mp4": "garden"}
    assert forced == {"a.mp4": "yard", "b.mp4": "yard", "c.mp4": "yard"}


@pytest.mark.parametrize(
    ("camera", "paths", "events"),
    [
        ("driveway", ["{footage}/porch/a.mp4"], {"a.mp4": 0, "b.mp4": 2, "c.mp4": 0}),  # matched by its glob
        ("porch", [], {"a.mp4": 0, "b.mp4": 0, "c.mp4": 0}),  # matched by the folder name
    ],
)
def test_camera_settings_apply_to_its_files_only(
    two_cameras: list[SyntheticClip],
    footage: Path,
    scripted_settings: MakeSettings,
    camera: str,
    paths: list[str],
    events: dict[str, int],
) -> None:
    only_cars = {"paths": [p.format(footage=footage) for p in paths], "objects": {"labels": ["car"]}}
    s = scripted_settings(**{f"cameras.{camera}": only_cars})

    found = {f.path.name: len(f.events) for f in scan([footage], s, jobs=1).files}

    assert found == events


def test_events_carry_their_camera_and_source(
    two_cameras: list[SyntheticClip], footage: Path, scripted_settings: MakeSettings
) -> None:
    report = scan([footage], scripted_settings(), jobs=1)

    for f in report.files:
        assert all((e.camera, e.source) == (f.camera, f.path) for e in f.events)


# --- what is scanned ---------------------------------------------------------------------------------------------


def test_collect_finds_media_recursively(tmp_path: Path) -> None:
    names = [
        "cam/a.mp4",
        "cam/deep/er/b.MOV",
        "cam/c.JPG",
        "cam/d.gif",
        "cam/notes.txt",
        "cam/e.mp4.part",
        "cam/.hidden.mp4",
        "cam/.trash/f.mp4",
        "cam/g.webm",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")

    found = collect([tmp_path / "cam", tmp_path / "cam" / "a.mp4", tmp_path / "cam" / "notes.txt"])

    root = (tmp_path / "cam").resolve()
    assert [p.relative_to(root).as_posix() for p in found] == ["a.mp4", "c.JPG", "d.gif", "deep/er/b.MOV", "notes.txt"]
    assert all(p.is_absolute() for p in found)


def test_missing_path_fails_before_any_work(
    tmp_path: Path, footage: Path, data_dir: Path, scripted_settings: MakeSettings
) -> None:
    write_clip(footage / "cam" / "a.mp4")

    with pytest.raises(SourceError, match=r"nope: no such file or directory"):
        scan([footage, tmp_path / "nope"], scripted_settings(), jobs=1)

    assert not data_dir.exists()


def test_nothing_to_scan(footage: Path, scripted_settings: MakeSettings) -> None:
    report = scan([footage], scripted_settings(), jobs=1)

    assert report.files == []
    assert report.summary()["files"] == 0


def test_scanning_in_process_leaves_ctrl_c_alone(make_clip: MakeClip, scripted_settings: MakeSettings) -> None:
    clip = make_clip("cam/a.mp4", seconds=1.0)
    before = signal.getsignal(signal.SIGINT)

    scan([clip.path], scripted_settings(), jobs=1)

    assert signal.getsignal(signal.SIGINT) == before


# --- worker processes ---------------------------------------------------------------------------------------------

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def affinity_soon() -> list[int]:
    """A worker's CPUs, a moment after it started its task (so that two tasks go to two workers)."""
    time.sleep(0.5)
    return sorted(os.sched_getaffinity(0))


def pinned_in_a_new_process(slot: int, threads: int) -> list[int]:
    code = (
        "import os; from camsift.scanner import pin_worker; "
        f"pin_worker({slot}, {threads}); print(sorted(os.sched_getaffinity(0)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [int(c) for c in re.findall(r"\d+", done.stdout)]


@pytest.mark.skipif(len(CPUS) < 2, reason="needs Linux and at least 2 CPUs")
@pytest.mark.parametrize(("slot", "threads"), [(0, 1), (1, 1), (0, 2), (1, 2), (2, 1)])
def test_pin_worker_gives_each_slot_cpus_of_its_own(slot: int, threads: int) -> None:
    mine = CPUS[slot * threads : (slot + 1) * threads]

    got = pinned_in_a_new_process(slot, threads)

    assert got == (mine if len(mine) == threads else CPUS)  # more slots than CPUs: left to the system


@pytest.mark.skipif(len(CPUS) < 2, reason="needs Linux and at least 2 CPUs")
def test_workers_each_take_a_cpu_of_their_own() -> None:
    workers = Workers(Settings(), jobs=2, threads=1)
    try:
        pool = workers._pool(alone=False)
        got = sorted(tuple(f.result()) for f in [pool.submit(affinity_soon) for _ in range(2)])
    finally:
        workers.close()

    assert got == [(CPUS[0],), (CPUS[1],)]


def test_a_worker_analyses_a_clip_without_loading_the_database_layer(tmp_path: Path) -> None:
    """Workers write pictures, never the database: SQLAlchemy would cost each of them 22 MB. With no known
    face, ``faces.enabled: auto`` is settled before the file reaches the worker (`faces_settled`)."""
    clip = write_clip(tmp_path / "porch" / "a.mp4", [Walk(0.5, 2.5)], seconds=3.0).path
    workers = Workers(Settings(data_dir=tmp_path / "data"), jobs=1, threads=1)
    try:
        workers.submit(clip, "porch")
        results = workers.poll(None)
        loaded = workers._pool(alone=False).submit(eval, "sorted({'sqlalchemy', 'alembic'} & set(sys.modules))")
        assert [r.status for r in results] == ["ok"]
        assert loaded.result() == []
    finally:
        workers.close()
