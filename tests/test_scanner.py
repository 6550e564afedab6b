"""`camsift.scanner`: batches with bad files, every format, the database, idempotent rescans, cameras, discovery."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from camsift import ScanReport, Settings, Store, scan
from camsift.analysis.file import FileResult
from camsift.errors import SourceError
from camsift.scanner import collect
from helpers.media import BadFiles, SyntheticClip, Walk, write_clip

MakeClip = Callable[..., SyntheticClip]
MakeSettings = Callable[..., Settings]


def by_name(report: ScanReport) -> dict[str, FileResult]:
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
    reasons = {f.path.name: f.error or "" for f in report.failed}
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

    def outcome(report: ScanReport) -> list[tuple[object, ...]]:
        return [
            (f.path, f.status, f.error, [(e.id, e.start_s, e.end_s, e.box_xyxy) for e in f.events])
            for f in report.files
        ]

    assert outcome(pooled) == outcome(alone)
    assert len(pooled.files) == 6


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".avi", ".ts", ".m4v", ".gif"])
def test_every_clip_format_is_scanned(footage: Path, scripted_settings: MakeSettings, suffix: str) -> None:
    clip = write_clip(footage / "cam" / f"clip{suffix.upper()}", [Walk(0.5, 3.5)], seconds=4.0)

    (result,) = scan([footage], scripted_settings(), jobs=1).files

    assert (result.path, result.status, len(result.events)) == (clip.path, "ok", 1)
    assert result.duration_s == pytest.approx(4.0, abs=0.01)  # 40 frames of 0.1 s


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
