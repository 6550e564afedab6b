"""Faces on scanned events: the Hamilton clip, pictures and rows on disk, and no cost without a library."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from camsift import Settings, Store, load_config, scan
from camsift.faces import UNKNOWN, FaceEngine
from camsift.faces.enrol import enrol
from camsift.store.faces import FaceStore


def settings(data_dir: Path, **overrides: object) -> Settings:
    return load_config(environ={}, overrides={"data_dir": str(data_dir), "timezone": "UTC", **overrides})


def face_rows(data_dir: Path) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(data_dir / "camsift.db") as db:
        return db.execute("select event_id, name, crop from event_faces order by event_id, n").fetchall()


@pytest.mark.slow
def test_hamilton_clip_gives_an_event_named_after_the_enrolled_person(
    face_engine: FaceEngine, faces_data: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    s = settings(data_dir)
    with Store(data_dir) as store:
        enrol(FaceStore(store), face_engine, "Lin-Manuel Miranda", [faces_data / "lin-manuel-miranda.png"], s.faces)

    (result,) = scan([faces_data / "short_hamilton_clip.mp4"], s, jobs=1).files

    named = [e for e in result.events if e.sub_label == "Lin-Manuel Miranda"]
    assert len(named) >= 1
    assert all(e.sub_label_score is not None and e.sub_label_score >= 0.5 for e in named)
    assert {e.sub_label for e in result.events} <= {"Lin-Manuel Miranda", UNKNOWN, None}
    sightings = [f for e in result.events for f in e.faces]
    assert all(f.crop is not None and f.crop.is_file() and f.crop.stat().st_size > 1000 for f in sightings)
    assert all(f.crop is not None and f.crop.is_relative_to(data_dir.resolve() / "faces") for f in sightings)
    rows = face_rows(data_dir)
    assert len(rows) == len(sightings)
    assert {r[1] for r in rows} >= {"Lin-Manuel Miranda"}
    with Store(data_dir) as store:
        stored = {e.id: e.sub_label for e in store.events()}
    assert stored == {e.id: e.sub_label for e in result.events}
    assert all(e.best is None and e.shots == () for e in result.events)


def test_rescan_replaces_the_faces_and_their_pictures(
    face_engine: FaceEngine, faces_data: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    photo = faces_data / "two_people.jpg"
    first = scan([photo], settings(data_dir, **{"faces.enabled": True}), jobs=1)
    crops = [f.crop for e in first.files[0].events for f in e.faces]
    assert len(crops) == 2
    assert {e.sub_label for e in first.files[0].events} == {UNKNOWN}  # faces seen, library empty

    scan([photo], settings(data_dir, **{"faces.enabled": False}), jobs=1, force=True)

    assert face_rows(data_dir) == []
    assert not any(c is not None and c.exists() for c in crops)


def test_no_library_no_face_work(faces_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``faces.enabled: auto`` with nobody known must not even load the face engine."""

    def refuse(name: str) -> None:
        raise AssertionError("the face engine was loaded")

    monkeypatch.setattr("camsift.faces.recognizer._engine", refuse)

    report = scan([faces_data / "two_people.jpg"], settings(tmp_path / "data"), jobs=1)

    events = report.files[0].events
    assert len(events) == 2
    assert all(e.faces == () and e.sub_label is None for e in events)
